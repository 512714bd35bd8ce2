/*
 * idset_compare.h: the comparison of a result of idset_ops.c with
 * CRoaring's own that the unit test and the fuzz harness share.
 */
#ifndef LETHE_TEST_IDSET_COMPARE_H
#define LETHE_TEST_IDSET_COMPARE_H

#include <roaring/roaring.h>
#include <stdbool.h>
#include <stdint.h>

/* Whether two bitmaps have the same keys with the same container types.
 * Reads CRoaring 0.2.66's internal roaring_array_t. */
static inline bool same_containers(const roaring_bitmap_t *a,
                                   const roaring_bitmap_t *b)
{
    const roaring_array_t *x = &a->high_low_container;
    const roaring_array_t *y = &b->high_low_container;
    if (x->size != y->size)
        return false;
    for (int32_t i = 0; i < x->size; i++)
        if (x->keys[i] != y->keys[i] || x->typecodes[i] != y->typecodes[i])
            return false;
    return true;
}

#endif
