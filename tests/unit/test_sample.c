/*
 * test_sample.c: the sample data generator on real database files in the
 * temporary directory. Checks determinism, row counts and ratios,
 * referential integrity, date formats, the shape of the data, the fixed
 * cases that the bundled retention policy relies on, the restored
 * connection settings and the rejection of bad options.
 *
 * Every expected value here is written out by hand as SQL against the
 * schema, and nothing is computed with the generator's own code.
 */
#include "sample.h"
#include "schema.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2024-06-01 00:00:00 UTC, as seconds and as SQL text. */
#define ANCHOR_TIME 1717200000
#define ANCHOR "'2024-06-01 00:00:00'"

/* Size of the main data set that most checks read. */
#define PERSONS 5000

static int passed, failed;

/* ==== Checks ========================================================= */

__attribute__((format(printf, 3, 4))) static void check(int condition, int line,
                                                        const char *format, ...)
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

#define CHECK_INT(actual, expected, what)                                      \
    do {                                                                       \
        long long actual_value = (actual), expected_value = (expected);        \
        CHECK(actual_value == expected_value, "%s: expected %lld, got %lld",   \
              what, expected_value, actual_value);                             \
    } while (0)

#define CHECK_RANGE(actual, low, high, what)                                   \
    do {                                                                       \
        double actual_value = (actual);                                        \
        CHECK(actual_value >= (low) && actual_value <= (high),                 \
              "%s: expected %g to %g, got %g", what, (double)(low),            \
              (double)(high), actual_value);                                   \
    } while (0)

/* ==== Queries ======================================================== */

/* Return the first column of the first row of `sql` as a number. A failed
 * query counts as a failed check and returns -1. */
static double query_number(sqlite3 *db, const char *sql, int line)
{
    sqlite3_stmt *statement = NULL;
    double value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        check(0, line, "query failed: %s\n  %s", sqlite3_errmsg(db), sql);
    } else if (sqlite3_step(statement) == SQLITE_ROW) {
        value = sqlite3_column_double(statement, 0);
    } else {
        check(0, line, "query returned no row: %s\n  %s", sqlite3_errmsg(db),
              sql);
    }
    sqlite3_finalize(statement);
    return value;
}

#define NUMBER(db, sql) query_number((db), (sql), __LINE__)

/* Return the first column of the first row of `sql` as a string that the
 * caller frees with sqlite3_free(), or NULL. */
static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    char *text = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        text = sqlite3_mprintf("%s", sqlite3_column_text(statement, 0));
    sqlite3_finalize(statement);
    return text;
}
#define COUNT(db, sql) ((long long)query_number((db), (sql), __LINE__))

/* ==== Databases ====================================================== */

struct database {
    char path[256];
    sqlite3 *db;
};

/* Create an empty database file in the temporary directory, open it with
 * foreign keys on and, when `with_schema`, create the CRM schema. */
static int open_database(struct database *database, int with_schema)
{
    const char *directory = getenv("TMPDIR");
    snprintf(database->path, sizeof database->path,
             "%s/lethe-test-sample-XXXXXX",
             directory && *directory ? directory : "/tmp");
    int fd = mkstemp(database->path);
    if (fd < 0) {
        CHECK(0, "mkstemp failed for %s", database->path);
        return -1;
    }
    close(fd);
    char *err = NULL;
    if (sqlite3_open(database->path, &database->db) != SQLITE_OK ||
        sqlite3_exec(database->db, "PRAGMA foreign_keys = ON", NULL, NULL,
                     NULL) != SQLITE_OK ||
        (with_schema && schema_create(database->db, &err) != 0)) {
        CHECK(0, "creating %s failed: %s", database->path,
              err ? err : sqlite3_errmsg(database->db));
        free(err);
        return -1;
    }
    return 0;
}

static void close_database(struct database *database)
{
    static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
    sqlite3_close(database->db);
    database->db = NULL;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s%s", database->path, suffixes[i]);
        unlink(path);
    }
}

/* Run the generator and return its status. Its message, if any, goes to
 * `message`, which is empty on success. */
static int generate(sqlite3 *db, long persons, uint64_t seed, time_t anchor,
                    char *message, size_t size)
{
    struct sample_options options = {persons, seed, anchor, 0};
    char *err = NULL;
    int status = sample_generate(db, &options, &err);
    snprintf(message, size, "%s", err ? err : "");
    free(err);
    return status;
}

/* Create a database with `persons` sample persons. Returns -1, after a
 * failed check, when that fails. */
static int create_sample(struct database *database, long persons, uint64_t seed,
                         time_t anchor)
{
    char message[512];
    if (open_database(database, 1) != 0)
        return -1;
    if (generate(database->db, persons, seed, anchor, message,
                 sizeof message) != 0) {
        CHECK(0, "generating %ld persons failed: %s", persons, message);
        return -1;
    }
    return 0;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_bytes(uint64_t hash, const void *data, size_t size)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++) {
        hash ^= bytes[i];
        hash *= UINT64_C(0x100000001b3);
    }
    return hash;
}

/* Hash every row of `table` in primary-key order, with each value's type
 * and bytes. */
static uint64_t hash_table(sqlite3 *db, const char *table, uint64_t hash)
{
    char *sql = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY 1, 2", table);
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK)
        CHECK(0, "hashing %s failed: %s", table, sqlite3_errmsg(db));
    sqlite3_free(sql);
    hash = hash_bytes(hash, table, strlen(table) + 1);
    while (statement && sqlite3_step(statement) == SQLITE_ROW) {
        int columns = sqlite3_column_count(statement);
        for (int i = 0; i < columns; i++) {
            unsigned char type =
                (unsigned char)sqlite3_column_type(statement, i);
            const void *bytes = sqlite3_column_blob(statement, i);
            int size = sqlite3_column_bytes(statement, i);
            hash = hash_bytes(hash, &type, 1);
            hash = hash_bytes(hash, &size, sizeof size);
            if (bytes)
                hash = hash_bytes(hash, bytes, (size_t)size);
        }
    }
    sqlite3_finalize(statement);
    return hash;
}

/* Hash the contents of every CRM table in name order. SQLite's own
 * tables, the full-text index tables and Lethe's bookkeeping tables are
 * left out: schema_create() stores a random database id in lethe_meta. */
static uint64_t hash_database(sqlite3 *db)
{
    sqlite3_stmt *tables = NULL;
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    sqlite3_prepare_v2(db,
                       "SELECT name FROM sqlite_schema WHERE type = 'table'"
                       " AND name NOT LIKE 'sqlite%'"
                       " AND name NOT LIKE 'lethe%'"
                       " AND name NOT LIKE '%fts%' ORDER BY name",
                       -1, &tables, NULL);
    while (tables && sqlite3_step(tables) == SQLITE_ROW)
        hash =
            hash_table(db, (const char *)sqlite3_column_text(tables, 0), hash);
    sqlite3_finalize(tables);
    return hash;
}

/* ==== Determinism ==================================================== */

static void test_same_seed_same_rows(void)
{
    struct database first, second, other_seed, other_anchor;
    if (create_sample(&first, 1500, 7, ANCHOR_TIME) ||
        create_sample(&second, 1500, 7, ANCHOR_TIME) ||
        create_sample(&other_seed, 1500, 8, ANCHOR_TIME) ||
        create_sample(&other_anchor, 1500, 7, ANCHOR_TIME + 86400))
        return;
    uint64_t hash = hash_database(first.db);
    CHECK(hash == hash_database(second.db),
          "same seed and anchor: the two databases differ");
    CHECK(hash != hash_database(other_seed.db),
          "seeds 7 and 8 gave identical databases");
    CHECK(hash != hash_database(other_anchor.db),
          "anchors one day apart gave identical databases");
    close_database(&first);
    close_database(&second);
    close_database(&other_seed);
    close_database(&other_anchor);
}

/* ==== Counts and integrity =========================================== */

static void test_row_counts(sqlite3 *db)
{
    double persons = PERSONS;
    CHECK_INT(COUNT(db, "SELECT count(*) FROM person"), PERSONS, "persons");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM contact") / persons, 0.17, 0.23,
                "companies per person");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM appointment") / persons, 8, 10,
                "activities per person");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM sale") / persons, 0.8, 1.2,
                "sales per person");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM consentperson") / persons, 1.3,
                1.7, "consents per person");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM associate"), 5, 50,
                "associates");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM project"), 1,
                COUNT(db, "SELECT count(*) FROM contact") / 10.0, "projects");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM document"),
              COUNT(db, "SELECT count(*) FROM appointment WHERE type = 5"),
              "documents (one per document activity)");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM document d JOIN appointment a"
                        " USING (appointment_id) WHERE a.type <> 5"),
              0, "documents of activities other than type 5");
    CHECK_INT(COUNT(db, "SELECT count(DISTINCT type) FROM appointment"), 5,
              "activity types in use");
    CHECK_INT(COUNT(db, "SELECT count(DISTINCT status) FROM sale"), 4,
              "sale statuses in use");
}

static void test_contact_details(sqlite3 *db)
{
    double persons = PERSONS;
    CHECK_RANGE(COUNT(db, "SELECT count(DISTINCT person_id) FROM email") /
                    persons,
                0.8, 0.97, "share of persons with an e-mail address");
    CHECK(COUNT(db, "SELECT count(*) FROM email WHERE contact_id IS NOT NULL"
                    " AND address LIKE '%@%.%'") > 0,
          "no company has a general e-mail address");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM email"
                        " WHERE address NOT GLOB '[a-z0-9]*@*.*'"
                        " OR address GLOB '*[^a-z0-9.@-]*'"),
              0, "e-mail addresses that are not lowercase ASCII");
    CHECK(COUNT(db,
                "SELECT count(*) FROM email e JOIN person p"
                " USING (person_id) JOIN contact c"
                " ON c.contact_id = p.contact_id"
                " JOIN email general ON general.contact_id = c.contact_id"
                " WHERE substr(e.address, instr(e.address, '@'))"
                " = substr(general.address, instr(general.address, '@'))") > 0,
          "no person's address shares the company's domain");
    CHECK(COUNT(db, "SELECT count(*) FROM phone WHERE contact_id IS NOT NULL") >
              0,
          "no company has a phone");
    CHECK(COUNT(db, "SELECT count(*) FROM phone WHERE person_id IS NOT NULL") >
              0,
          "no person has a phone");
    CHECK(COUNT(db, "SELECT count(*) FROM address"
                    " WHERE contact_id IS NOT NULL") > 0,
          "no company has an address");
    CHECK(COUNT(db, "SELECT count(*) FROM address"
                    " WHERE person_id IS NOT NULL") > 0,
          "no person has an address");
    CHECK(COUNT(db, "SELECT count(DISTINCT country) FROM address") >= 5,
          "addresses in fewer than 5 countries");
}

static void test_integrity(sqlite3 *db)
{
    CHECK_INT(COUNT(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0,
              "foreign key violations");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM pragma_integrity_check"
                        " WHERE integrity_check <> 'ok'"),
              0, "integrity_check problems");
    CHECK_INT(COUNT(db,
                    "SELECT count(*) FROM person p JOIN contact c"
                    " USING (contact_id) WHERE p.registered < c.registered"),
              0, "persons registered before their company");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM appointment a JOIN person p"
                        " USING (person_id)"
                        " WHERE a.activeDate < p.registered"),
              0, "activities before their person's registration");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM sale s JOIN person p"
                        " USING (person_id) WHERE s.saledate < p.registered"),
              0, "sales before their person's registration");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM appointment a JOIN person p"
                        " USING (person_id)"
                        " WHERE a.contact_id IS NOT p.contact_id"),
              0, "activities whose company is not their person's company");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM selection s"
                        " JOIN selection l ON l.selection_id = s.left_id"
                        " JOIN selection r ON r.selection_id = s.right_id"
                        " WHERE s.kind = 2 AND (l.entity <> s.entity"
                        " OR r.entity <> s.entity)"),
              0, "combined selections over different entities");
}

/* ==== Dates ========================================================== */

static const struct {
    const char *table;
    const char *column;
    int nullable;
    int future; /* may lie after the anchor */
} date_columns[] = {
    {"contact", "registered", 0, 0},     {"contact", "updated", 1, 0},
    {"person", "registered", 0, 0},      {"person", "updated", 1, 0},
    {"associate", "registered", 0, 0},   {"project", "endDate", 1, 1},
    {"project", "registered", 0, 0},     {"sale", "saledate", 0, 1},
    {"sale", "registered", 0, 0},        {"appointment", "do_by", 1, 1},
    {"appointment", "activeDate", 0, 1}, {"appointment", "registered", 0, 0},
    {"document", "registered", 0, 0},    {"consentperson", "registered", 0, 0},
    {"consentperson", "updated", 1, 0},  {"selection", "registered", 0, 0},
};

/* Count the rows of `table` that meet `condition`, in which each '?' is
 * replaced by `column`. */
static long long count_where(sqlite3 *db, const char *table,
                             const char *condition, const char *column,
                             int line)
{
    char sql[1024];
    size_t used = (size_t)snprintf(sql, sizeof sql,
                                   "SELECT count(*) FROM \"%s\" WHERE ", table);
    for (const char *c = condition; *c && used + 64 < sizeof sql; c++) {
        if (*c == '?')
            used += (size_t)snprintf(sql + used, sizeof sql - used, "\"%s\"",
                                     column);
        else
            sql[used++] = *c;
    }
    sql[used] = '\0';
    return (long long)query_number(db, sql, line);
}

static void test_dates(sqlite3 *db)
{
    for (size_t i = 0; i < sizeof date_columns / sizeof date_columns[0]; i++) {
        const char *table = date_columns[i].table;
        const char *column = date_columns[i].column;
        long long invalid = count_where(db, table,
                                        "? IS NOT NULL AND (datetime(?) IS NULL"
                                        " OR datetime(?) <> ?)",
                                        column, __LINE__);
        CHECK(invalid == 0, "%s.%s: %lld values are not valid dates", table,
              column, invalid);
        long long missing =
            count_where(db, table, "? IS NULL", column, __LINE__);
        CHECK(date_columns[i].nullable || missing == 0,
              "%s.%s: %lld values missing", table, column, missing);
        long long early =
            count_where(db, table, "? < datetime(" ANCHOR ", '-13 years')",
                        column, __LINE__);
        CHECK(early == 0, "%s.%s: %lld dates over 13 years before the anchor",
              table, column, early);
        long long late = count_where(
            db, table,
            date_columns[i].future ? "? > datetime(" ANCHOR ", '+3 years')"
                                   : "? > " ANCHOR,
            column, __LINE__);
        CHECK(late == 0, "%s.%s: %lld dates too far after the anchor", table,
              column, late);
    }
    CHECK_INT(COUNT(db, "SELECT count(*) FROM contact"
                        " WHERE updated < registered"),
              0, "companies updated before registration");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM person"
                        " WHERE updated < registered"),
              0, "persons updated before registration");
    CHECK_RANGE(NUMBER(db, "SELECT julianday(" ANCHOR ")"
                           " - julianday(min(registered)) FROM contact") /
                    365.25,
                11, 12.01, "years between the first company and the anchor");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM person"
                        " WHERE birthday IS NOT NULL AND birthyear IS NOT NULL"
                        " AND date(printf('%04d-%02d-%02d', birthyear,"
                        " birthmonth, birthday)) IS NOT"
                        " printf('%04d-%02d-%02d', birthyear, birthmonth,"
                        " birthday)"),
              0, "birth dates that do not exist");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM person"
                          " WHERE birthmonth IS NOT NULL") /
                    (double)PERSONS,
                0.2, 0.5, "share of persons with birth date parts");
    CHECK_INT(COUNT(db, "SELECT " ANCHOR " = datetime(1717200000,"
                        " 'unixepoch')"),
              1, "ANCHOR and ANCHOR_TIME agree");
}

/* ==== Shape of the data ============================================== */

static void test_categories(sqlite3 *db)
{
    CHECK_INT(COUNT(db, "SELECT count(*) FROM category g WHERE NOT EXISTS"
                        " (SELECT 1 FROM contact c"
                        " WHERE c.category_idx = g.category_id)"),
              0, "categories without companies");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM (SELECT g.name FROM contact c"
                        " JOIN category g ON g.category_id = c.category_idx"
                        " GROUP BY g.name ORDER BY count(*) DESC LIMIT 2)"
                        " WHERE name IN ('Prospect', 'Customer')"),
              2, "Prospect and Customer as the two largest categories");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM person"
                          " WHERE contact_id IS NULL") /
                    (double)PERSONS,
                0.07, 0.13, "share of private persons");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM person p JOIN category g"
                        " ON g.category_id = p.category_idx"
                        " WHERE p.contact_id IS NULL AND g.name NOT IN"
                        " ('Prospect', 'Customer', 'Lost customer')"),
              0, "private persons outside Prospect, Customer, Lost customer");
    CHECK_RANGE(NUMBER(db, "SELECT avg(p.category_idx = c.category_idx)"
                           " FROM person p JOIN contact c USING (contact_id)"),
                0.8, 0.97, "share of persons in their company's category");
    CHECK(COUNT(db, "SELECT count(*) FROM contact WHERE nomailing = 1") > 0,
          "no company has nomailing");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM person WHERE nomailing = 1") /
                    (double)PERSONS,
                0.005, 0.1, "share of persons with nomailing");
    CHECK_RANGE(COUNT(db, "SELECT count(*) FROM person"
                          " WHERE blockEmarketing = 1") /
                    (double)PERSONS,
                0.005, 0.1, "share of persons with blockEmarketing");
}

static void test_names(sqlite3 *db)
{
    static const char *const letters[] = {"Ø", "ø", "é", "ß", "å", "ü"};
    for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++) {
        char *sql = sqlite3_mprintf(
            "SELECT count(*) FROM person WHERE instr(firstname, %Q) > 0"
            " OR instr(lastname, %Q) > 0",
            letters[i], letters[i]);
        CHECK(COUNT(db, sql) > 0, "no person name contains %s", letters[i]);
        sqlite3_free(sql);
    }
    CHECK(COUNT(db, "SELECT count(DISTINCT firstname) FROM person") >= 60,
          "fewer than 60 different first names");
    CHECK(COUNT(db, "SELECT count(DISTINCT lastname) FROM person") >= 60,
          "fewer than 60 different last names");
    CHECK(COUNT(db, "SELECT count(*) FROM person"
                    " WHERE middlename IN ('van', 'de', 'van der')") > 0,
          "no Dutch name particles");
    CHECK(COUNT(db, "SELECT count(DISTINCT name) FROM contact") >=
              COUNT(db, "SELECT count(*) FROM contact") / 2,
          "company names repeat too often");
}

static void test_free_text_names(sqlite3 *db)
{
    double mentioning =
        NUMBER(db, "SELECT avg(instr(a.description, p.firstname) > 0)"
                   " FROM appointment a JOIN person p USING (person_id)");
    CHECK_RANGE(mentioning, 0.05, 0.6,
                "share of person activities naming the person");
    CHECK(COUNT(db, "SELECT count(*) FROM appointment a JOIN person p"
                    " USING (person_id) WHERE instr(a.description,"
                    " p.firstname || ' ' || coalesce(p.middlename || ' ', '')"
                    " || p.lastname) > 0") > 0,
          "no activity names a person in full");
    CHECK(COUNT(db, "SELECT count(*) FROM document d JOIN appointment a"
                    " USING (appointment_id) JOIN person p USING (person_id)"
                    " WHERE instr(d.body, p.firstname) > 0") > 0,
          "no document body names its person");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM appointment"
                        " WHERE description LIKE '%$%'"),
              0, "descriptions with unexpanded placeholders");
}

/* Last activity per person, as buckets of years before the anchor. */
static void test_activity_shape(sqlite3 *db)
{
    static const char last_activity[] =
        "WITH last AS (SELECT p.person_id, max(a.activeDate) AS day"
        " FROM person p LEFT JOIN appointment a USING (person_id)"
        " GROUP BY p.person_id) ";
    char sql[512];
    snprintf(sql, sizeof sql, "%s%s", last_activity,
             "SELECT avg(day IS NULL) FROM last");
    CHECK_RANGE(NUMBER(db, sql), 0.05, 0.25,
                "share of persons without any activity");
    snprintf(sql, sizeof sql, "%s%s", last_activity,
             "SELECT avg(day >= datetime(" ANCHOR ", '-1 years')) FROM last");
    CHECK_RANGE(NUMBER(db, sql), 0.35, 0.8,
                "share of persons active in the last year");
    snprintf(sql, sizeof sql, "%s%s", last_activity,
             "SELECT avg(day < datetime(" ANCHOR ", '-3 years')"
             " AND day >= datetime(" ANCHOR ", '-10 years')) FROM last");
    CHECK_RANGE(NUMBER(db, sql), 0.1, 0.5,
                "share of persons last active 3 to 10 years back");
    CHECK(COUNT(db, "SELECT max(n) FROM (SELECT count(*) AS n"
                    " FROM appointment GROUP BY person_id)") >= 30,
          "no person has 30 or more activities");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM appointment"
                        " WHERE status = 3 AND activeDate > " ANCHOR),
              0, "completed activities in the future");
    CHECK_RANGE(NUMBER(db, "SELECT avg(status = 3) FROM appointment"
                           " WHERE activeDate <= " ANCHOR),
                0.8, 0.98, "share of past activities completed");
    CHECK(COUNT(db, "SELECT count(*) FROM appointment"
                    " WHERE status = 1 AND activeDate > " ANCHOR) > 0,
          "no activity is planned ahead");
    CHECK(COUNT(db, "SELECT count(*) FROM appointment"
                    " WHERE project_id IS NOT NULL") > 0,
          "no activity belongs to a project");
    CHECK(COUNT(db, "SELECT count(*) FROM appointment"
                    " WHERE sale_id IS NOT NULL") > 0,
          "no activity belongs to a sale");
    CHECK(COUNT(db, "SELECT count(*) FROM appointment"
                    " WHERE person_id IS NULL") > 0,
          "no activity is for a company alone");
}

static void test_sales(sqlite3 *db)
{
    CHECK_INT(COUNT(db, "SELECT count(*) FROM sale"
                        " WHERE saledate > " ANCHOR " AND status <> 1"),
              0, "closed sales dated after the anchor");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM sale"
                        " WHERE saledate < registered"),
              0, "sales dated before their registration");
    CHECK_RANGE(NUMBER(db, "SELECT avg(person_id IS NOT NULL) FROM sale"), 0.5,
                0.95, "share of sales with a person");
    CHECK(COUNT(db, "SELECT count(*) FROM sale WHERE project_id IS NOT NULL") >
              0,
          "no sale belongs to a project");
    CHECK(COUNT(db, "SELECT count(*) FROM sale WHERE amount <= 0") == 0,
          "sales without an amount");
}

static void test_consents(sqlite3 *db)
{
    CHECK_INT(COUNT(db, "SELECT count(DISTINCT l.key) FROM consentperson c"
                        " JOIN consentpurpose u USING (consentpurpose_id)"
                        " JOIN legalbase l USING (legalbase_id)"
                        " WHERE u.key = 'STORE' AND l.key IN ('CONSENT',"
                        " 'LEGITIMATE_INTEREST', 'CONTRACT')"),
              3, "legal bases for STORE among the three expected");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM consentperson c"
                        " JOIN consentpurpose u USING (consentpurpose_id)"
                        " JOIN legalbase l USING (legalbase_id)"
                        " WHERE u.key = 'EMARKETING'"
                        " AND l.key NOT IN ('CONSENT', 'WITHDRAWN')"),
              0, "EMARKETING consents with another legal basis");
    double withdrawn =
        NUMBER(db, "SELECT avg(l.key = 'WITHDRAWN') FROM consentperson c"
                   " JOIN consentpurpose u USING (consentpurpose_id)"
                   " JOIN legalbase l USING (legalbase_id)"
                   " WHERE u.key = 'EMARKETING'");
    CHECK_RANGE(withdrawn, 0.1, 0.35, "withdrawn share of EMARKETING");
    static const char withdrawn_blocked[] =
        "SELECT count(*) FROM person p WHERE blockEmarketing = %d AND EXISTS"
        " (SELECT 1 FROM consentperson c"
        " JOIN consentpurpose u USING (consentpurpose_id)"
        " JOIN legalbase l USING (legalbase_id)"
        " WHERE c.person_id = p.person_id AND u.key = 'EMARKETING'"
        " AND l.key = 'WITHDRAWN')";
    char sql[512];
    snprintf(sql, sizeof sql, withdrawn_blocked, 1);
    long long blocked = COUNT(db, sql);
    snprintf(sql, sizeof sql, withdrawn_blocked, 0);
    long long unblocked = COUNT(db, sql);
    CHECK(blocked > 0, "no withdrawn person is blocked yet");
    CHECK(unblocked > blocked,
          "withdrawn: %lld blocked, %lld not; expected most not blocked",
          blocked, unblocked);
    CHECK_INT(COUNT(db, "SELECT count(DISTINCT consentsource_id)"
                        " FROM consentperson"),
              3, "consent sources in use");
    CHECK_RANGE(NUMBER(db, "SELECT avg(NOT EXISTS (SELECT 1"
                           " FROM consentperson c"
                           " WHERE c.person_id = p.person_id))"
                           " FROM person p"),
                0.05, 0.3, "share of persons without consents");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM consentperson c"
                        " JOIN person p USING (person_id)"
                        " WHERE c.registered < p.registered"),
              0, "consents registered before their person");
}

static void test_selections(sqlite3 *db)
{
    CHECK_INT(COUNT(db, "SELECT count(DISTINCT kind) FROM selection"), 3,
              "selection kinds (static, dynamic, combined)");
    CHECK(COUNT(db, "SELECT count(*) FROM selection s WHERE kind = 0"
                    " AND EXISTS (SELECT 1 FROM selectionmember m"
                    " WHERE m.selection_id = s.selection_id)") >= 1,
          "no static selection has members");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM selectionmember m"
                        " JOIN selection s USING (selection_id)"
                        " WHERE s.kind <> 0"),
              0, "members of selections that are not static");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM selection"
                        " WHERE kind = 1 AND criteria IS NULL"),
              0, "dynamic selections without criteria");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM selection WHERE kind = 2"
                        " AND (left_id IS NULL OR right_id IS NULL"
                        " OR operation IS NULL)"),
              0, "combined selections without operands");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM (SELECT 1 FROM selectionmember"
                        " GROUP BY selection_id, contact_id, person_id"
                        " HAVING count(*) > 1)"),
              0, "duplicate selection members");
}

/* ==== Fixed cases for the retention policy =========================== */

/* A user whose person is a private Prospect registered 6+ years back with
 * no activity, sale or e-marketing consent. */
static const char dormant_user[] =
    "SELECT count(*) FROM associate u JOIN person p USING (person_id)"
    " JOIN category g ON g.category_id = p.category_idx"
    " WHERE p.contact_id IS NULL AND g.name = 'Prospect'"
    " AND p.registered <= datetime(" ANCHOR ", '-6 years')"
    " AND NOT EXISTS (SELECT 1 FROM appointment a"
    " WHERE a.person_id = p.person_id)"
    " AND NOT EXISTS (SELECT 1 FROM sale s WHERE s.person_id = p.person_id)"
    " AND NOT EXISTS (SELECT 1 FROM consentperson c"
    " JOIN consentpurpose u USING (consentpurpose_id)"
    " WHERE c.person_id = p.person_id AND u.key = 'EMARKETING')";

/* A user at a Lost customer company registered 7+ years back whose
 * activities and sales (its own and its persons') are all 6+ years old. */
static const char lost_customer_user[] =
    "SELECT count(*) FROM associate u JOIN person p USING (person_id)"
    " JOIN contact c ON c.contact_id = p.contact_id"
    " JOIN category g ON g.category_id = c.category_idx"
    " WHERE g.name = 'Lost customer'"
    " AND c.registered <= datetime(" ANCHOR ", '-7 years')"
    " AND NOT EXISTS (SELECT 1 FROM appointment a"
    " LEFT JOIN person q ON q.person_id = a.person_id"
    " WHERE (a.contact_id = c.contact_id OR q.contact_id = c.contact_id)"
    " AND a.activeDate > datetime(" ANCHOR ", '-6 years'))"
    " AND NOT EXISTS (SELECT 1 FROM sale s"
    " LEFT JOIN person q ON q.person_id = s.person_id"
    " WHERE (s.contact_id = c.contact_id OR q.contact_id = c.contact_id)"
    " AND s.saledate > datetime(" ANCHOR ", '-6 years'))";

/* A Prospect registered over 3 years back, with no activity in 3 years and
 * no e-marketing consent, who is not a user. */
static const char stale_prospect[] =
    "SELECT count(*) FROM person p"
    " JOIN category g ON g.category_id = p.category_idx"
    " WHERE g.name = 'Prospect'"
    " AND p.registered < datetime(" ANCHOR ", '-3 years')"
    " AND NOT EXISTS (SELECT 1 FROM associate u"
    " WHERE u.person_id = p.person_id)"
    " AND NOT EXISTS (SELECT 1 FROM appointment a"
    " WHERE a.person_id = p.person_id"
    " AND a.activeDate > datetime(" ANCHOR ", '-3 years'))"
    " AND NOT EXISTS (SELECT 1 FROM consentperson c"
    " JOIN consentpurpose u USING (consentpurpose_id)"
    " WHERE c.person_id = p.person_id AND u.key = 'EMARKETING')";

/* A Lost customer company registered over 5 years back with no activity
 * or sale in 5 years and no user among its persons. */
static const char lost_customer_without_users[] =
    "SELECT count(*) FROM contact c"
    " JOIN category g ON g.category_id = c.category_idx"
    " WHERE g.name = 'Lost customer'"
    " AND c.registered < datetime(" ANCHOR ", '-5 years')"
    " AND NOT EXISTS (SELECT 1 FROM appointment a"
    " LEFT JOIN person q ON q.person_id = a.person_id"
    " WHERE (a.contact_id = c.contact_id OR q.contact_id = c.contact_id)"
    " AND a.activeDate > datetime(" ANCHOR ", '-5 years'))"
    " AND NOT EXISTS (SELECT 1 FROM sale s"
    " LEFT JOIN person q ON q.person_id = s.person_id"
    " WHERE (s.contact_id = c.contact_id OR q.contact_id = c.contact_id)"
    " AND s.saledate > datetime(" ANCHOR ", '-5 years'))"
    " AND NOT EXISTS (SELECT 1 FROM associate u"
    " JOIN person q USING (person_id) WHERE q.contact_id = c.contact_id)";

/* A person with a withdrawn e-marketing consent who is not yet blocked. */
static const char withdrawn_unblocked[] =
    "SELECT count(*) FROM person p WHERE p.blockEmarketing = 0"
    " AND EXISTS (SELECT 1 FROM consentperson c"
    " JOIN consentpurpose u USING (consentpurpose_id)"
    " JOIN legalbase l USING (legalbase_id)"
    " WHERE c.person_id = p.person_id AND u.key = 'EMARKETING'"
    " AND l.key = 'WITHDRAWN')";

/* Most users belong to one Partner company, the users' own. */
static const char users_in_own_company[] =
    "SELECT count(*) FROM (SELECT c.contact_id, count(*) AS users"
    " FROM associate u JOIN person p USING (person_id)"
    " JOIN contact c ON c.contact_id = p.contact_id"
    " JOIN category g ON g.category_id = c.category_idx"
    " WHERE g.name = 'Partner' GROUP BY c.contact_id)"
    " WHERE users * 2 > (SELECT count(*) FROM associate)";

static void check_fixed_cases(sqlite3 *db, long persons, uint64_t seed)
{
    CHECK(COUNT(db, "SELECT count(*) FROM associate") >= 5,
          "%ld persons, seed %llu: fewer than 5 users", persons,
          (unsigned long long)seed);
    CHECK(COUNT(db, users_in_own_company) == 1,
          "%ld persons, seed %llu: most users are not in one Partner company",
          persons, (unsigned long long)seed);
    CHECK(COUNT(db, dormant_user) >= 1,
          "%ld persons, seed %llu: no dormant private Prospect user", persons,
          (unsigned long long)seed);
    CHECK(COUNT(db, lost_customer_user) >= 1,
          "%ld persons, seed %llu: no user at a long-lost customer", persons,
          (unsigned long long)seed);
    CHECK(COUNT(db, stale_prospect) >= 1,
          "%ld persons, seed %llu: no stale Prospect who is not a user",
          persons, (unsigned long long)seed);
    CHECK(COUNT(db, lost_customer_without_users) >= 1,
          "%ld persons, seed %llu: no lost customer quiet for 5 years"
          " without users",
          persons, (unsigned long long)seed);
    CHECK(COUNT(db, withdrawn_unblocked) >= 1,
          "%ld persons, seed %llu: no withdrawn consent without a block",
          persons, (unsigned long long)seed);
}

static void test_fixed_cases_small(void)
{
    static const long sizes[] = {50, 51, 120};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            struct database database;
            if (create_sample(&database, sizes[i], seed, ANCHOR_TIME))
                return;
            check_fixed_cases(database.db, sizes[i], seed);
            close_database(&database);
        }
    }
}

/* ==== Sizes, settings, errors ======================================== */

static void test_small_sizes(void)
{
    static const long sizes[] = {1, 2, 5, 9, 10, 11, 23, 49};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct database database;
        if (create_sample(&database, sizes[i], 3, ANCHOR_TIME))
            return;
        sqlite3 *db = database.db;
        CHECK(COUNT(db, "SELECT count(*) FROM person") == sizes[i],
              "%ld persons requested, %lld made", sizes[i],
              COUNT(db, "SELECT count(*) FROM person"));
        CHECK(COUNT(db, "SELECT count(*) FROM pragma_foreign_key_check") == 0,
              "%ld persons: foreign key violations", sizes[i]);
        long long users = COUNT(db, "SELECT count(*) FROM associate");
        CHECK(users >= 1, "%ld persons: no user", sizes[i]);
        if (sizes[i] >= SAMPLE_FIXED_CASES_MINIMUM)
            check_fixed_cases(db, sizes[i], 3);
        close_database(&database);
    }
}

/* The connection's settings are the same after a run as before it. */
static void test_settings_restored(void)
{
    struct database database;
    if (open_database(&database, 1))
        return;
    sqlite3 *db = database.db;
    sqlite3_exec(db,
                 "PRAGMA synchronous = FULL; PRAGMA cache_size = -3000;"
                 " PRAGMA foreign_keys = ON;",
                 NULL, NULL, NULL);
    char message[512];
    CHECK_INT(generate(db, 300, 1, ANCHOR_TIME, message, sizeof message), 0,
              "generating 300 persons");
    CHECK_INT(COUNT(db, "PRAGMA synchronous"), 2, "synchronous after a run");
    CHECK_INT(COUNT(db, "PRAGMA cache_size"), -3000, "cache_size after a run");
    CHECK_INT(COUNT(db, "PRAGMA foreign_keys"), 1, "foreign_keys after a run");
    CHECK_INT(sqlite3_get_autocommit(db), 1, "no transaction left open");
    close_database(&database);
}

/* Indexes, triggers and full-text indexes work as the schema made them. */
static void test_schema_after_run(void)
{
    struct database database;
    if (open_database(&database, 1))
        return;
    sqlite3 *db = database.db;
    static const char objects[] =
        "SELECT group_concat(type || ' ' || name || ' ' || sql, ';')"
        " FROM (SELECT * FROM sqlite_schema"
        " WHERE type IN ('index', 'trigger') ORDER BY name)";
    char *before = query_text(db, objects);
    char message[512];
    CHECK_INT(generate(db, 400, 5, ANCHOR_TIME, message, sizeof message), 0,
              "generating 400 persons");
    char *after = query_text(db, objects);
    CHECK(before != NULL, "indexes and triggers not read before the run");
    CHECK(after != NULL, "indexes and triggers not read after the run");
    CHECK(before && after && strcmp(before, after) == 0,
          "indexes and triggers differ after the run");
    sqlite3_free(before);
    sqlite3_free(after);

    CHECK_INT(COUNT(db, "SELECT count(*) FROM appointment_fts"
                        " WHERE appointment_fts MATCH 'offer'"),
              COUNT(db, "SELECT count(*) FROM appointment"
                        " WHERE description LIKE '%offer%'"),
              "activities found through the full-text index");
    CHECK(COUNT(db, "SELECT count(*) FROM document_fts"
                    " WHERE document_fts MATCH 'regards'") > 0,
          "no document found through the full-text index");
    sqlite3_exec(db,
                 "INSERT INTO appointment (type, status, activeDate,"
                 " description, registered) VALUES (2, 3, " ANCHOR
                 ", 'Zyxwvut check', " ANCHOR ")",
                 NULL, NULL, NULL);
    CHECK_INT(COUNT(db, "SELECT count(*) FROM appointment_fts"
                        " WHERE appointment_fts MATCH 'zyxwvut'"),
              1, "a new activity reaches the full-text index");
    CHECK_INT(COUNT(db, "SELECT count(*) FROM pragma_integrity_check"
                        " WHERE integrity_check <> 'ok'"),
              0, "integrity_check problems");
    close_database(&database);
}

static void expect_failure(sqlite3 *db, long persons, time_t anchor,
                           const char *expected_word, int line)
{
    char message[512];
    int status = generate(db, persons, 1, anchor, message, sizeof message);
    check(status == -1, line, "persons %ld: expected failure, got %d", persons,
          status);
    check(strstr(message, expected_word) != NULL, line,
          "message should mention \"%s\": \"%s\"", expected_word, message);
}

static void test_bad_options(void)
{
    struct database database;
    if (open_database(&database, 1))
        return;
    sqlite3 *db = database.db;
    expect_failure(db, 0, ANCHOR_TIME, "persons", __LINE__);
    expect_failure(db, -5, ANCHOR_TIME, "persons", __LINE__);
    expect_failure(db, SAMPLE_MAX_PERSONS + 1, ANCHOR_TIME, "persons",
                   __LINE__);
    expect_failure(db, 100, 0, "anchor", __LINE__);
    CHECK_INT(COUNT(db, "SELECT count(*) FROM person"), 0,
              "persons after rejected options");

    char *err = NULL;
    CHECK_INT(sample_generate(db, NULL, &err), -1, "NULL options");
    CHECK(err != NULL, "NULL options: no message");
    free(err);

    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    expect_failure(db, 100, ANCHOR_TIME, "transaction", __LINE__);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);

    char message[512];
    CHECK_INT(generate(db, 100, 1, ANCHOR_TIME, message, sizeof message), 0,
              "first run");
    expect_failure(db, 100, ANCHOR_TIME, "already", __LINE__);
    CHECK_INT(COUNT(db, "SELECT count(*) FROM person"), 100,
              "persons after a rejected second run");
    close_database(&database);

    if (open_database(&database, 0))
        return;
    expect_failure(database.db, 100, ANCHOR_TIME, "schema", __LINE__);
    close_database(&database);
}

/* With progress on, standard error gets one line that ends in "done". */
static void test_progress_line(void)
{
    struct database database;
    if (open_database(&database, 1))
        return;
    char path[300];
    snprintf(path, sizeof path, "%s-stderr", database.path);
    fflush(stderr);
    int saved = dup(2);
    FILE *capture = fopen(path, "w+");
    if (!capture || saved < 0) {
        CHECK(0, "cannot capture standard error in %s", path);
        close_database(&database);
        return;
    }
    dup2(fileno(capture), 2);
    struct sample_options options = {500, 1, ANCHOR_TIME, 1};
    char *err = NULL;
    int status = sample_generate(database.db, &options, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static char output[65536];
    rewind(capture);
    size_t length = fread(output, 1, sizeof output - 1, capture);
    output[length] = '\0';
    fclose(capture);
    unlink(path);
    CHECK_INT(status, 0, "generating with progress");
    CHECK(strchr(output, '\r') != NULL, "progress line has no carriage return");
    CHECK(strstr(output, "500 of 500 persons") != NULL,
          "progress line lacks the final count: %s", output);
    CHECK(length > 0 && output[length - 1] == '\n',
          "progress output does not end in a newline");
    CHECK(strchr(output, '\n') == output + length - 1,
          "progress output has a newline before its end");
    free(err);
    close_database(&database);
}

int main(void)
{
    test_same_seed_same_rows();

    struct database main_set;
    if (create_sample(&main_set, PERSONS, 42, ANCHOR_TIME) == 0) {
        test_row_counts(main_set.db);
        test_contact_details(main_set.db);
        test_integrity(main_set.db);
        test_dates(main_set.db);
        test_categories(main_set.db);
        test_names(main_set.db);
        test_free_text_names(main_set.db);
        test_activity_shape(main_set.db);
        test_sales(main_set.db);
        test_consents(main_set.db);
        test_selections(main_set.db);
        check_fixed_cases(main_set.db, PERSONS, 42);
        close_database(&main_set);
    }

    test_fixed_cases_small();
    test_small_sizes();
    test_settings_restored();
    test_schema_after_run();
    test_bad_options();
    test_progress_line();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
