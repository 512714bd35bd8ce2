/*
 * luadb.c: the `lethe.native` module for Lethe's trusted Lua code.
 *
 * A connection is a userdata wrapping sqlite3 *. Query methods take SQL and
 * an optional array of parameters (nil, boolean, integer, number, string,
 * or an id set, which binds as a pointer for lethe_ids). SQL errors raise
 * a Lua error with SQLite's message.
 *
 * No Lua error crosses an SQLite frame: SQLite never calls Lua from here
 * (Lethe registers no SQL function or virtual table written in Lua), and
 * errors are raised only between SQLite calls. Each prepared statement
 * lives in a to-be-closed slot on the Lua stack of the C function that
 * runs it, so that any error unwinding that function finalizes it, memory
 * errors included (a script's memory limit can make any push fail).
 */
#include "luadb.h"

#include "db.h"
#include "idset.h"
#include "luahost.h"
#include "rowfilter.h"
#include "sample.h"
#include "schema.h"
#include "util.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONNECTION_METATABLE "lethe.connection"

struct connection {
    sqlite3 *db;
};

sqlite3 *luadb_check(lua_State *L, int index)
{
    struct connection *connection =
        luaL_checkudata(L, index, CONNECTION_METATABLE);
    if (!connection->db)
        luaL_argerror(L, index, "the database connection is closed");
    return connection->db;
}

static sqlite3 *check_db(lua_State *L)
{
    return luadb_check(L, 1);
}

/* native.open(path, mode) -> connection | nil, message.
 * mode is "existing" (default) or "new". [-2, +1|2, m] */
static int native_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "existing");
    struct connection *connection = lua_newuserdatauv(L, sizeof *connection,
                                                      0);
    connection->db = NULL;
    luaL_setmetatable(L, CONNECTION_METATABLE);
    char *err = NULL;
    enum db_mode db_mode = strcmp(mode, "new") == 0 ? DB_NEW : DB_EXISTING;
    if (db_open(path, db_mode, &connection->db, &err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        free(err);
        return 2;
    }
    return 1;
}

static int connection_close(lua_State *L)
{
    struct connection *connection =
        luaL_checkudata(L, 1, CONNECTION_METATABLE);
    db_close(connection->db);
    connection->db = NULL;
    return 0;
}

/* Push "MESSAGE (SQL: first 200 bytes of sql)". [-0, +1, m] */
static void push_sql_message(lua_State *L, const char *message,
                             const char *sql)
{
    char text[512];
    snprintf(text, sizeof text, "%s (SQL: %.200s)", message, sql);
    lua_pushstring(L, text);
}

/* The message for a lock that another connection held for %d ms. */
#define LOCKED_MESSAGE                                                      \
    "the database is locked by another connection (waited %d ms); try "  \
    "again when it has finished"

/* Raise an SQL error; the statement's slot finalizes `statement` as the
 * error unwinds. Does not return. */
static int raise_sql_error(lua_State *L, sqlite3 *db, sqlite3_stmt *statement,
                           const char *sql)
{
    (void)statement;
    int code = sqlite3_errcode(db) & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
        lua_pushfstring(L, LOCKED_MESSAGE, DB_BUSY_TIMEOUT_MS);
    } else if (code == SQLITE_CORRUPT) {
        char detail[256];
        snprintf(detail, sizeof detail,
                 "%s; the database file is damaged, so restore it from a "
                 "backup (PRAGMA integrity_check lists the damage)",
                 sqlite3_errmsg(db));
        push_sql_message(L, detail, sql);
    } else
        push_sql_message(L, sqlite3_errmsg(db), sql);
    return lua_error(L);
}

/* Bind the parameters in the table at `index` (if any): elements 1 to n,
 * where n is the table's field n or else its length. A string binds as
 * UTF-8 text, and a table { blob = STRING } as a BLOB of those bytes,
 * which a UTF-16 database stores unconverted. `reserved` trailing
 * placeholders are left for the caller to bind. Raises on a value that
 * cannot be bound. */
static void bind_parameters(lua_State *L, sqlite3 *db, sqlite3_stmt *statement,
                            int index, int reserved, const char *sql)
{
    if (lua_isnoneornil(L, index))
        return;
    luaL_checktype(L, index, LUA_TTABLE);
    /* A trailing nil does not count in the length of a table, so a table
     * may say how many parameters it holds in field n. */
    lua_Integer count;
    if (lua_getfield(L, index, "n") == LUA_TNUMBER)
        count = lua_tointeger(L, -1);
    else
        count = luaL_len(L, index);
    lua_pop(L, 1);
    int placeholders = sqlite3_bind_parameter_count(statement) - reserved;
    if (count != placeholders) {
        char detail[64];
        snprintf(detail, sizeof detail, "%d parameters given for %d "
                 "placeholders", (int)count, placeholders);
        push_sql_message(L, detail, sql);
        lua_error(L);
    }
    for (int i = 1; i <= count; i++) {
        lua_geti(L, index, i);
        int status = SQLITE_OK;
        struct idset *set = idset_test(L, -1);
        if (set) {
            status = idset_bind(statement, i, set);
        } else {
            switch (lua_type(L, -1)) {
            case LUA_TNIL:
                status = sqlite3_bind_null(statement, i);
                break;
            case LUA_TBOOLEAN:
                status = sqlite3_bind_int(statement, i, lua_toboolean(L, -1));
                break;
            case LUA_TNUMBER:
                if (lua_isinteger(L, -1))
                    status = sqlite3_bind_int64(statement, i,
                                                lua_tointeger(L, -1));
                else
                    status = sqlite3_bind_double(statement, i,
                                                 lua_tonumber(L, -1));
                break;
            case LUA_TSTRING: {
                size_t length;
                const char *text = lua_tolstring(L, -1, &length);
                status = sqlite3_bind_text64(statement, i, text, length,
                                             SQLITE_TRANSIENT, SQLITE_UTF8);
                break;
            }
            case LUA_TTABLE: {
                size_t length;
                if (lua_getfield(L, -1, "blob") != LUA_TSTRING)
                    luaL_error(L, "cannot bind a table as SQL parameter %d: "
                                  "expected { blob = STRING }",
                               i);
                const char *bytes = lua_tolstring(L, -1, &length);
                status = sqlite3_bind_blob64(statement, i, bytes, length,
                                             SQLITE_TRANSIENT);
                lua_pop(L, 1);
                break;
            }
            default:
                luaL_error(L, "cannot bind a %s as SQL parameter %d",
                           luaL_typename(L, -1), i);
            }
        }
        lua_pop(L, 1);
        if (status != SQLITE_OK)
            raise_sql_error(L, db, statement, sql);
    }
}

#define STATEMENT_SLOT_METATABLE "lethe.statement_slot"

/* __close and __gc of a statement slot: finalize the statement it holds.
 * [-0, +0, -] */
static int close_statement_slot(lua_State *L)
{
    sqlite3_stmt **slot = luaL_checkudata(L, 1, STATEMENT_SLOT_METATABLE);
    sqlite3_finalize(*slot);
    *slot = NULL;
    return 0;
}

/* Push a to-be-closed slot for a statement: the statement stored in it is
 * finalized when the calling C function returns or an error unwinds it.
 * [-0, +1, m] */
static sqlite3_stmt **push_statement_slot(lua_State *L)
{
    sqlite3_stmt **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    if (luaL_newmetatable(L, STATEMENT_SLOT_METATABLE)) {
        lua_pushcfunction(L, close_statement_slot);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, close_statement_slot);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
    return slot;
}

sqlite3_stmt *luadb_prepare(lua_State *L, sqlite3 *db, const char *sql,
                           int parameters)
{
    if (lua_gettop(L) < parameters)
        lua_settop(L, parameters); /* keep the slot off the parameters */
    sqlite3_stmt **slot = push_statement_slot(L);
    sqlite3_stmt *statement = NULL;
    int status = sqlite3_prepare_v2(db, sql, -1, &statement, NULL);
    *slot = statement;
    if (status != SQLITE_OK)
        raise_sql_error(L, db, statement, sql);
    if (!statement)
        luaL_error(L, "empty SQL statement");
    bind_parameters(L, db, statement, parameters, 0, sql);
    return statement;
}

void luadb_push_column(lua_State *L, sqlite3_stmt *statement, int column)
{
    /* One sqlite3_column_* call, because each takes the connection's
     * mutex. SQLite documents reading the unprotected value it returns
     * with sqlite3_value_* as safe only while one thread uses the
     * connection, as Lethe does. */
    sqlite3_value *value = sqlite3_column_value(statement, column);
    switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
        lua_pushinteger(L, sqlite3_value_int64(value));
        break;
    case SQLITE_FLOAT:
        lua_pushnumber(L, sqlite3_value_double(value));
        break;
    case SQLITE_NULL:
        lua_pushnil(L);
        break;
    default:
        lua_pushlstring(L, (const char *)sqlite3_value_blob(value),
                        (size_t)sqlite3_value_bytes(value));
    }
}

/* db:rows(sql [, params [, limit]]) -> rows, columns. Each row is a table
 * keyed by column name; columns lists the names in order. [-3, +2, e] */
static int connection_rows(lua_State *L)
{
    sqlite3 *db = check_db(L);
    const char *sql = luaL_checkstring(L, 2);
    lua_Integer limit = luaL_optinteger(L, 4, -1);
    sqlite3_stmt *statement = luadb_prepare(L, db, sql, 3);
    int columns = sqlite3_column_count(statement);
    lua_createtable(L, 0, 0);
    lua_createtable(L, columns, 0);
    for (int c = 0; c < columns; c++) {
        lua_pushstring(L, sqlite3_column_name(statement, c));
        lua_rawseti(L, -2, c + 1);
    }
    lua_Integer count = 0;
    int status;
    while ((limit < 0 || count < limit) &&
           (status = sqlite3_step(statement)) == SQLITE_ROW) {
        lua_createtable(L, 0, columns);
        for (int c = 0; c < columns; c++) {
            luadb_push_column(L, statement, c);
            lua_setfield(L, -2, sqlite3_column_name(statement, c));
        }
        lua_rawseti(L, -3, ++count);
    }
    if ((limit < 0 || count < limit) && status != SQLITE_DONE)
        raise_sql_error(L, db, statement, sql);
    return 2;
}

void luadb_push_scalar(lua_State *L, sqlite3 *db, const char *sql,
                       int parameters)
{
    sqlite3_stmt *statement = luadb_prepare(L, db, sql, parameters);
    int status = sqlite3_step(statement);
    if (status == SQLITE_ROW)
        luadb_push_column(L, statement, 0);
    else if (status == SQLITE_DONE)
        lua_pushnil(L);
    else
        raise_sql_error(L, db, statement, sql);
}

/* db:scalar(sql [, params]) -> first column of the first row, or nil.
 * [-2, +1, e] */
static int connection_scalar(lua_State *L)
{
    sqlite3 *db = check_db(L);
    luadb_push_scalar(L, db, luaL_checkstring(L, 2), 3);
    return 1;
}

/* db:exec(sql [, params]) -> number of rows changed. [-2, +1, e] */
static int connection_exec(lua_State *L)
{
    sqlite3 *db = check_db(L);
    const char *sql = luaL_checkstring(L, 2);
    sqlite3_stmt *statement = luadb_prepare(L, db, sql, 3);
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW)
        ;
    if (status != SQLITE_DONE)
        raise_sql_error(L, db, statement, sql);
    lua_pushinteger(L, sqlite3_changes64(db));
    return 1;
}

/* db:try_exec(sql [, params [, returned]]) -> changes | nil, message,
 * kind. Like exec, but a failure of the statement itself returns nil,
 * SQLite's message and a kind: "constraint" (a constraint or a trigger's
 * RAISE), "busy" or "error". Errors in the SQL text or parameters still
 * raise. When `returned` is a table, each value other than NULL in the
 * rows that the statement returns (a RETURNING clause) becomes a key of
 * it, with the value true. [-3, +1|3, e] */
static int connection_try_exec(lua_State *L)
{
    sqlite3 *db = check_db(L);
    const char *sql = luaL_checkstring(L, 2);
    int returned = !lua_isnoneornil(L, 4);
    if (returned)
        luaL_checktype(L, 4, LUA_TTABLE);
    sqlite3_stmt *statement = luadb_prepare(L, db, sql, 3);
    int columns = sqlite3_column_count(statement);
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        for (int c = 0; returned && c < columns; c++) {
            luadb_push_column(L, statement, c);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                continue;
            }
            lua_pushboolean(L, 1);
            lua_rawset(L, 4);
        }
    }
    if (status == SQLITE_DONE) {
        lua_pushinteger(L, sqlite3_changes64(db));
        return 1;
    }
    int code = sqlite3_extended_errcode(db) & 0xff;
    lua_pushnil(L);
    lua_pushstring(L, sqlite3_errmsg(db));
    lua_pushstring(L, code == SQLITE_CONSTRAINT ? "constraint"
                      : code == SQLITE_BUSY || code == SQLITE_LOCKED ? "busy"
                                                                     : "error");
    return 3;
}

/* db:begin_exclusive(max_wait_ms) starts a write transaction, trying
 * again while another connection writes or reads, for about max_wait_ms
 * in all (default 10000; each try waits up to the busy timeout). Raises,
 * with the time waited, when it gives up. BEGIN EXCLUSIVE is BEGIN
 * IMMEDIATE in WAL mode. With a rollback journal it also waits for the
 * readers here: with a reader left, every cache spill and the commit
 * would each wait the busy timeout again, without a bound in all.
 * [-2, +0, e] */
static int connection_begin_exclusive(lua_State *L)
{
    sqlite3 *db = check_db(L);
    lua_Integer max_wait = luaL_optinteger(L, 2, 10000);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    lua_Integer waited = 0;
    for (;;) {
        /* Each try waits at most what is left of max_wait. */
        lua_Integer left = max_wait - waited;
        sqlite3_busy_timeout(db, (int)(left < DB_BUSY_TIMEOUT_MS
                                           ? (left > 0 ? left : 1)
                                           : DB_BUSY_TIMEOUT_MS));
        int status = sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
        sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
        if (status == SQLITE_OK)
            return 0;
        int code = status & 0xff;
        clock_gettime(CLOCK_MONOTONIC, &now);
        waited = (now.tv_sec - start.tv_sec) * 1000 +
                 (now.tv_nsec - start.tv_nsec) / 1000000;
        if (code != SQLITE_BUSY && code != SQLITE_LOCKED)
            return raise_sql_error(L, db, NULL, "BEGIN EXCLUSIVE");
        /* lua_error, not luaL_error: the message is for the user and
         * names no script position. */
        if (waited >= max_wait) {
            lua_pushfstring(L, LOCKED_MESSAGE, (int)waited);
            return lua_error(L);
        }
    }
}

/* db:script(sql) runs statements without parameters or results, such as
 * BEGIN EXCLUSIVE or COMMIT. [-1, +0, e] */
static int connection_script(lua_State *L)
{
    sqlite3 *db = check_db(L);
    const char *sql = luaL_checkstring(L, 2);
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) {
        sqlite3_free(message);
        return raise_sql_error(L, db, NULL, sql);
    }
    return 0;
}

/* db:ids(sql, params, entity, table) -> id set of column 0 of every row.
 * [-4, +1, e] */
static int connection_ids(lua_State *L)
{
    sqlite3 *db = check_db(L);
    const char *sql = luaL_checkstring(L, 2);
    const char *entity = luaL_checkstring(L, 4);
    const char *table = luaL_optstring(L, 5, entity);
    struct idset *set = idset_push(L, entity);
    int set_index = lua_gettop(L);
    /* Prepared first on its own, so that a bad statement fails with the
     * usual messages, even one that the wrapper would make valid. */
    sqlite3_stmt *statement = luadb_prepare(L, db, sql, 3);
    sqlite3_stmt **collecting = push_statement_slot(L);
    char *err = NULL;
    int status;
    if (sqlite3_column_count(statement) == 1 &&
        idset_prepare_collect(db, sql, collecting) == SQLITE_OK) {
        bind_parameters(L, db, *collecting, 3, 1, sql);
        status = idset_fill_from_collector(set, *collecting, table, &err);
    } else {
        status = idset_fill_from_statement(set, statement, table, &err);
    }
    if (status != 0) {
        lua_pushstring(L, err);
        free(err);
        return lua_error(L);
    }
    lua_pushvalue(L, set_index);
    return 1;
}

/* db:filename() -> the path of the main database file. [-0, +1, m] */
static int connection_filename(lua_State *L)
{
    const char *name = sqlite3_db_filename(check_db(L), "main");
    lua_pushstring(L, name ? name : "");
    return 1;
}

/* db:in_transaction() -> boolean. [-0, +1, -] */
static int connection_in_transaction(lua_State *L)
{
    lua_pushboolean(L, !sqlite3_get_autocommit(check_db(L)));
    return 1;
}

/* db:ensure_lethe_tables() creates Lethe's own tables if missing.
 * [-1, +0, e] */
static int connection_ensure_lethe_tables(lua_State *L)
{
    char *err = NULL;
    if (schema_ensure_lethe_tables(check_db(L), &err) != 0) {
        lua_pushstring(L, err);
        free(err);
        return lua_error(L);
    }
    return 0;
}

/* native.create_database(path [, sample [, schema_sql]]) creates a new
 * database with the default CRM schema, or with `schema_sql` when given;
 * `sample`, a table {persons=, seed=, anchor=, progress=}, also fills a
 * CRM database with sample data. On failure the new file is removed.
 * Returns true | nil, message. */
static int native_create_database(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int with_sample = lua_istable(L, 2);
    struct sample_options options = {0};
    if (with_sample) {
        lua_getfield(L, 2, "persons");
        options.persons = (long)luaL_checkinteger(L, -1);
        lua_getfield(L, 2, "seed");
        options.seed = (uint64_t)luaL_checkinteger(L, -1);
        lua_getfield(L, 2, "anchor");
        options.anchor = (time_t)luaL_checkinteger(L, -1);
        lua_getfield(L, 2, "progress");
        options.progress = lua_toboolean(L, -1);
        lua_pop(L, 4);
    }
    const char *schema_sql = luaL_optstring(L, 3, NULL);
    sqlite3 *db = NULL;
    char *err = NULL;
    int status = db_open(path, DB_NEW, &db, &err);
    if (status == 0 && schema_sql)
        status = db_exec(db, schema_sql, "creating the schema", &err);
    if (status == 0 && schema_sql)
        status = schema_ensure_lethe_tables(db, &err);
    else if (status == 0)
        status = schema_create(db, &err);
    if (status == 0 && with_sample)
        status = sample_generate(db, &options, &err);
    if (db) {
        db_close(db);
        if (status != 0)
            remove(path);
    }
    if (status != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        free(err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg connection_methods[] = {
    {"close", connection_close},
    {"rows", connection_rows},
    {"scalar", connection_scalar},
    {"exec", connection_exec},
    {"script", connection_script},
    {"ids", connection_ids},
    {"in_transaction", connection_in_transaction},
    {"try_exec", connection_try_exec},
    {"begin_exclusive", connection_begin_exclusive},
    {"filename", connection_filename},
    {"ensure_lethe_tables", connection_ensure_lethe_tables},
    {"filter", rowfilter_filter},
    {NULL, NULL},
};

static const luaL_Reg native_functions[] = {
    {"open", native_open},
    {"create_database", native_create_database},
    {NULL, NULL},
};

int luadb_open(lua_State *L)
{
    luaL_newmetatable(L, CONNECTION_METATABLE);
    luaL_newlib(L, connection_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, connection_close);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, native_functions);
    luahost_add_functions(L);
    return 1;
}
