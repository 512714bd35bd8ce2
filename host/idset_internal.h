/*
 * idset_internal.h: what idset.c (the Lua type) and idset_sql.c (reading
 * ids from SQL, the lethe_ids table) share: the id range and batches of
 * ids added to a bitmap together.
 */
#ifndef LETHE_IDSET_INTERNAL_H
#define LETHE_IDSET_INTERNAL_H

#include <roaring/roaring.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_ID UINT32_MAX
#define ID_RANGE "0 to 4294967295"
#define ENTITY_MAX_LENGTH 255
/* Ids gathered before one call of roaring_bitmap_add_many(). */
#define BATCH_SIZE 4096

/* ---------------------------------------------------------------------- */
/* Id batches                                                              */
/* ---------------------------------------------------------------------- */

/* Ids waiting to be added to `bitmap` in one roaring_bitmap_add_many(). */
struct id_batch {
    roaring_bitmap_t *bitmap;
    size_t used;
    uint32_t ids[BATCH_SIZE];
};

static inline void batch_flush(struct id_batch *batch)
{
    roaring_bitmap_add_many(batch->bitmap, batch->used, batch->ids);
    batch->used = 0;
}

static inline void batch_add(struct id_batch *batch, uint32_t id)
{
    batch->ids[batch->used++] = id;
    if (batch->used == BATCH_SIZE)
        batch_flush(batch);
}

#endif
