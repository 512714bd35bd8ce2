/*
 * rowfilter.c: db:filter, the loop that runs a Lua criterion function on
 * the rows of a query (see rowfilter.h).
 *
 * Row objects: a row is a light userdata whose value is a serial number,
 * unique in the Lua state, so passing a row allocates nothing. All light
 * userdata of the state share one metatable, which this file sets and
 * which no other part of Lethe gives to script code. Its metamethods find
 * the active scan (scans can nest when a criterion evaluates a selection)
 * whose current row has that serial. Reading a field converts that one
 * column of the statement's current row, so a function pays only for the
 * fields it reads. A row is readable only while it is its scan's current
 * row: a script that keeps a row and reads it later (in a later call, or
 * after the scan) gets an error, never another row's values and never a
 * finalized statement. The metatable is hidden from scripts (__metatable
 * is false), and writing a field raises.
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

/* Maximum nesting of scans: a criterion that evaluates a selection with
 * a criterion, and so on. */
#define MAX_NESTED_SCANS 16

/* Registry key of the struct scans of a Lua state. */
#define SCANS_KEY "lethe.rowfilter.scans"

/* The state of one db:filter call. The three tables it uses are held by
 * registry references: `columns` maps each field name to its column
 * number (0 if not selected, -1 if read but not selected yet), `spec` is
 * the spec table of db:filter, and `missed_fields` lists the fields read
 * but not selected yet. */
struct scan {
    sqlite3_stmt *statement; /* NULL once the scan has ended */
    lua_Integer serial;      /* serial of the current row; 0 before it */
    lua_Integer id;          /* id of the current row */
    int missed;              /* the current row read an unselected field */
    int active;              /* on the stack of active scans */
    int columns;
    int spec;
    int missed_fields;
    struct scans *scans;
};

/* The active scans of a Lua state, innermost last, and the row serials
 * given out so far. A full userdata in the registry. */
struct scans {
    lua_Integer last_serial;
    int depth;
    struct scan *active[MAX_NESTED_SCANS];
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
    SLOT_SELECTED
};

/* __close of the scan userdata: the scan leaves the active scans, so its
 * rows are no longer readable, and drops its references. Scans end in
 * the reverse order of their start. [-0, +0, -] */
static int close_scan(lua_State *L)
{
    struct scan *scan = lua_touserdata(L, 1);
    if (!scan)
        return 0;
    scan->statement = NULL;
    if (scan->active) {
        scan->scans->depth--;
        scan->active = 0;
    }
    luaL_unref(L, LUA_REGISTRYINDEX, scan->columns);
    luaL_unref(L, LUA_REGISTRYINDEX, scan->spec);
    luaL_unref(L, LUA_REGISTRYINDEX, scan->missed_fields);
    scan->columns = scan->spec = scan->missed_fields = LUA_NOREF;
    return 0;
}

/* Return the active scan whose current row is the row object at index 1,
 * or raise when that row is no longer current. Called from the row
 * metamethods, whose upvalue 1 is the struct scans. [-0, +0, v] */
static struct scan *scan_of_row(lua_State *L)
{
    const struct scans *scans = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_type(L, 1) != LUA_TLIGHTUSERDATA)
        luaL_error(L, "a row object was expected");
    lua_Integer serial = (lua_Integer)(uintptr_t)lua_touserdata(L, 1);
    for (int i = scans->depth - 1; i >= 0; i--) {
        struct scan *scan = scans->active[i];
        if (scan->statement && scan->serial == serial)
            return scan;
    }
    luaL_error(L, "the row is no longer available: a row can be read only "
                  "while the Lua criterion runs on it; copy the values that "
                  "are needed later");
    return NULL;
}

/* Note the field at index `name` as read but not selected, once per
 * statement; the column map is at index `columns`. [-0, +0, m] */
static void note_missed(lua_State *L, struct scan *scan, int name, int columns)
{
    lua_pushvalue(L, name);
    lua_pushinteger(L, -1);
    lua_rawset(L, columns);
    lua_rawgeti(L, LUA_REGISTRYINDEX, scan->missed_fields);
    lua_pushvalue(L, name);
    lua_rawseti(L, -2, luaL_len(L, -2) + 1);
    lua_pop(L, 1);
    scan->missed = 1;
}

/* Push the value of the field at index `name` of the current row, which
 * the statement does not select, read with the SQL of spec.lookup(name).
 * [-0, +1, e] */
static void push_unselected(lua_State *L, struct scan *scan, int name)
{
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, scan->spec);
    lua_getfield(L, -1, "lookup");
    lua_remove(L, -2);
    lua_pushvalue(L, name);
    lua_call(L, 1, 1);
    lua_createtable(L, 1, 0);
    lua_pushinteger(L, scan->id);
    lua_rawseti(L, -2, 1);
    luadb_push_scalar(L, sqlite3_db_handle(scan->statement),
                      lua_tostring(L, top + 1), top + 2);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1); /* closes the lookup's statement slot */
}

/* Push the value of the field at index `name` of the current row. Its
 * column number, on top of the stack, is replaced by the value. The
 * column map is at index `columns`. [-1, +1, e] */
static void push_field(lua_State *L, struct scan *scan, int name, int columns)
{
    int column = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (column > 0) {
        luadb_push_column(L, scan->statement, column);
        return;
    }
    if (column == 0)
        note_missed(L, scan, name, columns);
    push_unselected(L, scan, name);
}

/* __index(row, name) -> the stored value of field `name`, nil for NULL.
 * Raises for a name that is not a field and for a row that is no longer
 * current. [-0, +1, e] */
static int row_index(lua_State *L)
{
    struct scan *scan = scan_of_row(L);
    lua_settop(L, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, scan->columns);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, 3) != LUA_TNUMBER) {
        luaL_where(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, scan->spec);
        lua_getfield(L, -1, "unknown_field");
        lua_remove(L, -2);
        lua_pushvalue(L, 2);
        lua_call(L, 1, 1);
        lua_concat(L, 2);
        return lua_error(L);
    }
    push_field(L, scan, 2, 3);
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
    struct scan *scan = scan_of_row(L);
    lua_settop(L, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, scan->columns);
    lua_pushvalue(L, 2);
    while (lua_next(L, 3)) {
        push_field(L, scan, 4, 3);
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
    scan_of_row(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, row_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Set field `name` of the table on top to a closure of `function` over
 * the value at `upvalue`. [-0, +0, m] */
static void set_method(lua_State *L, int upvalue, const char *name,
                       lua_CFunction function)
{
    lua_pushvalue(L, upvalue);
    lua_pushcclosure(L, function, 1);
    lua_setfield(L, -2, name);
}

/* Return the struct scans of the state, creating it on first use and
 * giving light userdata the row metatable, whose metamethods have it as
 * upvalue. Raises when light userdata already have another metatable.
 * [-0, +0, e] */
static struct scans *get_scans(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, SCANS_KEY) == LUA_TUSERDATA) {
        struct scans *scans = lua_touserdata(L, -1);
        lua_pop(L, 1);
        return scans;
    }
    lua_pop(L, 1);
    lua_pushlightuserdata(L, NULL);
    if (lua_getmetatable(L, -1))
        luaL_error(L, "db:filter: light userdata already have a metatable");
    struct scans *scans = lua_newuserdatauv(L, sizeof *scans, 0);
    scans->last_serial = 0;
    scans->depth = 0;
    int upvalue = lua_gettop(L);
    lua_createtable(L, 0, 5);
    set_method(L, upvalue, "__index", row_index);
    set_method(L, upvalue, "__newindex", row_newindex);
    set_method(L, upvalue, "__pairs", row_pairs);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushliteral(L, "row");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, upvalue - 1);
    lua_setfield(L, LUA_REGISTRYINDEX, SCANS_KEY);
    lua_pop(L, 1);
    return scans;
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

/* Push a new scan as a to-be-closed value and make it the innermost
 * active scan. Raises when scans nest too deep. [-0, +1, e] */
static struct scan *push_scan(lua_State *L)
{
    struct scans *scans = get_scans(L);
    if (scans->depth >= MAX_NESTED_SCANS)
        luaL_error(L, "Lua criteria nested more than %d levels deep",
                   MAX_NESTED_SCANS);
    struct scan *scan = lua_newuserdatauv(L, sizeof *scan, 0);
    scan->statement = NULL;
    scan->serial = 0;
    scan->id = 0;
    scan->missed = 0;
    scan->active = 0;
    scan->columns = scan->spec = scan->missed_fields = LUA_NOREF;
    scan->scans = scans;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, close_scan);
    lua_setfield(L, -2, "__close");
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
    scans->active[scans->depth++] = scan;
    scan->active = 1;
    push_column_map(L);
    scan->columns = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, SLOT_SPEC);
    scan->spec = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    scan->missed_fields = luaL_ref(L, LUA_REGISTRYINDEX);
    return scan;
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
                                     struct scan *scan, lua_Integer after,
                                     int *status)
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
    lua_rawgeti(L, LUA_REGISTRYINDEX, scan->columns);
    lua_Integer count = luaL_len(L, SLOT_SELECTED);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, SLOT_SELECTED, i);
        lua_pushinteger(L, i);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    return statement;
}

/* Move the fields that the last row read but the statement does not
 * select into the selection, and continue with a new statement after
 * `after`. The old statement, whose slot is on top, is finalized after the
 * new one has taken over the read transaction. [-0, +3, e] */
static sqlite3_stmt *widen_statement(lua_State *L, struct scan *scan,
                                     lua_Integer after, int *status)
{
    sqlite3_stmt **old_slot = lua_touserdata(L, -1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, scan->missed_fields);
    lua_Integer selected = luaL_len(L, SLOT_SELECTED);
    lua_Integer missed = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= missed; i++) {
        lua_geti(L, -1, i);
        lua_rawseti(L, SLOT_SELECTED, selected + i);
        lua_pushnil(L);
        lua_rawseti(L, -2, i);
    }
    lua_pop(L, 1);
    scan->missed = 0;
    sqlite3_stmt *statement = start_statement(
        L, sqlite3_db_handle(scan->statement), scan, after, status);
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
    scan->serial = ++scan->scans->last_serial;
    scan->id = id;
    lua_pushvalue(L, SLOT_CHECK);
    lua_pushlightuserdata(L, (void *)(uintptr_t)scan->serial);
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
    lua_newtable(L); /* SLOT_SELECTED */
    int status;
    scan->statement = start_statement(L, db, scan, -1, &status);
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
