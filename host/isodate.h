/*
 * isodate.h: reading dates stored as ISO-8601 text, for date criteria.
 *
 *   lethe_epoch(value)  seconds since 1970-01-01 00:00:00 UTC of the
 *                       instant that `value` names, or NULL when `value`
 *                       is not such a date
 *
 * Accepted text: YYYY-MM-DD, optionally followed by 'T' or a space and
 * HH:MM, HH:MM:SS or HH:MM:SS.fraction, and then optionally 'Z' or an
 * offset +HH:MM, -HH:MM, +HHMM or -HHMM. A date without a time is
 * midnight UTC. Every field is range-checked against the calendar, so
 * 2019-02-30 is not a date. Anything else, including numbers, 'now' and
 * surrounding spaces, gives NULL, so that such a value never satisfies a
 * date criterion. The result is an integer, or a real number when the
 * text has a fraction of a second. scripts/lethe/dates.lua reads the same
 * forms.
 */
#ifndef LETHE_ISODATE_H
#define LETHE_ISODATE_H

#include <sqlite3.h>

/* Parse `length` bytes of `text`. Returns 1 and sets *seconds (and
 * *fraction, in [0, 1)) for a date in the form above, else returns 0. */
int isodate_parse(const char *text, int length, sqlite3_int64 *seconds,
                  double *fraction);

/* Register lethe_epoch on `db`. Returns 0, or -1 with a message in *err. */
int isodate_register(sqlite3 *db, char **err);

#endif
