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
 * serialize, complement(universe), copy, add, remove and close. Combining
 * sets of different entities raises an error naming both. A closed set
 * (close() or a to-be-closed variable) has freed its bitmap; using it
 * raises.
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
    roaring_bitmap_t *bitmap; /* owned; NULL once the set is closed */
    char *entity;             /* owned; the entity the ids belong to */
};

/* Push a new empty set of `entity` onto the Lua stack and return it.
 * Raises a Lua error on memory exhaustion and on an entity name that is
 * empty or longer than 255 bytes. [-0, +1, v] */
struct idset *idset_push(lua_State *L, const char *entity);

/* Return the set at `index`, or raise an argument error when the value is
 * not a set or the set is closed. [-0, +0, v] */
struct idset *idset_check(lua_State *L, int index);

/* Return the set at `index`, or NULL when the value is not a set. */
struct idset *idset_test(lua_State *L, int index);

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
