/*
 * idset_pack.c: packing the containers of a CRoaring bitmap whose ids are
 * spread out into a Rice code of their gaps, and back (see idset_pack.h
 * for the layout).
 *
 * Only CRoaring's public functions are used: the ids are read with an
 * iterator and grouped by key, and the packed containers are removed with
 * one difference against full ranges, which is linear in the number of
 * containers.
 */
/* MAP_ANONYMOUS is not in POSIX 2008, the standard the build requests. */
#define _DEFAULT_SOURCE
#include "idset_pack.h"
#include "idset_ops.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK_IDS 65536
#define MAX_PARAMETER 15
/* Ids read from the iterator at a time. */
#define STAGE_SIZE 4096
/* Words of the packed form allocated at first. */
#define FIRST_CAPACITY 1024
/* The smallest packed form given pages of its own (see copy_exact()). */
#define MAPPED_MIN_BYTES (64 * 1024)

/* ---------------------------------------------------------------------- */
/* Sizes                                                                   */
/* ---------------------------------------------------------------------- */

/* The bytes CRoaring needs at best for a container with the `n` sorted
 * values `low`: an array, an 8 KiB bitmap or runs, whichever is smallest,
 * as roaring_bitmap_run_optimize() chooses. */
static size_t container_bytes(const uint16_t *low, uint32_t n)
{
    size_t runs = 1;
    for (uint32_t i = 1; i < n; i++)
        runs += low[i] != (uint16_t)(low[i - 1] + 1);
    size_t plain = n <= 4096 ? 2 * (size_t)n : 8192;
    size_t run = 2 + 4 * runs;
    return plain < run ? plain : run;
}

/* Choose the Rice parameter for the gaps of `low` and store the bits the
 * block then takes in *bits. For gaps drawn at random, the best parameter
 * is near log2 of 0.69 times the mean gap; the neighbours of that guess
 * are measured exactly and the smallest wins. */
static unsigned choose_parameter(const uint16_t *low, uint32_t n,
                                 uint64_t *bits)
{
    uint64_t gap_sum = (uint64_t)low[n - 1] + 1 - n;
    double target = 0.69 * (double)gap_sum / (double)n;
    unsigned guess = 0;
    while (guess < MAX_PARAMETER && (double)(1u << (guess + 1)) <= target)
        guess++;
    unsigned first = guess > 0 ? guess - 1 : 0;
    unsigned last = guess < MAX_PARAMETER ? guess + 1 : MAX_PARAMETER;
    uint64_t quotients[3] = {0, 0, 0};
    uint32_t previous = UINT32_MAX; /* id -1, so the first gap is low[0] */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t gap = (uint32_t)low[i] - previous - 1;
        previous = low[i];
        for (unsigned k = first; k <= last; k++)
            quotients[k - first] += gap >> k;
    }
    unsigned best = first;
    uint64_t best_bits = UINT64_MAX;
    for (unsigned k = first; k <= last; k++) {
        uint64_t total = (uint64_t)n * (k + 1) + quotients[k - first];
        if (total < best_bits) {
            best = k;
            best_bits = total;
        }
    }
    *bits = best_bits;
    return best;
}

size_t idset_packed_bytes(const struct idset_packed *packed)
{
    return sizeof *packed + packed->words * sizeof packed->data[0];
}

void idset_packed_free(struct idset_packed *packed)
{
    if (packed && packed->mapped)
        munmap(packed, packed->mapped);
    else
        free(packed);
}

/* Return a copy of the packed form `built` at its exact size, or NULL when
 * memory runs out. A large one gets pages of its own: a packed set lives
 * long, and in the allocator's heap it would keep the pages around it
 * from going back to the system when the containers it replaced are
 * freed. */
static struct idset_packed *copy_exact(const struct idset_packed *built)
{
    size_t bytes = idset_packed_bytes(built);
    struct idset_packed *kept;
    if (bytes >= MAPPED_MIN_BYTES) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t mapped = (bytes + page - 1) / page * page;
        void *pages = mmap(NULL, mapped, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (pages == MAP_FAILED)
            return NULL;
        kept = pages;
        memcpy(kept, built, bytes);
        kept->mapped = mapped;
    } else {
        kept = malloc(bytes);
        if (!kept)
            return NULL;
        memcpy(kept, built, bytes);
        kept->mapped = 0;
    }
    return kept;
}

/* ---------------------------------------------------------------------- */
/* Rice code of one block                                                  */
/* ---------------------------------------------------------------------- */

/* Write the gaps of `low` into the zeroed words `out`. */
static void encode_block(uint64_t *out, const uint16_t *low, uint32_t n,
                         unsigned k)
{
    uint64_t position = 0;
    uint32_t previous = UINT32_MAX;
    uint32_t mask = (1u << k) - 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t gap = (uint32_t)low[i] - previous - 1;
        previous = low[i];
        position += gap >> k;
        out[position >> 6] |= UINT64_C(1) << (position & 63);
        position++;
        if (k == 0)
            continue;
        uint64_t remainder = gap & mask;
        unsigned shift = (unsigned)(position & 63);
        out[position >> 6] |= remainder << shift;
        if (shift + k > 64)
            out[(position >> 6) + 1] |= remainder >> (64 - shift);
        position += k;
    }
}

/* Read the `n` ids of the block with key `key` from `in` into `ids` and
 * return the words the block takes. */
static size_t decode_block(const uint64_t *in, uint32_t key, uint32_t n,
                           unsigned k, uint32_t *ids)
{
    uint64_t position = 0;
    uint32_t previous = UINT32_MAX;
    uint32_t mask = (1u << k) - 1;
    uint32_t base = key << 16;
    for (uint32_t i = 0; i < n; i++) {
        size_t word = (size_t)(position >> 6);
        uint64_t bits = in[word] >> (position & 63);
        uint64_t quotient;
        if (bits != 0) {
            quotient = (uint64_t)__builtin_ctzll(bits);
        } else {
            quotient = 64 - (position & 63);
            while (in[++word] == 0)
                quotient += 64;
            quotient += (uint64_t)__builtin_ctzll(in[word]);
        }
        position += quotient + 1;
        uint32_t gap = (uint32_t)(quotient << k);
        if (k > 0) {
            unsigned shift = (unsigned)(position & 63);
            word = (size_t)(position >> 6);
            uint64_t remainder = in[word] >> shift;
            if (shift + k > 64)
                remainder |= in[word + 1] << (64 - shift);
            gap |= (uint32_t)remainder & mask;
            position += k;
        }
        previous += gap + 1;
        ids[i] = base | previous;
    }
    return (size_t)((position + 63) >> 6);
}

/* ---------------------------------------------------------------------- */
/* Packing                                                                 */
/* ---------------------------------------------------------------------- */

/* State of one idset_pack_bitmap() call. */
struct packer {
    struct idset_packed *packed; /* grows as blocks are added */
    size_t capacity;             /* words allocated in packed->data */
    roaring_bitmap_t *moved;     /* full ranges of the packed keys */
    bool force;
    uint16_t low[BLOCK_IDS]; /* the low 16 bits of the block's ids */
};

/* Make room for `words` more words. Returns false when memory runs out. */
static bool reserve(struct packer *packer, size_t words)
{
    size_t needed = packer->packed->words + words;
    if (needed <= packer->capacity)
        return true;
    size_t capacity = packer->capacity;
    while (capacity < needed)
        capacity *= 2;
    struct idset_packed *grown =
        realloc(packer->packed, sizeof *grown + capacity * sizeof(uint64_t));
    if (!grown)
        return false;
    packer->packed = grown;
    packer->capacity = capacity;
    return true;
}

/* Pack the block `key` of `n` ids when that makes it at least a quarter
 * smaller (always when forced). Returns false when memory runs out. */
static bool pack_block(struct packer *packer, uint32_t key, uint32_t n)
{
    uint64_t bits = 0;
    unsigned k = choose_parameter(packer->low, n, &bits);
    size_t words = 1 + (size_t)((bits + 63) / 64);
    if (!packer->force &&
        4 * words * sizeof(uint64_t) > 3 * container_bytes(packer->low, n))
        return true;
    if (!reserve(packer, words))
        return false;
    uint64_t *out = packer->packed->data + packer->packed->words;
    memset(out, 0, words * sizeof *out);
    out[0] = (uint64_t)key | (uint64_t)(n - 1) << 16 | (uint64_t)k << 32;
    encode_block(out + 1, packer->low, n, k);
    packer->packed->words += words;
    packer->packed->count += n;
    roaring_bitmap_add_range_closed(packer->moved, key << 16,
                                    key << 16 | 0xFFFF);
    return true;
}

/* Read the ids of `bitmap` block by block and pack the blocks worth it.
 * Returns false when memory runs out. */
static bool pack_blocks(struct packer *packer, const roaring_bitmap_t *bitmap)
{
    roaring_uint32_iterator_t iterator;
    roaring_init_iterator(bitmap, &iterator);
    uint32_t stage[STAGE_SIZE];
    uint32_t n = 0, key = 0, read;
    while ((read = roaring_read_uint32_iterator(&iterator, stage, STAGE_SIZE)) >
           0) {
        for (uint32_t i = 0; i < read; i++) {
            uint32_t id_key = stage[i] >> 16;
            if (n > 0 && id_key != key) {
                if (!pack_block(packer, key, n))
                    return false;
                n = 0;
            }
            key = id_key;
            packer->low[n++] = (uint16_t)stage[i];
        }
    }
    return n == 0 || pack_block(packer, key, n);
}

int idset_pack_bitmap(roaring_bitmap_t *bitmap, bool force,
                      struct idset_packed **packed)
{
    struct packer *packer = malloc(sizeof *packer);
    if (!packer)
        return -1;
    packer->force = force;
    packer->capacity = FIRST_CAPACITY;
    packer->packed =
        malloc(sizeof *packer->packed + FIRST_CAPACITY * sizeof(uint64_t));
    packer->moved = roaring_bitmap_create();
    int result = -1;
    if (packer->packed && packer->moved) {
        packer->packed->count = 0;
        packer->packed->words = 0;
        if (pack_blocks(packer, bitmap))
            result = packer->packed->count > 0 ? 1 : 0;
    }
    struct idset_packed *kept = result == 1 ? copy_exact(packer->packed) : NULL;
    if (result == 1 && !kept)
        result = -1;
    if (result == 1) {
        roaring_bitmap_andnot_inplace(bitmap, packer->moved);
        roaring_bitmap_shrink_to_fit(bitmap);
        *packed = kept;
    }
    free(packer->packed);
    if (packer->moved)
        roaring_bitmap_free(packer->moved);
    free(packer);
    return result;
}

/* ---------------------------------------------------------------------- */
/* Unpacking                                                               */
/* ---------------------------------------------------------------------- */

roaring_bitmap_t *idset_unpack_bitmap(const struct idset_packed *packed,
                                      const roaring_bitmap_t *rest)
{
    uint32_t *ids = malloc(BLOCK_IDS * sizeof *ids);
    roaring_bitmap_t *unpacked = roaring_bitmap_create();
    if (!ids || !unpacked) {
        free(ids);
        if (unpacked)
            roaring_bitmap_free(unpacked);
        return NULL;
    }
    size_t at = 0;
    while (at < packed->words) {
        uint64_t header = packed->data[at];
        uint32_t key = (uint32_t)(header & 0xFFFF);
        uint32_t n = (uint32_t)((header >> 16) & 0xFFFF) + 1;
        unsigned k = (unsigned)((header >> 32) & 0xFF);
        at += 1 + decode_block(packed->data + at + 1, key, n, k, ids);
        roaring_bitmap_add_many(unpacked, n, ids);
    }
    free(ids);
    roaring_bitmap_run_optimize(unpacked);
    if (roaring_bitmap_is_empty(rest))
        return unpacked;
    roaring_bitmap_t *whole = idset_union(unpacked, rest);
    roaring_bitmap_free(unpacked);
    return whole;
}
