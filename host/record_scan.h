/*
 * record_scan.h: searching the rows of SQLite queries for byte strings in
 * the form the rows take in a database file, to tell the copies of erased
 * values that live rows still contain from residues.
 */
#ifndef LETHE_RECORD_SCAN_H
#define LETHE_RECORD_SCAN_H

#include "scan.h"

#include <sqlite3.h>
#include <stddef.h>

/* Run each of the `sql_count` queries in `sqls` and search every row for
 * the needles of `index`. A row is searched as the SQLite record that its
 * columns make: the record header, then each value's stored bytes in
 * column order. So a needle that spans two adjacent columns of a live row
 * is found, as it is in the file. Adds to each needle's count; stops early
 * once every needle has a count above zero. Returns 0, or -1 with *err
 * set (free it) when a query fails. */
int record_scan(sqlite3 *db, const char *const *sqls, size_t sql_count,
                const struct scan_index *index, struct scan_needle *needles,
                size_t needle_count, char **err);

/* Append the record of the current row of `statement` to buffer[0, *size)
 * and return the buffer (reallocated as needed, capacity in *capacity).
 * The caller holds the mutex of the statement's connection. Columns past
 * the 2000th are left out. */
unsigned char *record_build(sqlite3_stmt *statement, unsigned char *buffer,
                            size_t *size, size_t *capacity);

#endif
