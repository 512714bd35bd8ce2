/*
 * test_idset_pack.c: idset_pack_bitmap() and idset_unpack_bitmap() on
 * bitmaps of many shapes. After packing, the packed blocks and the
 * containers left in the bitmap must share no key and hold every id once,
 * and unpacking must give back a bitmap equal to a copy taken before.
 * Without `force` only blocks that shrink by a quarter are packed: the
 * expected sizes below come from the block layout in idset_pack.h worked
 * out by hand.
 */
#include "idset_pack.h"

#include "checks.h"
#include "splitmix.h"

#include <roaring/roaring.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t random_state = 7;

static uint64_t next_random(void)
{
    return splitmix_next(&random_state);
}

/* Add each id of block `key` with probability `per_mille`/1000. */
static void add_random_block(roaring_bitmap_t *bitmap, uint32_t key,
                             unsigned per_mille)
{
    for (uint32_t low = 0; low < 65536; low++)
        if (next_random() % 1000 < per_mille)
            roaring_bitmap_add(bitmap, key << 16 | low);
}

/* Add alternating runs of 1 to `longest` ids kept and skipped, from
 * `first` for `span` ids. */
static void add_runs(roaring_bitmap_t *bitmap, uint32_t first, uint32_t span,
                     unsigned longest)
{
    uint64_t id = first, end = (uint64_t)first + span;
    bool keep = true;
    while (id < end) {
        uint64_t length = 1 + next_random() % longest;
        if (id + length > end)
            length = end - id;
        if (keep)
            roaring_bitmap_add_range_closed(bitmap, (uint32_t)id,
                                            (uint32_t)(id + length - 1));
        id += length;
        keep = !keep;
    }
}

/* Pack `bitmap` (forced or not), check the result, unpack it and check it
 * against the original. Returns what idset_pack_bitmap() returned. */
static int round_trip(const char *label, const roaring_bitmap_t *original,
                      bool force, int line)
{
    roaring_bitmap_t *rest = roaring_bitmap_copy(original);
    struct idset_packed *packed = NULL;
    int status = idset_pack_bitmap(rest, force, &packed);
    if (status != 1) {
        check_value(label, roaring_bitmap_equals(rest, original), 1, line);
        roaring_bitmap_free(rest);
        return status;
    }
    uint64_t whole = roaring_bitmap_get_cardinality(original);
    check_value(label,
                (long)(packed->count + roaring_bitmap_get_cardinality(rest)),
                (long)whole, line);
    /* The packed ids alone: packed->count of them, and none left in the
     * bitmap. */
    roaring_bitmap_t *empty = roaring_bitmap_create();
    roaring_bitmap_t *alone = idset_unpack_bitmap(packed, empty);
    check_value(label, alone != NULL, 1, line);
    if (alone) {
        check_value(label, (long)roaring_bitmap_get_cardinality(alone),
                    (long)packed->count, line);
        check_value(label, roaring_bitmap_intersect(alone, rest), 0, line);
        roaring_bitmap_free(alone);
    }
    roaring_bitmap_free(empty);
    roaring_bitmap_t *unpacked = idset_unpack_bitmap(packed, rest);
    check_value(label, unpacked != NULL, 1, line);
    if (unpacked) {
        check_value(label, roaring_bitmap_equals(unpacked, original), 1, line);
        roaring_bitmap_free(unpacked);
    }
    idset_packed_free(packed);
    roaring_bitmap_free(rest);
    return status;
}

/* Pack forced and not; forced packing must pack any non-empty bitmap. */
static void check_both_ways(const char *label, roaring_bitmap_t *bitmap,
                            int line)
{
    roaring_bitmap_run_optimize(bitmap);
    int forced = round_trip(label, bitmap, true, line);
    check_value(label, forced, roaring_bitmap_is_empty(bitmap) ? 0 : 1, line);
    round_trip(label, bitmap, false, line);
    roaring_bitmap_free(bitmap);
}

static void test_edges(void)
{
    check_both_ways("empty", roaring_bitmap_create(), __LINE__);
    roaring_bitmap_t *zero = roaring_bitmap_create();
    roaring_bitmap_add(zero, 0);
    check_both_ways("id 0", zero, __LINE__);
    roaring_bitmap_t *top = roaring_bitmap_create();
    roaring_bitmap_add(top, UINT32_MAX);
    check_both_ways("id 2^32-1", top, __LINE__);
    roaring_bitmap_t *ends = roaring_bitmap_create();
    roaring_bitmap_add(ends, 65535);
    roaring_bitmap_add(ends, 65536);
    roaring_bitmap_add(ends, UINT32_MAX - 65535);
    roaring_bitmap_add(ends, UINT32_MAX);
    check_both_ways("block edges", ends, __LINE__);
    roaring_bitmap_t *full = roaring_bitmap_create();
    roaring_bitmap_add_range_closed(full, 3u << 16, (4u << 16) - 1);
    check_both_ways("a full block", full, __LINE__);
    roaring_bitmap_t *all_top = roaring_bitmap_create();
    roaring_bitmap_add_range_closed(all_top, UINT32_MAX - 200000, UINT32_MAX);
    check_both_ways("ranges up to 2^32-1", all_top, __LINE__);
    /* The largest gap in a block, 65,535, with every parameter. */
    roaring_bitmap_t *far = roaring_bitmap_create();
    roaring_bitmap_add(far, 5u << 16);
    roaring_bitmap_add(far, (5u << 16) | 65535);
    check_both_ways("gap of 65535", far, __LINE__);
}

static void test_shapes(void)
{
    static const unsigned densities[] = {1,   5,   20,  60,  106,
                                         180, 250, 500, 900, 999};
    for (size_t i = 0; i < sizeof densities / sizeof *densities; i++) {
        roaring_bitmap_t *bitmap = roaring_bitmap_create();
        for (uint32_t key = 0; key < 4; key++)
            add_random_block(bitmap, key * 7 + 1, densities[i]);
        check_both_ways("random blocks", bitmap, __LINE__);
    }
    roaring_bitmap_t *runs = roaring_bitmap_create();
    add_runs(runs, 1000, 2000000, 64);
    check_both_ways("runs of 1 to 64", runs, __LINE__);
    roaring_bitmap_t *short_runs = roaring_bitmap_create();
    add_runs(short_runs, 0, 300000, 3);
    check_both_ways("runs of 1 to 3", short_runs, __LINE__);
    roaring_bitmap_t *spread = roaring_bitmap_create();
    for (int i = 0; i < 200000; i++)
        roaring_bitmap_add(spread, (uint32_t)next_random());
    check_both_ways("spread over 2^32", spread, __LINE__);
    /* Blocks that pack between blocks that stay, to check that packed
     * keys leave the rest and come back in order. */
    roaring_bitmap_t *mixed = roaring_bitmap_create();
    for (uint32_t key = 0; key < 40; key++) {
        if (key % 3 == 0)
            add_random_block(mixed, key, 100);
        else if (key % 3 == 1)
            roaring_bitmap_add_range_closed(mixed, key << 16,
                                            (key << 16) + 30000);
        else
            add_runs(mixed, key << 16, 65536, 2);
    }
    check_both_ways("mixed blocks", mixed, __LINE__);
}

/* Sizes worked out by hand from the layout in idset_pack.h: without
 * force, a block packs only when its bytes take at most three quarters of
 * its container's. */
static void test_choices(void)
{
    /* Ids 0, 2, 4, ... 8190 in one block: an array of 4,096 values (8,192
     * bytes). The gaps are 0 and then 1; m = 1, so a gap g takes g 0 bits
     * and a 1: 48 header bits + 1 + 4,095 * 2 = 8,239 bits, 129 words. */
    roaring_bitmap_t *even = roaring_bitmap_create();
    for (uint32_t id = 0; id < 8192; id += 2)
        roaring_bitmap_add(even, id);
    roaring_bitmap_t *rest = roaring_bitmap_copy(even);
    struct idset_packed *packed = NULL;
    check_value("even ids pack", idset_pack_bitmap(rest, false, &packed), 1,
                __LINE__);
    if (packed) {
        check_value("even ids: bits", (long)packed->bits, 8239, __LINE__);
        check_value("even ids: words", (long)packed->words, 129, __LINE__);
        check_value("even ids: count", (long)packed->count, 4096, __LINE__);
        check_value("even ids: rest", roaring_bitmap_is_empty(rest), 1,
                    __LINE__);
        idset_packed_free(packed);
    }
    roaring_bitmap_free(rest);
    roaring_bitmap_free(even);

    /* Ten ids 5,000 apart: an array of 20 bytes. The mean gap is 4,499.1,
     * so m = 3,119 (width 12, 977 short remainders). The first gap, 0,
     * takes 1 + 11 bits, each gap of 4,999 (quotient 1, remainder 1,880)
     * 2 + 12 bits: with the header 186 bits, 24 bytes, so nothing packs. */
    roaring_bitmap_t *few = roaring_bitmap_create();
    for (uint32_t id = 0; id < 10; id++)
        roaring_bitmap_add(few, id * 5000);
    packed = NULL;
    check_value("ten ids stay", idset_pack_bitmap(few, false, &packed), 0,
                __LINE__);
    check_value("ten ids stay: nothing returned", packed == NULL, 1, __LINE__);
    check_value("ten ids stay: count",
                (long)roaring_bitmap_get_cardinality(few), 10, __LINE__);
    roaring_bitmap_free(few);

    /* The multiples of 10 below 65,536: 6,554 ids, an 8 KiB bitmap. The
     * gaps are 0 and then 9, so p = 6,554 / 65,531 and m = 7 (width 3,
     * one short remainder). Gap 0 takes 1 + 2 bits, gap 9 (quotient 1,
     * remainder 2) 2 + 3 bits: 48 + 3 + 6,553 * 5 = 32,816 bits. */
    roaring_bitmap_t *tens = roaring_bitmap_create();
    for (uint32_t id = 0; id < 65536; id += 10)
        roaring_bitmap_add(tens, id);
    packed = NULL;
    check_value("multiples of 10 pack", idset_pack_bitmap(tens, false, &packed),
                1, __LINE__);
    if (packed) {
        check_value("multiples of 10: bits", (long)packed->bits, 32816,
                    __LINE__);
        roaring_bitmap_t *back = idset_unpack_bitmap(packed, tens);
        check_value("multiples of 10: count",
                    back ? (long)roaring_bitmap_get_cardinality(back) : -1,
                    6554, __LINE__);
        check_value("multiples of 10: last",
                    back ? (long)roaring_bitmap_maximum(back) : -1, 65530,
                    __LINE__);
        if (back)
            roaring_bitmap_free(back);
        idset_packed_free(packed);
    }
    roaring_bitmap_free(tens);
}

int main(void)
{
    test_edges();
    test_shapes();
    test_choices();
    return check_summary();
}
