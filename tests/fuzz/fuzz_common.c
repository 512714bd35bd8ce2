/*
 * fuzz_common.c: see fuzz_common.h.
 */
#include "fuzz_common.h"

#include "runtime.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The setup chunk is named like Lethe's embedded modules, so that the
 * script limits treat it as trusted code. */
#define SETUP_CHUNK_NAME "=[lethe]/fuzz/setup"

lua_State *fuzz_state(const char *setup)
{
    lua_State *L = runtime_new_state();
    if (!L) {
        fputs("fuzz: cannot create the Lua state\n", stderr);
        abort();
    }
    if (luaL_loadbuffer(L, setup, strlen(setup), SETUP_CHUNK_NAME) !=
            LUA_OK ||
        lua_pcall(L, 0, 0, 0) != LUA_OK) {
        fprintf(stderr, "fuzz: setup failed: %s\n", lua_tostring(L, -1));
        abort();
    }
    return L;
}

void fuzz_call(lua_State *L, const uint8_t *data, size_t size)
{
    lua_getglobal(L, "fuzz_one");
    lua_pushlstring(L, (const char *)data, size);
    lua_pcall(L, 1, 0, 0);
    lua_settop(L, 0);
}
