/*
 * erasure_scan.h: the search behind the erasure check. It counts erased
 * values in the database's files and, at the same time, finds which of
 * them live rows still contain, so that only the other copies count as
 * residues.
 */
#ifndef LETHE_ERASURE_SCAN_H
#define LETHE_ERASURE_SCAN_H

#include "scan.h"

#include <sqlite3.h>
#include <stddef.h>

/* Count the occurrences of `values[0, count)` in each of the
 * `file_count` files into file_counts[f * count + i]; a missing file
 * counts as empty. Set live[i] to 1 when the files contain values[i] and
 * a row of one of the queries `sqls` contains it in its record form (see
 * record_scan), else to 0. The values' own counts are left unchanged.
 * A second thread searches the files while the calling thread, which
 * must own `db`, searches the rows. If the thread cannot be created, the
 * files are searched first. Returns 0, or -1 with *err set (free it) when
 * a file cannot be read or a query fails. */
int erasure_scan(sqlite3 *db, const char *const *files, size_t file_count,
                 const char *const *sqls, size_t sql_count,
                 const struct scan_needle *values, size_t count,
                 long *file_counts, unsigned char *live, char **err);

#endif
