/*
 * idset_ops.h: union, intersection and difference of CRoaring bitmaps,
 * with vector kernels for pairs of array containers.
 *
 * Debian 12's CRoaring 0.2.66 is built for the x86-64 baseline, so its
 * merges of two array containers are scalar loops whose branches the
 * processor mispredicts on spread-out ids. These functions give the
 * same results as roaring_bitmap_or(), roaring_bitmap_and() and
 * roaring_bitmap_andnot(), and run about two to three times faster on
 * bitmaps made of array containers (docs/BENCHMARKS.md, S2). Every other
 * pair of containers goes to CRoaring's own container functions. Where
 * the kernels do not apply (another CRoaring version or another
 * processor), the functions call CRoaring's bitmap functions directly.
 */
#ifndef LETHE_IDSET_OPS_H
#define LETHE_IDSET_OPS_H

#include <roaring/roaring.h>

/* Each returns a new bitmap that the caller frees, or NULL when memory
 * runs out. */
roaring_bitmap_t *idset_union(const roaring_bitmap_t *left,
                              const roaring_bitmap_t *right);
roaring_bitmap_t *idset_intersection(const roaring_bitmap_t *left,
                                     const roaring_bitmap_t *right);
roaring_bitmap_t *idset_difference(const roaring_bitmap_t *left,
                                   const roaring_bitmap_t *right);

/* Kernels for pairs of array containers. */
enum idset_kernels {
    IDSET_KERNELS_FASTEST, /* vector kernels the processor supports */
    IDSET_KERNELS_SCALAR,  /* branch-free scalar loops */
    IDSET_KERNELS_CROARING /* CRoaring's bitmap functions */
};

/* Select the kernels of later calls, for tests that compare them; the
 * default is IDSET_KERNELS_FASTEST. Not thread-safe. */
void idset_use_kernels(enum idset_kernels kernels);

#endif
