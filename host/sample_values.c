/*
 * sample_values.c: random numbers, dates and text for the sample data
 * generator (see sample_internal.h).
 */
#include "sample_internal.h"

#include <stdio.h>
#include <string.h>

/* ==== Random numbers ==================================================== */

static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void sample_random_seed(struct sample_random *random, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        random->state[i] = splitmix64_next(&seed);
}

static uint64_t rotate_left(uint64_t value, int bits)
{
    return (value << bits) | (value >> (64 - bits));
}

static uint64_t random_next(struct sample_random *random)
{
    uint64_t *s = random->state;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t shifted = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= shifted;
    s[3] = rotate_left(s[3], 45);
    return result;
}

uint32_t sample_random_below(struct sample_random *random, uint32_t bound)
{
    return (uint32_t)(((random_next(random) >> 32) * bound) >> 32);
}

int sample_random_chance(struct sample_random *random, uint32_t percent)
{
    return sample_random_below(random, 100) < percent;
}

int64_t sample_random_between(struct sample_random *random, int64_t low,
                              int64_t high)
{
    if (high <= low)
        return low;
    uint64_t span = (uint64_t)(high - low) + 1;
    if (span <= UINT32_MAX)
        return low + sample_random_below(random, (uint32_t)span);
    return low + (int64_t)(random_next(random) % span);
}

const char *sample_random_item(struct sample_random *random,
                               const struct sample_list *list)
{
    return list->items[sample_random_below(random, list->count)];
}

uint32_t sample_random_bucket(struct sample_random *random,
                              const struct sample_bucket *buckets, size_t count)
{
    uint32_t roll = sample_random_below(random, 100);
    size_t i = 0;
    while (i + 1 < count && roll >= buckets[i].percent) {
        roll -= buckets[i].percent;
        i++;
    }
    return buckets[i].low +
           sample_random_below(random, buckets[i].high - buckets[i].low + 1);
}

uint32_t sample_random_weighted(struct sample_random *random,
                                const uint32_t *weights, size_t count)
{
    uint32_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += weights[i];
    uint32_t roll = sample_random_below(random, total);
    size_t i = 0;
    while (i + 1 < count && roll >= weights[i]) {
        roll -= weights[i];
        i++;
    }
    return (uint32_t)i;
}

/* ==== Dates ============================================================= */

/* Convert days since 1970-01-01 to a proleptic Gregorian date, after
 * Howard Hinnant's civil_from_days algorithm. */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month,
                            unsigned *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned day_of_era = (unsigned)(days - era * 146097);
    unsigned year_of_era = (day_of_era - day_of_era / 1460 +
                            day_of_era / 36524 - day_of_era / 146096) /
                           365;
    unsigned day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    unsigned shifted_month = (5 * day_of_year + 2) / 153;
    *day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    *month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
    *year = (int64_t)year_of_era + era * 400 + (*month <= 2);
}

static void write_digits(char *out, unsigned value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
}

void sample_format_date(int64_t time, char out[SAMPLE_DATE_LENGTH + 1])
{
    int64_t days = time / SECONDS_PER_DAY;
    unsigned seconds = (unsigned)(time - days * SECONDS_PER_DAY);
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    write_digits(out, (unsigned)year, 4);
    out[4] = '-';
    write_digits(out + 5, month, 2);
    out[7] = '-';
    write_digits(out + 8, day, 2);
    out[10] = ' ';
    write_digits(out + 11, seconds / 3600, 2);
    out[13] = ':';
    write_digits(out + 14, seconds / 60 % 60, 2);
    out[16] = ':';
    write_digits(out + 17, seconds % 60, 2);
    out[19] = '\0';
}

unsigned sample_year_of(int64_t time)
{
    int64_t year;
    unsigned month, day;
    civil_from_days(time / SECONDS_PER_DAY, &year, &month, &day);
    return (unsigned)year;
}

unsigned sample_days_in_month(unsigned year, unsigned month)
{
    static const unsigned lengths[12] = {31, 28, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return lengths[month - 1] + (month == 2 && leap);
}

/* ==== Text ============================================================== */

void sample_text_clear(struct sample_text *text)
{
    text->length = 0;
    text->data[0] = '\0';
}

void sample_text_append(struct sample_text *text, const char *source,
                        size_t length)
{
    size_t room = SAMPLE_TEXT_CAPACITY - 1 - text->length;
    if (length > room)
        length = room;
    memcpy(text->data + text->length, source, length);
    text->length += length;
    text->data[text->length] = '\0';
}

void sample_text_append_string(struct sample_text *text, const char *source)
{
    sample_text_append(text, source, strlen(source));
}

void sample_text_append_number(struct sample_text *text, unsigned value)
{
    char digits[16];
    int length = snprintf(digits, sizeof digits, "%u", value);
    sample_text_append(text, digits, (size_t)length);
}

/* ASCII spellings of the Latin-1 letters U+00C0..U+00FF (UTF-8 0xC3
 * 0x80..0xBF), lowercase. */
static const char *const latin1_folded[64] = {
    "a", "a", "a", "a", "a",  "a",  "ae", "c", "e", "e", "e",  "e", "i",
    "i", "i", "i", "d", "n",  "o",  "o",  "o", "o", "o", "",   "o", "u",
    "u", "u", "u", "y", "th", "ss", "a",  "a", "a", "a", "a",  "a", "ae",
    "c", "e", "e", "e", "e",  "i",  "i",  "i", "i", "d", "n",  "o", "o",
    "o", "o", "o", "",  "o",  "u",  "u",  "u", "u", "y", "th", "y",
};

void sample_text_append_folded(struct sample_text *text, const char *source,
                               int separator)
{
    int pending = 0;
    for (const unsigned char *c = (const unsigned char *)source; *c; c++) {
        const char *folded = NULL;
        char letter[2] = {0, 0};
        if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')) {
            letter[0] = (char)*c;
        } else if (*c >= 'A' && *c <= 'Z') {
            letter[0] = (char)(*c - 'A' + 'a');
        } else if (*c == 0xC3 && c[1] >= 0x80 && c[1] <= 0xBF) {
            folded = latin1_folded[*++c - 0x80];
        } else {
            pending = separator && text->length > 0;
            continue;
        }
        if (pending)
            sample_text_append(text, "-", 1);
        pending = 0;
        sample_text_append_string(text, folded ? folded : letter);
    }
}

void sample_text_append_pattern(struct sample_text *text,
                                struct sample_random *random,
                                const char *pattern)
{
    for (const char *c = pattern; *c; c++) {
        char out = *c;
        if (out == '#')
            out = (char)('0' + sample_random_below(random, 10));
        else if (out == '@')
            out = (char)('A' + sample_random_below(random, 26));
        sample_text_append(text, &out, 1);
    }
}

void sample_text_expand(struct sample_text *text, const char *template,
                        const struct sample_text_context *context)
{
    const char *c = template;
    while (*c) {
        const char *dollar = strchr(c, '$');
        if (!dollar || !dollar[1]) {
            sample_text_append_string(text, c);
            return;
        }
        sample_text_append(text, c, (size_t)(dollar - c));
        switch (dollar[1]) {
        case 'F':
            sample_text_append_string(text, context->first_name);
            break;
        case 'N':
            sample_text_append_string(text, context->full_name);
            break;
        case 'C':
            sample_text_append_string(text, context->company_name);
            break;
        case 'P':
            sample_text_append_string(text, context->product);
            break;
        case 'Y':
            sample_text_append_number(text, context->year);
            break;
        default:
            sample_text_append(text, dollar, 2);
        }
        c = dollar + 2;
    }
}
