/*
 * luadb.h: the native module `lethe.native`, which gives Lethe's own Lua
 * code (never policies) database connections and host services.
 */
#ifndef LETHE_LUADB_H
#define LETHE_LUADB_H

#include <lua.h>

/* Module opener for package.preload. [-0, +1, m] */
int luadb_open(lua_State *L);

#endif
