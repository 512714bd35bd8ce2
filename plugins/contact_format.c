/*
 * contact_format.c: plain C functions for phone numbers and e-mail
 * addresses, called through libffi.
 *
 * Example of plain C functions. The plugin registers no criteria or
 * actions of its own, only two ordinary C functions by signature. A
 * policy calls them from Lua or uses them in a bulk update:
 *
 *   local contact = plugin "contact_format"
 *   rule "phone numbers in E.164" {
 *     select = entity "phone":all(),
 *     action = update { number = field_action(contact.phone_e164, "31") },
 *   }
 *   rule "invalid e-mail addresses" {
 *     select = entity "email":where {
 *       function(row) return not contact.email_valid(row.address) end },
 *     action = delete(),
 *   }
 *
 * phone_e164(number, country_code) returns the number in E.164 form
 * ("+31612345678"), or NULL when it cannot be read as a phone number (a
 * bulk update then leaves the value as it was). Spaces, dashes, dots,
 * slashes, parentheses and a "(0)" after the country code are dropped; a
 * number starting with "+" or "00" has its own country code, one starting
 * with a single "0" (a trunk prefix) or a digit gets `country_code`
 * ("31" for the Netherlands). The result has 8 to 15 digits, the E.164
 * maximum being 15.
 *
 * email_valid(address) checks the syntax of an address in the common
 * ASCII form local@domain: a dot-atom local part of at most 64 characters
 * (letters, digits and !#$%&'*+-/=?^_`{|}~, dots only between them) and
 * a domain of at most 253 characters with at least two labels of letters,
 * digits and inner hyphens, the last one alphabetic. It does not accept
 * quoted local parts, address literals or non-ASCII addresses.
 */
#include <lethe/plugin.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E164_MAX_DIGITS 15
#define E164_MIN_DIGITS 8

LETHE_PLUGIN_DECLARE();

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_separator(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' ||
           c == ')' || c == '\t';
}

/* Copy the digits of `number` into `digits` (at most `size` - 1), after
 * an optional leading '+' (reported in *plus) and with "(0)" removed.
 * Returns the count, or -1 for any other character or too many digits. */
static int collect_digits(const char *number, char *digits, size_t size,
                          int *plus)
{
    const char *p = number;
    while (*p == ' ' || *p == '\t')
        p++;
    *plus = *p == '+';
    if (*plus)
        p++;
    size_t count = 0;
    for (; *p; p++) {
        if (strncmp(p, "(0)", 3) == 0 && *plus) {
            p += 2;
            continue;
        }
        if (is_separator(*p))
            continue;
        if (!is_digit(*p) || count + 1 >= size)
            return -1;
        digits[count++] = *p;
    }
    digits[count] = '\0';
    return (int)count;
}

static int valid_country_code(const char *code)
{
    size_t length = strlen(code);
    if (length < 1 || length > 3 || code[0] == '0')
        return 0;
    for (size_t i = 0; i < length; i++) {
        if (!is_digit(code[i]))
            return 0;
    }
    return 1;
}

static char *phone_e164(const char *number, const char *country_code)
{
    char digits[64];
    int plus;
    int count = collect_digits(number, digits, sizeof digits, &plus);
    if (count <= 0 || !valid_country_code(country_code))
        return NULL;
    /* Room for a country code (up to 3 digits) and 63 digits; longer
     * results are refused below anyway. */
    char national[72];
    if (plus) {
        snprintf(national, sizeof national, "%s", digits);
    } else if (strncmp(digits, "00", 2) == 0) {
        snprintf(national, sizeof national, "%s", digits + 2);
    } else if (digits[0] == '0') {
        snprintf(national, sizeof national, "%s%s", country_code,
                 digits + 1);
    } else {
        snprintf(national, sizeof national, "%s%s", country_code, digits);
    }
    size_t length = strlen(national);
    if (length < E164_MIN_DIGITS || length > E164_MAX_DIGITS ||
        national[0] == '0')
        return NULL;
    char *result = malloc(length + 2);
    if (!result)
        return NULL;
    result[0] = '+';
    memcpy(result + 1, national, length + 1);
    return result;
}

static int is_atext(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool valid_local_part(const char *start, size_t length)
{
    if (length == 0 || length > 64 || start[0] == '.' ||
        start[length - 1] == '.')
        return false;
    for (size_t i = 0; i < length; i++) {
        if (start[i] == '.') {
            if (start[i + 1] == '.')
                return false;
        } else if (!is_atext(start[i])) {
            return false;
        }
    }
    return true;
}

static bool valid_label(const char *start, size_t length, bool last)
{
    if (length == 0 || length > 63 || start[0] == '-' ||
        start[length - 1] == '-')
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = start[i];
        int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (last && (!letter || length < 2))
            return false;
        if (!letter && !is_digit(c) && c != '-')
            return false;
    }
    return true;
}

static bool valid_domain(const char *domain)
{
    size_t length = strlen(domain);
    if (length == 0 || length > 253)
        return false;
    int labels = 0;
    const char *start = domain;
    for (;;) {
        const char *dot = strchr(start, '.');
        size_t label_length = dot ? (size_t)(dot - start) : strlen(start);
        if (!valid_label(start, label_length, dot == NULL))
            return false;
        labels++;
        if (!dot)
            break;
        start = dot + 1;
    }
    return labels >= 2;
}

static bool email_valid(const char *address)
{
    const char *at = strchr(address, '@');
    if (!at || strchr(at + 1, '@'))
        return false;
    return valid_local_part(address, (size_t)(at - address)) &&
           valid_domain(at + 1);
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *host,
                                          struct lethe_plugin_info *info)
{
    info->name = "contact_format";
    info->version = "1.0.0";
    info->description = "phone numbers in E.164 form and e-mail syntax, "
                        "as plain C functions";
    info->free_result = free;
    if (host->register_function(
            info->plugin,
            "char *phone_e164(const char *number, const char *country_code)",
            (lethe_function_address)phone_e164) != LETHE_OK)
        return LETHE_ERROR;
    return host->register_function(info->plugin,
                                   "bool email_valid(const char *address)",
                                   (lethe_function_address)email_valid);
}
