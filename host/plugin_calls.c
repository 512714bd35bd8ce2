/*
 * plugin_calls.c: the functions of `lethe.plugin_host` that call plugins
 * (see plugin_calls.h), and the calls from SQLite into Lua plugins.
 *
 * Sections: values, calling extensions from Lua, reading the database
 * for Lua plugins, and calls from SQLite into Lua.
 *
 * A native plugin's callback is called directly from a Lua C function of
 * this file. Every value that could raise (an allocation) is pushed
 * before or after the callback, so no Lua error crosses a plugin frame.
 * Calls from SQLite into Lua run inside lua_pcall on a thread of the
 * module's own.
 */
#include "plugin_calls.h"

#include "ffi_call.h"
#include "luadb.h"
#include "plugin_host.h"
#include "plugin_services.h"
#include "plugin_sql.h"
#include "util.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 16

static lua_State *callback_thread; /* runs Lua plugins called by SQLite */

static const char *const event_keys[] = {
    "before_plan",  "after_plan",     "before_apply",
    "after_apply", "before_erasure", "after_erasure",
};

void plugin_calls_set_thread(lua_State *thread)
{
    callback_thread = thread;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (!value)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

/* ---------------------------------------------------------------------- */
/* Values                                                                  */
/* ---------------------------------------------------------------------- */

/* Push `value` as a Lua value. [-0, +1, m] */
static void push_value(lua_State *L, const struct lethe_value *value)
{
    switch (value->type) {
    case LETHE_INTEGER:
        lua_pushinteger(L, value->integer);
        break;
    case LETHE_REAL:
        lua_pushnumber(L, value->real);
        break;
    case LETHE_TEXT:
        lua_pushlstring(L, value->text, value->length);
        break;
    default:
        lua_pushnil(L);
    }
}

/* Read the Lua value at `index` into `out`; strings point into Lua and
 * live while the value stays on the stack. Id sets become views in
 * `view`. Raises on other types, naming `what`. [-0, +0, v] */
static void read_value(lua_State *L, int index, struct lethe_value *out,
                       struct lethe_idset *view, const char *what)
{
    memset(out, 0, sizeof *out);
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        out->type = LETHE_NULL;
        break;
    case LUA_TBOOLEAN:
        out->type = LETHE_INTEGER;
        out->integer = lua_toboolean(L, index);
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, index)) {
            out->type = LETHE_INTEGER;
            out->integer = lua_tointeger(L, index);
        } else {
            out->type = LETHE_REAL;
            out->real = lua_tonumber(L, index);
        }
        break;
    case LUA_TSTRING:
        out->type = LETHE_TEXT;
        out->text = lua_tolstring(L, index, &out->length);
        break;
    default: {
        struct idset *set = view ? idset_test(L, index) : NULL;
        if (!set || !set->bitmap)
            luaL_error(L, "%s: cannot pass a %s to a plugin", what,
                       luaL_typename(L, index));
        registry_idset_view(view, set);
        out->type = LETHE_IDSET;
        out->ids = view;
    }
    }
}

/* Read the elements of the array at `table` (1 to its field n, else its
 * length) onto the stack and into `values`. Returns the count; raises
 * beyond `maximum`. [-0, +count, v] */
static int read_elements(lua_State *L, int table, const char *what,
                         struct lethe_value *values,
                         struct lethe_idset *views, int maximum)
{
    lua_Integer count;
    if (lua_getfield(L, table, "n") == LUA_TNUMBER)
        count = lua_tointeger(L, -1);
    else
        count = (lua_Integer)lua_rawlen(L, table);
    lua_pop(L, 1);
    if (count < 0 || count > maximum)
        luaL_error(L, "%s: at most %d values", what, maximum);
    luaL_checkstack(L, (int)count + 2, "plugin arguments");
    for (int i = 0; i < count; i++) {
        lua_geti(L, table, i + 1);
        read_value(L, lua_gettop(L), &values[i], views ? &views[i] : NULL,
                   what);
    }
    return (int)count;
}

/* ---------------------------------------------------------------------- */
/* Calling extensions from Lua                                             */
/* ---------------------------------------------------------------------- */

/* The C extension of `kind` named by argument 1, or raise. */
static struct extension *check_c_extension(lua_State *L,
                                           enum extension_kind kind)
{
    const char *name = luaL_checkstring(L, 1);
    struct extension *e = registry_find(kind, name);
    if (!e || e->is_lua)
        luaL_error(L, "no native plugin has the %s '%s'",
                   registry_kind_name(kind), name);
    return e;
}

/* Push nil and "plugin P, KIND 'NAME': MESSAGE". Returns 2. */
static int push_failure(lua_State *L, const struct extension *e)
{
    lua_pushnil(L);
    lua_pushfstring(L, "plugin %s, %s '%s': %s", e->owner->name,
                    registry_kind_name(e->kind), e->name,
                    e->owner->message[0] ? e->owner->message
                                         : "failed without a message");
    return 2;
}

/* Check the compiled expression by preparing it alone on `db`. */
static int check_compiled(lua_State *L, sqlite3 *db,
                          const struct extension *e,
                          const struct lethe_criterion_call *call,
                          const char *sql)
{
    char *text = sqlite3_mprintf("SELECT 1 FROM \"%w\" AS \"%w\" WHERE (%s)",
                                 call->table, call->alias, sql);
    sqlite3_stmt *statement = NULL;
    int status = text ? sqlite3_prepare_v2(db, text, -1, &statement, NULL)
                      : SQLITE_NOMEM;
    sqlite3_free(text);
    sqlite3_finalize(statement);
    if (status == SQLITE_OK)
        return 0;
    lua_pushnil(L);
    lua_pushfstring(L, "plugin %s, criterion '%s' produced invalid SQL: %s",
                    e->owner->name, e->name, sqlite3_errmsg(db));
    return -1;
}

/* plugin_host.compile_criterion(name, db, call, first) -> sql, params |
 * nil, message. `call` has entity, table, alias, key, now and args; the
 * placeholders start at ?first. [-4, +2, e] */
static int compile_criterion(lua_State *L)
{
    struct extension *e = check_c_extension(L, EXTENSION_CRITERION);
    sqlite3 *db = luadb_check(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    int first = (int)luaL_checkinteger(L, 4);
    if (e->per_row)
        return luaL_error(L, "criterion '%s' is evaluated per row", e->name);
    struct lethe_criterion_call call;
    memset(&call, 0, sizeof call);
    call.size = sizeof call;
    lua_getfield(L, 3, "entity");
    lua_getfield(L, 3, "table");
    lua_getfield(L, 3, "alias");
    lua_getfield(L, 3, "key");
    lua_getfield(L, 3, "now");
    call.entity = luaL_checkstring(L, -5);
    call.table = luaL_checkstring(L, -4);
    call.alias = luaL_checkstring(L, -3);
    call.key = luaL_checkstring(L, -2);
    call.now = luaL_checkinteger(L, -1);
    struct lethe_value args[MAX_ARGS];
    call.arg_count = 0;
    if (lua_getfield(L, 3, "args") == LUA_TTABLE)
        call.arg_count = read_elements(L, lua_gettop(L), "args", args, NULL,
                                       MAX_ARGS);
    call.args = args;
    struct lethe_sql sql;
    plugin_sql_builder_init(&sql, e->owner, first);
    e->owner->message[0] = '\0';
    sqlite3 *saved;
    registry_enter_database(db, &saved);
    int status = e->c.compile(e->user, &call, &sql);
    registry_leave_database(saved);
    if (status != LETHE_OK || sql.failed || !sql.text.data) {
        if (status == LETHE_OK && !e->owner->message[0])
            registry_fail(e->owner, "it produced no SQL");
        plugin_sql_builder_free(&sql);
        return push_failure(L, e);
    }
    if (check_compiled(L, db, e, &call, sql.text.data) != 0) {
        plugin_sql_builder_free(&sql);
        return 2;
    }
    lua_pushstring(L, sql.text.data);
    lua_createtable(L, sql.param_count, 0);
    for (int i = 0; i < sql.param_count; i++) {
        push_value(L, &sql.params[i]);
        lua_rawseti(L, -2, i + 1);
    }
    plugin_sql_builder_free(&sql);
    return 2;
}

/* plugin_host.check_guard(name, db, entity, ids, now) -> vetoed ids,
 * reason | nil, message. [-5, +2, e] */
static int check_guard(lua_State *L)
{
    struct extension *e = check_c_extension(L, EXTENSION_GUARD);
    sqlite3 *db = luadb_check(L, 2);
    const char *entity = luaL_checkstring(L, 3);
    struct idset *candidates = idset_check(L, 4);
    lua_Integer now = luaL_checkinteger(L, 5);
    struct idset *vetoed = idset_push(L, entity);
    struct lethe_idset candidate_view, vetoed_view;
    registry_idset_view(&candidate_view, candidates);
    registry_idset_view(&vetoed_view, vetoed);
    struct lethe_guard_call call = {sizeof call, entity, &candidate_view,
                                    &vetoed_view, now, NULL};
    e->owner->message[0] = '\0';
    sqlite3 *saved;
    registry_enter_database(db, &saved);
    int status = e->c.guard(e->user, &call);
    registry_leave_database(saved);
    candidate_view.magic = vetoed_view.magic = 0;
    char reason[REGISTRY_MAX_MESSAGE];
    snprintf(reason, sizeof reason, "%s",
             call.reason && call.reason[0] ? call.reason : e->reason);
    if (status != LETHE_OK)
        return push_failure(L, e);
    lua_pushstring(L, reason);
    return 2;
}

/* Fill `counts` or `digests` from the array field `key` of the event
 * table at `index`: { {name, value}, ... }. The strings stay valid while
 * the event table is on the stack and unchanged. Returns the count. */
static size_t read_pairs(lua_State *L, int index, const char *key,
                         struct lethe_count **counts,
                         struct lethe_digest **digests)
{
    if (lua_getfield(L, index, key) != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    size_t count = lua_rawlen(L, -1);
    if (counts)
        *counts = util_malloc((count ? count : 1) * sizeof **counts);
    else
        *digests = util_malloc((count ? count : 1) * sizeof **digests);
    for (size_t i = 0; i < count; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        int pair = lua_gettop(L);
        lua_rawgeti(L, pair, 1);
        lua_rawgeti(L, pair, 2);
        const char *name = lua_tostring(L, -2);
        if (counts) {
            (*counts)[i].name = name ? name : "";
            (*counts)[i].value = lua_tointeger(L, -1);
        } else {
            const char *hex = lua_tostring(L, -1);
            (*digests)[i].name = name ? name : "";
            (*digests)[i].hex = hex ? hex : "";
        }
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
    return count;
}

/* The hook event named by argument 1, or raise. */
static int check_event(lua_State *L, int index)
{
    const char *name = luaL_checkstring(L, index);
    for (int i = 0; i <= LETHE_AFTER_ERASURE; i++) {
        if (strcmp(event_keys[i], name) == 0)
            return i;
    }
    return luaL_argerror(L, index, "unknown hook event");
}

/* Call each native hook of `event` whose plugin is in `active` (a set
 * of names; nil for every plugin). Returns the failures. */
static void call_hooks(lua_State *L, int event, const struct lethe_event *data,
                       sqlite3 *db, int active)
{
    lua_newtable(L);
    int failures = 0;
    for (struct lethe_plugin *p = registry_first(); p; p = p->next) {
        if (active) {
            int listed = lua_getfield(L, active, p->name) != LUA_TNIL;
            lua_pop(L, 1);
            if (!listed)
                continue;
        }
        for (struct extension *e = p->extensions; e; e = e->next) {
            if (e->kind != EXTENSION_HOOK || e->is_lua || e->event != event)
                continue;
            p->message[0] = '\0';
            sqlite3 *saved;
            registry_enter_database(db, &saved);
            int status = e->c.hook(e->user, data);
            registry_leave_database(saved);
            if (status == LETHE_OK)
                continue;
            lua_createtable(L, 0, 2);
            set_string(L, "plugin", p->name);
            set_string(L, "message", p->message[0] ? p->message
                                                   : "failed without a "
                                                     "message");
            lua_rawseti(L, -2, ++failures);
        }
    }
}

/* plugin_host.notify(event, data, db, active) -> failures: calls the
 * native hooks. `data` has command, policy, policy_digest, plan_digest,
 * now, at, counts = { {name, value} }, digests = { {name, hex} } and
 * verified (true, false or nil). [-4, +1, e] */
static int notify(lua_State *L)
{
    int event = check_event(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    sqlite3 *db = lua_isnoneornil(L, 3) ? NULL : luadb_check(L, 3);
    int active = lua_istable(L, 4) ? 4 : 0;
    lua_settop(L, 4);
    struct lethe_event data;
    memset(&data, 0, sizeof data);
    data.size = sizeof data;
    data.kind = event;
    lua_getfield(L, 2, "command");
    lua_getfield(L, 2, "policy");
    lua_getfield(L, 2, "policy_digest");
    lua_getfield(L, 2, "plan_digest");
    lua_getfield(L, 2, "now");
    lua_getfield(L, 2, "at");
    lua_getfield(L, 2, "verified");
    data.command = lua_tostring(L, 5);
    data.policy = lua_tostring(L, 6);
    data.policy_digest = lua_tostring(L, 7);
    data.plan_digest = lua_tostring(L, 8);
    data.now = lua_tointeger(L, 9);
    data.at = lua_tointeger(L, 10);
    data.verified = lua_isnil(L, 11) ? -1 : lua_toboolean(L, 11);
    struct lethe_count *counts = NULL;
    struct lethe_digest *digests = NULL;
    data.count_count = read_pairs(L, 2, "counts", &counts, NULL);
    data.digest_count = read_pairs(L, 2, "digests", NULL, &digests);
    data.counts = counts;
    data.digests = digests;
    call_hooks(L, event, &data, db, active);
    free(counts);
    free(digests);
    return 1;
}

/* plugin_host.functions(plugin) -> table of its plain C functions.
 * [-1, +1, m] */
static int plugin_functions(lua_State *L)
{
    const struct lethe_plugin *plugin =
        registry_plugin(luaL_checkstring(L, 1));
    lua_newtable(L);
    for (struct extension *e = plugin ? plugin->extensions : NULL; e;
         e = e->next) {
        if (e->kind != EXTENSION_FUNCTION)
            continue;
        ffi_function_push(L, e->ffi);
        lua_setfield(L, -2, e->name);
    }
    return 1;
}

/* plugin_host.self_test() -> true | nil, message. */
static int self_test(lua_State *L)
{
    char message[256];
    if (ffi_self_test(message, sizeof message) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, message);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Reading the database for Lua plugins                                    */
/* ---------------------------------------------------------------------- */

/* Step the statement (a light userdata at 1) into an array of rows keyed
 * by column name; runs under lua_pcall. [-1, +1, e] */
static int collect_rows(lua_State *L)
{
    sqlite3_stmt *statement = lua_touserdata(L, 1);
    int columns = sqlite3_column_count(statement);
    lua_newtable(L);
    lua_Integer count = 0;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        lua_createtable(L, 0, columns);
        for (int c = 0; c < columns; c++) {
            switch (sqlite3_column_type(statement, c)) {
            case SQLITE_INTEGER:
                lua_pushinteger(L, sqlite3_column_int64(statement, c));
                break;
            case SQLITE_FLOAT:
                lua_pushnumber(L, sqlite3_column_double(statement, c));
                break;
            case SQLITE_NULL:
                lua_pushnil(L);
                break;
            default:
                lua_pushlstring(
                    L, (const char *)sqlite3_column_blob(statement, c),
                    (size_t)sqlite3_column_bytes(statement, c));
            }
            lua_setfield(L, -2, sqlite3_column_name(statement, c));
        }
        lua_rawseti(L, -2, ++count);
    }
    if (status != SQLITE_DONE)
        return luaL_error(L, "query failed: %s",
                          sqlite3_errmsg(sqlite3_db_handle(statement)));
    return 1;
}

/* plugin_host.query(db, sql [, params]) -> rows | nil, message: one
 * read-only statement for a Lua plugin, on `db`, or when db is nil on the
 * database of the SQL statement that called the plugin. [-3, +1|2, e] */
static int query(lua_State *L)
{
    sqlite3 *db = lua_isnil(L, 1) ? registry_database() : luadb_check(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    struct lethe_value params[MAX_ARGS];
    struct lethe_idset views[MAX_ARGS];
    int count = 0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        count = read_elements(L, 3, "query parameters", params, views,
                              MAX_ARGS);
    }
    char message[REGISTRY_MAX_MESSAGE];
    sqlite3_stmt *statement = NULL;
    if (plugin_host_prepare_query(db, sql, &statement, message,
                                  sizeof message) != 0 ||
        plugin_host_bind(statement, params, count, message,
                         sizeof message) != 0) {
        sqlite3_finalize(statement);
        lua_pushnil(L);
        lua_pushstring(L, message);
        return 2;
    }
    lua_pushcfunction(L, collect_rows);
    lua_pushlightuserdata(L, statement);
    int status = lua_pcall(L, 1, 1, 0);
    sqlite3_finalize(statement);
    for (int i = 0; i < count; i++)
        views[i].magic = 0;
    if (status != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Calls from SQLite into Lua                                              */
/* ---------------------------------------------------------------------- */

struct bridge_call {
    const struct extension *extension;
    const struct lethe_row *row;       /* per-row criteria */
    const struct lethe_value *value;   /* field actions and strategies */
    int arg_count;
    const struct lethe_value *args;
};

/* Call the criterion's function with (row fields by name, id, args...)
 * and leave whether it holds. Runs under lua_pcall. [-1, +1, e] */
static int bridge_match(lua_State *T)
{
    const struct bridge_call *call = lua_touserdata(T, 1);
    const struct lethe_row *row = call->row;
    luaL_checkstack(T, row->arg_count + 4, "plugin arguments");
    lua_rawgeti(T, LUA_REGISTRYINDEX, call->extension->lua_function);
    lua_createtable(T, 0, row->field_count);
    for (int i = 0; i < row->field_count; i++) {
        push_value(T, &row->fields[i]);
        lua_setfield(T, -2, row->field_names[i]);
    }
    lua_pushinteger(T, row->id);
    for (int i = 0; i < row->arg_count; i++)
        push_value(T, &row->args[i]);
    lua_call(T, 2 + row->arg_count, 1);
    lua_pushboolean(T, lua_toboolean(T, -1));
    return 1;
}

/* Call the action's function with (value, args...) and leave its result.
 * Runs under lua_pcall. [-1, +1, e] */
static int bridge_value(lua_State *T)
{
    const struct bridge_call *call = lua_touserdata(T, 1);
    luaL_checkstack(T, call->arg_count + 3, "plugin arguments");
    lua_rawgeti(T, LUA_REGISTRYINDEX, call->extension->lua_function);
    push_value(T, call->value);
    for (int i = 0; i < call->arg_count; i++)
        push_value(T, &call->args[i]);
    lua_call(T, 1 + call->arg_count, 1);
    return 1;
}

/* Run `bridge` for `call` on the callback thread. Returns the thread with
 * the result on top and *top set to the height to restore, or NULL after
 * setting an SQL error. */
static lua_State *run_bridge(lua_CFunction bridge, struct bridge_call *call,
                             sqlite3_context *context, int *top)
{
    lua_State *T = callback_thread;
    if (!T) {
        plugin_sql_report(context, call->extension,
                          "the Lua state that loaded the plugin is closed");
        return NULL;
    }
    *top = lua_gettop(T);
    if (!lua_checkstack(T, 3)) {
        plugin_sql_report(context, call->extension, "out of memory");
        return NULL;
    }
    lua_pushcfunction(T, bridge);
    lua_pushlightuserdata(T, call);
    if (lua_pcall(T, 1, 1, 0) != LUA_OK) {
        const char *message = lua_tostring(T, -1);
        plugin_sql_report(context, call->extension,
                          message ? message : "(error object is not a "
                                              "string)");
        lua_settop(T, *top);
        return NULL;
    }
    return T;
}

void plugin_lua_match(const struct extension *extension,
                      sqlite3_context *context, const struct lethe_row *row)
{
    struct bridge_call call = {extension, row, NULL, 0, NULL};
    int top;
    lua_State *T = run_bridge(bridge_match, &call, context, &top);
    if (!T)
        return;
    sqlite3_result_int(context, lua_toboolean(T, -1));
    lua_settop(T, top);
}

void plugin_lua_value(const struct extension *extension,
                      sqlite3_context *context,
                      const struct lethe_value *value, int arg_count,
                      const struct lethe_value *args)
{
    struct bridge_call call = {extension, NULL, value, arg_count, args};
    int top;
    lua_State *T = run_bridge(bridge_value, &call, context, &top);
    if (!T)
        return;
    switch (lua_type(T, -1)) {
    case LUA_TNIL:
        sqlite3_result_null(context);
        break;
    case LUA_TBOOLEAN:
        sqlite3_result_int(context, lua_toboolean(T, -1));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(T, -1))
            sqlite3_result_int64(context, lua_tointeger(T, -1));
        else
            sqlite3_result_double(context, lua_tonumber(T, -1));
        break;
    case LUA_TSTRING: {
        size_t length;
        const char *text = lua_tolstring(T, -1, &length);
        sqlite3_result_text64(context, text, length, SQLITE_TRANSIENT,
                              SQLITE_UTF8);
        break;
    }
    default: {
        char message[128];
        snprintf(message, sizeof message, "returned a %s; expected text, a "
                 "number, a boolean or nil", luaL_typename(T, -1));
        plugin_sql_report(context, extension, message);
    }
    }
    lua_settop(T, top);
}

static const luaL_Reg functions[] = {
    {"compile_criterion", compile_criterion},
    {"check_guard", check_guard},
    {"notify", notify},
    {"functions", plugin_functions},
    {"query", query},
    {"self_test", self_test},
    {NULL, NULL},
};

void plugin_calls_register(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
}
