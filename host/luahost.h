/*
 * luahost.h: host services (files, hashing, signals, the terminal) that
 * the `lethe.native` module offers Lethe's own Lua code.
 */
#ifndef LETHE_LUAHOST_H
#define LETHE_LUAHOST_H

#include <lua.h>

/* Add the host functions and the version string to the table on top of
 * the stack. [-0, +0, m] */
void luahost_add_functions(lua_State *L);

#endif
