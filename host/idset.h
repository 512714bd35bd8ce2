/*
 * idset.h: sets of record ids of one entity, held in CRoaring bitmaps.
 *
 * In Lua a set is a full userdata with operators (| & - ~ # == <= <). In
 * SQL it is read through the table-valued function lethe_ids(?), to which
 * a set is bound as a pointer with idset_bind(). Ids are unsigned 32-bit; an
 * id outside 0 .. 2^32-1 is an error naming the table and the id.
 *
 * The Lua module (idset_open) has new(entity [, array]),
 * from_array(entity, array), range(entity, first, last) and
 * deserialize(text). A set has the methods contains, min, max, is_empty,
 * ids (ascending iterator), to_array, sample(n [, seed]), entity, bytes,
 * compact, serialize, complement(universe), copy, add, remove and close.
 * Combining sets of different entities raises an error naming both. A
 * closed set (close() or a to-be-closed variable) has freed its bitmap;
 * using it raises.
 *
 * A set that is not in use may be packed (idset_pack.h): its spread-out
 * containers are then held in a compact code, and any use that reads the
 * ids unpacks it first. Code outside idset.c reaches the ids through
 * idset_check(), idset_test() or idset_ready(), which unpack.
 */
#ifndef LETHE_IDSET_H
#define LETHE_IDSET_H

#include <lua.h>
#include <roaring/roaring.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDSET_METATABLE "lethe.idset"
/* The pointer type name given to sqlite3_bind_pointer(). */
#define IDSET_POINTER_TYPE "lethe_idset"

struct idset_packed;

struct idset {
    /* Owned; NULL once the set is closed. While the set is packed it holds
     * only the containers that packing left. */
    roaring_bitmap_t *bitmap;
    char *entity;                /* owned; the entity the ids belong to */
    struct idset_packed *packed; /* owned; the packed containers, or NULL */
    /* Changes whenever `bitmap` is replaced or loses containers (packing,
     * unpacking, closing). A reader that keeps a CRoaring iterator between
     * calls compares this number to learn that it must seek again. */
    uint64_t generation;
    uint64_t last_use; /* the idle round of the set's last use */
    /* The idle round in which packing last saved too little, else 0. */
    uint64_t no_gain_round;
    struct idset *previous, *next; /* every set, for compaction */
};

/* Push a new empty set of `entity` onto the Lua stack and return it.
 * Raises a Lua error on memory exhaustion and on an entity name that is
 * empty or longer than 255 bytes. [-0, +1, v] */
struct idset *idset_push(lua_State *L, const char *entity);

/* Return the set at `index`, or raise an argument error when the value is
 * not a set or the set is closed. A packed set is unpacked first, so its
 * bitmap contains every id. [-0, +0, v] */
struct idset *idset_check(lua_State *L, int index);

/* Return the set at `index`, or NULL when the value is not a set. An open
 * packed set is unpacked first; raises when memory runs out. [-0, +0, m] */
struct idset *idset_test(lua_State *L, int index);

/* Unpack `set` when it is packed, note its use, and return its bitmap,
 * which then contains every id. Returns NULL when the set is closed or when
 * memory runs out (the set is then unchanged). */
roaring_bitmap_t *idset_ready(struct idset *set);

/* The number of ids of an open set, packed or not. */
uint64_t idset_count(const struct idset *set);

/* Pack the containers of `set` that packing makes at least a quarter
 * smaller (see idset_pack.h), every container when `force`. Returns 1
 * when containers were packed, 0 when none would shrink enough or the set
 * is closed, -1 when memory runs out (the set is then unchanged). */
int idset_compact(struct idset *set, bool force);

/* Pack the sets of at least 64 KiB that have not been used since the
 * previous call (nor since packing last saved too little), and start a new
 * idle round. Before, run a full garbage collection on `L` when the open
 * sets take 16 MB or more and twice as much as after the last one, so
 * that sets no longer reachable are freed rather than packed. When
 * packing, or sets freed since the previous call, freed memory, hand free
 * heap pages back to the system. The host calls it whenever it waits for
 * a line of input, so that sets an interactive session keeps but does not
 * use take less memory. Returns the bytes packing freed. */
size_t idset_compact_idle(lua_State *L);

/* For tests: when on, every set of at most 2^20 ids that the Lua module
 * returns is packed at once, all of its containers, so that every method
 * meets packed sets. */
void idset_pack_results(bool on);

/* Add one id. Fails (with a message naming `table` and the id) when the
 * id does not fit an unsigned 32-bit integer, and fails on a closed set. */
int idset_add_id(struct idset *set, sqlite3_int64 id, const char *table,
                 char **err);

/* Read column 0 of the current row of `statement` as an id into *out. A
 * REAL with an integral value in range is accepted. NULL, text, blobs and
 * other numbers fail with a message naming `table` and the value. */
int idset_read_row_id(sqlite3_stmt *statement, const char *table,
                      uint32_t *out, char **err);

/* Step `statement` to the end and add column 0 of every row, in batches.
 * A value that is not an integer from 0 to 2^32-1 fails with a message
 * naming `table` and the value (a REAL with such an integral value counts
 * as an integer). A failed step fails too. After a failure the set may
 * contain part of the rows. The caller still owns (and resets or
 * finalizes) the statement. */
int idset_fill_from_statement(struct idset *set, sqlite3_stmt *statement,
                              const char *table, char **err);

/* Prepare `sql`, a query of one column of ids, wrapped so that SQLite
 * adds the ids to a set itself (see idset_fill_from_collector). Returns an
 * SQLite result code and *out = NULL on failure, also when `sql` is more
 * than one statement or has more than one column. Its parameters keep
 * their numbers. */
int idset_prepare_collect(sqlite3 *db, const char *sql, sqlite3_stmt **out);

/* Step a statement from idset_prepare_collect(), with its parameters
 * bound, and add every id to `set`. Fails as idset_fill_from_statement()
 * does, with the same messages. The caller still owns the statement. */
int idset_fill_from_collector(struct idset *set, sqlite3_stmt *statement,
                              const char *table, char **err);

/* Bind `set` to parameter `index` of `statement` for lethe_ids(?). The set
 * must outlive the statement's use of it and must not change while the
 * statement steps. Returns an SQLite result code, SQLITE_MISUSE for a NULL
 * or closed set. */
int idset_bind(sqlite3_stmt *statement, int index, const struct idset *set);

/* Register the table-valued function lethe_ids on `db`. It returns one row
 * per id of the bound set in ascending order, in column `id`, and no rows
 * for a NULL or unbound argument. Returns 0, or -1 with a message in
 * *err. */
int idset_sql_register(sqlite3 *db, char **err);

/* Lua module opener: registers the metatable and pushes the module table
 * (constructors and helpers). [-0, +1, m] */
int idset_open(lua_State *L);

#endif
