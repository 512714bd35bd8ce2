/*
 * scan.h: searching files and buffers for many byte strings at once, to
 * check that erased values left no copy in a database file, its journal
 * or its WAL.
 */
#ifndef LETHE_SCAN_H
#define LETHE_SCAN_H

#include <stddef.h>

struct scan_needle {
    const char *bytes;
    size_t length; /* at least 1 */
    long count;    /* occurrences found, added to by the scan functions */
};

/* An index of needles by their first bytes (at most 8, at most the
 * shortest needle's length), so that one pass over a buffer finds every
 * needle: each position's prefix is looked up in a hash table and only
 * the needles with that prefix are compared in full. */
struct scan_index;

/* Build the index of `needles[0, count)`, which must outlive it and are
 * not copied. Aborts the process if memory runs out, as util_malloc. */
struct scan_index *scan_index_new(struct scan_needle *needles, size_t count);

void scan_index_free(struct scan_index *index);

/* The length of the longest needle (0 for no needles). */
size_t scan_index_longest(const struct scan_index *index);

/* Called for each occurrence of needles[needle] that starts at
 * buffer[at]. */
typedef void (*scan_hit_fn)(void *context, size_t needle, size_t at);

/* Call `hit` for each occurrence in buffer[0, size) that starts before
 * `limit` (limit <= size), in the order of their starts. Overlapping
 * occurrences are all reported. Counts are left unchanged. Several
 * threads may search with one index at the same time. */
void scan_index_find(const struct scan_index *index, const char *buffer,
                     size_t size, size_t limit, scan_hit_fn hit,
                     void *context);

/* Add to each needle's count its occurrences in buffer[0, size) that start
 * before `limit` (limit <= size). Overlapping occurrences all count. */
void scan_index_count(const struct scan_index *index, const char *buffer,
                      size_t size, size_t limit);

/* Count the occurrences of every needle in the file at `path`, reading it
 * in blocks of `block_size` bytes so that files of any size work. Counts
 * start at zero. A missing file counts as empty and returns 0. Fails only
 * when the file exists but cannot be read. */
int scan_file_blocks(const char *path, struct scan_needle *needles,
                     size_t count, size_t block_size, char **err);

/* scan_file_blocks with blocks of 1 MiB. */
int scan_file(const char *path, struct scan_needle *needles, size_t count,
              char **err);

#endif
