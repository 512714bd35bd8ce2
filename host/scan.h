/*
 * scan.h: searching files for byte strings, to check that erased values
 * left no copy in a database file, its journal or its WAL.
 */
#ifndef LETHE_SCAN_H
#define LETHE_SCAN_H

#include <stddef.h>

struct scan_needle {
    const char *bytes;
    size_t length; /* at least 1 */
    long count;    /* occurrences found, filled in by scan_file */
};

/* Count the occurrences of every needle in the file at `path`, reading it
 * in blocks so that files of any size work. A missing file counts as
 * empty and returns 0. Fails only when the file exists but cannot be
 * read. */
int scan_file(const char *path, struct scan_needle *needles, size_t count,
              char **err);

#endif
