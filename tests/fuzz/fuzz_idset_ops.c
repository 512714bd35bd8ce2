/*
 * fuzz_idset_ops.c: libFuzzer target for idset_union(),
 * idset_intersection() and idset_difference(), compared with CRoaring's
 * roaring_bitmap_or(), roaring_bitmap_and() and roaring_bitmap_andnot().
 *
 * tests/fuzz/run.sh builds and runs it with the other harnesses. The
 * input is read as a list of commands, three bytes each: the first byte
 * picks the bitmap (its low bit) and what to add (its next two bits),
 * and the other two give a 16-bit value. Ids go under three keys (the
 * command's bits 3 and 4), so that both bitmaps get containers of every
 * type on shared and unshared keys. Every result must have the ids and
 * the container types of CRoaring's own, for the vector and the scalar
 * kernels; a difference aborts. Each bitmap is also packed
 * (idset_pack.c), forced and not, and must unpack to the same ids.
 */
#include "idset_ops.h"
#include "idset_pack.h"

#include "../unit/idset_compare.h"

#include <roaring/roaring.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void compare(roaring_bitmap_t *(*ours)(const roaring_bitmap_t *,
                                              const roaring_bitmap_t *),
                    roaring_bitmap_t *(*reference)(const roaring_bitmap_t *,
                                                   const roaring_bitmap_t *),
                    const roaring_bitmap_t *a, const roaring_bitmap_t *b)
{
    roaring_bitmap_t *got = ours(a, b);
    roaring_bitmap_t *expected = reference(a, b);
    if (!got || !expected || !roaring_bitmap_equals(got, expected) ||
        !same_containers(got, expected))
        abort();
    roaring_bitmap_free(got);
    roaring_bitmap_free(expected);
}

/* Pack a copy of `bitmap` and check that it unpacks to the same ids. */
static void round_trip(const roaring_bitmap_t *bitmap, bool force)
{
    roaring_bitmap_t *rest = roaring_bitmap_copy(bitmap);
    struct idset_packed *packed = NULL;
    int status = rest ? idset_pack_bitmap(rest, force, &packed) : -1;
    if (status < 0)
        abort();
    if (status == 1) {
        roaring_bitmap_t *whole = idset_unpack_bitmap(packed, rest);
        if (!whole || !roaring_bitmap_equals(whole, bitmap) ||
            packed->count + roaring_bitmap_get_cardinality(rest) !=
                roaring_bitmap_get_cardinality(bitmap))
            abort();
        roaring_bitmap_free(whole);
        idset_packed_free(packed);
    } else if (!roaring_bitmap_equals(rest, bitmap) ||
               (force && !roaring_bitmap_is_empty(bitmap))) {
        abort();
    }
    roaring_bitmap_free(rest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t keys[] = {0, 1, 0xFFFF};
    roaring_bitmap_t *bitmaps[2] = {roaring_bitmap_create(),
                                    roaring_bitmap_create()};
    for (size_t at = 0; at + 3 <= size; at += 3) {
        roaring_bitmap_t *bitmap = bitmaps[data[at] & 1];
        uint32_t key = keys[(data[at] >> 3 & 3) % 3];
        uint32_t value = (uint32_t)data[at + 1] << 8 | data[at + 2];
        uint32_t id = key << 16 | value;
        switch (data[at] >> 1 & 3) {
        case 0: /* one id */
        case 1:
            roaring_bitmap_add(bitmap, id);
            break;
        case 2: /* a run of 1 to 8 ids */
            roaring_bitmap_add_range(bitmap, id,
                                     (uint64_t)id + 1 + (data[at] >> 5));
            break;
        default: /* every 13th id from here to the key's end: many ids */
            for (uint32_t low = value; low <= 0xFFFF; low += 13)
                roaring_bitmap_add(bitmap, key << 16 | low);
            break;
        }
    }
    roaring_bitmap_run_optimize(bitmaps[0]);
    static const enum idset_kernels kernels[] = {IDSET_KERNELS_FASTEST,
                                                 IDSET_KERNELS_SCALAR};
    for (size_t k = 0; k < 2; k++) {
        idset_use_kernels(kernels[k]);
        for (int order = 0; order < 2; order++) {
            const roaring_bitmap_t *a = bitmaps[order], *b = bitmaps[!order];
            compare(idset_union, roaring_bitmap_or, a, b);
            compare(idset_intersection, roaring_bitmap_and, a, b);
            compare(idset_difference, roaring_bitmap_andnot, a, b);
        }
    }
    for (int i = 0; i < 2; i++) {
        round_trip(bitmaps[i], true);
        round_trip(bitmaps[i], false);
    }
    roaring_bitmap_free(bitmaps[0]);
    roaring_bitmap_free(bitmaps[1]);
    return 0;
}
