/*
 * isodate.c: the lethe_epoch SQL function (see isodate.h).
 */
#include "isodate.h"

#include "util.h"

/* A cursor over the text being parsed. */
struct reader {
    const char *text;
    int length, at;
};

/* Read exactly `digits` decimal digits into *value. */
static int read_number(struct reader *reader, int digits, int *value)
{
    if (reader->at + digits > reader->length)
        return 0;
    int result = 0;
    for (int i = 0; i < digits; i++) {
        char c = reader->text[reader->at + i];
        if (c < '0' || c > '9')
            return 0;
        result = result * 10 + (c - '0');
    }
    reader->at += digits;
    *value = result;
    return 1;
}

/* Consume `c` if it is the next character. */
static int accept(struct reader *reader, char c)
{
    if (reader->at < reader->length && reader->text[reader->at] == c) {
        reader->at++;
        return 1;
    }
    return 0;
}

static int is_leap(int year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

static int days_in_month(int year, int month)
{
    static const int lengths[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : lengths[month - 1];
}

/* Days from 1970-01-01 to a civil date of the proleptic Gregorian
 * calendar (the days_from_civil algorithm of Howard Hinnant). */
static sqlite3_int64 days_from_civil(int year, int month, int day)
{
    sqlite3_int64 y = month <= 2 ? year - 1 : year;
    sqlite3_int64 era = (y >= 0 ? y : y - 399) / 400;
    sqlite3_int64 year_of_era = y - era * 400;
    sqlite3_int64 day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    sqlite3_int64 day_of_era = year_of_era * 365 + year_of_era / 4 -
                               year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* Read ".digits" after the seconds into *fraction. */
static int read_fraction(struct reader *reader, double *fraction)
{
    if (!accept(reader, '.'))
        return 1;
    double scale = 0.1, value = 0;
    int digits = 0;
    while (reader->at < reader->length && reader->text[reader->at] >= '0' &&
           reader->text[reader->at] <= '9') {
        value += scale * (reader->text[reader->at] - '0');
        scale /= 10;
        reader->at++;
        digits++;
    }
    *fraction = value;
    return digits > 0;
}

/* Read the time of day after 'T' or a space: seconds into *seconds. */
static int read_time(struct reader *reader, sqlite3_int64 *seconds,
                     double *fraction)
{
    int hour, minute, second = 0;
    if (!read_number(reader, 2, &hour) || !accept(reader, ':') ||
        !read_number(reader, 2, &minute))
        return 0;
    if (accept(reader, ':') &&
        (!read_number(reader, 2, &second) || !read_fraction(reader, fraction)))
        return 0;
    if (hour > 23 || minute > 59 || second > 59)
        return 0;
    *seconds = hour * 3600 + minute * 60 + second;
    return 1;
}

/* Read 'Z' or an offset from UTC: seconds east of UTC into *offset. */
static int read_zone(struct reader *reader, sqlite3_int64 *offset)
{
    *offset = 0;
    if (reader->at == reader->length || accept(reader, 'Z'))
        return 1;
    int sign = accept(reader, '+') ? 1 : accept(reader, '-') ? -1 : 0;
    int hours, minutes;
    if (sign == 0 || !read_number(reader, 2, &hours))
        return 0;
    accept(reader, ':');
    if (!read_number(reader, 2, &minutes) || hours > 23 || minutes > 59)
        return 0;
    *offset = sign * (hours * 3600 + minutes * 60);
    return 1;
}

int isodate_parse(const char *text, int length, sqlite3_int64 *seconds,
                  double *fraction)
{
    struct reader reader = {text, length, 0};
    int year, month, day;
    if (!read_number(&reader, 4, &year) || !accept(&reader, '-') ||
        !read_number(&reader, 2, &month) || !accept(&reader, '-') ||
        !read_number(&reader, 2, &day))
        return 0;
    if (month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month))
        return 0;
    sqlite3_int64 time_of_day = 0, offset = 0;
    *fraction = 0;
    if (reader.at < length) {
        if (!accept(&reader, 'T') && !accept(&reader, ' '))
            return 0;
        if (!read_time(&reader, &time_of_day, fraction) ||
            !read_zone(&reader, &offset))
            return 0;
    }
    if (reader.at != length)
        return 0;
    *seconds = days_from_civil(year, month, day) * 86400 + time_of_day -
               offset;
    return 1;
}

/* lethe_epoch(value): see isodate.h. Only text values are read. */
static void sql_epoch(sqlite3_context *context, int argc,
                      sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_null(context);
        return;
    }
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    int length = sqlite3_value_bytes(argv[0]);
    sqlite3_int64 seconds;
    double fraction;
    if (!text || !isodate_parse(text, length, &seconds, &fraction))
        sqlite3_result_null(context);
    else if (fraction > 0)
        sqlite3_result_double(context, (double)seconds + fraction);
    else
        sqlite3_result_int64(context, seconds);
}

int isodate_register(sqlite3 *db, char **err)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    if (sqlite3_create_function(db, "lethe_epoch", 1, flags, NULL, sql_epoch,
                                NULL, NULL) != SQLITE_OK)
        return util_fail(err, "cannot register lethe_epoch: %s",
                         sqlite3_errmsg(db));
    return 0;
}
