/*
 * test_idset_ops.c: idset_union(), idset_intersection() and
 * idset_difference() against CRoaring's roaring_bitmap_or(),
 * roaring_bitmap_and() and roaring_bitmap_andnot(), the reference, for
 * both the vector and the scalar kernels. The cases aim at the kernels'
 * edges. Arrays are shorter than, equal to and just over one vector
 * block, and unions just under and over the 4096 values of an array
 * container. Arrays are equal, nested, interleaved and disjoint, and hold
 * the values 0 and 65535. Keys are on one side only, and array containers
 * sit next to bitmap and run containers. Each result must have the
 * reference's ids and the reference's container types.
 */
#include "idset_ops.h"

#include "checks.h"
#include "idset_compare.h"
#include "splitmix.h"

#include <roaring/roaring.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t random_state = 42;

static uint64_t next_random(void)
{
    return splitmix_next(&random_state);
}

static uint32_t below(uint32_t bound)
{
    return (uint32_t)(next_random() % bound);
}

/* Ways of filling the two containers of one key. */
enum pairing {
    INDEPENDENT, /* each side random */
    EQUAL,       /* the same values */
    NESTED,      /* right is a subset of left */
    INTERLEAVED, /* left even values, right odd values */
    APART,       /* every left value below every right value */
    EDGES,       /* both hold 0 and 65535 */
    PAIRINGS
};

/* Lengths where the kernels change course: the vector block is eight
 * values, and an array container holds at most 4096. */
static const int lengths[] = {0,  1,   7,    8,    9,    15,   16,
                              17, 100, 1000, 2047, 2048, 2049, 4096};
#define LENGTH_COUNT (sizeof lengths / sizeof *lengths)

static int pick_length(void)
{
    return below(4) == 0 ? (int)below(4097)
                         : lengths[below((uint32_t)LENGTH_COUNT)];
}

/* Add `count` distinct random low values, low + n * step + offset for n
 * from 0 to (high - low) / step, under `key`. At least `count` of those
 * values must be absent from the bitmap, or the loop never ends. */
static void add_random(roaring_bitmap_t *bitmap, uint32_t key, int count,
                       uint32_t low, uint32_t high, uint32_t step,
                       uint32_t offset)
{
    uint32_t span = (high - low) / step + 1;
    if ((uint32_t)count > span)
        count = (int)span;
    for (int added = 0; added < count;) {
        uint32_t value = low + below(span) * step + offset;
        uint32_t id = key << 16 | (value & 0xFFFF);
        if (!roaring_bitmap_contains(bitmap, id)) {
            roaring_bitmap_add(bitmap, id);
            added++;
        }
    }
}

/* Fill key `key` of both bitmaps with array containers paired as
 * `pairing`. */
static void fill_pair(roaring_bitmap_t *left, roaring_bitmap_t *right,
                      uint32_t key, enum pairing pairing)
{
    int left_count = pick_length(), right_count = pick_length();
    switch (pairing) {
    case INDEPENDENT: {
        /* A narrow range makes many values common to both. */
        uint32_t high = below(2) ? 65535 : 4 * 4096;
        add_random(left, key, left_count, 0, high, 1, 0);
        add_random(right, key, right_count, 0, high, 1, 0);
        break;
    }
    case EQUAL:
    case NESTED: {
        add_random(left, key, left_count, 0, 65535, 1, 0);
        roaring_uint32_iterator_t *it = roaring_create_iterator(left);
        while (it->has_value) {
            if (it->current_value >> 16 == key &&
                (pairing == EQUAL || below(3) != 0))
                roaring_bitmap_add(right, it->current_value);
            roaring_advance_uint32_iterator(it);
        }
        roaring_free_uint32_iterator(it);
        break;
    }
    case INTERLEAVED:
        add_random(left, key, left_count, 0, 65534, 2, 0);
        add_random(right, key, right_count, 0, 65534, 2, 1);
        break;
    case APART:
        add_random(left, key, left_count, 0, 32767, 1, 0);
        add_random(right, key, right_count, 32768, 65535, 1, 0);
        break;
    case EDGES:
        add_random(left, key, left_count, 0, 65535, 1, 0);
        add_random(right, key, right_count, 0, 65535, 1, 0);
        roaring_bitmap_add(left, key << 16);
        roaring_bitmap_add(right, key << 16);
        roaring_bitmap_add(left, key << 16 | 0xFFFF);
        roaring_bitmap_add(right, key << 16 | 0xFFFF);
        break;
    default:
        break;
    }
}

/* Give key `key` of `bitmap` a container of another type: a bitmap
 * container (more than 4096 values) or a run container (one range). */
static void add_other_container(roaring_bitmap_t *bitmap, uint32_t key)
{
    if (below(2))
        add_random(bitmap, key, 5000 + (int)below(20000), 0, 65535, 1, 0);
    else
        roaring_bitmap_add_range(bitmap, (uint64_t)key << 16 | below(1000),
                                 (uint64_t)key << 16 | (30000 + below(30000)));
}

typedef roaring_bitmap_t *(*operation)(const roaring_bitmap_t *,
                                       const roaring_bitmap_t *);

/* Compare idset's three operations with CRoaring's on left and right,
 * in both orders, with the kernels in use. */
static void compare_operations(const char *label, roaring_bitmap_t *left,
                               roaring_bitmap_t *right, int line)
{
    static const struct {
        const char *name;
        operation ours, reference;
    } operations[] = {
        {"union", idset_union, roaring_bitmap_or},
        {"intersection", idset_intersection, roaring_bitmap_and},
        {"difference", idset_difference, roaring_bitmap_andnot},
    };
    for (int order = 0; order < 2; order++) {
        const roaring_bitmap_t *a = order ? right : left;
        const roaring_bitmap_t *b = order ? left : right;
        for (size_t n = 0; n < sizeof operations / sizeof *operations; n++) {
            roaring_bitmap_t *ours = operations[n].ours(a, b);
            roaring_bitmap_t *expected = operations[n].reference(a, b);
            char what[160];
            snprintf(what, sizeof what, "%s, %s, order %d: same ids", label,
                     operations[n].name, order);
            check_value(what, roaring_bitmap_equals(ours, expected), 1, line);
            snprintf(what, sizeof what, "%s, %s, order %d: same containers",
                     label, operations[n].name, order);
            check_value(what, same_containers(ours, expected), 1, line);
            roaring_bitmap_free(ours);
            roaring_bitmap_free(expected);
        }
    }
}

/* Random pairs of bitmaps: for each key, array containers on both sides
 * paired as one of the pairings, or a container on one side only, or a
 * container of another type. */
static void check_random_pairs(const char *kernels, int rounds)
{
    for (int round = 0; round < rounds; round++) {
        roaring_bitmap_t *left = roaring_bitmap_create();
        roaring_bitmap_t *right = roaring_bitmap_create();
        int keys = 1 + (int)below(12);
        for (int k = 0; k < keys; k++) {
            /* Keys near both ends of the 32-bit range. */
            uint32_t key = k < keys / 2 ? (uint32_t)k * 3 : 65535 - (uint32_t)k;
            switch (below(6)) {
            case 0:
                add_random(left, key, pick_length(), 0, 65535, 1, 0);
                break;
            case 1:
                add_random(right, key, pick_length(), 0, 65535, 1, 0);
                break;
            case 2: {
                bool on_left = below(2);
                add_other_container(on_left ? left : right, key);
                add_random(on_left ? right : left, key, pick_length(), 0, 65535,
                           1, 0);
                break;
            }
            default:
                fill_pair(left, right, key, (enum pairing)below(PAIRINGS));
                break;
            }
        }
        roaring_bitmap_run_optimize(left);
        roaring_bitmap_run_optimize(right);
        char label[64];
        snprintf(label, sizeof label, "%s kernels, round %d", kernels, round);
        compare_operations(label, left, right, __LINE__);
        roaring_bitmap_free(left);
        roaring_bitmap_free(right);
    }
}

/* Every pairing at every listed length on one key, so that no edge
 * depends on the random choice of lengths. */
static void check_each_length(const char *kernels)
{
    for (int pairing = 0; pairing < PAIRINGS; pairing++)
        for (size_t l = 0; l < LENGTH_COUNT; l++)
            for (size_t r = 0; r < LENGTH_COUNT; r++) {
                roaring_bitmap_t *left = roaring_bitmap_create();
                roaring_bitmap_t *right = roaring_bitmap_create();
                uint32_t key = 7;
                switch (pairing) {
                case INTERLEAVED:
                    add_random(left, key, lengths[l], 0, 65534, 2, 0);
                    add_random(right, key, lengths[r], 0, 65534, 2, 1);
                    break;
                case APART:
                    add_random(left, key, lengths[l], 0, 32767, 1, 0);
                    add_random(right, key, lengths[r], 32768, 65535, 1, 0);
                    break;
                default:
                    /* A range of 4096 values shares about half of them. */
                    add_random(left, key, lengths[l], 100, 100 + 4095, 1, 0);
                    add_random(right, key, lengths[r], 100, 100 + 4095, 1, 0);
                    break;
                }
                char label[96];
                snprintf(label, sizeof label,
                         "%s kernels, pairing %d, lengths %d and %d", kernels,
                         pairing, lengths[l], lengths[r]);
                compare_operations(label, left, right, __LINE__);
                roaring_bitmap_free(left);
                roaring_bitmap_free(right);
            }
}

/* Empty bitmaps, and bitmaps that share containers copy-on-write. */
static void check_special_bitmaps(void)
{
    roaring_bitmap_t *empty = roaring_bitmap_create();
    roaring_bitmap_t *some = roaring_bitmap_create();
    add_random(some, 3, 500, 0, 65535, 1, 0);
    compare_operations("empty and empty", empty, empty, __LINE__);
    compare_operations("empty and 500 ids", empty, some, __LINE__);

    roaring_bitmap_t *shared = roaring_bitmap_create();
    roaring_bitmap_set_copy_on_write(shared, true);
    roaring_bitmap_set_copy_on_write(some, true);
    add_random(shared, 3, 700, 0, 65535, 1, 0);
    roaring_bitmap_t *copy = roaring_bitmap_copy(shared);
    add_random(copy, 4, 10, 0, 65535, 1, 0);
    compare_operations("copy-on-write bitmaps", shared, copy, __LINE__);
    compare_operations("copy-on-write and plain", copy, some, __LINE__);
    roaring_bitmap_free(copy);
    roaring_bitmap_free(shared);
    roaring_bitmap_free(some);
    roaring_bitmap_free(empty);
}

/* The two results of a union of 2048 and 2049 values that share none:
 * 4097 values, one more than an array container holds. */
static void check_union_over_array_size(void)
{
    roaring_bitmap_t *left = roaring_bitmap_create();
    roaring_bitmap_t *right = roaring_bitmap_create();
    add_random(left, 9, 2048, 0, 65534, 2, 0);
    add_random(right, 9, 2049, 0, 65534, 2, 1);
    roaring_bitmap_t *both = idset_union(left, right);
    check_value("union of 2048 and 2049 values: count",
                (long)roaring_bitmap_get_cardinality(both), 4097, __LINE__);
    check_value("union of 2048 and 2049 values: a bitmap container",
                both->high_low_container.typecodes[0],
                BITSET_CONTAINER_TYPE_CODE, __LINE__);
    roaring_bitmap_free(both);
    roaring_bitmap_free(left);
    roaring_bitmap_free(right);
}

int main(void)
{
    static const struct {
        const char *name;
        enum idset_kernels kernels;
    } selections[] = {
        {"vector", IDSET_KERNELS_FASTEST},
        {"scalar", IDSET_KERNELS_SCALAR},
        {"CRoaring", IDSET_KERNELS_CROARING},
    };
    for (size_t s = 0; s < sizeof selections / sizeof *selections; s++) {
        idset_use_kernels(selections[s].kernels);
        check_each_length(selections[s].name);
        check_random_pairs(selections[s].name, 300);
        check_special_bitmaps();
        check_union_over_array_size();
    }
    return check_summary();
}
