/*
 * page_scan.h: searching an SQLite database file for erased values and
 * finding which of them live records still contain, by reading the
 * file's own page structure instead of its rows.
 */
#ifndef LETHE_PAGE_SCAN_H
#define LETHE_PAGE_SCAN_H

#include "scan.h"

#include <stddef.h>
#include <stdint.h>

/* Count the copies of each needle in the database file at `path` that
 * lie, at least in part, outside live records (on freelist pages, in the
 * free space of b-tree pages, past the end of the database) into its
 * count. The count is 0 instead when a copy of the needle lies inside a
 * live record: a cell of a b-tree page or the used part of an overflow
 * page. The copies outside of such a live value are left out because
 * SQLite leaves old copies of the records it moves in free space, even
 * with secure_delete on. The records of SQLite's own tables are not live:
 * the schema, whose root is page 1, and the tables whose root pages are
 * `roots[0, root_count)` (sqlite_stat1, sqlite_stat4, ...). `threads`
 * threads (at least 1) search parts of the file at once.
 *
 * The file must be a committed database with no WAL content, so that its
 * pages are the database. The needles are byte strings, so the caller
 * gives text in the file's text encoding. Returns 1 when the counts are
 * set. Returns 0 when this search cannot read the file's layout: not a
 * database, an unknown text encoding, 2^25 pages or more, or a freelist
 * or a tree of SQLite's own tables that does not parse. The caller must
 * then check some other way. Returns -1 with *err set (free it) when the
 * file cannot be read. */
int page_scan(const char *path, struct scan_needle *needles, size_t count,
              const uint32_t *roots, size_t root_count, int threads,
              char **err);

#endif
