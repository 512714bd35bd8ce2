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

/* A callback that record_scan runs before each check whether every
 * needle is found (every few thousand rows and between queries). It may
 * raise the counts of needles that need not be searched any more, so that
 * the search stops sooner. */
struct record_scan_hook {
    void (*before_check)(void *context, struct scan_needle *needles,
                         size_t count);
    void *context;
};

/* Run each of the `sql_count` queries in `sqls` and search every row for
 * the needles. A row is searched as the SQLite record that its columns
 * make: the record header, then each value's stored bytes in column
 * order, with text in the database's text encoding. So a needle that
 * spans two adjacent columns of a live row is found, as it is in the
 * file. Raises the count of each needle that a row contains above zero.
 * The count is not the number of occurrences, because found needles leave
 * the search. Stops early once every needle has a count above zero.
 * `hook` may be NULL. Returns 0, or -1 with *err set (free it) when a
 * query fails. */
int record_scan(sqlite3 *db, const char *const *sqls, size_t sql_count,
                struct scan_needle *needles, size_t needle_count,
                const struct record_scan_hook *hook, char **err);

/* Append the record of the current row of `statement` to buffer[0, *size)
 * and return the buffer (reallocated as needed, capacity in *capacity).
 * Text goes in `encoding`, as record_text_encoding() returns it. The
 * caller holds the mutex of the statement's connection. Columns past the
 * 2000th are left out. */
unsigned char *record_build(sqlite3_stmt *statement, int encoding,
                            unsigned char *buffer, size_t *size,
                            size_t *capacity);

/* The text encoding of the main database of `db`: SQLITE_UTF8,
 * SQLITE_UTF16LE or SQLITE_UTF16BE, or -1 with *err set (free it). */
int record_text_encoding(sqlite3 *db, char **err);

#endif
