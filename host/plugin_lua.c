/*
 * plugin_lua.c: the `lethe.plugin_host` module (see plugin_lua.h):
 * loading native and Lua plugins and describing what is loaded. The
 * functions that call plugins live in plugin_calls.c.
 *
 * Sections: plugin descriptions, loading, Lua plugins, files, and the
 * module.
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include "plugin_lua.h"

#include "ffi_call.h"
#include "plugin_calls.h"
#include "plugin_host.h"
#include "plugin_loader.h"
#include "util.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef LETHE_PLUGIN_DIR
#define LETHE_PLUGIN_DIR ""
#endif

#define MAX_OPTIONS 64
#define SENTINEL_METATABLE "lethe.plugin_host.sentinel"

static lua_State *main_state;      /* the state that opened the module */
static struct lethe_plugin *staged_lua; /* the Lua plugin being loaded */

static const char *const kind_keys[EXTENSION_KIND_COUNT] = {
    [EXTENSION_CRITERION] = "criterion",
    [EXTENSION_SQL_FUNCTION] = "sql_function",
    [EXTENSION_FIELD_ACTION] = "field_action",
    [EXTENSION_STRATEGY] = "strategy",
    [EXTENSION_GUARD] = "guard",
    [EXTENSION_HOOK] = "hook",
    [EXTENSION_FUNCTION] = "function",
};

/* The extension kind named `key` ("criterion", ...), or raise. */
static enum extension_kind check_kind(lua_State *L, int index)
{
    const char *key = luaL_checkstring(L, index);
    for (int kind = 0; kind < EXTENSION_KIND_COUNT; kind++) {
        if (strcmp(kind_keys[kind], key) == 0)
            return (enum extension_kind)kind;
    }
    luaL_argerror(L, index, "unknown extension kind");
    return EXTENSION_KIND_COUNT;
}

static void release_reference(int reference)
{
    if (main_state)
        luaL_unref(main_state, LUA_REGISTRYINDEX, reference);
}

/* ---------------------------------------------------------------------- */
/* Plugin descriptions                                                     */
/* ---------------------------------------------------------------------- */

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (!value)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, const char *key, lua_Integer value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}

static void push_field_types(lua_State *L, unsigned bits)
{
    static const char *const names[] = {"text", "integer", "number", "date",
                                        "boolean"};
    lua_newtable(L);
    int count = 0;
    for (int i = 0; i < 5; i++) {
        if (bits & (1u << i)) {
            lua_pushstring(L, names[i]);
            lua_rawseti(L, -2, ++count);
        }
    }
}

/* Push a table describing `e`. [-0, +1, m] */
static void push_extension(lua_State *L, const struct extension *e)
{
    lua_newtable(L);
    set_string(L, "kind", kind_keys[e->kind]);
    set_string(L, "name", e->name);
    set_string(L, "plugin", e->owner->name);
    set_string(L, "description", e->description);
    set_string(L, "entity", e->entity);
    set_string(L, "reason", e->reason);
    set_string(L, "sql_function", e->sql_function);
    set_string(L, "implementation", e->is_lua ? "lua" : "c");
    set_integer(L, "min_args", e->min_args);
    set_integer(L, "max_args", e->max_args);
    lua_pushboolean(L, e->per_row);
    lua_setfield(L, -2, "per_row");
    if (e->kind == EXTENSION_FIELD_ACTION || e->kind == EXTENSION_STRATEGY) {
        push_field_types(L, e->field_types);
        lua_setfield(L, -2, "field_types");
    }
    if (e->fields) {
        lua_newtable(L);
        for (int i = 0; e->fields[i]; i++) {
            lua_pushstring(L, e->fields[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "fields");
    }
    if (e->ffi) {
        set_string(L, "qualified_name", e->ffi->qualified_name);
        set_string(L, "result", ffi_kind_name(e->ffi->signature.result));
        lua_newtable(L);
        for (int i = 0; i < e->ffi->signature.parameter_count; i++) {
            lua_pushstring(L,
                           ffi_kind_name(e->ffi->signature.parameters[i]));
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "parameters");
        char reason[160];
        if (ffi_function_usable_in_sql(e->ffi, reason, sizeof reason)) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "usable_in_sql");
        } else {
            set_string(L, "not_usable_in_sql", reason);
        }
    }
}

/* Push a table describing `plugin` and its extensions. [-0, +1, m] */
static void push_plugin(lua_State *L, const struct lethe_plugin *plugin)
{
    lua_newtable(L);
    set_string(L, "name", plugin->name);
    set_string(L, "version", plugin->version);
    set_string(L, "description", plugin->description);
    set_string(L, "path", plugin->path);
    set_string(L, "kind", plugin->is_lua ? "Lua" : "C");
    if (!plugin->is_lua)
        set_integer(L, "abi", plugin->abi_version);
    lua_newtable(L);
    int count = 0;
    for (const struct extension *e = plugin->extensions; e; e = e->next) {
        push_extension(L, e);
        lua_rawseti(L, -2, ++count);
    }
    lua_setfield(L, -2, "extensions");
}

/* plugin_host.list() -> array of plugin descriptions. [-0, +1, m] */
static int list_plugins(lua_State *L)
{
    lua_newtable(L);
    int count = 0;
    for (const struct lethe_plugin *p = registry_first(); p; p = p->next) {
        push_plugin(L, p);
        lua_rawseti(L, -2, ++count);
    }
    return 1;
}

/* plugin_host.extension(kind, name) -> description or nil. [-2, +1, m] */
static int find_extension(lua_State *L)
{
    enum extension_kind kind = check_kind(L, 1);
    const struct extension *e = registry_find(kind, luaL_checkstring(L, 2));
    if (!e)
        lua_pushnil(L);
    else
        push_extension(L, e);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */
/* ---------------------------------------------------------------------- */

/* Read the options table at `index` (KEY = text) into key, value pairs
 * that stay on the Lua stack while used. Returns the string count. */
static int read_options(lua_State *L, int index, const char **pairs)
{
    if (lua_isnoneornil(L, index))
        return 0;
    luaL_checktype(L, index, LUA_TTABLE);
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, index)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "plugin options must be text keys and text values");
        if (count + 2 > 2 * MAX_OPTIONS)
            luaL_error(L, "more than %d plugin options", MAX_OPTIONS);
        pairs[count++] = lua_tostring(L, -2);
        pairs[count++] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    return count;
}

/* plugin_host.load_native(path, name [, options]) -> description | nil,
 * message. [-3, +1|2, e] */
static int load_native(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_checkstring(L, 2);
    const char *pairs[2 * MAX_OPTIONS];
    int count = read_options(L, 3, pairs);
    char message[REGISTRY_MAX_MESSAGE + 128];
    struct lethe_plugin *plugin = plugin_loader_load(
        path, name, (char *const *)pairs, count, message, sizeof message);
    if (!plugin) {
        lua_pushnil(L);
        lua_pushstring(L, message);
        return 2;
    }
    push_plugin(L, plugin);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Lua plugins                                                             */
/* ---------------------------------------------------------------------- */

/* plugin_host.stage_lua(name, path [, options]) starts loading a Lua
 * plugin: register_lua then adds to it, until commit_lua or discard_lua.
 * [-3, +1|2, e] */
static int stage_lua(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const char *pairs[2 * MAX_OPTIONS];
    int count = read_options(L, 3, pairs);
    if (staged_lua)
        return luaL_error(L, "a Lua plugin is already being loaded");
    staged_lua = registry_stage(name, path, 1, (char *const *)pairs, count);
    if (!staged_lua)
        return luaL_error(L, "out of memory");
    staged_lua->initialising = 1;
    lua_pushboolean(L, 1);
    return 1;
}

static char *optional_string(lua_State *L, int table, const char *key)
{
    char *copy = NULL;
    if (lua_getfield(L, table, key) == LUA_TSTRING)
        copy = util_strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return copy;
}

static int optional_integer(lua_State *L, int table, const char *key,
                            int fallback)
{
    int value = fallback;
    if (lua_getfield(L, table, key) == LUA_TNUMBER)
        value = (int)luaL_optinteger(L, -1, fallback);
    lua_pop(L, 1);
    return value;
}

/* The reference of function `key` of the table, or LUA_NOREF. */
static int function_reference(lua_State *L, int table, const char *key)
{
    if (lua_getfield(L, table, key) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Copy the array of strings at field `key`, NULL-terminated, or NULL. */
static char **string_list(lua_State *L, int table, const char *key)
{
    if (lua_getfield(L, table, key) != LUA_TTABLE) {
        lua_pop(L, 1);
        return NULL;
    }
    size_t count = lua_rawlen(L, -1);
    char **list = util_malloc((count + 1) * sizeof *list);
    size_t used = 0;
    for (size_t i = 1; i <= count; i++) {
        if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING)
            list[used++] = util_strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    list[used] = NULL;
    lua_pop(L, 1);
    return list;
}

static unsigned field_type_bits(lua_State *L, int table)
{
    char **names = string_list(L, table, "field_types");
    unsigned bits = 0;
    for (char **name = names; name && *name; name++) {
        unsigned bit = plugin_host_field_type(*name);
        bits |= bit ? bit : 1u << 31; /* an unknown name fails the check */
        free(*name);
    }
    free(names);
    return bits;
}

/* plugin_host.register_lua(kind, definition) -> true | nil, message.
 * The definition has the fields of the C struct of its kind; `match`
 * (per-row criteria) and `value` (field actions, strategies) are the
 * functions SQLite calls. [-2, +1|2, e] */
static int register_lua(lua_State *L)
{
    enum extension_kind kind = check_kind(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!staged_lua)
        return luaL_error(L, "no Lua plugin is being loaded");
    if (kind == EXTENSION_SQL_FUNCTION || kind == EXTENSION_FUNCTION)
        return luaL_error(L, "Lua plugins cannot register a %s",
                          registry_kind_name(kind));
    lua_getfield(L, 2, "name");
    const char *name = lua_tostring(L, -1);
    struct extension *e = registry_new_extension(staged_lua, kind, name);
    lua_pop(L, 1);
    if (!e) {
        lua_pushnil(L);
        lua_pushstring(L, staged_lua->message);
        return 2;
    }
    e->is_lua = 1;
    e->description = optional_string(L, 2, "description");
    e->entity = optional_string(L, 2, "entity");
    e->reason = optional_string(L, 2, "reason");
    e->min_args = optional_integer(L, 2, "min_args", 0);
    e->max_args = optional_integer(L, 2, "max_args", e->min_args);
    e->event = optional_integer(L, 2, "event", -1);
    if (kind == EXTENSION_CRITERION) {
        e->per_row = optional_integer(L, 2, "per_row", 0) != 0;
        e->fields = string_list(L, 2, "fields");
        if (e->per_row)
            e->lua_function = function_reference(L, 2, "match");
    } else if (kind == EXTENSION_FIELD_ACTION || kind == EXTENSION_STRATEGY) {
        e->field_types = field_type_bits(L, 2);
        e->lua_function = function_reference(L, 2, "value");
    }
    int reference = e->lua_function;
    if (plugin_host_add(staged_lua, e) != LETHE_OK) {
        if (reference >= 0)
            release_reference(reference);
        lua_pushnil(L);
        lua_pushstring(L, staged_lua->message);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* plugin_host.commit_lua(version, description) -> description | nil,
 * message. [-2, +1|2, e] */
static int commit_lua(lua_State *L)
{
    const char *version = luaL_checkstring(L, 1);
    const char *description = luaL_optstring(L, 2, "");
    if (!staged_lua)
        return luaL_error(L, "no Lua plugin is being loaded");
    struct lethe_plugin *plugin = staged_lua;
    staged_lua = NULL;
    plugin->initialising = 0;
    plugin->version = util_strdup(version);
    plugin->description = util_strdup(description);
    char message[REGISTRY_MAX_MESSAGE + 128];
    if (registry_commit(plugin, message, sizeof message) != 0) {
        registry_discard(plugin, release_reference);
        lua_pushnil(L);
        lua_pushstring(L, message);
        return 2;
    }
    push_plugin(L, plugin);
    return 1;
}

/* plugin_host.discard_lua() drops the Lua plugin being loaded. */
static int discard_lua(lua_State *L)
{
    (void)L;
    if (staged_lua)
        registry_discard(staged_lua, release_reference);
    staged_lua = NULL;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Files                                                                   */
/* ---------------------------------------------------------------------- */

/* plugin_host.inspect(path) -> { real, kind, writable_by_others } | nil,
 * message. `real` is the absolute path with every symbolic link
 * resolved; kind is "file", "directory" or "other". [-1, +1|2, m] */
static int inspect(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char *real = realpath(path, NULL);
    struct stat status;
    if (!real || stat(real, &status) != 0) {
        free(real);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, real);
    free(real);
    lua_setfield(L, -2, "real");
    lua_pushstring(L, S_ISREG(status.st_mode)   ? "file"
                      : S_ISDIR(status.st_mode) ? "directory"
                                                : "other");
    lua_setfield(L, -2, "kind");
    lua_pushboolean(L, (status.st_mode & S_IWOTH) != 0);
    lua_setfield(L, -2, "writable_by_others");
    return 1;
}

/* ---------------------------------------------------------------------- */
/* The module                                                              */
/* ---------------------------------------------------------------------- */

/* __gc of the module's sentinel: unload every plugin when the state that
 * loaded them closes. [-0, +0, -] */
static int unload_all(lua_State *L)
{
    (void)L;
    if (staged_lua)
        registry_discard(staged_lua, NULL);
    staged_lua = NULL;
    registry_reset(NULL);
    plugin_calls_set_thread(NULL);
    main_state = NULL;
    return 0;
}

static const luaL_Reg functions[] = {
    {"load_native", load_native},
    {"stage_lua", stage_lua},
    {"register_lua", register_lua},
    {"commit_lua", commit_lua},
    {"discard_lua", discard_lua},
    {"list", list_plugins},
    {"extension", find_extension},
    {"inspect", inspect},
    {NULL, NULL},
};

int plugin_lua_open(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    lua_State *main_thread = lua_tothread(L, -1);
    lua_pop(L, 1);
    if (main_state && main_state != main_thread)
        return luaL_error(L, "plugins are in use by another Lua state");
    main_state = main_thread;
    luaL_newlib(L, functions);
    plugin_calls_register(L);
    plugin_calls_set_thread(lua_newthread(L));
    lua_setfield(L, -2, "callback_thread"); /* keeps it from collection */
    lua_newuserdatauv(L, 1, 0);
    if (luaL_newmetatable(L, SENTINEL_METATABLE)) {
        lua_pushcfunction(L, unload_all);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "sentinel");
    lua_pushinteger(L, LETHE_PLUGIN_ABI_VERSION);
    lua_setfield(L, -2, "abi_version");
    lua_pushstring(L, LETHE_PLUGIN_DIR);
    lua_setfield(L, -2, "installed_directory");
    return 1;
}
