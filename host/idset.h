/*
 * idset.h: sets of record ids of one entity, held in CRoaring bitmaps.
 *
 * Lua sees a set as a full userdata with operators (| & - ~ # ==); SQL
 * sees it through the table-valued function lethe_ids(?), to which a set is
 * bound as a pointer with idset_bind(). Ids are unsigned 32-bit; an id
 * outside 0 .. 2^32-1 is an error naming the table and the id.
 */
#ifndef LETHE_IDSET_H
#define LETHE_IDSET_H

#include <lua.h>
#include <roaring/roaring.h>
#include <sqlite3.h>

#define IDSET_METATABLE "lethe.idset"
/* The pointer type name given to sqlite3_bind_pointer(). */
#define IDSET_POINTER_TYPE "lethe_idset"

struct idset {
    roaring_bitmap_t *bitmap;
    char *entity; /* owned; the entity the ids belong to */
};

/* Push a new empty set of `entity` onto the Lua stack and return it.
 * Raises a Lua error on memory exhaustion. [-0, +1, m] */
struct idset *idset_push(lua_State *L, const char *entity);

/* Return the set at `index`, or raise an argument error. [-0, +0, v] */
struct idset *idset_check(lua_State *L, int index);

/* Return the set at `index`, or NULL when the value is not a set. */
struct idset *idset_test(lua_State *L, int index);

/* Add one id. Fails (with a message naming `table` and the id) when the
 * id does not fit an unsigned 32-bit integer. */
int idset_add_id(struct idset *set, sqlite3_int64 id, const char *table,
                 char **err);

/* Step `statement` to the end and add column 0 of every row. The caller
 * still owns (and resets or finalizes) the statement. */
int idset_fill_from_statement(struct idset *set, sqlite3_stmt *statement,
                              const char *table, char **err);

/* Bind `set` to parameter `index` of `statement` for lethe_ids(?). The set
 * must outlive the statement's use of it. Returns an SQLite result code. */
int idset_bind(sqlite3_stmt *statement, int index, const struct idset *set);

/* Register the lethe_ids table-valued function on `db`. */
int idset_sql_register(sqlite3 *db, char **err);

/* Lua module opener: registers the metatable and pushes the module table
 * (constructors and helpers). [-0, +1, m] */
int idset_open(lua_State *L);

#endif
