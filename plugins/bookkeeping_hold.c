/*
 * bookkeeping_hold.c: a deletion guard that keeps bookkeeping records.
 *
 * Example of a guard. Bookkeeping rules oblige a company to keep its
 * records of sales for some years. So a company or a person with a sold
 * sale dated within the last N years before the run's reference time
 * (--now) cannot be deleted, and neither can such a sale. Guards veto
 * deletion only: the same records can still be anonymised.
 *
 * Option (--plugin-option bookkeeping_hold.years=N, or plugin
 * ("bookkeeping_hold", { years = N }) in a policy): the number of years,
 * a whole number from 1 to 100, default 7.
 *
 * Works on the default CRM schema: table sale with contact_id, person_id,
 * saledate and status (2 = sold). Dates are compared as instants with
 * lethe_epoch(), so a saledate that is not a date holds nothing back.
 */
#include <lethe/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_YEARS 7
#define MAX_YEARS 100
#define SOLD 2

LETHE_PLUGIN_DECLARE();

static const struct lethe_host *host;
static lethe_plugin *self;
static int years = DEFAULT_YEARS;
static char reason[128];

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t year_of_era = y - era * 400;
    int64_t day_of_year = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 -
                         year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* The civil date of `days` since 1970-01-01. */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 +
                           day_of_era / 36524 - day_of_era / 146096) /
                          365;
    int64_t day_of_year = day_of_era - (365 * year_of_era +
                                        year_of_era / 4 - year_of_era / 100);
    int64_t month_index = (5 * day_of_year + 2) / 153;
    *d = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
    *m = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
    *y = year_of_era + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The instant `count` calendar years before `now` (Unix seconds); 29
 * February becomes 28 February in a year without it. */
static int64_t years_before(int64_t now, int count)
{
    int64_t days = now >= 0 ? now / 86400 : -((-now + 86399) / 86400);
    int64_t seconds_of_day = now - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    y -= count;
    if (m == 2 && d == 29 && !is_leap(y))
        d = 28;
    return days_from_civil(y, m, d) * 86400 + seconds_of_day;
}

static int add_vetoed(void *vetoed, int column_count,
                      const struct lethe_value *columns)
{
    if (column_count > 0 && columns[0].type == LETHE_INTEGER)
        host->idset_add(vetoed, columns[0].integer);
    return 0;
}

/* Veto the candidates that the statement `sql` returns, given the
 * candidates as ?1 and the cut-off instant as ?2. */
static int veto(struct lethe_guard_call *call, const char *sql)
{
    struct lethe_value params[2];
    memset(params, 0, sizeof params);
    params[0].type = LETHE_IDSET;
    params[0].ids = call->candidates;
    params[1].type = LETHE_INTEGER;
    params[1].integer = years_before(call->now, years);
    if (host->query(self, sql, params, 2, add_vetoed, call->vetoed) !=
        LETHE_OK)
        return LETHE_ERROR; /* query set the message */
    call->reason = reason;
    return LETHE_OK;
}

static int guard_persons(void *user, struct lethe_guard_call *call)
{
    (void)user;
    return veto(call, "SELECT p.person_id FROM person p "
                      "WHERE p.person_id IN lethe_ids(?1) AND EXISTS ("
                      "SELECT 1 FROM sale s WHERE s.person_id = p.person_id "
                      "AND s.status = 2 AND lethe_epoch(s.saledate) >= ?2)");
}

static int guard_companies(void *user, struct lethe_guard_call *call)
{
    (void)user;
    return veto(call, "SELECT c.contact_id FROM contact c "
                      "WHERE c.contact_id IN lethe_ids(?1) AND EXISTS ("
                      "SELECT 1 FROM sale s "
                      "WHERE s.contact_id = c.contact_id "
                      "AND s.status = 2 AND lethe_epoch(s.saledate) >= ?2)");
}

static int guard_sales(void *user, struct lethe_guard_call *call)
{
    (void)user;
    return veto(call, "SELECT s.sale_id FROM sale s "
                      "WHERE s.sale_id IN lethe_ids(?1) AND s.status = 2 "
                      "AND lethe_epoch(s.saledate) >= ?2");
}

/* Read the years option; returns LETHE_ERROR for an invalid value. */
static int read_years(void)
{
    const char *text = host->option(self, "years");
    if (!text)
        return LETHE_OK;
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 1 || value > MAX_YEARS) {
        host->set_error(self, "invalid option years=%s; give a whole number "
                        "of years from 1 to %d", text, MAX_YEARS);
        return LETHE_ERROR;
    }
    years = (int)value;
    return LETHE_OK;
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *h,
                                          struct lethe_plugin_info *info)
{
    host = h;
    self = info->plugin;
    info->name = "bookkeeping_hold";
    info->version = "1.0.0";
    info->description = "keeps companies, persons and sales with a sold "
                        "sale in the last N years (default 7)";
    if (read_years() != LETHE_OK)
        return LETHE_ERROR;
    snprintf(reason, sizeof reason,
             "bookkeeping hold: a sold sale within the last %d years",
             years);
    const struct lethe_guard guards[] = {
        {"bookkeeping_persons", "person", reason, guard_persons, NULL},
        {"bookkeeping_companies", "company", reason, guard_companies, NULL},
        {"bookkeeping_sales", "sale", reason, guard_sales, NULL},
    };
    for (size_t i = 0; i < sizeof guards / sizeof guards[0]; i++) {
        if (host->register_guard(self, &guards[i]) != LETHE_OK)
            return LETHE_ERROR;
    }
    return LETHE_OK;
}
