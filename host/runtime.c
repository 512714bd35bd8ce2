/*
 * runtime.c: creating the Lua state and entering Lethe's Lua code.
 */
#include "runtime.h"

#include "embedded.h"
#include "idset.h"
#include "luadb.h"
#include "plugin_lua.h"
#include "script_limits.h"
#include "terminal.h"
#include "util.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* package.searchers entry: find module "a.b" as embedded scripts/a/b.lua.
 * [-1, +2, m] */
static int search_embedded(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_Buffer path;
    luaL_buffinit(L, &path);
    luaL_addstring(&path, "scripts/");
    for (const char *c = name; *c; c++)
        luaL_addchar(&path, *c == '.' ? '/' : *c);
    luaL_addstring(&path, ".lua");
    luaL_pushresult(&path);
    const char *file_name = lua_tostring(L, -1);
    const struct embedded_file *file = embedded_find(file_name);
    if (!file) {
        lua_pushfstring(L, "no embedded file '%s'", file_name);
        return 1;
    }
    lua_pushfstring(L, "=[lethe]/%s", file_name);
    if (luaL_loadbufferx(L, file->data, file->size, lua_tostring(L, -1),
                         "t") != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, file_name);
    return 2;
}

/* Replace package.searchers with the preload searcher and ours, so that
 * require never reads the file system. */
static void install_searchers(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_rawgeti(L, -1, 1); /* the preload searcher */
    lua_newtable(L);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushcfunction(L, search_embedded);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -3, "searchers");
    lua_pop(L, 2);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luadb_open);
    lua_setfield(L, -2, "lethe.native");
    lua_pushcfunction(L, idset_open);
    lua_setfield(L, -2, "lethe.idset");
    lua_pushcfunction(L, terminal_open);
    lua_setfield(L, -2, "lethe.terminal");
    lua_pushcfunction(L, script_limits_open);
    lua_setfield(L, -2, "lethe.limits");
    lua_pushcfunction(L, plugin_lua_open);
    lua_setfield(L, -2, "lethe.plugin_host");
    lua_pop(L, 1);
}

/* Scripts share the string metatable with Lethe's own code: hide it
 * behind __metatable, so that getmetatable("") returns false, and drop
 * string.dump from the string library, which ("").dump would otherwise
 * reach. Lethe never dumps functions. */
static void protect_strings(lua_State *L)
{
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
}

static int message_handler(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE)
        return 1; /* a structured error from lethe.cli: pass it on */
    const char *message = lua_tostring(L, 1);
    luaL_traceback(L, L, message ? message : "(error object)", 1);
    return 1;
}

/* Call lethe.cli.main(arguments) in protected mode. [-0, +0, -] */
static int call_main(lua_State *L, int argc, char **argv)
{
    lua_pushcfunction(L, message_handler);
    int handler = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "lethe.cli");
    if (lua_pcall(L, 1, 1, handler) != LUA_OK) {
        fprintf(stderr, "lethe: internal error: %s\n", lua_tostring(L, -1));
        return 1;
    }
    lua_getfield(L, -1, "main");
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    if (lua_pcall(L, 1, 1, handler) != LUA_OK) {
        fprintf(stderr, "lethe: internal error: %s\n",
                lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
        return 1;
    }
    return (int)luaL_optinteger(L, -1, 0);
}

lua_State *runtime_new_state(void)
{
    lua_State *L = script_limits_new_state();
    if (!L)
        return NULL;
    luaL_openlibs(L);
    protect_strings(L);
    install_searchers(L);
    return L;
}

int runtime_run(int argc, char **argv)
{
    script_limits_harden_process();
    lua_State *L = runtime_new_state();
    if (!L) {
        fputs("lethe: cannot create the Lua state (out of memory)\n", stderr);
        return 1;
    }
    int status = call_main(L, argc, argv);
    lua_close(L);
    return status;
}
