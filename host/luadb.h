/*
 * luadb.h: the native module `lethe.native`, which gives Lethe's own Lua
 * code (never policies) database connections and host services.
 */
#ifndef LETHE_LUADB_H
#define LETHE_LUADB_H

#include <lua.h>
#include <sqlite3.h>

/* Module opener for package.preload. [-0, +1, m] */
int luadb_open(lua_State *L);

/* Return the sqlite3 handle of the connection at `index`, or raise an
 * argument error (also for a closed connection). [-0, +0, v] */
sqlite3 *luadb_check(lua_State *L, int index);

/* Prepare `sql` and bind the parameters in the table at index `parameters`
 * (if any). Pushes a to-be-closed slot that owns the statement and
 * finalizes it when the calling C function returns or an error unwinds
 * it: callers never finalize it. Raises on an SQL or binding error.
 * [-0, +1, e] */
sqlite3_stmt *luadb_prepare(lua_State *L, sqlite3 *db, const char *sql,
                           int parameters);

/* Push column `column` of the current row of `statement`: an integer, a
 * float, nil for NULL, or a string for text and blobs. [-0, +1, m] */
void luadb_push_column(lua_State *L, sqlite3_stmt *statement, int column);

/* Run `sql` with the parameters in the table at index `parameters` (if
 * any). Pushes the statement's slot (see luadb_prepare), then the first
 * column of the first row, or nil when there is no row. Raises on an SQL
 * or binding error. [-0, +2, e] */
void luadb_push_scalar(lua_State *L, sqlite3 *db, const char *sql,
                       int parameters);

#endif
