/*
 * sample.h: the synthetic CRM data behind `lethe init --sample` and
 * `lethe demo`.
 */
#ifndef LETHE_SAMPLE_H
#define LETHE_SAMPLE_H

#include <sqlite3.h>
#include <stdint.h>
#include <time.h>

struct sample_options {
    long persons;   /* number of person rows, >= 1 */
    uint64_t seed;  /* same seed and anchor give the same database */
    time_t anchor;  /* UTC instant the data is spread back from */
    int progress;   /* nonzero: report progress on standard error */
};

/* Largest `persons`. A person has at most 60 activities and a company at
 * most 8 of its own, so every id stays below 2^32, the limit of Lethe's
 * id sets. */
#define SAMPLE_MAX_PERSONS 20000000L

/* From this many persons on, the data contains the fixed cases that make
 * the bundled retention policy show each of its rules and vetoes. They
 * are a dormant user, a user at a long-lost customer, a lost customer
 * without users, a stale prospect and a withdrawn e-marketing consent
 * (see sample.c). With fewer persons there is a single user. */
#define SAMPLE_FIXED_CASES_MINIMUM 10

/* Fill `db`, which contains the freshly created default schema and
 * nothing else, with sample data: about persons / 5 companies, 9
 * activities, one sale and 1.5 consents per person, users, projects and
 * saved selections. The same options give the same rows, byte for byte.
 *
 * Runs in one transaction of its own, so a failed run writes nothing.
 * Returns 0, or -1 with a message in *err (see util.h) when the options
 * are invalid, the database lacks the default schema or already contains
 * persons or companies, or SQLite fails. The connection's foreign_keys,
 * synchronous and cache_size settings are changed during the run and
 * restored afterwards. With options->progress set, a progress line is
 * written to standard error. */
int sample_generate(sqlite3 *db, const struct sample_options *options,
                    char **err);

#endif
