/*
 * idset_pack.c: packing the containers of a CRoaring bitmap whose ids are
 * spread out into a Golomb code of their gaps, and back (see idset_pack.h
 * for the layout).
 *
 * The ids are read with CRoaring's iterator, and the packed containers
 * are removed with one difference against full ranges, which is linear in
 * the number of containers. Which containers are worth reading is judged
 * from CRoaring 0.2.66's container index (which idset.c reads too), so
 * that a set of long runs costs no more than a look at each container.
 */
/* MAP_ANONYMOUS is not in POSIX 2008, the standard the build requests. */
#define _DEFAULT_SOURCE
#include "idset_pack.h"
#include "idset_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK_IDS 65536
/* Bits of each of the three fields of a block header. */
#define HEADER_FIELD_BITS 16
/* Ids read from the iterator at a time. */
#define STAGE_SIZE 4096
/* Words of the packed form allocated at first. */
#define FIRST_CAPACITY 1024
/* The smallest packed form given pages of its own (see copy_exact()). */
#define MAPPED_MIN_BYTES (64 * 1024)

/* ---------------------------------------------------------------------- */
/* Golomb codes                                                            */
/* ---------------------------------------------------------------------- */

/* A Golomb code with parameter m: a gap g is g / m in unary, then the
 * remainder r = g % m in a truncated binary code, where the first
 * `short_count` remainders take width - 1 bits and the others width. */
struct golomb {
    uint32_t m;
    unsigned width;       /* the bits of m - 1: ceil(log2 m) */
    uint32_t short_count; /* 2^width - m */
};

static struct golomb golomb_code(uint32_t m)
{
    unsigned width = 0;
    while ((UINT32_C(1) << width) < m)
        width++;
    struct golomb code = {m, width, (UINT32_C(1) << width) - m};
    return code;
}

/* The bits that `gap` takes in `code`. */
static uint64_t gap_bits(const struct golomb *code, uint32_t gap)
{
    uint32_t quotient = gap / code->m;
    uint32_t remainder = gap - quotient * code->m;
    unsigned tail =
        remainder < code->short_count ? code->width - 1 : code->width;
    return (uint64_t)quotient + 1 + tail;
}

/* Choose the parameter for the gaps of a block of `n` ids whose gaps add
 * up to `gap_sum`. For gaps drawn at random (a geometric distribution
 * with p = 1 / (mean + 1)), the best m is the smallest integer with
 * (1 - p)^m <= 1 / (2 - p). */
static uint32_t choose_parameter(uint64_t gap_sum, uint32_t n)
{
    double p = (double)n / ((double)gap_sum + (double)n);
    if (p >= 1)
        return 1;
    double m = ceil(log(2 - p) / -log1p(-p));
    if (!(m >= 1))
        return 1;
    return m > BLOCK_IDS ? BLOCK_IDS : (uint32_t)m;
}

/* Write the `count` (at most 32) low bits of `value` at *position of the
 * zeroed words `out`, least significant first. */
static void write_bits(uint64_t *out, uint64_t *position, uint32_t value,
                       unsigned count)
{
    if (count == 0)
        return;
    size_t word = (size_t)(*position >> 6);
    unsigned shift = (unsigned)(*position & 63);
    out[word] |= (uint64_t)value << shift;
    if (shift + count > 64)
        out[word + 1] |= (uint64_t)value >> (64 - shift);
    *position += count;
}

/* Read `count` (at most 32) bits at *position of `in`. */
static uint32_t read_bits(const uint64_t *in, uint64_t *position,
                          unsigned count)
{
    if (count == 0)
        return 0;
    size_t word = (size_t)(*position >> 6);
    unsigned shift = (unsigned)(*position & 63);
    uint64_t value = in[word] >> shift;
    if (shift + count > 64)
        value |= in[word + 1] << (64 - shift);
    *position += count;
    return (uint32_t)(value & ((UINT64_C(1) << count) - 1));
}

/* Write `gap` in `code`: the quotient as that many 0 bits and a 1 bit,
 * then the remainder. A long remainder r is written as r + short_count,
 * its high width - 1 bits first, which then read as at least
 * short_count, and its lowest bit last. */
static void write_gap(uint64_t *out, uint64_t *position,
                      const struct golomb *code, uint32_t gap)
{
    uint32_t quotient = gap / code->m;
    uint32_t remainder = gap - quotient * code->m;
    *position += quotient;
    out[*position >> 6] |= UINT64_C(1) << (*position & 63);
    (*position)++;
    if (remainder < code->short_count) {
        write_bits(out, position, remainder, code->width - 1);
    } else if (code->width > 0) {
        uint32_t shifted = remainder + code->short_count;
        write_bits(out, position, shifted >> 1, code->width - 1);
        write_bits(out, position, shifted & 1, 1);
    }
}

/* Read a gap written by write_gap(). */
static uint32_t read_gap(const uint64_t *in, uint64_t *position,
                         const struct golomb *code)
{
    size_t word = (size_t)(*position >> 6);
    uint64_t bits = in[word] >> (*position & 63);
    uint64_t quotient;
    if (bits != 0) {
        quotient = (uint64_t)__builtin_ctzll(bits);
    } else {
        quotient = 64 - (*position & 63);
        while (in[++word] == 0)
            quotient += 64;
        quotient += (uint64_t)__builtin_ctzll(in[word]);
    }
    *position += quotient + 1;
    if (code->width == 0)
        return (uint32_t)quotient;
    uint32_t remainder = read_bits(in, position, code->width - 1);
    if (remainder >= code->short_count)
        remainder =
            (remainder << 1 | read_bits(in, position, 1)) - code->short_count;
    return (uint32_t)quotient * code->m + remainder;
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
    struct idset_packed *copy;
    if (bytes >= MAPPED_MIN_BYTES) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t mapped = (bytes + page - 1) / page * page;
        void *pages = mmap(NULL, mapped, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (pages == MAP_FAILED)
            return NULL;
        copy = pages;
        memcpy(copy, built, bytes);
        copy->mapped = mapped;
    } else {
        copy = malloc(bytes);
        if (!copy)
            return NULL;
        memcpy(copy, built, bytes);
        copy->mapped = 0;
    }
    return copy;
}

/* ---------------------------------------------------------------------- */
/* Packing                                                                 */
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

/* State of one idset_pack_bitmap() call. */
struct packer {
    struct idset_packed *packed; /* grows as blocks are added */
    size_t capacity;             /* zeroed words allocated in packed->data */
    roaring_bitmap_t *moved;     /* full ranges of the packed keys */
    bool force;
    uint16_t low[BLOCK_IDS]; /* the low 16 bits of the block's ids */
};

/* Make room for `bits` more bits, and a spare word for write_bits().
 * Returns false when memory runs out. */
static bool reserve(struct packer *packer, uint64_t bits)
{
    size_t needed = (size_t)((packer->packed->bits + bits + 63) / 64) + 1;
    if (needed <= packer->capacity)
        return true;
    size_t capacity = packer->capacity;
    while (capacity < needed)
        capacity *= 2;
    struct idset_packed *grown =
        realloc(packer->packed, sizeof *grown + capacity * sizeof(uint64_t));
    if (!grown)
        return false;
    memset(grown->data + packer->capacity, 0,
           (capacity - packer->capacity) * sizeof(uint64_t));
    packer->packed = grown;
    packer->capacity = capacity;
    return true;
}

/* Pack the block `key` of `n` ids when that makes it at least a quarter
 * smaller (always when forced). Returns false when memory runs out. */
static bool pack_block(struct packer *packer, uint32_t key, uint32_t n)
{
    const uint16_t *low = packer->low;
    uint64_t gap_sum = (uint64_t)low[n - 1] + 1 - n;
    struct golomb code = golomb_code(choose_parameter(gap_sum, n));
    uint64_t bits = 3 * HEADER_FIELD_BITS;
    uint32_t previous = UINT32_MAX; /* id -1, so the first gap is low[0] */
    for (uint32_t i = 0; i < n; i++) {
        bits += gap_bits(&code, (uint32_t)low[i] - previous - 1);
        previous = low[i];
    }
    if (!packer->force && 4 * ((bits + 7) / 8) > 3 * container_bytes(low, n))
        return true;
    if (!reserve(packer, bits))
        return false;
    struct idset_packed *packed = packer->packed;
    uint64_t position = packed->bits;
    write_bits(packed->data, &position, key, HEADER_FIELD_BITS);
    write_bits(packed->data, &position, n - 1, HEADER_FIELD_BITS);
    write_bits(packed->data, &position, code.m - 1, HEADER_FIELD_BITS);
    previous = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        write_gap(packed->data, &position, &code,
                  (uint32_t)low[i] - previous - 1);
        previous = low[i];
    }
    packed->bits = position;
    packed->words = (size_t)((position + 63) / 64);
    packed->count += n;
    roaring_bitmap_add_range_closed(packer->moved, key << 16,
                                    key << 16 | 0xFFFF);
    return true;
}

/* Store the number of ids of the container at `index` of `bitmap` in *n,
 * and return whether packing may make the container at least a quarter
 * smaller, judged without reading its ids. The estimate is what ids drawn
 * at random need at least, 65,536 H(n / 65,536) bits (H the binary
 * entropy), and never less than one bit an id. Ids with a pattern can
 * take fewer bits, so a block near the limit may be left as it is,
 * whereas reading it would have found a gain. Reads CRoaring 0.2.66's
 * internal roaring_array_t. */
static bool may_shrink(const roaring_bitmap_t *bitmap, int32_t index,
                       uint32_t *n)
{
    const roaring_array_t *containers = &bitmap->high_low_container;
    uint8_t type = containers->typecodes[index];
    const void *container =
        container_unwrap_shared(containers->containers[index], &type);
    *n = (uint32_t)container_get_cardinality(container, type);
    size_t bytes = 8192;
    if (type == ARRAY_CONTAINER_TYPE_CODE)
        bytes = 2 * (size_t)*n;
    else if (type == RUN_CONTAINER_TYPE_CODE)
        bytes = 2 + 4 * (size_t)((const run_container_t *)container)->n_runs;
    double p = (double)*n / BLOCK_IDS;
    double entropy =
        p >= 1 ? 0 : -(p * log2(p) + (1 - p) * log2(1 - p)) * BLOCK_IDS;
    double least = entropy > *n ? entropy : *n;
    return 4 * (least + 3 * HEADER_FIELD_BITS) / 8 <= 3.0 * (double)bytes;
}

/* Read the ids of `bitmap` container by container and pack those worth
 * it, reading only the containers that may_shrink() keeps (every one when
 * forced). Returns false when memory runs out. */
static bool pack_blocks(struct packer *packer, const roaring_bitmap_t *bitmap)
{
    const roaring_array_t *containers = &bitmap->high_low_container;
    roaring_uint32_iterator_t iterator;
    roaring_init_iterator(bitmap, &iterator);
    uint32_t stage[STAGE_SIZE];
    for (int32_t index = 0; index < containers->size; index++) {
        uint32_t key = containers->keys[index], n = 0;
        if (!may_shrink(bitmap, index, &n) && !packer->force)
            continue;
        roaring_move_uint32_iterator_equalorlarger(&iterator, key << 16);
        for (uint32_t done = 0; done < n;) {
            uint32_t want = n - done < STAGE_SIZE ? n - done : STAGE_SIZE;
            uint32_t read =
                roaring_read_uint32_iterator(&iterator, stage, want);
            if (read == 0)
                break;
            for (uint32_t i = 0; i < read; i++)
                packer->low[done + i] = (uint16_t)stage[i];
            done += read;
        }
        if (!pack_block(packer, key, n))
            return false;
    }
    return true;
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
        calloc(1, sizeof *packer->packed + FIRST_CAPACITY * sizeof(uint64_t));
    packer->moved = roaring_bitmap_create();
    int result = -1;
    if (packer->packed && packer->moved && pack_blocks(packer, bitmap))
        result = packer->packed->count > 0 ? 1 : 0;
    struct idset_packed *exact =
        result == 1 ? copy_exact(packer->packed) : NULL;
    if (result == 1 && !exact)
        result = -1;
    if (result == 1) {
        roaring_bitmap_andnot_inplace(bitmap, packer->moved);
        roaring_bitmap_shrink_to_fit(bitmap);
        *packed = exact;
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
    uint64_t position = 0;
    while (position < packed->bits) {
        uint32_t key = read_bits(packed->data, &position, HEADER_FIELD_BITS);
        uint32_t n = read_bits(packed->data, &position, HEADER_FIELD_BITS) + 1;
        struct golomb code = golomb_code(
            read_bits(packed->data, &position, HEADER_FIELD_BITS) + 1);
        uint32_t previous = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++) {
            previous += read_gap(packed->data, &position, &code) + 1;
            ids[i] = key << 16 | previous;
        }
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
