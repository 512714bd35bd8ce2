/*
 * scan.c: counting byte strings in files and buffers (see scan.h).
 */
#include "scan.h"

#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_BLOCK (1u << 20)
#define MAX_PREFIX 8

struct scan_index {
    struct scan_needle *needles;
    size_t count;
    size_t prefix;   /* bytes of each needle that form its key */
    size_t longest;
    uint64_t *keys;  /* keys[i]: the key of needles[i] */
    uint32_t *heads; /* heads[h]: 1 + first needle of bucket h, or 0 */
    uint32_t *next;  /* next[i]: 1 + next needle in i's bucket, or 0 */
    unsigned bits;   /* the table has 2^bits buckets */
};

/* The first `prefix` bytes at `bytes` as a number, the same on every byte
 * order. `available` is how many bytes may be read (at least prefix). */
static uint64_t key_at(const unsigned char *bytes, size_t prefix,
                       size_t available)
{
    unsigned char padded[MAX_PREFIX] = {0};
    memcpy(padded, bytes, available < MAX_PREFIX ? available : MAX_PREFIX);
    uint64_t key = 0;
    for (size_t i = 0; i < prefix; i++)
        key |= (uint64_t)padded[i] << (8 * i);
    return key;
}

/* The same key, read with one 8-byte load where 8 bytes are available. */
static inline uint64_t fast_key(const unsigned char *bytes, size_t prefix,
                                uint64_t mask)
{
    uint64_t word;
    memcpy(&word, bytes, sizeof word);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)prefix;
    return word & mask;
#else
    (void)mask;
    return key_at(bytes, prefix, sizeof word);
#endif
}

static inline size_t bucket_of(uint64_t key, unsigned bits)
{
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}

struct scan_index *scan_index_new(struct scan_needle *needles, size_t count)
{
    struct scan_index *index = util_malloc(sizeof *index);
    index->needles = needles;
    index->count = count;
    index->prefix = MAX_PREFIX;
    index->longest = 0;
    for (size_t i = 0; i < count; i++) {
        if (needles[i].length < index->prefix)
            index->prefix = needles[i].length;
        if (needles[i].length > index->longest)
            index->longest = needles[i].length;
    }
    /* About eight buckets per needle keeps most positions of a buffer
     * on an empty bucket. */
    index->bits = 10;
    while (index->bits < 30 && ((size_t)1 << index->bits) < count * 8)
        index->bits++;
    size_t buckets = (size_t)1 << index->bits;
    index->heads = util_malloc(buckets * sizeof *index->heads);
    memset(index->heads, 0, buckets * sizeof *index->heads);
    index->keys = util_malloc((count ? count : 1) * sizeof *index->keys);
    index->next = util_malloc((count ? count : 1) * sizeof *index->next);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *bytes = (const unsigned char *)needles[i].bytes;
        index->keys[i] = key_at(bytes, index->prefix, needles[i].length);
        size_t bucket = bucket_of(index->keys[i], index->bits);
        index->next[i] = index->heads[bucket];
        index->heads[bucket] = (uint32_t)(i + 1);
    }
    return index;
}

void scan_index_free(struct scan_index *index)
{
    if (!index)
        return;
    free(index->heads);
    free(index->keys);
    free(index->next);
    free(index);
}

size_t scan_index_longest(const struct scan_index *index)
{
    return index->longest;
}

/* Count the needles with key `key` that occur at buffer[at]. */
static void count_at(const struct scan_index *index, uint64_t key,
                     const unsigned char *buffer, size_t size, size_t at)
{
    uint32_t link = index->heads[bucket_of(key, index->bits)];
    while (link) {
        size_t i = link - 1;
        struct scan_needle *needle = &index->needles[i];
        if (index->keys[i] == key && needle->length <= size - at &&
            memcmp(buffer + at, needle->bytes, needle->length) == 0)
            needle->count++;
        link = index->next[i];
    }
}

void scan_index_count(const struct scan_index *index, const char *buffer,
                      size_t size, size_t limit)
{
    const unsigned char *bytes = (const unsigned char *)buffer;
    size_t prefix = index->prefix;
    if (index->count == 0 || size < prefix)
        return;
    size_t last = size - prefix; /* last position a needle can start at */
    if (limit > last + 1)
        limit = last + 1;
    uint64_t mask = prefix >= 8 ? UINT64_MAX
                                : ((UINT64_C(1) << (8 * prefix)) - 1);
    size_t fast_end = size >= 8 ? size - 7 : 0;
    if (fast_end > limit)
        fast_end = limit;
    size_t at = 0;
    for (; at < fast_end; at++) {
        uint64_t key = fast_key(bytes + at, prefix, mask);
        if (index->heads[bucket_of(key, index->bits)])
            count_at(index, key, bytes, size, at);
    }
    for (; at < limit; at++)
        count_at(index, key_at(bytes + at, prefix, size - at), bytes, size,
                 at);
}

int scan_file_blocks(const char *path, struct scan_needle *needles,
                     size_t count, size_t block_size, char **err)
{
    for (size_t i = 0; i < count; i++)
        needles[i].count = 0;
    FILE *file = fopen(path, "rb");
    if (!file) {
        if (errno == ENOENT)
            return 0;
        return util_fail(err, "cannot read %s: %s", path, strerror(errno));
    }
    struct scan_index *index = scan_index_new(needles, count);
    /* Each block keeps the last (longest - 1) bytes of the one before, so
     * a match across a block boundary is seen once, in the block where it
     * starts. */
    size_t overlap = scan_index_longest(index);
    overlap = overlap > 0 ? overlap - 1 : 0;
    char *buffer = util_malloc(block_size + overlap);
    size_t kept = 0;
    int status = 0;
    for (;;) {
        size_t got = fread(buffer + kept, 1, block_size, file);
        size_t size = kept + got;
        int last = got < block_size;
        size_t limit = last ? size : (size > overlap ? size - overlap : 0);
        scan_index_count(index, buffer, size, limit);
        if (last)
            break;
        kept = size - limit;
        memmove(buffer, buffer + limit, kept);
    }
    if (ferror(file))
        status = util_fail(err, "cannot read %s", path);
    free(buffer);
    scan_index_free(index);
    fclose(file);
    return status;
}

int scan_file(const char *path, struct scan_needle *needles, size_t count,
              char **err)
{
    return scan_file_blocks(path, needles, count, SCAN_BLOCK, err);
}
