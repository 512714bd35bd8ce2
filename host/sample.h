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

/* Fill `db`, which holds the freshly created default schema and nothing
 * else, with sample data. Runs in one transaction of its own. */
int sample_generate(sqlite3 *db, const struct sample_options *options,
                    char **err);

#endif
