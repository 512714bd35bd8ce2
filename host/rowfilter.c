/*
 * rowfilter.c: db:filter, the loop that runs a Lua criterion function on
 * the rows of a query (see rowfilter.h).
 *
 * Row objects: each call gets a new small userdata that stores only the
 * row's number in the scan and its id. Reading a field converts that one
 * column of the statement's current row, so a function pays only for the
 * fields it reads. A row is readable only while it is the scan's current
 * row: a script that keeps a row and reads it later (in a later call, or after
 * the scan) gets an error naming the row, never another row's values and
 * never a finalized statement. The metatable is hidden from scripts
 * (__metatable is false), and writing a field raises.
 *
 * Lua errors never cross an SQLite frame: the function runs between two
 * sqlite3_step calls, under lua_pcall, and the statement lives in a
 * to-be-closed slot (luadb_prepare) that finalizes it if an error unwinds
 * this function.
 */
#include "rowfilter.h"

#include "idset.h"
#include "luadb.h"

#include <lauxlib.h>
#include <stdlib.h>

/* The state of one db:filter call that its row objects share. The scan
 * userdata is an upvalue of the row metamethods, so it lives as long as
 * any row of it. */
struct scan {
    sqlite3_stmt *statement; /* NULL once the scan has ended */
    lua_Integer serial;      /* number of the current row, from 1 */
};

/* A row object. */
struct row {
    lua_Integer serial; /* the scan's serial while this row is current */
    lua_Integer id;
};

/* Upvalues of the row metamethods. */
enum {
    UPVALUE_SCAN = 1, /* the struct scan userdata */
    UPVALUE_COLUMNS,  /* field name -> column number */
    UPVALUE_UNKNOWN,  /* function(name) -> message for a non-field */
    UPVALUE_ENTITY,   /* the entity name */
    UPVALUE_COUNT = UPVALUE_ENTITY
};

/* __close of the scan userdata: rows of an ended scan are no longer
 * readable. [-0, +0, -] */
static int close_scan(lua_State *L)
{
    struct scan *scan = lua_touserdata(L, 1);
    if (scan)
        scan->statement = NULL;
    return 0;
}

/* Return the statement for the row object at index 1, or raise when that
 * row is no longer the scan's current row. Called from the row metamethods.
 * [-0, +0, v] */
static sqlite3_stmt *current_statement(lua_State *L)
{
    const struct scan *scan = lua_touserdata(L, lua_upvalueindex(UPVALUE_SCAN));
    const struct row *row = lua_touserdata(L, 1);
    if (!row)
        luaL_error(L, "a row object was expected");
    if (scan->statement && row->serial == scan->serial)
        return scan->statement;
    luaL_error(L,
               "the row of %s %I is no longer available: a row can be read "
               "only while the Lua criterion runs on it; copy the values "
               "that are needed later",
               lua_tostring(L, lua_upvalueindex(UPVALUE_ENTITY)), row->id);
    return NULL;
}

/* __index(row, name) -> the stored value of field `name`, nil for NULL.
 * Raises for a name that is not a field and for a row that is no longer
 * current. [-0, +1, e] */
static int row_index(lua_State *L)
{
    sqlite3_stmt *statement = current_statement(L);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(UPVALUE_COLUMNS)) != LUA_TNUMBER) {
        luaL_where(L, 1);
        lua_pushvalue(L, lua_upvalueindex(UPVALUE_UNKNOWN));
        lua_pushvalue(L, 2);
        lua_call(L, 1, 1);
        lua_concat(L, 2);
        return lua_error(L);
    }
    luadb_push_column(L, statement, (int)lua_tointeger(L, -1));
    return 1;
}

/* __newindex: the row is read-only. Raises. [-0, +0, v] */
static int row_newindex(lua_State *L)
{
    return luaL_error(L, "the row is read-only; cannot set '%s'",
                      luaL_tolstring(L, 2, NULL));
}

/* The iterator of pairs(row): next(row, name) -> the next field with a
 * value that is not NULL, and its value; nothing at the end.
 * [-0, +2|0, e] */
static int row_next(lua_State *L)
{
    sqlite3_stmt *statement = current_statement(L);
    lua_settop(L, 2);
    while (lua_next(L, lua_upvalueindex(UPVALUE_COLUMNS))) {
        int column = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (sqlite3_column_type(statement, column) != SQLITE_NULL) {
            luadb_push_column(L, statement, column);
            return 2;
        }
    }
    return 0;
}

/* __pairs(row) -> next, row, nil: iterates over the fields whose value is
 * not NULL. [-0, +3, e] */
static int row_pairs(lua_State *L)
{
    current_statement(L);
    for (int i = 1; i <= UPVALUE_COUNT; i++)
        lua_pushvalue(L, lua_upvalueindex(i));
    lua_pushcclosure(L, row_next, UPVALUE_COUNT);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Set field `name` of the table on top to a closure of `function` over
 * the UPVALUE_COUNT values at `upvalues` and above. [-0, +0, m] */
static void set_method(lua_State *L, int upvalues, const char *name,
                       lua_CFunction function)
{
    for (int i = 0; i < UPVALUE_COUNT; i++)
        lua_pushvalue(L, upvalues + i);
    lua_pushcclosure(L, function, UPVALUE_COUNT);
    lua_setfield(L, -2, name);
}

/* Push the metatable of the rows of one scan. The UPVALUE_COUNT values at
 * `upvalues` and above are the scan, the column map, the unknown-field
 * function and the entity name. [-0, +1, m] */
static void push_row_metatable(lua_State *L, int upvalues)
{
    lua_createtable(L, 0, 6);
    set_method(L, upvalues, "__index", row_index);
    set_method(L, upvalues, "__newindex", row_newindex);
    set_method(L, upvalues, "__pairs", row_pairs);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushliteral(L, "row");
    lua_setfield(L, -2, "__name");
}

/* Push a map from each name of the array spec.fields (spec at `spec`) to
 * its column number, i for element i. [-0, +1, e] */
static void push_column_map(lua_State *L, int spec)
{
    lua_getfield(L, spec, "fields");
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_Integer count = luaL_len(L, -1);
    lua_createtable(L, 0, (int)count);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, -2, i);
        lua_pushinteger(L, i);
        lua_rawset(L, -3);
    }
    lua_remove(L, -2);
}

/* Push spec[name] (spec at `spec`), checked to be of `type`.
 * [-0, +1, v] */
static void push_spec_field(lua_State *L, int spec, const char *name, int type)
{
    if (lua_getfield(L, spec, name) != type)
        luaL_error(L, "db:filter: spec.%s must be a %s", name,
                   lua_typename(L, type));
}

/* Push the row object for the scan's current row. [-0, +1, m] */
static void push_row(lua_State *L, const struct scan *scan, lua_Integer id,
                     int metatable)
{
    struct row *row = lua_newuserdatauv(L, sizeof *row, 0);
    row->serial = scan->serial;
    row->id = id;
    lua_pushvalue(L, metatable);
    lua_setmetatable(L, -2);
}

/* Read the id of the statement's current row, raising on an invalid one.
 * [-0, +0, v] */
static lua_Integer read_id(lua_State *L, sqlite3_stmt *statement,
                           const char *table)
{
    uint32_t id = 0;
    char *err = NULL;
    if (idset_read_row_id(statement, table, &id, &err) != 0) {
        lua_pushstring(L, err);
        free(err);
        lua_error(L);
    }
    return (lua_Integer)id;
}

int rowfilter_filter(lua_State *L)
{
    sqlite3 *db = luadb_check(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_settop(L, 4);
    push_spec_field(L, 4, "check", LUA_TFUNCTION); /* 5 */
    push_spec_field(L, 4, "table", LUA_TSTRING);   /* 6 */
    const char *table = lua_tostring(L, 6);
    push_spec_field(L, 4, "entity", LUA_TSTRING);              /* 7 */
    struct idset *kept = idset_push(L, lua_tostring(L, 7));    /* 8 */
    struct scan *scan = lua_newuserdatauv(L, sizeof *scan, 0); /* 9 */
    scan->statement = NULL;
    scan->serial = 0;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, close_scan);
    lua_setfield(L, -2, "__close");
    lua_setmetatable(L, -2);
    lua_toclose(L, 9);
    push_column_map(L, 4);                                  /* 10 */
    push_spec_field(L, 4, "unknown_field", LUA_TFUNCTION);  /* 11 */
    lua_pushvalue(L, 7);                                    /* 12 */
    push_row_metatable(L, 9);                               /* 13 */
    sqlite3_stmt *statement = luadb_prepare(L, db, sql, 3); /* 14 */
    scan->statement = statement;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        lua_Integer id = read_id(L, statement, table);
        scan->serial++;
        lua_pushvalue(L, 5);
        push_row(L, scan, id, 13);
        lua_pushinteger(L, id);
        if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
            scan->statement = NULL;
            lua_pushinteger(L, id);
            lua_setfield(L, 4, "failed_id");
            lua_pushnil(L);
            lua_insert(L, -2);
            return 2;
        }
        int accepted = lua_toboolean(L, -1);
        lua_pop(L, 1);
        char *err = NULL;
        if (accepted && idset_add_id(kept, id, table, &err) != 0) {
            lua_pushstring(L, err);
            free(err);
            return lua_error(L);
        }
    }
    scan->statement = NULL;
    if (status != SQLITE_DONE)
        return luaL_error(L, "%s (SQL: %.200s)", sqlite3_errmsg(db), sql);
    roaring_bitmap_run_optimize(kept->bitmap);
    lua_settop(L, 8);
    return 1;
}
