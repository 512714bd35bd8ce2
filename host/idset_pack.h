/*
 * idset_pack.h: a compact storage form for the containers of a CRoaring
 * bitmap whose ids are spread out.
 *
 * CRoaring keeps the ids of each block of 65,536 possible ids (one
 * container) as a sorted array of 2-byte values, as an 8 KiB bitmap, or
 * as runs. A block holding a tenth of its ids at random takes 8 KiB,
 * about 9 bits an id, and a block of a thousand ids about 16 bits an id.
 * Packing writes such a block as the gaps between its ids in a Golomb
 * code, about 5 and 7.6 bits an id for those two blocks. A packed set must
 * be unpacked into CRoaring containers before any operation reads its ids.
 *
 * A packed form is one stream of bits, each 64-bit word filled from its
 * least significant bit. For each packed block, in ascending key order:
 *   16 bits     the block's key (the ids' high 16 bits)
 *   16 bits     the number of ids minus one
 *   16 bits     the Golomb parameter m minus one
 *   then, for each id in ascending order, its gap g: the first id's low
 *   16 bits, then the distance to the previous id minus one. A gap is
 *   g / m as that many 0 bits and a 1 bit, then g % m in a truncated
 *   binary code (see write_gap() in idset_pack.c).
 */
#ifndef LETHE_IDSET_PACK_H
#define LETHE_IDSET_PACK_H

#include <roaring/roaring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idset_packed {
    uint64_t count; /* ids in all packed blocks */
    uint64_t bits;  /* length of the stream in bits */
    size_t words;   /* length of `data`, the stream's words */
    size_t mapped;  /* bytes mapped with mmap(), or 0 after malloc() */
    uint64_t data[];
};

/* Move the containers of `bitmap` that packing makes at least a quarter
 * smaller (every container when `force`) into a new packed form in
 * *packed, removing them from `bitmap`. Returns 1 when containers were
 * moved, 0 when none would shrink enough (`bitmap` and *packed
 * unchanged), -1 when memory runs out (`bitmap` unchanged). */
int idset_pack_bitmap(roaring_bitmap_t *bitmap, bool force,
                      struct idset_packed **packed);

/* Return a new bitmap with the ids of `packed` and of `rest` (the
 * containers idset_pack_bitmap() left), or NULL when memory runs out. The
 * caller frees it; `packed` and `rest` are unchanged. */
roaring_bitmap_t *idset_unpack_bitmap(const struct idset_packed *packed,
                                      const roaring_bitmap_t *rest);

/* The bytes of a packed form. */
size_t idset_packed_bytes(const struct idset_packed *packed);

/* Free a packed form; NULL is allowed. */
void idset_packed_free(struct idset_packed *packed);

#endif
