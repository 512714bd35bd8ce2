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

#endif
