/*
 * test_idset.c: the id-set module against a real Lua state and a real
 * SQLite database. Runs the property tests in idset_property.lua, then
 * checks lethe_ids(?) on an in-memory database (deletes by set, query
 * plans, joins, bounds on id, unbound arguments), reading ids from SQL
 * (ids out of range, bulk reads) and hand-built corrupt serialized sets.
 */
#include "idset.h"
#include "sha256.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int condition, int line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void check(int condition, int line, const char *format, ...)
{
    if (condition) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "%s:%d: ", __FILE__, line);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

#define CHECK(condition, ...) check((condition), __LINE__, __VA_ARGS__)

/* Check that `text` (which may be NULL) contains `fragment`. */
static void check_contains(const char *text, const char *fragment,
                           const char *what, int line)
{
    check(text && strstr(text, fragment), line, "%s: '%s' lacks '%s'", what,
          text ? text : "(none)", fragment);
}

static void check_text(const char *actual, const char *expected,
                       const char *what, int line)
{
    check(strcmp(actual, expected) == 0, line, "%s: '%s', expected '%s'", what,
          actual, expected);
}

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static void exec(sqlite3 *db, const char *sql, int line)
{
    char *message = NULL;
    int status = sqlite3_exec(db, sql, NULL, NULL, &message);
    check(status == SQLITE_OK, line, "%s: %s", sql, message ? message : "");
    sqlite3_free(message);
}

/* Return column 0 of the first row of `sql`, or -999 after reporting a
 * failure. */
static sqlite3_int64 query_integer(sqlite3 *db, const char *sql, int line)
{
    sqlite3_stmt *statement = NULL;
    sqlite3_int64 value = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        value = sqlite3_column_int64(statement, 0);
    else
        check(0, line, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return value;
}

/* Prepare `sql`, bind `set` (when not NULL) to ?1, step to the end and
 * return the number of rows, or -1 after reporting a failure. When `text`
 * is not NULL, the rows' column 0 is written there, comma-separated. */
static int run_with_set(sqlite3 *db, const char *sql, const struct idset *set,
                        char *text, size_t size, int line)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        check(0, line, "prepare %s: %s", sql, sqlite3_errmsg(db));
        return -1;
    }
    if (set && idset_bind(statement, 1, set) != SQLITE_OK)
        check(0, line, "bind for %s: %s", sql, sqlite3_errmsg(db));
    int rows = 0, status;
    size_t used = 0;
    if (text && size > 0)
        text[0] = '\0';
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        if (text && used < size)
            used += (size_t)snprintf(
                text + used, size - used, "%s%s", rows ? "," : "",
                (const char *)sqlite3_column_text(statement, 0));
        rows++;
    }
    if (status != SQLITE_DONE) {
        check(0, line, "step %s: %s", sql, sqlite3_errmsg(db));
        rows = -1;
    }
    sqlite3_finalize(statement);
    return rows;
}

/* Write the detail lines of EXPLAIN QUERY PLAN `sql` to `plan`, one per
 * line. */
static void query_plan(sqlite3 *db, const char *sql, char *plan, size_t size)
{
    char explain[512];
    snprintf(explain, sizeof explain, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *statement = NULL;
    size_t used = 0;
    plan[0] = '\0';
    if (sqlite3_prepare_v2(db, explain, -1, &statement, NULL) != SQLITE_OK) {
        snprintf(plan, size, "(cannot explain: %s)", sqlite3_errmsg(db));
        return;
    }
    while (sqlite3_step(statement) == SQLITE_ROW && used < size)
        used +=
            (size_t)snprintf(plan + used, size - used, "%s\n",
                             (const char *)sqlite3_column_text(statement, 3));
    sqlite3_finalize(statement);
}

/* Push a new set of `entity` holding `ids` and return it. */
static struct idset *push_set(lua_State *L, const char *entity,
                              const sqlite3_int64 *ids, size_t count)
{
    struct idset *set = idset_push(L, entity);
    for (size_t i = 0; i < count; i++) {
        char *err = NULL;
        if (idset_add_id(set, ids[i], entity, &err) != 0) {
            check(0, __LINE__, "add %lld: %s", (long long)ids[i], err);
            free(err);
        }
    }
    return set;
}

static int traceback(lua_State *L)
{
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Lua property tests                                                      */
/* ---------------------------------------------------------------------- */

static void run_property_tests(lua_State *L)
{
    const char *path = LETHE_SOURCE_DIR "/tests/unit/idset_property.lua";
    lua_pushcfunction(L, traceback);
    int handler = lua_gettop(L);
    if (luaL_loadfile(L, path) != LUA_OK ||
        lua_pcall(L, 0, 2, handler) != LUA_OK) {
        check(0, __LINE__, "%s", lua_tostring(L, -1));
    } else {
        passed += (int)lua_tointeger(L, -2);
        failed += (int)lua_tointeger(L, -1);
        CHECK(lua_tointeger(L, -2) > 0, "the property tests ran no check");
    }
    lua_settop(L, handler - 1);
}

/* idset_push() from C must work before any script opened the module. */
static void test_push_without_module(void)
{
    lua_State *L = luaL_newstate();
    const sqlite3_int64 ids[] = {4, 2};
    struct idset *set = push_set(L, "person", ids, 2);
    CHECK(idset_test(L, -1) == set, "idset_test finds a set pushed from C");
    CHECK(luaL_len(L, -1) == 2, "# of a set pushed from C is %lld",
          (long long)luaL_len(L, -1));
    lua_close(L);
}

/* ---------------------------------------------------------------------- */
/* Packed sets                                                             */
/* ---------------------------------------------------------------------- */

/* Push a set of the ids below `end` that are multiples of `step`. */
static struct idset *push_multiples(lua_State *L, uint32_t step, uint32_t end)
{
    struct idset *set = idset_push(L, "activity");
    for (uint32_t id = 0; id < end; id += step)
        roaring_bitmap_add(set->bitmap, id);
    roaring_bitmap_run_optimize(set->bitmap);
    return set;
}

/* A set packed, and unpacked, between two steps of a statement that reads
 * it: the statement goes on where it stood. The multiples of 3 below
 * 300,000 are 100,000 ids whose sum is 3 * (99,999 * 100,000 / 2). */
static void test_packed_during_statement(lua_State *L, sqlite3 *db)
{
    struct idset *set = push_multiples(L, 3, 300000);
    sqlite3_stmt *statement = NULL;
    sqlite3_prepare_v2(db, "SELECT id FROM lethe_ids(?1)", -1, &statement,
                       NULL);
    idset_bind(statement, 1, set);
    sqlite3_int64 rows = 0, sum = 0;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        rows++;
        sum += sqlite3_column_int64(statement, 0);
        if (rows == 10 || rows == 70000)
            CHECK(idset_compact(set, true) == 1, "packing at row %lld",
                  (long long)rows);
        if (rows == 40000)
            CHECK(idset_ready(set) != NULL, "unpacking at row 40000");
    }
    CHECK(status == SQLITE_DONE, "the statement ended with %d", status);
    CHECK(rows == 100000, "%lld rows read, expected 100000", (long long)rows);
    CHECK(sum == 14999850000LL, "the ids add up to %lld", (long long)sum);

    /* Closed between two steps: an error that names the set. */
    sqlite3_reset(statement);
    sqlite3_step(statement);
    lua_getfield(L, -1, "close");
    lua_pushvalue(L, -2);
    lua_call(L, 1, 0);
    status = sqlite3_step(statement);
    CHECK(status == SQLITE_ERROR, "step after close gave %d", status);
    check_contains(sqlite3_errmsg(db), "activity ids was closed",
                   "step after close", __LINE__);
    sqlite3_finalize(statement);
    lua_pop(L, 1);
}

/* idset_compact_idle() packs a set only when a whole round passed
 * without its use, and the ids stay the same. */
static void test_idle_compaction(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT); /* no other set may count in `freed` */
    struct idset *set = push_multiples(L, 10, 10000000);
    roaring_bitmap_t *before = roaring_bitmap_copy(set->bitmap);
    idset_compact_idle(L);
    CHECK(set->packed == NULL, "a set used in this round was packed");
    size_t freed = idset_compact_idle(L);
    CHECK(set->packed != NULL, "an idle set was not packed");
    /* The multiples of 10 fill 153 blocks at one id in ten: 8 KiB each
     * as bitmaps, 1.25 MB. Packed with m = 7, each gap of 9 takes 2 bits
     * for its quotient and 3 for its remainder: 6,554 ids in 32,770 bits,
     * about 4.1 KB a block with the header, 0.63 MB in all. */
    CHECK(freed > 600000, "packing freed only %zu bytes", freed);
    CHECK(freed < 650000, "packing freed %zu bytes", freed);
    lua_len(L, -1);
    CHECK(lua_tointeger(L, -1) == 1000000, "# of the packed set is %lld",
          (long long)lua_tointeger(L, -1));
    lua_pop(L, 1);
    CHECK(idset_ready(set) != NULL, "the packed set did not unpack");
    CHECK(roaring_bitmap_equals(set->bitmap, before),
          "the unpacked set differs");
    roaring_bitmap_free(before);
    idset_compact_idle(L);
    CHECK(set->packed == NULL, "a set just used was packed");
    lua_pop(L, 1);
}

/* A set that packing could not shrink is tried again only after a use,
 * even one that keeps its count: here every third id (too dense to pack)
 * becomes every tenth id over a range three times as wide. */
static void test_idle_retry_after_use(lua_State *L)
{
    struct idset *set = push_multiples(L, 3, 3000000);
    uint64_t count = roaring_bitmap_get_cardinality(set->bitmap);
    idset_compact_idle(L);
    idset_compact_idle(L);
    CHECK(set->packed == NULL, "every third id was packed");
    CHECK(set->no_gain_round != 0, "the failed packing was not noted");
    roaring_bitmap_t *bitmap = idset_ready(set);
    roaring_bitmap_clear(bitmap);
    for (uint32_t id = 0; id < 10 * count; id += 10)
        roaring_bitmap_add(bitmap, id);
    CHECK(roaring_bitmap_get_cardinality(bitmap) == count,
          "the rewritten set has %llu ids",
          (unsigned long long)roaring_bitmap_get_cardinality(bitmap));
    idset_compact_idle(L);
    idset_compact_idle(L);
    CHECK(set->packed != NULL, "the rewritten set was not packed");
    lua_pop(L, 1);
}

/* Sets no longer reachable that take 16 MB or more are collected at the
 * next idle round, before they could be packed. 2,100 blocks of 4,200
 * even ids each are 2,100 bitmaps of 8 KiB: 17.2 MB. */
static void test_idle_collects_garbage(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT);
    lua_newtable(L); /* a weak table, empty once the set is collected */
    lua_newtable(L);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    struct idset *set = idset_push(L, "activity");
    uint32_t ids[4200];
    for (uint32_t key = 0; key < 2100; key++) {
        for (uint32_t i = 0; i < 4200; i++)
            ids[i] = key << 16 | 2 * i;
        roaring_bitmap_add_many(set->bitmap, 4200, ids);
    }
    lua_rawseti(L, -2, 1);
    lua_gc(L, LUA_GCSTOP); /* only the idle round may collect */
    idset_compact_idle(L);
    lua_rawgeti(L, -1, 1);
    CHECK(lua_isnil(L, -1), "an unreachable set of 17 MB was not collected");
    lua_pop(L, 2);
    lua_gc(L, LUA_GCRESTART);
}

/* ---------------------------------------------------------------------- */
/* lethe_ids(?)                                                            */
/* ---------------------------------------------------------------------- */

static void create_people(sqlite3 *db)
{
    exec(db,
         "CREATE TABLE person(person_id INTEGER PRIMARY KEY, "
         "name TEXT);"
         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
         "FROM n WHERE i < 1000) "
         "INSERT INTO person SELECT i, 'person ' || i FROM n",
         __LINE__);
}

static void test_delete_by_set(lua_State *L, sqlite3 *db)
{
    const sqlite3_int64 ids[] = {2, 5, 999, 1000, 4000};
    struct idset *set = push_set(L, "person", ids, 5);
    run_with_set(db, "DELETE FROM person WHERE person_id IN lethe_ids(?1)", set,
                 NULL, 0, __LINE__);
    CHECK(sqlite3_changes(db) == 4, "delete by set changed %d rows",
          sqlite3_changes(db));
    sqlite3_int64 left =
        query_integer(db, "SELECT count(*) FROM person", __LINE__);
    CHECK(left == 996, "%lld persons left, expected 996", (long long)left);
    sqlite3_int64 deleted = query_integer(
        db,
        "SELECT count(*) FROM person WHERE person_id IN (2, 5, 999, "
        "1000)",
        __LINE__);
    CHECK(deleted == 0, "%lld deleted persons remain", (long long)deleted);
    sqlite3_int64 neighbours = query_integer(
        db,
        "SELECT count(*) FROM person WHERE person_id IN (1, 3, 4, 6, "
        "998)",
        __LINE__);
    CHECK(neighbours == 5, "%lld of 5 neighbours kept", (long long)neighbours);

    const sqlite3_int64 more[] = {10, 11, 12};
    set = push_set(L, "person", more, 3);
    run_with_set(db,
                 "DELETE FROM person WHERE person_id IN "
                 "(SELECT id FROM lethe_ids(?1))",
                 set, NULL, 0, __LINE__);
    CHECK(sqlite3_changes(db) == 3, "delete by subquery changed %d rows",
          sqlite3_changes(db));
    left = query_integer(db,
                         "SELECT count(*) FROM person WHERE person_id "
                         "BETWEEN 9 AND 13",
                         __LINE__);
    CHECK(left == 2, "%lld of ids 9 to 13 left, expected 2", (long long)left);
    lua_pop(L, 2);
}

static void test_joins(lua_State *L, sqlite3 *db)
{
    const sqlite3_int64 ids[] = {22, 20, 21, 5000};
    struct idset *set = push_set(L, "person", ids, 4);
    char text[256];
    int rows = run_with_set(db,
                            "SELECT p.person_id FROM person p JOIN "
                            "lethe_ids(?1) s ON s.id = p.person_id "
                            "ORDER BY p.person_id",
                            set, text, sizeof text, __LINE__);
    CHECK(rows == 3, "join returned %d rows", rows);
    check_text(text, "20,21,22", "join", __LINE__);
    rows = run_with_set(db,
                        "SELECT p.name FROM lethe_ids(?1) s, person p "
                        "WHERE p.person_id = s.id",
                        set, text, sizeof text, __LINE__);
    CHECK(rows == 3, "join with the set first returned %d rows", rows);
    check_text(text, "person 20,person 21,person 22", "join with the set first",
               __LINE__);
    rows = run_with_set(db,
                        "SELECT p.person_id FROM person p WHERE EXISTS "
                        "(SELECT 1 FROM lethe_ids(?1) s WHERE s.id = "
                        "p.person_id)",
                        set, text, sizeof text, __LINE__);
    CHECK(rows == 3, "correlated lookup returned %d rows", rows);
    check_text(text, "20,21,22", "correlated lookup", __LINE__);
    lua_pop(L, 1);
}

/* The plan of each statement must look persons up by primary key. */
static void test_query_plans(sqlite3 *db)
{
    static const struct {
        const char *sql, *search;
    } cases[] = {
        {"DELETE FROM person WHERE person_id IN lethe_ids(?1)",
         "SEARCH person USING INTEGER PRIMARY KEY (rowid=?)"},
        {"DELETE FROM person WHERE person_id IN (SELECT id FROM "
         "lethe_ids(?1))",
         "SEARCH person USING INTEGER PRIMARY KEY (rowid=?)"},
        {"UPDATE person SET name = NULL WHERE person_id IN lethe_ids(?1)",
         "SEARCH person USING INTEGER PRIMARY KEY (rowid=?)"},
        {"SELECT p.name FROM person p JOIN lethe_ids(?1) s ON "
         "s.id = p.person_id",
         "SEARCH p USING INTEGER PRIMARY KEY (rowid=?)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char plan[2048];
        query_plan(db, cases[i].sql, plan, sizeof plan);
        CHECK(strstr(plan, cases[i].search) != NULL,
              "plan of %s lacks '%s':\n%s", cases[i].sql, cases[i].search,
              plan);
        CHECK(strstr(plan, "SCAN person") == NULL,
              "plan of %s scans person:\n%s", cases[i].sql, plan);
        CHECK(strstr(plan, "SCAN p\n") == NULL, "plan of %s scans p:\n%s",
              cases[i].sql, plan);
    }
}

/* Compare lethe_ids(?1) with a real table holding the same ids under the
 * same WHERE clauses, so that SQLite's own comparison rules are the
 * expected values. */
static void test_bounds_against_table(lua_State *L, sqlite3 *db)
{
    const sqlite3_int64 ids[] = {4294967295LL, 0,     65536, 7,
                                 3000000000LL, 65535, 8};
    struct idset *set = push_set(L, "person", ids, 7);
    exec(db,
         "CREATE TABLE reference(id INTEGER);"
         "INSERT INTO reference VALUES (4294967295), (0), (65536), (7),"
         " (3000000000), (65535), (8)",
         __LINE__);
    static const char *const clauses[] = {
        "1",
        "id = 7",
        "id = 9",
        "id = 7.0",
        "id = 7.5",
        "id = '7'",
        "id > 7",
        "id >= 7",
        "id < 65536",
        "id <= 65536",
        "id > 2.5",
        "id < 7.5",
        "id >= 7.5",
        "id <= 6.5",
        "id BETWEEN 7 AND 3000000000",
        "id > 4294967295",
        "id >= 4294967295",
        "id < 0",
        "id <= 0",
        "id > -5",
        "id < 1e300",
        "id > -1e300",
        "id > 1e300",
        "id > 'abc'",
        "id < 'abc'",
        "id IN (0, 7, 9)",
        "id = NULL",
        "id > 9223372036854775807",
        "id < -9223372036854775808",
        "id >= 65535 AND id < 65537",
        "id > 7 AND id < 8",
        "id = 7 AND id > 3",
    };
    for (size_t i = 0; i < sizeof clauses / sizeof clauses[0]; i++) {
        char sql[256], expected[256], actual[256];
        snprintf(sql, sizeof sql,
                 "SELECT id FROM reference WHERE %s "
                 "ORDER BY id",
                 clauses[i]);
        run_with_set(db, sql, NULL, expected, sizeof expected, __LINE__);
        snprintf(sql, sizeof sql,
                 "SELECT id FROM lethe_ids(?1) WHERE %s "
                 "ORDER BY id",
                 clauses[i]);
        run_with_set(db, sql, set, actual, sizeof actual, __LINE__);
        CHECK(strcmp(expected, actual) == 0,
              "WHERE %s: lethe_ids gave '%s', the table '%s'", clauses[i],
              actual, expected);
    }
    /* The rowid of lethe_ids is the id. */
    char text[256];
    run_with_set(db, "SELECT id FROM lethe_ids(?1) WHERE rowid >= 65535", set,
                 text, sizeof text, __LINE__);
    check_text(text, "65535,65536,3000000000,4294967295", "rowid >= 65535",
               __LINE__);
    run_with_set(db, "SELECT id FROM lethe_ids(?1)", set, text, sizeof text,
                 __LINE__);
    check_text(text, "0,7,8,65535,65536,3000000000,4294967295",
               "lethe_ids order", __LINE__);
    run_with_set(db, "SELECT id FROM lethe_ids(?1) ORDER BY id DESC", set, text,
                 sizeof text, __LINE__);
    check_text(text, "4294967295,3000000000,65536,65535,8,7,0",
               "lethe_ids descending", __LINE__);
    lua_pop(L, 1);
}

static void test_missing_argument(lua_State *L, sqlite3 *db)
{
    const char *count = "SELECT count(*) FROM lethe_ids(?1)";
    sqlite3_int64 rows = query_integer(db, count, __LINE__);
    CHECK(rows == 0, "unbound argument gave %lld rows", (long long)rows);
    rows = query_integer(db, "SELECT count(*) FROM lethe_ids(NULL)", __LINE__);
    CHECK(rows == 0, "NULL argument gave %lld rows", (long long)rows);
    rows =
        query_integer(db, "SELECT count(*) FROM lethe_ids('text')", __LINE__);
    CHECK(rows == 0, "text argument gave %lld rows", (long long)rows);
    rows = query_integer(db, "SELECT count(*) FROM lethe_ids", __LINE__);
    CHECK(rows == 0, "no argument gave %lld rows", (long long)rows);

    const sqlite3_int64 ids[] = {1, 3};
    struct idset *set = push_set(L, "person", ids, 2);
    sqlite3_stmt *statement = NULL;
    sqlite3_prepare_v2(db, count, -1, &statement, NULL);
    sqlite3_bind_pointer(statement, 1, set, "another_type", NULL);
    sqlite3_step(statement);
    CHECK(sqlite3_column_int64(statement, 0) == 0,
          "a pointer of another type gave %lld rows",
          (long long)sqlite3_column_int64(statement, 0));
    sqlite3_finalize(statement);

    sqlite3_int64 before =
        query_integer(db, "SELECT count(*) FROM person", __LINE__);
    run_with_set(db, "DELETE FROM person WHERE person_id IN lethe_ids(?1)",
                 NULL, NULL, 0, __LINE__);
    CHECK(sqlite3_changes(db) == 0,
          "delete with an unbound set changed %d rows", sqlite3_changes(db));
    CHECK(query_integer(db, "SELECT count(*) FROM person", __LINE__) == before,
          "delete with an unbound set removed persons");

    sqlite3_prepare_v2(db, count, -1, &statement, NULL);
    lua_getfield(L, -1, "close");
    lua_pushvalue(L, -2);
    lua_call(L, 1, 0);
    CHECK(idset_bind(statement, 1, set) == SQLITE_MISUSE,
          "binding a closed set is SQLITE_MISUSE");
    CHECK(idset_bind(statement, 1, NULL) == SQLITE_MISUSE,
          "binding NULL is SQLITE_MISUSE");
    sqlite3_finalize(statement);
    lua_pop(L, 1);
}

/* ---------------------------------------------------------------------- */
/* Reading ids from SQL                                                    */
/* ---------------------------------------------------------------------- */

/* Fill `set` from the rows of `sql`: stepped out one by one, or, when
 * `collect` is set, added inside SQLite by lethe_collect_ids(). Returns
 * the status; *err receives the message. */
static int fill_from_sql(sqlite3 *db, struct idset *set, const char *sql,
                         bool collect, char **err)
{
    sqlite3_stmt *statement = NULL;
    int status;
    if (collect) {
        CHECK(idset_prepare_collect(db, sql, &statement) == SQLITE_OK,
              "cannot collect from %s: %s", sql, sqlite3_errmsg(db));
        status = idset_fill_from_collector(set, statement, "person", err);
    } else {
        sqlite3_prepare_v2(db, sql, -1, &statement, NULL);
        status = idset_fill_from_statement(set, statement, "person", err);
    }
    sqlite3_finalize(statement);
    return status;
}

/* Fill a set from `SELECT x FROM source` after storing 0, `value` and 5 in
 * source. Returns the status; *err receives the message. */
static int fill_with_value(lua_State *L, sqlite3 *db, const char *value,
                           bool collect, char **err)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "DELETE FROM source; INSERT INTO source "
             "VALUES (0), (%s), (5)",
             value);
    exec(db, sql, __LINE__);
    struct idset *set = idset_push(L, "person");
    int status = fill_from_sql(db, set, "SELECT x FROM source ORDER BY rowid",
                               collect, err);
    lua_pop(L, 1);
    return status;
}

static void test_ids_out_of_range(lua_State *L, sqlite3 *db, bool collect)
{
    exec(db, "CREATE TABLE source(x)", __LINE__);
    static const struct {
        const char *value, *message;
    } invalid[] = {
        {"-1", "invalid id -1 in table person"},
        {"4294967296", "invalid id 4294967296 in table person"},
        {"'abc'", "invalid id 'abc' in table person"},
        {"1.5", "invalid id 1.5 in table person"},
        {"-2.0", "invalid id -2 in table person"},
        {"NULL", "invalid id NULL in table person"},
        {"x'0001'", "blob of 2 bytes) in table person"},
        {"-9223372036854775808", "invalid id -9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        char *err = NULL;
        int status = fill_with_value(L, db, invalid[i].value, collect, &err);
        CHECK(status == -1, "id %s was accepted", invalid[i].value);
        check_contains(err, invalid[i].message, invalid[i].value, __LINE__);
        check_contains(err, "0 to 4294967295", invalid[i].value, __LINE__);
        free(err);
    }
    static const char *const valid[] = {"4294967295", "7.0", "0"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        char *err = NULL;
        CHECK(fill_with_value(L, db, valid[i], collect, &err) == 0,
              "id %s was rejected: %s", valid[i], err ? err : "");
        free(err);
    }

    struct idset *set = idset_push(L, "sale");
    char *err = NULL;
    CHECK(idset_add_id(set, -1, "sale", &err) == -1,
          "idset_add_id accepted -1");
    check_contains(err, "invalid id -1 in table sale", "idset_add_id(-1)",
                   __LINE__);
    free(err);
    err = NULL;
    CHECK(idset_add_id(set, 4294967296LL, "sale", &err) == -1,
          "idset_add_id accepted 2^32");
    check_contains(err, "invalid id 4294967296 in table sale",
                   "idset_add_id(2^32)", __LINE__);
    free(err);
    CHECK(idset_add_id(set, 4294967295LL, "sale", NULL) == 0,
          "idset_add_id rejected 2^32-1");
    CHECK(roaring_bitmap_contains(set->bitmap, UINT32_MAX),
          "idset_add_id(2^32-1) did not add the id");
    lua_pop(L, 1);
    exec(db, "DROP TABLE source", __LINE__);
}

static void test_fill_in_bulk(lua_State *L, sqlite3 *db, bool collect)
{
    struct idset *set = idset_push(L, "person");
    char *err = NULL;
    int status = fill_from_sql(db, set,
                               "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL "
                               "SELECT i + 1 FROM n WHERE i < 199999) "
                               "SELECT i * 3 FROM n",
                               collect, &err);
    CHECK(status == 0, "bulk fill failed: %s", err ? err : "");
    free(err);
    uint64_t count = roaring_bitmap_get_cardinality(set->bitmap);
    CHECK(count == 200000, "bulk fill has %llu ids", (unsigned long long)count);
    CHECK(roaring_bitmap_maximum(set->bitmap) == 599997,
          "bulk fill maximum is %u", roaring_bitmap_maximum(set->bitmap));
    CHECK(roaring_bitmap_contains(set->bitmap, 300),
          "bulk fill lacks the multiple of 3 300");
    CHECK(!roaring_bitmap_contains(set->bitmap, 301),
          "bulk fill has 301, which is no multiple of 3");
    lua_pop(L, 1);

    set = idset_push(L, "person");
    err = NULL;
    status = fill_from_sql(db, set, "SELECT abs(-9223372036854775807 - 1)",
                           collect, &err);
    CHECK(status == -1, "a failing step returned %d", status);
    check_contains(err, "cannot read ids of table person: integer overflow",
                   "failing step", __LINE__);
    free(err);
    lua_pop(L, 1);

    set = idset_push(L, "person");
    err = NULL;
    status = fill_from_sql(db, set, "SELECT 7 WHERE 0", collect, &err);
    CHECK(status == 0, "an empty fill failed: %s", err ? err : "");
    free(err);
    CHECK(roaring_bitmap_get_cardinality(set->bitmap) == 0,
          "an empty fill added ids");
    lua_pop(L, 1);
}

/* idset_prepare_collect() takes one query of one column, and the
 * aggregate works only with a collector bound by it. */
static void test_collect_limits(lua_State *L, sqlite3 *db)
{
    sqlite3_stmt *statement = (sqlite3_stmt *)1;
    CHECK(idset_prepare_collect(db, "SELECT 1, 2", &statement) != SQLITE_OK,
          "two columns were accepted");
    CHECK(statement == NULL, "a failed prepare left a statement");
    CHECK(idset_prepare_collect(db, "SELECT 1; SELECT 2", &statement) !=
              SQLITE_OK,
          "two statements were accepted");

    struct idset *set = idset_push(L, "person");
    char *err = NULL;
    CHECK(fill_from_sql(db, set, "SELECT 4 -- a trailing comment", true,
                        &err) == 0,
          "a trailing comment failed: %s", err ? err : "");
    free(err);
    CHECK(roaring_bitmap_contains(set->bitmap, 4),
          "a query with a trailing comment added no id");
    lua_pop(L, 1);

    sqlite3_prepare_v2(db, "SELECT lethe_collect_ids(NULL, 1)", -1,
                       &statement, NULL);
    CHECK(sqlite3_step(statement) == SQLITE_ERROR,
          "lethe_collect_ids without a collector did not fail");
    check_contains(sqlite3_errmsg(db), "only in the queries of db:ids()",
                   "lethe_collect_ids without a collector", __LINE__);
    sqlite3_finalize(statement);
}

/* ---------------------------------------------------------------------- */
/* Hand-built serialized sets                                              */
/* ---------------------------------------------------------------------- */

struct bytes {
    unsigned char data[16384];
    size_t size;
};

static void put_u16(struct bytes *out, unsigned value)
{
    out->data[out->size++] = (unsigned char)value;
    out->data[out->size++] = (unsigned char)(value >> 8);
}

static void put_u32(struct bytes *out, uint32_t value)
{
    put_u16(out, value & 0xFFFF);
    put_u16(out, value >> 16);
}

/* Wrap a portable Roaring bitmap in the serialized-set envelope of entity
 * "person", with a correct checksum. */
static void envelope(const struct bytes *bitmap, struct bytes *out)
{
    out->size = 0;
    memcpy(out->data, "LIDS\1\6person", 12);
    out->size = 12;
    put_u32(out, (uint32_t)bitmap->size);
    memcpy(out->data + out->size, bitmap->data, bitmap->size);
    out->size += bitmap->size;
    struct sha256 context;
    unsigned char digest[32];
    sha256_init(&context);
    sha256_update(&context, out->data, out->size);
    sha256_final(&context, digest);
    memcpy(out->data + out->size, digest, 8);
    out->size += 8;
}

/* Call set.deserialize on `text`. Returns 1 when it succeeded (leaving the
 * set on the stack) and 0 when it raised (leaving the message). */
static int deserialize(lua_State *L, const struct bytes *text)
{
    lua_getglobal(L, "set");
    lua_getfield(L, -1, "deserialize");
    lua_remove(L, -2);
    lua_pushlstring(L, (const char *)text->data, text->size);
    return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

/* A bitmap without run containers: the cookie, the container count, then
 * (key, cardinality - 1) pairs, then one offset per container. */
static void bitmap_header(struct bytes *out, uint32_t count,
                          const unsigned *keys, const unsigned *cards)
{
    out->size = 0;
    put_u32(out, 12346);
    put_u32(out, count);
    for (uint32_t i = 0; i < count; i++) {
        put_u16(out, keys[i]);
        put_u16(out, cards[i] - 1);
    }
    uint32_t offset = 8 + 8 * count;
    for (uint32_t i = 0; i < count; i++) {
        put_u32(out, offset);
        offset += cards[i] > 4096 ? 8192 : 2 * cards[i];
    }
}

static void check_rejected(lua_State *L, const struct bytes *bitmap,
                           const char *expected, const char *what, int line)
{
    struct bytes text;
    envelope(bitmap, &text);
    int ok = deserialize(L, &text);
    check(!ok, line, "%s: accepted", what);
    check_contains(ok ? NULL : lua_tostring(L, -1), expected, what, line);
    lua_pop(L, 1);
}

static void test_crafted_bitmaps(lua_State *L)
{
    struct bytes bitmap;
    unsigned keys[2] = {5, 3}, cards[2] = {1, 1};

    bitmap_header(&bitmap, 0, keys, cards);
    bitmap.data[4] = bitmap.data[5] = bitmap.data[6] = bitmap.data[7] = 0xFF;
    check_rejected(L, &bitmap, "invalid container count",
                   "negative container count", __LINE__);
    bitmap_header(&bitmap, 0, keys, cards);
    bitmap.data[6] = 2; /* 131072 containers */
    check_rejected(L, &bitmap, "invalid container count", "too many containers",
                   __LINE__);

    bitmap_header(&bitmap, 2, keys, cards);
    put_u16(&bitmap, 1);
    put_u16(&bitmap, 1);
    check_rejected(L, &bitmap, "out of order", "keys out of order", __LINE__);

    keys[0] = 1;
    cards[0] = 3;
    bitmap_header(&bitmap, 1, keys, cards);
    put_u16(&bitmap, 5);
    put_u16(&bitmap, 3);
    put_u16(&bitmap, 9);
    check_rejected(L, &bitmap, "out of order", "unsorted array container",
                   __LINE__);
    bitmap.data[bitmap.size - 4] = 5; /* 5, 5, 9: a duplicate */
    check_rejected(L, &bitmap, "out of order", "duplicate ids", __LINE__);

    bitmap_header(&bitmap, 1, keys, cards);
    put_u16(&bitmap, 5);
    check_rejected(L, &bitmap, "sizes do not match",
                   "array container cut short", __LINE__);

    bitmap.size = 0;
    put_u32(&bitmap, 12345);
    check_rejected(L, &bitmap, "unknown bitmap format", "unknown cookie",
                   __LINE__);

    /* Run format, one container (key 0) with 60000 runs but no bytes. */
    bitmap.size = 0;
    put_u32(&bitmap, 12347);
    bitmap.data[bitmap.size++] = 1; /* container 0 is a run container */
    put_u16(&bitmap, 0);
    put_u16(&bitmap, 0);
    put_u16(&bitmap, 60000);
    check_rejected(L, &bitmap, "sizes do not match", "runs cut short",
                   __LINE__);
}

/* Bitmaps that CRoaring would not build but whose ids are in order are
 * read as the ids they hold, giving a set whose count matches its ids. */
static void test_odd_but_ordered_bitmaps(lua_State *L)
{
    struct bytes bitmap, text;
    unsigned keys[1] = {2}, cards[1] = {5000};
    /* A bitset container that claims 5000 ids and contains 2. */
    bitmap_header(&bitmap, 1, keys, cards);
    size_t start = bitmap.size;
    memset(bitmap.data + start, 0, 8192);
    bitmap.size += 8192;
    bitmap.data[start] = 0x03; /* ids 131072 and 131073 */
    envelope(&bitmap, &text);
    if (deserialize(L, &text)) {
        struct idset *set = idset_check(L, -1);
        CHECK(roaring_bitmap_get_cardinality(set->bitmap) == 2,
              "bitset with a wrong cardinality: count %llu, expected 2",
              (unsigned long long)roaring_bitmap_get_cardinality(set->bitmap));
        CHECK(roaring_bitmap_contains(set->bitmap, 131073),
              "bitset with a wrong cardinality lacks id 131073");
    } else {
        CHECK(0, "bitset with a wrong cardinality: %s", lua_tostring(L, -1));
    }
    lua_pop(L, 1);

    /* A run that runs past its container: 65535 and 10 more. */
    bitmap.size = 0;
    put_u32(&bitmap, 12347);
    bitmap.data[bitmap.size++] = 1;
    put_u16(&bitmap, 0);
    put_u16(&bitmap, 10);
    put_u16(&bitmap, 1);
    put_u16(&bitmap, 65535);
    put_u16(&bitmap, 10);
    envelope(&bitmap, &text);
    if (deserialize(L, &text)) {
        struct idset *set = idset_check(L, -1);
        CHECK(roaring_bitmap_get_cardinality(set->bitmap) == 11,
              "overlong run: count %llu, expected 11",
              (unsigned long long)roaring_bitmap_get_cardinality(set->bitmap));
        CHECK(roaring_bitmap_maximum(set->bitmap) == 65545,
              "overlong run: maximum %u, expected 65545",
              roaring_bitmap_maximum(set->bitmap));
    } else {
        CHECK(0, "overlong run: %s", lua_tostring(L, -1));
    }
    lua_pop(L, 1);
}

/* Change 1 to 3 random bytes of the bitmap in valid serialized sets, fix
 * the checksum, and deserialize: each result is either an error or a set
 * whose count matches the ids that iteration finds. Run under the
 * sanitizers, this also checks that no input reads out of bounds. */
static void test_mutated_bitmaps(lua_State *L)
{
    if (luaL_dostring(L, "local s = set.from_array('person', {1, 9, 70000})"
                         " | set.range('person', 131072, 140000)"
                         " | set.range('person', 200000, 200100)"
                         " return s:serialize(), (s - set.range('person', "
                         "131073, 131073)):serialize()") != LUA_OK) {
        CHECK(0, "cannot build serialized sets: %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        return;
    }
    uint64_t state = 12345;
    int accepted = 0, rejected = 0;
    for (int source = -2; source <= -1; source++) {
        size_t size;
        const char *text = lua_tolstring(L, source, &size);
        struct bytes bitmap;
        if (size > sizeof bitmap.data) {
            CHECK(0, "serialized set of %zu bytes is too large", size);
            continue;
        }
        /* The envelope of entity "person": 16 bytes before, 8 after. */
        bitmap.size = size - 16 - 8;
        memcpy(bitmap.data, text + 16, bitmap.size);
        for (int round = 0; round < 1500; round++) {
            struct bytes changed = bitmap, serialized;
            int changes = 1 + (int)(state % 3);
            for (int i = 0; i < changes; i++) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                changed.data[(state >> 33) % changed.size] ^=
                    (unsigned char)(1u << ((state >> 20) % 8));
            }
            envelope(&changed, &serialized);
            if (!deserialize(L, &serialized)) {
                rejected++;
                lua_pop(L, 1);
                continue;
            }
            accepted++;
            struct idset *set = idset_check(L, -1);
            uint64_t iterated = 0;
            roaring_uint32_iterator_t iterator;
            for (roaring_init_iterator(set->bitmap, &iterator);
                 iterator.has_value; roaring_advance_uint32_iterator(&iterator))
                iterated++;
            CHECK(
                iterated == roaring_bitmap_get_cardinality(set->bitmap),
                "mutated bitmap %d: count %llu, iterated %llu", round,
                (unsigned long long)roaring_bitmap_get_cardinality(set->bitmap),
                (unsigned long long)iterated);
            lua_pop(L, 1);
        }
    }
    CHECK(rejected > 0, "no mutated bitmap was rejected");
    printf("mutated bitmaps: %d accepted, %d rejected\n", accepted, rejected);
    lua_pop(L, 2);
}

int main(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "set", idset_open, 1);
    lua_pop(L, 1);

    run_property_tests(L);
    idset_pack_results(true);
    run_property_tests(L);
    idset_pack_results(false);
    test_push_without_module();
    test_idle_compaction(L);
    test_idle_retry_after_use(L);
    test_idle_collects_garbage(L);

    sqlite3 *db = NULL;
    char *err = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        idset_sql_register(db, &err) != 0) {
        fprintf(stderr, "cannot set up the database: %s\n",
                err ? err : sqlite3_errmsg(db));
        return 1;
    }
    create_people(db);
    test_query_plans(db);
    test_delete_by_set(L, db);
    test_packed_during_statement(L, db);
    test_joins(L, db);
    test_bounds_against_table(L, db);
    test_missing_argument(L, db);
    test_ids_out_of_range(L, db, false);
    test_ids_out_of_range(L, db, true);
    test_fill_in_bulk(L, db, false);
    test_fill_in_bulk(L, db, true);
    test_collect_limits(L, db);
    test_crafted_bitmaps(L);
    test_odd_but_ordered_bitmaps(L);
    test_mutated_bitmaps(L);
    CHECK(lua_gettop(L) == 0, "the tests left %d values on the Lua stack",
          lua_gettop(L));
    sqlite3_close(db);
    lua_close(L);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
