/*
 * idset_ops.c: union, intersection and difference of CRoaring bitmaps,
 * with vector kernels for pairs of array containers (see idset_ops.h).
 *
 * A bitmap is a sorted list of 16-bit keys, each with a container of the
 * low 16 bits of its ids. The functions here walk the two key lists as
 * CRoaring 0.2.66's own bitmap functions do. A pair of array containers
 * (sorted uint16_t arrays of at most 4096 values) goes to the kernels
 * below, and every other pair to CRoaring's container functions, so the
 * results have the same containers as CRoaring's.
 *
 * The walk uses CRoaring 0.2.66's internal roaring_array_t and container
 * functions, which its headers export but later versions keep private.
 * ARRAY_CONTAINER_TYPE_CODE and ROARING_FLAG_COW exist only in those
 * headers, and the kernels need x86-64, so elsewhere the functions call
 * CRoaring's bitmap functions.
 */
#include "idset_ops.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(ARRAY_CONTAINER_TYPE_CODE) &&               \
    defined(ROARING_FLAG_COW)
#define KERNELS_APPLY 1
#include <emmintrin.h> /* SSE2, part of every x86-64 processor */
#include <smmintrin.h> /* SSE4.1, used only after a CPU check */
#else
#define KERNELS_APPLY 0
#endif

static enum idset_kernels selected_kernels = IDSET_KERNELS_FASTEST;

void idset_use_kernels(enum idset_kernels kernels)
{
    selected_kernels = kernels;
}

#if KERNELS_APPLY

/* The maximum number of values in an array container. */
#define ARRAY_MAX 4096

/* ---------------------------------------------------------------------- */
/* Scalar kernels                                                          */
/* ---------------------------------------------------------------------- */

/* Each kernel takes two sorted arrays of distinct values, writes its
 * result to `out` and returns the result's length. Instead of branching
 * on each comparison, the loops store a value and advance the indexes
 * and the output length by the comparison's 0 or 1, because on
 * spread-out ids a branch would be mispredicted about every other step. */

/* Values of a that are in b (want_found) or not in b (!want_found). */
static int32_t select_scalar(const uint16_t *a, int32_t a_length,
                             const uint16_t *b, int32_t b_length, uint16_t *out,
                             bool want_found)
{
    int32_t i = 0, j = 0, k = 0;
    while (i < a_length && j < b_length) {
        uint16_t x = a[i], y = b[j];
        out[k] = x;
        k += want_found ? x == y : x < y;
        i += x <= y;
        j += y <= x;
    }
    if (!want_found)
        while (i < a_length)
            out[k++] = a[i++];
    return k;
}

/* Merge two sorted arrays into out[k..], leaving out each value equal to
 * the one before it; *previous is that value for the first one, or -1.
 * Unlike the other kernels, this one takes arrays with repeated values.
 * Returns the new length of out and updates *previous. */
static int32_t merge_unique(const uint16_t *a, int32_t a_length,
                            const uint16_t *b, int32_t b_length, uint16_t *out,
                            int32_t k, int32_t *previous)
{
    int32_t i = 0, j = 0, last = *previous;
    while (i < a_length && j < b_length) {
        uint16_t x = a[i], y = b[j];
        uint16_t value = x < y ? x : y;
        out[k] = value;
        k += value != last;
        last = value;
        i += x <= y;
        j += y <= x;
    }
    for (; i < a_length; i++) {
        out[k] = a[i];
        k += a[i] != last;
        last = a[i];
    }
    for (; j < b_length; j++) {
        out[k] = b[j];
        k += b[j] != last;
        last = b[j];
    }
    *previous = last;
    return k;
}

static int32_t union_scalar(const uint16_t *a, int32_t a_length,
                            const uint16_t *b, int32_t b_length, uint16_t *out)
{
    int32_t previous = -1;
    return merge_unique(a, a_length, b, b_length, out, 0, &previous);
}

/* ---------------------------------------------------------------------- */
/* Vector kernels                                                          */
/* ---------------------------------------------------------------------- */

/* Store the lanes of `values` whose bit in `keep` is set (two bits a
 * lane, as _mm_movemask_epi8 gives them) at out[k..]; returns the new
 * length. */
static inline int32_t store_lanes(__m128i values, int keep, uint16_t *out,
                                  int32_t k)
{
    uint16_t lanes[8];
    _mm_storeu_si128((__m128i *)lanes, values);
    for (int lane = 0; lane < 8; lane++) {
        out[k] = lanes[lane];
        k += (keep >> (2 * lane)) & 1;
    }
    return k;
}

/* select_scalar() with SSE2. Eight comparisons, each against b's block
 * rotated by one more lane, compare a block of eight values of a with
 * all eight values of a block of b. The lanes found add up over the
 * blocks of b that overlap a's block. A block is done when the other
 * array's block reaches past its last value, and the remainder of less
 * than a block goes to select_scalar(). */
static int32_t select_sse2(const uint16_t *a, int32_t a_length,
                           const uint16_t *b, int32_t b_length, uint16_t *out,
                           bool want_found)
{
    int32_t i = 0, j = 0, k = 0;
    if (a_length >= 8 && b_length >= 8) {
        __m128i block_a = _mm_loadu_si128((const __m128i *)a);
        __m128i block_b = _mm_loadu_si128((const __m128i *)b);
        __m128i found = _mm_setzero_si128();
        for (;;) {
            __m128i rotated = block_b;
            __m128i equal = _mm_cmpeq_epi16(block_a, rotated);
            for (int turn = 1; turn < 8; turn++) {
                rotated = _mm_or_si128(_mm_srli_si128(rotated, 2),
                                       _mm_slli_si128(rotated, 14));
                equal = _mm_or_si128(equal, _mm_cmpeq_epi16(block_a, rotated));
            }
            found = _mm_or_si128(found, equal);
            uint16_t last_a = a[i + 7], last_b = b[j + 7];
            if (last_a <= last_b) {
                int keep = _mm_movemask_epi8(found);
                k = store_lanes(block_a, want_found ? keep : ~keep, out, k);
                i += 8;
                found = _mm_setzero_si128();
                if (i + 8 > a_length)
                    break;
                block_a = _mm_loadu_si128((const __m128i *)(a + i));
            }
            if (last_b <= last_a) {
                j += 8;
                if (j + 8 > b_length)
                    break;
                block_b = _mm_loadu_si128((const __m128i *)(b + j));
            }
        }
        /* When b ran out first, the values of a's unfinished block may
         * have matched blocks of b already passed: step back to the
         * first value of b not below a[i], so that the scalar loop compares
         * them again. */
        if (i < a_length)
            while (j > 0 && b[j - 1] >= a[i])
                j--;
    }
    return k + select_scalar(a + i, a_length - i, b + j, b_length - j, out + k,
                             want_found);
}

/* Sort the sixteen values of two sorted vectors into *low (the eight
 * smallest) and *high, both sorted: the lanes of one vector rotate past
 * the other, with a minimum and a maximum at each turn. */
__attribute__((target("sse4.1"))) static inline void
merge_vectors(__m128i a, __m128i b, __m128i *low, __m128i *high)
{
    __m128i min = _mm_min_epu16(a, b), max = _mm_max_epu16(a, b);
    for (int turn = 0; turn < 7; turn++) {
        min = _mm_alignr_epi8(min, min, 2);
        __m128i next_min = _mm_min_epu16(min, max);
        max = _mm_max_epu16(min, max);
        min = next_min;
    }
    *low = _mm_alignr_epi8(min, min, 2);
    *high = max;
}

/* Store the lanes of sorted `values` that differ from the lane before
 * them (from *previous for the first lane) at out[k..]; returns the new
 * length and sets *previous to the last lane. */
__attribute__((target("sse4.1"))) static inline int32_t
store_unique(__m128i values, uint16_t *previous, uint16_t *out, int32_t k)
{
    __m128i before = _mm_insert_epi16(_mm_slli_si128(values, 2), *previous, 0);
    int keep = ~_mm_movemask_epi8(_mm_cmpeq_epi16(values, before));
    *previous = (uint16_t)_mm_extract_epi16(values, 7);
    return store_lanes(values, keep, out, k);
}

/* union_scalar() with SSE4.1: a vector merge of eight values at a time,
 * taking the next block from the array whose next value is smaller, so
 * that every value stored is at most every value not yet merged. A value
 * in both arrays comes out twice in a row, and store_unique() keeps one. */
__attribute__((target("sse4.1"))) static int32_t
union_sse41(const uint16_t *a, int32_t a_length, const uint16_t *b,
            int32_t b_length, uint16_t *out)
{
    if (a_length < 8 || b_length < 8)
        return union_scalar(a, a_length, b, b_length, out);
    __m128i low, high;
    merge_vectors(_mm_loadu_si128((const __m128i *)a),
                  _mm_loadu_si128((const __m128i *)b), &low, &high);
    /* A value different from the first lane, so that it is stored. */
    uint16_t previous = (uint16_t)(_mm_extract_epi16(low, 0) - 1);
    int32_t i = 8, j = 8;
    int32_t k = store_unique(low, &previous, out, 0);
    while (i + 8 <= a_length && j + 8 <= b_length) {
        __m128i next;
        if (a[i] < b[j]) {
            next = _mm_loadu_si128((const __m128i *)(a + i));
            i += 8;
        } else {
            next = _mm_loadu_si128((const __m128i *)(b + j));
            j += 8;
        }
        merge_vectors(next, high, &low, &high);
        k = store_unique(low, &previous, out, k);
    }
    /* The eight values still in `high`, then the rest of a and of b. */
    uint16_t pending[8], merged[8 + ARRAY_MAX];
    _mm_storeu_si128((__m128i *)pending, high);
    int32_t last = previous;
    int32_t merged_length =
        merge_unique(pending, 8, a + i, a_length - i, merged, 0, &last);
    last = previous;
    return merge_unique(merged, merged_length, b + j, b_length - j, out, k,
                        &last);
}

/* The compiler's runtime detects the processor's features before main()
 * runs, so this is a read of a flag. */
static bool has_sse41(void)
{
    return __builtin_cpu_supports("sse4.1");
}

/* ---------------------------------------------------------------------- */
/* Walking two bitmaps                                                     */
/* ---------------------------------------------------------------------- */

enum operation { UNION, INTERSECTION, DIFFERENCE };

/* The result of `operation` on two array containers in a new array
 * container, or NULL when the result is empty or memory runs out (then
 * *failed is set). The caller has checked that a union fits an array. */
static void *combine_arrays(enum operation operation,
                            const array_container_t *a,
                            const array_container_t *b, bool *failed)
{
    uint16_t result[ARRAY_MAX];
    bool vector = selected_kernels == IDSET_KERNELS_FASTEST;
    int32_t length;
    if (operation == UNION)
        length = vector && has_sse41()
                     ? union_sse41(a->array, a->cardinality, b->array,
                                   b->cardinality, result)
                     : union_scalar(a->array, a->cardinality, b->array,
                                    b->cardinality, result);
    else
        length = (vector ? select_sse2 : select_scalar)(
            a->array, a->cardinality, b->array, b->cardinality, result,
            operation == INTERSECTION);
    if (length == 0)
        return NULL;
    array_container_t *container =
        array_container_create_given_capacity(length);
    if (!container) {
        *failed = true;
        return NULL;
    }
    memcpy(container->array, result, (size_t)length * sizeof *result);
    container->cardinality = length;
    return container;
}

/* The result of `operation` on the containers at index i of x and j of
 * y, or NULL when it is empty or memory runs out (then *failed is set);
 * *type gets its type code. */
static void *combine_containers(enum operation operation,
                                const roaring_array_t *x, int32_t i,
                                const roaring_array_t *y, int32_t j,
                                uint8_t *type, bool *failed)
{
    const void *a = x->containers[i], *b = y->containers[j];
    uint8_t a_type = x->typecodes[i], b_type = y->typecodes[j];
    if (a_type == ARRAY_CONTAINER_TYPE_CODE &&
        b_type == ARRAY_CONTAINER_TYPE_CODE &&
        (operation != UNION ||
         ((const array_container_t *)a)->cardinality +
                 ((const array_container_t *)b)->cardinality <=
             ARRAY_MAX)) {
        *type = ARRAY_CONTAINER_TYPE_CODE;
        return combine_arrays(operation, a, b, failed);
    }
    void *result = operation == UNION ? container_or(a, a_type, b, b_type, type)
                   : operation == INTERSECTION
                       ? container_and(a, a_type, b, b_type, type)
                       : container_andnot(a, a_type, b, b_type, type);
    if (!result) {
        *failed = true;
        return NULL;
    }
    if (!container_nonzero_cardinality(result, *type)) {
        container_free(result, *type);
        return NULL;
    }
    return result;
}

/* Append a copy of container i of `from` to `to`; false when memory
 * runs out. The capacity of `to` was set for every key it can get. */
static bool append_copy(roaring_array_t *to, const roaring_array_t *from,
                        int32_t i)
{
    uint8_t type = from->typecodes[i];
    void *copy = container_clone(from->containers[i], type);
    if (!copy)
        return false;
    ra_append(to, from->keys[i], copy, type);
    return true;
}

static roaring_bitmap_t *walk(enum operation operation,
                              const roaring_bitmap_t *left,
                              const roaring_bitmap_t *right)
{
    const roaring_array_t *x = &left->high_low_container;
    const roaring_array_t *y = &right->high_low_container;
    /* The keys of a union are those of x and y, of a difference those of
     * x, and of an intersection those of both. */
    uint32_t capacity = (uint32_t)x->size;
    if (operation == UNION)
        capacity += (uint32_t)y->size;
    else if (operation == INTERSECTION && y->size < x->size)
        capacity = (uint32_t)y->size;
    roaring_bitmap_t *result = roaring_bitmap_create_with_capacity(capacity);
    if (!result)
        return NULL;
    roaring_array_t *to = &result->high_low_container;
    bool failed = false;
    int32_t i = 0, j = 0;
    while (!failed && i < x->size && j < y->size) {
        uint16_t x_key = x->keys[i], y_key = y->keys[j];
        if (x_key == y_key) {
            uint8_t type;
            void *container =
                combine_containers(operation, x, i, y, j, &type, &failed);
            if (container)
                ra_append(to, x_key, container, type);
            i++;
            j++;
        } else if (x_key < y_key) {
            if (operation != INTERSECTION)
                failed = !append_copy(to, x, i);
            i++;
        } else {
            if (operation == UNION)
                failed = !append_copy(to, y, j);
            j++;
        }
    }
    for (; !failed && operation != INTERSECTION && i < x->size; i++)
        failed = !append_copy(to, x, i);
    for (; !failed && operation == UNION && j < y->size; j++)
        failed = !append_copy(to, y, j);
    if (failed) {
        roaring_bitmap_free(result);
        return NULL;
    }
    return result;
}

/* Whether the walk above applies: CRoaring's functions handle bitmaps
 * that share containers copy-on-write. */
static bool walk_applies(const roaring_bitmap_t *left,
                         const roaring_bitmap_t *right)
{
    return selected_kernels != IDSET_KERNELS_CROARING &&
           !(left->high_low_container.flags & ROARING_FLAG_COW) &&
           !(right->high_low_container.flags & ROARING_FLAG_COW);
}

roaring_bitmap_t *idset_union(const roaring_bitmap_t *left,
                              const roaring_bitmap_t *right)
{
    return walk_applies(left, right) ? walk(UNION, left, right)
                                     : roaring_bitmap_or(left, right);
}

roaring_bitmap_t *idset_intersection(const roaring_bitmap_t *left,
                                     const roaring_bitmap_t *right)
{
    return walk_applies(left, right) ? walk(INTERSECTION, left, right)
                                     : roaring_bitmap_and(left, right);
}

roaring_bitmap_t *idset_difference(const roaring_bitmap_t *left,
                                   const roaring_bitmap_t *right)
{
    return walk_applies(left, right) ? walk(DIFFERENCE, left, right)
                                     : roaring_bitmap_andnot(left, right);
}

#else /* !KERNELS_APPLY */

roaring_bitmap_t *idset_union(const roaring_bitmap_t *left,
                              const roaring_bitmap_t *right)
{
    return roaring_bitmap_or(left, right);
}

roaring_bitmap_t *idset_intersection(const roaring_bitmap_t *left,
                                     const roaring_bitmap_t *right)
{
    return roaring_bitmap_and(left, right);
}

roaring_bitmap_t *idset_difference(const roaring_bitmap_t *left,
                                   const roaring_bitmap_t *right)
{
    return roaring_bitmap_andnot(left, right);
}

#endif
