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
#define MAX_LEVELS 64
#define HASH_SEED UINT64_C(0xcbf29ce484222325) /* FNV-1a, 64 bits */
#define HASH_PRIME UINT64_C(0x100000001b3)

/* One prefix of the index: the needles whose level it is, and whether
 * longer needles share it. */
struct entry {
    uint64_t key;
    uint32_t head;  /* 1 + first needle of this prefix, or 0 */
    uint8_t used;
    uint8_t longer; /* a needle of a higher level starts with it */
};

/* Needles are indexed by a prefix whose length is a "level": the
 * shortest needle's length (at most 8), then 8, then lengths about 1.25
 * times apart. Each level costs a table lookup at every position where
 * the text matches a needle's start that far, so the levels are few. A
 * needle is stored under the longest level that fits it, and its
 * prefixes at the shorter levels are marked as leading to longer
 * needles. A search at a position hashes the text level by level and
 * stops at the first prefix that no needle has. So needles that share a
 * long common start (street names, letter templates) are distinguished
 * by the hash and not by comparing each of them. A bitmap of the first
 * level's prefixes lets most positions go after one lookup. */
struct scan_index {
    struct scan_needle *needles;
    size_t count;
    size_t longest;
    size_t levels[MAX_LEVELS];
    size_t level_count;
    struct entry *entries; /* open addressing, a power of two */
    size_t capacity;
    size_t used;
    uint32_t *next; /* next[i]: 1 + next needle of i's prefix, or 0 */
    uint64_t *filter;
    unsigned filter_bits;
    uint64_t pairs[65536 / 64]; /* the needles' first two bytes */
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

/* splitmix64's finalizer: spreads every input bit over the result. */
static inline uint64_t mix(uint64_t value)
{
    value ^= value >> 30;
    value *= UINT64_C(0xbf58476d1ce4e5b9);
    value ^= value >> 27;
    value *= UINT64_C(0x94d049bb133111eb);
    return value ^ (value >> 31);
}

/* The first two bytes at `bytes` as a number. */
static inline size_t pair_at(const unsigned char *bytes)
{
    return (size_t)bytes[0] << 8 | bytes[1];
}

static inline int pair_has(const struct scan_index *index,
                           const unsigned char *bytes)
{
    size_t pair = pair_at(bytes);
    return (index->pairs[pair / 64] >> (pair % 64)) & 1;
}

static inline size_t filter_bit(const struct scan_index *index, uint64_t key)
{
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >>
                    (64 - index->filter_bits));
}

static inline uint64_t entry_key(uint64_t hash, size_t level)
{
    return mix(hash + level);
}

static inline uint64_t extend_hash(uint64_t hash, const unsigned char *bytes,
                                   size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        hash = (hash ^ bytes[i]) * HASH_PRIME;
    return hash;
}

static struct entry *find_entry(const struct scan_index *index,
                                uint64_t key)
{
    size_t mask = index->capacity - 1;
    for (size_t slot = (size_t)key & mask;; slot = (slot + 1) & mask) {
        struct entry *entry = &index->entries[slot];
        if (!entry->used || entry->key == key)
            return entry;
    }
}

static void grow_entries(struct scan_index *index)
{
    struct entry *old = index->entries;
    size_t old_capacity = index->capacity;
    index->capacity = old_capacity ? old_capacity * 2 : 1024;
    index->entries = util_malloc(index->capacity * sizeof *index->entries);
    memset(index->entries, 0, index->capacity * sizeof *index->entries);
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].used)
            *find_entry(index, old[i].key) = old[i];
    free(old);
}

/* The entry of `key`, added if missing. */
static struct entry *add_entry(struct scan_index *index, uint64_t key)
{
    if ((index->used + 1) * 2 > index->capacity)
        grow_entries(index);
    struct entry *entry = find_entry(index, key);
    if (!entry->used) {
        entry->used = 1;
        entry->key = key;
        index->used++;
    }
    return entry;
}

static void set_levels(struct scan_index *index, size_t shortest)
{
    size_t level = shortest < MAX_PREFIX ? shortest : MAX_PREFIX;
    index->level_count = 0;
    while (index->level_count < MAX_LEVELS) {
        index->levels[index->level_count++] = level;
        if (level >= index->longest)
            break;
        level = level < MAX_PREFIX ? MAX_PREFIX : level + level / 4;
    }
}

static void add_needle(struct scan_index *index, size_t i)
{
    const struct scan_needle *needle = &index->needles[i];
    const unsigned char *bytes = (const unsigned char *)needle->bytes;
    size_t top = 0;
    while (top + 1 < index->level_count &&
           index->levels[top + 1] <= needle->length)
        top++;
    uint64_t hash = HASH_SEED;
    size_t done = 0;
    for (size_t level = 0; level <= top; level++) {
        hash = extend_hash(hash, bytes, done, index->levels[level]);
        done = index->levels[level];
        struct entry *entry = add_entry(index, entry_key(hash, level));
        if (level < top) {
            entry->longer = 1;
        } else {
            index->next[i] = entry->head;
            entry->head = (uint32_t)(i + 1);
        }
    }
    size_t bit = filter_bit(index, key_at(bytes, index->levels[0],
                                          needle->length));
    index->filter[bit / 64] |= UINT64_C(1) << (bit % 64);
    if (needle->length >= 2) {
        size_t pair = pair_at(bytes);
        index->pairs[pair / 64] |= UINT64_C(1) << (pair % 64);
    }
}

struct scan_index *scan_index_new(struct scan_needle *needles, size_t count)
{
    struct scan_index *index = util_malloc(sizeof *index);
    memset(index, 0, sizeof *index);
    index->needles = needles;
    index->count = count;
    size_t shortest = MAX_PREFIX;
    for (size_t i = 0; i < count; i++) {
        if (needles[i].length < shortest)
            shortest = needles[i].length;
        if (needles[i].length > index->longest)
            index->longest = needles[i].length;
    }
    set_levels(index, shortest);
    /* About 16 bits per needle keeps the bitmap's false hits rare. */
    index->filter_bits = 16;
    while (index->filter_bits < 32 &&
           ((size_t)1 << index->filter_bits) < count * 16)
        index->filter_bits++;
    size_t words = ((size_t)1 << index->filter_bits) / 64;
    index->filter = util_malloc(words * sizeof *index->filter);
    memset(index->filter, 0, words * sizeof *index->filter);
    index->next = util_malloc((count ? count : 1) * sizeof *index->next);
    grow_entries(index);
    for (size_t i = 0; i < count; i++)
        add_needle(index, i);
    return index;
}

void scan_index_free(struct scan_index *index)
{
    if (!index)
        return;
    free(index->entries);
    free(index->filter);
    free(index->next);
    free(index);
}

size_t scan_index_longest(const struct scan_index *index)
{
    return index->longest;
}

/* Report each needle that occurs at bytes[0, available) to `hit`. */
static void find_at(const struct scan_index *index,
                    const unsigned char *bytes, size_t available,
                    scan_hit_fn hit, void *context, size_t at)
{
    uint64_t hash = HASH_SEED;
    size_t done = 0;
    for (size_t level = 0; level < index->level_count; level++) {
        size_t length = index->levels[level];
        if (length > available)
            return;
        hash = extend_hash(hash, bytes, done, length);
        done = length;
        const struct entry *entry =
            find_entry(index, entry_key(hash, level));
        if (!entry->used)
            return;
        for (uint32_t link = entry->head; link; link = index->next[link - 1]) {
            const struct scan_needle *needle = &index->needles[link - 1];
            if (needle->length <= available &&
                memcmp(bytes, needle->bytes, needle->length) == 0)
                hit(context, link - 1, at);
        }
        if (!entry->longer)
            return;
    }
}

static inline int filter_has(const struct scan_index *index, uint64_t key)
{
    size_t bit = filter_bit(index, key);
    return (index->filter[bit / 64] >> (bit % 64)) & 1;
}

void scan_index_find(const struct scan_index *index, const char *buffer,
                     size_t size, size_t limit, scan_hit_fn hit,
                     void *context)
{
    const unsigned char *bytes = (const unsigned char *)buffer;
    size_t prefix = index->levels[0];
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
    /* A bitmap of the needles' first two bytes fits the fastest cache, so
     * it is checked before the larger prefix filter. In a sample of the
     * benchmark database it let about four positions in five go. */
    int pairs = prefix >= 2;
    size_t at = 0;
    for (; at < fast_end; at++)
        if ((!pairs || pair_has(index, bytes + at)) &&
            filter_has(index, fast_key(bytes + at, prefix, mask)))
            find_at(index, bytes + at, size - at, hit, context, at);
    for (; at < limit; at++)
        if (filter_has(index, key_at(bytes + at, prefix, size - at)))
            find_at(index, bytes + at, size - at, hit, context, at);
}

static void count_hit(void *context, size_t needle, size_t at)
{
    (void)at;
    struct scan_needle *needles = context;
    needles[needle].count++;
}

void scan_index_count(const struct scan_index *index, const char *buffer,
                      size_t size, size_t limit)
{
    scan_index_find(index, buffer, size, limit, count_hit, index->needles);
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
