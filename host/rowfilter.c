/*
 * rowfilter.c: db:filter, the loop that runs a Lua criterion function on
 * the rows of a query (see rowfilter.h).
 *
 * Row objects: each call gets a new small userdata that stores only the
 * row's number in the scan and its id. Reading a field converts that one
 * column of the statement's current row, so a function pays only for the
 * fields it reads. A row is readable only while it is the scan's current
 * row: a script that keeps a row and reads it later (in a later call, or
 * after the scan) gets an error naming the row, never another row's values
 * and never a finalized statement. The metatable is hidden from scripts
 * (__metatable is false), and writing a field raises.
 *
 * Columns: the scan's statement selects only the fields that the function
 * has read so far, because SQLite decodes every selected column of every
 * row. The first read of another field fetches it for the current row
 * with a lookup by id (spec.lookup). After that call, the scan prepares a
 * statement that also selects the field and goes on after the current id
 * (spec.query). It steps the new statement before it finalizes the old
 * one, so the read transaction, and with it the snapshot, stays the same.
 * A scan thus restarts at most once per field.
 *
 * Lua errors never cross an SQLite frame: the function runs between two
 * sqlite3_step calls, and every statement lives in a to-be-closed slot
 * (luadb_prepare) that finalizes it if an error unwinds the C function
 * that prepared it.
 */
#include "rowfilter.h"

#include "idset.h"
#include "luadb.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>

/* The state of one db:filter call that its row objects share. The scan
 * userdata is an upvalue of the row metamethods, so it lives as long as
 * any row of it. */
struct scan {
    sqlite3_stmt *statement; /* NULL once the scan has ended */
    lua_Integer serial;      /* number of the current row, from 1 */
    int missed;              /* the current row read an unselected field */
};

/* A row object. */
struct row {
    lua_Integer serial; /* the scan's serial while this row is current */
    lua_Integer id;
};

/* Upvalues of the row metamethods. */
enum {
    UPVALUE_SCAN = 1, /* the struct scan userdata */
    UPVALUE_COLUMNS,  /* field name -> column number, 0 if not selected */
    UPVALUE_SPEC,     /* the spec table of db:filter */
    UPVALUE_MISSED,   /* array of the fields read but not yet selected */
    UPVALUE_COUNT = UPVALUE_MISSED
};

/* The row that a scan is on, for rowfilter_filter after an error unwound
 * scan_rows. */
struct progress {
    int in_check;   /* the error came from spec.check */
    lua_Integer id; /* the id of the row that spec.check was called on */
};

/* Stack slots of scan_rows. */
enum {
    SLOT_SPEC = 2,
    SLOT_PROGRESS,
    SLOT_CHECK,
    SLOT_TABLE,
    SLOT_ENTITY,
    SLOT_KEPT,
    SLOT_SCAN,
    SLOT_COLUMNS,
    SLOT_SPEC_COPY,
    SLOT_MISSED,
    SLOT_METATABLE,
    SLOT_SELECTED
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

/* Return the row object at index 1, or raise when that row is no longer
 * the scan's current row. Called from the row metamethods. [-0, +0, v] */
static const struct row *current_row(lua_State *L)
{
    const struct scan *scan = lua_touserdata(L, lua_upvalueindex(UPVALUE_SCAN));
    const struct row *row = lua_touserdata(L, 1);
    if (!row)
        luaL_error(L, "a row object was expected");
    if (scan->statement && row->serial == scan->serial)
        return row;
    lua_getfield(L, lua_upvalueindex(UPVALUE_SPEC), "entity");
    luaL_error(L,
               "the row of %s %I is no longer available: a row can be read "
               "only while the Lua criterion runs on it; copy the values "
               "that are needed later",
               lua_tostring(L, -1), row->id);
    return NULL;
}

/* Note the field at index `name` as read but not selected, once per
 * statement. [-0, +0, m] */
static void note_missed(lua_State *L, int name)
{
    struct scan *scan = lua_touserdata(L, lua_upvalueindex(UPVALUE_SCAN));
    int columns = lua_upvalueindex(UPVALUE_COLUMNS);
    int missed = lua_upvalueindex(UPVALUE_MISSED);
    lua_pushvalue(L, name);
    lua_pushinteger(L, -1);
    lua_rawset(L, columns);
    lua_pushvalue(L, name);
    lua_rawseti(L, missed, luaL_len(L, missed) + 1);
    scan->missed = 1;
}

/* Push the value of the field at index `name` of `row`, which the
 * statement does not select, read with the SQL of spec.lookup(name).
 * [-0, +1, e] */
static void push_unselected(lua_State *L, const struct row *row, int name)
{
    struct scan *scan = lua_touserdata(L, lua_upvalueindex(UPVALUE_SCAN));
    int top = lua_gettop(L);
    lua_getfield(L, lua_upvalueindex(UPVALUE_SPEC), "lookup");
    lua_pushvalue(L, name);
    lua_call(L, 1, 1);
    lua_createtable(L, 1, 0);
    lua_pushinteger(L, row->id);
    lua_rawseti(L, -2, 1);
    luadb_push_scalar(L, sqlite3_db_handle(scan->statement),
                      lua_tostring(L, top + 1), top + 2);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1); /* closes the lookup's statement slot */
}

/* Push the value of the field at index `name` of `row`, whose column is
 * the integer on top of the stack (replaced). [-1, +1, e] */
static void push_field(lua_State *L, const struct row *row, int name)
{
    const struct scan *scan = lua_touserdata(L, lua_upvalueindex(UPVALUE_SCAN));
    int column = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (column > 0) {
        luadb_push_column(L, scan->statement, column);
        return;
    }
    if (column == 0)
        note_missed(L, name);
    push_unselected(L, row, name);
}

/* __index(row, name) -> the stored value of field `name`, nil for NULL.
 * Raises for a name that is not a field and for a row that is no longer
 * current. [-0, +1, e] */
static int row_index(lua_State *L)
{
    const struct row *row = current_row(L);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(UPVALUE_COLUMNS)) != LUA_TNUMBER) {
        luaL_where(L, 1);
        lua_getfield(L, lua_upvalueindex(UPVALUE_SPEC), "unknown_field");
        lua_pushvalue(L, 2);
        lua_call(L, 1, 1);
        lua_concat(L, 2);
        return lua_error(L);
    }
    push_field(L, row, 2);
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
    const struct row *row = current_row(L);
    lua_settop(L, 2);
    while (lua_next(L, lua_upvalueindex(UPVALUE_COLUMNS))) {
        push_field(L, row, 2);
        if (!lua_isnil(L, -1))
            return 2;
        lua_pop(L, 1);
    }
    return 0;
}

/* __pairs(row) -> next, row, nil: iterates over the fields whose value is
 * not NULL. [-0, +3, e] */
static int row_pairs(lua_State *L)
{
    current_row(L);
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
 * `upvalues` and above are the scan, the column map, the spec and the
 * array of missed fields. [-0, +1, m] */
static void push_row_metatable(lua_State *L, int upvalues)
{
    lua_createtable(L, 0, 5);
    set_method(L, upvalues, "__index", row_index);
    set_method(L, upvalues, "__newindex", row_newindex);
    set_method(L, upvalues, "__pairs", row_pairs);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushliteral(L, "row");
    lua_setfield(L, -2, "__name");
}

/* Push a map from each name of the array spec.fields to 0 (not selected).
 * [-0, +1, e] */
static void push_column_map(lua_State *L)
{
    lua_getfield(L, SLOT_SPEC, "fields");
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_Integer count = luaL_len(L, -1);
    lua_createtable(L, 0, (int)count);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, -2, i);
        lua_pushinteger(L, 0);
        lua_rawset(L, -3);
    }
    lua_remove(L, -2);
}

/* Push spec[name], checked to be of `type`. [-0, +1, v] */
static void push_spec_field(lua_State *L, const char *name, int type)
{
    if (lua_getfield(L, SLOT_SPEC, name) != type)
        luaL_error(L, "db:filter: spec.%s must be a %s", name,
                   lua_typename(L, type));
}

/* Push the scan userdata as a to-be-closed value. [-0, +1, m] */
static struct scan *push_scan(lua_State *L)
{
    struct scan *scan = lua_newuserdatauv(L, sizeof *scan, 0);
    scan->statement = NULL;
    scan->serial = 0;
    scan->missed = 0;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, close_scan);
    lua_setfield(L, -2, "__close");
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
    return scan;
}

/* Push the row object for the scan's current row. [-0, +1, m] */
static void push_row(lua_State *L, const struct scan *scan, lua_Integer id)
{
    struct row *row = lua_newuserdatauv(L, sizeof *row, 0);
    row->serial = scan->serial;
    row->id = id;
    lua_pushvalue(L, SLOT_METATABLE);
    lua_setmetatable(L, -2);
}

/* Read the id of the statement's current row, raising on an invalid one;
 * `table` names the table in the message. [-0, +0, v] */
static lua_Integer read_id(lua_State *L, sqlite3_stmt *statement,
                           const char *table)
{
    /* The usual case costs one sqlite3_column_* call, because each takes
     * the connection's mutex (see luadb_push_column). idset_read_row_id
     * checks the other cases. */
    sqlite3_value *value = sqlite3_column_value(statement, 0);
    if (sqlite3_value_type(value) == SQLITE_INTEGER) {
        sqlite3_int64 key = sqlite3_value_int64(value);
        if (key >= 0 && key <= (sqlite3_int64)UINT32_MAX)
            return (lua_Integer)key;
    }
    uint32_t id = 0;
    char *err = NULL;
    if (idset_read_row_id(statement, table, &id, &err) != 0) {
        lua_pushstring(L, err);
        free(err);
        lua_error(L);
    }
    return (lua_Integer)id;
}

/* Raise the error of a failed step of `statement`. [-0, +1, v] */
static int raise_step_error(lua_State *L, sqlite3_stmt *statement)
{
    return luaL_error(L, "%s (SQL: %.200s)",
                      sqlite3_errmsg(sqlite3_db_handle(statement)),
                      sqlite3_sql(statement));
}

/* Prepare the statement for the rows after `after` (spec.query) that
 * selects the fields in the array at SLOT_SELECTED, step it once into
 * *status, and record the fields' columns. Leaves the SQL, the parameters
 * and the statement's slot on the stack, because removing the slot would
 * finalize the statement. [-0, +3, e] */
static sqlite3_stmt *start_statement(lua_State *L, sqlite3 *db,
                                     lua_Integer after, int *status)
{
    luaL_checkstack(L, 8, "db:filter");
    int top = lua_gettop(L);
    push_spec_field(L, "query", LUA_TFUNCTION);
    lua_pushvalue(L, SLOT_SELECTED);
    lua_pushinteger(L, after);
    lua_call(L, 2, 2);
    sqlite3_stmt *statement =
        luadb_prepare(L, db, luaL_checkstring(L, top + 1), top + 2);
    *status = sqlite3_step(statement);
    lua_Integer count = luaL_len(L, SLOT_SELECTED);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, SLOT_SELECTED, i);
        lua_pushinteger(L, i);
        lua_rawset(L, SLOT_COLUMNS);
    }
    return statement;
}

/* Move the fields that the last row read but the statement does not
 * select into the selection, and continue with a new statement after
 * `after`. The old statement, whose slot is on top, is finalized after the
 * new one has taken over the read transaction. [-0, +3, e] */
static sqlite3_stmt *widen_statement(lua_State *L, struct scan *scan,
                                     lua_Integer after, int *status)
{
    lua_Integer selected = luaL_len(L, SLOT_SELECTED);
    lua_Integer missed = luaL_len(L, SLOT_MISSED);
    for (lua_Integer i = 1; i <= missed; i++) {
        lua_geti(L, SLOT_MISSED, i);
        lua_rawseti(L, SLOT_SELECTED, selected + i);
        lua_pushnil(L);
        lua_rawseti(L, SLOT_MISSED, i);
    }
    scan->missed = 0;
    sqlite3_stmt **old_slot = lua_touserdata(L, -1);
    sqlite3_stmt *statement =
        start_statement(L, sqlite3_db_handle(scan->statement), after, status);
    sqlite3_finalize(*old_slot);
    *old_slot = NULL;
    scan->statement = statement;
    return statement;
}

/* Call spec.check on the current row and return whether it accepted the
 * row. Its errors propagate, with `progress` telling rowfilter_filter
 * where. [-0, +0, e] */
static int check_row(lua_State *L, struct scan *scan, struct progress *progress,
                     lua_Integer id)
{
    scan->serial++;
    lua_pushvalue(L, SLOT_CHECK);
    push_row(L, scan, id);
    lua_pushinteger(L, id);
    progress->id = id;
    progress->in_check = 1;
    lua_call(L, 2, 1);
    progress->in_check = 0;
    int accepted = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return accepted;
}

/* Add `id` to the set `kept`, raising on an invalid id. */
static void keep(lua_State *L, struct idset *kept, lua_Integer id,
                 const char *table)
{
    char *err = NULL;
    if (idset_add_id(kept, id, table, &err) != 0) {
        lua_pushstring(L, err);
        free(err);
        lua_error(L);
    }
}

/* The body of db:filter, called by rowfilter_filter with lua_pcall:
 * scan_rows(db, spec, progress) -> id set. Raises on any error, with
 * `progress` (a light userdata) saying whether spec.check raised it.
 * [-3, +1, e] */
static int scan_rows(lua_State *L)
{
    sqlite3 *db = luadb_check(L, 1);
    struct progress *progress = lua_touserdata(L, SLOT_PROGRESS);
    push_spec_field(L, "check", LUA_TFUNCTION);
    push_spec_field(L, "table", LUA_TSTRING);
    const char *table = lua_tostring(L, SLOT_TABLE);
    push_spec_field(L, "entity", LUA_TSTRING);
    struct idset *kept = idset_push(L, lua_tostring(L, SLOT_ENTITY));
    struct scan *scan = push_scan(L);
    push_column_map(L);
    lua_pushvalue(L, SLOT_SPEC);
    lua_newtable(L); /* SLOT_MISSED */
    push_row_metatable(L, SLOT_SCAN);
    lua_newtable(L); /* SLOT_SELECTED */
    int status;
    scan->statement = start_statement(L, db, -1, &status);
    while (status == SQLITE_ROW) {
        lua_Integer id = read_id(L, scan->statement, table);
        if (check_row(L, scan, progress, id))
            keep(L, kept, id, table);
        if (scan->missed)
            widen_statement(L, scan, id, &status);
        else
            status = sqlite3_step(scan->statement);
    }
    if (status != SQLITE_DONE)
        return raise_step_error(L, scan->statement);
    scan->statement = NULL;
    roaring_bitmap_run_optimize(kept->bitmap);
    lua_pushvalue(L, SLOT_KEPT);
    return 1;
}

int rowfilter_filter(lua_State *L)
{
    luadb_check(L, 1);
    luaL_checktype(L, SLOT_SPEC, LUA_TTABLE);
    struct progress progress = {0, 0};
    lua_settop(L, SLOT_SPEC);
    lua_pushcfunction(L, scan_rows);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, SLOT_SPEC);
    lua_pushlightuserdata(L, &progress);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK)
        return 1;
    if (!progress.in_check)
        return lua_error(L);
    lua_pushinteger(L, progress.id);
    lua_setfield(L, SLOT_SPEC, "failed_id");
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}
