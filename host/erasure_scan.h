/*
 * erasure_scan.h: the search behind the erasure check. It counts the
 * residues of erased values in the database's files: the copies of the
 * values that no live record contains.
 */
#ifndef LETHE_ERASURE_SCAN_H
#define LETHE_ERASURE_SCAN_H

#include "scan.h"

#include <sqlite3.h>
#include <stddef.h>

/* Count the residues of `values[0, count)` in each of the `file_count`
 * files into residues[f * count + i]: its copies, or 0 for a value that a
 * live record contains. A missing file counts as empty. files[0] is the
 * database file and files[1], if given, its WAL.
 *
 * When the WAL is missing or empty, the database file is read page by
 * page (page_scan.h): only copies outside live records count there, and
 * the values inside live records are found on the way. When
 * the WAL has content, or page_scan cannot read the file, a second thread
 * counts the copies in the files instead. Meanwhile the calling thread,
 * which must own `db`, runs the queries `sqls` and searches their rows in
 * record form (record_scan.h). Returns 0, or -1 with *err set (free it)
 * when a file cannot be read or a query fails. When `sqls` is NULL and
 * the rows would have to be searched, returns 1 and counts nothing, so
 * that the caller makes the queries only when they are needed. */
int erasure_scan(sqlite3 *db, const char *const *files, size_t file_count,
                 const char *const *sqls, size_t sql_count,
                 const struct scan_needle *values, size_t count,
                 long *residues, char **err);

#endif
