/*
 * page_scan.h: searching an SQLite database file for erased values and
 * finding which of them live records still contain, by reading the
 * file's own page structure instead of its rows.
 */
#ifndef LETHE_PAGE_SCAN_H
#define LETHE_PAGE_SCAN_H

#include "scan.h"

#include <stddef.h>

/* Count the copies of each needle in the database file at `path` into
 * its count, or set the count to 0 when one of its copies lies inside a
 * live record: a cell of a b-tree page or the used part of an overflow
 * page. The other copies of a live value are left out too, because
 * SQLite leaves old copies of the records it moves in free space and on
 * freelist pages. So a count above 0 means that only copies outside live
 * records remain: on freelist pages, in free space, past the end of the
 * database or across two pages. `threads` threads (at least 1) search
 * parts of the file at once.
 *
 * The file must be a committed database with no WAL content, so that its
 * pages are the database. Returns 1 when the counts are set. Returns 0
 * when this search cannot read the file's layout: not a database, a text
 * encoding other than UTF-8, 2^25 pages or more, or a freelist that does
 * not parse. The caller must then check some other way. Returns -1 with
 * *err set (free it) when the file cannot be read. */
int page_scan(const char *path, struct scan_needle *needles, size_t count,
              int threads, char **err);

#endif
