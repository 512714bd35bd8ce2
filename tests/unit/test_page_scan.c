/*
 * test_page_scan.c: page_scan on real SQLite files. Each case plants
 * canary values and counts their raw copies in the file with a plain
 * search, the independent reference. Then it checks which copies
 * page_scan counts as residues. A value with a copy inside a live record
 * (a cell, an overflow chain) counts none. Each copy on freelist pages,
 * in free space, past the database's end or in SQLite's own tables
 * counts.
 */
#include "page_scan.h"

#include "checks.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The plain count of bytes[0, length) in the file: the reference. */
static long raw_count_bytes(const char *path, const char *text, size_t length)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return -1;
    size_t size = 0, capacity = 1 << 16;
    char *data = malloc(capacity);
    size_t got;
    while ((got = fread(data + size, 1, capacity - size, file)) > 0) {
        size += got;
        if (size == capacity)
            data = realloc(data, capacity *= 2);
    }
    fclose(file);
    long count = 0;
    for (size_t at = 0; at + length <= size; at++)
        if (memcmp(data + at, text, length) == 0)
            count++;
    free(data);
    return count;
}

static long raw_count(const char *path, const char *text)
{
    return raw_count_bytes(path, text, strlen(text));
}

/* page_scan's residues of `texts`, with `threads` threads and the roots
 * of SQLite's own tables `roots`. Returns the status; counts[i] gets the
 * residues of texts[i]. */
static int residues_with_roots(const char *path, const char *const *texts,
                               size_t count, const uint32_t *roots,
                               size_t root_count, int threads, long *counts)
{
    struct scan_needle needles[8];
    for (size_t i = 0; i < count; i++)
        needles[i] = (struct scan_needle){texts[i], strlen(texts[i]), -1};
    char *err = NULL;
    int status = page_scan(path, needles, count, roots, root_count, threads, &err);
    if (err)
        fprintf(stderr, "page_scan: %s\n", err);
    free(err);
    for (size_t i = 0; i < count; i++)
        counts[i] = needles[i].count;
    return status;
}

static int residues(const char *path, const char *const *texts, size_t count,
                    int threads, long *counts)
{
    return residues_with_roots(path, texts, count, NULL, 0, threads, counts);
}

/* Filler rows of `rows` texts of 200 bytes, to make many pages. */
static void add_filler(sqlite3 *db, int rows)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
             "WHERE i < %d) INSERT INTO filler SELECT i, printf('%%0200d', "
             "i) FROM n",
             rows);
    exec_or_exit(db, "CREATE TABLE IF NOT EXISTS filler (id INTEGER "
                     "PRIMARY KEY, text TEXT)");
    exec_or_exit(db, sql);
}

/* A long value: 20,000 bytes of '-' with `canary` near its end, so that
 * it lies on the last overflow page of the chain. */
static char *long_value(const char *canary)
{
    size_t length = 20000;
    char *value = malloc(length + 1);
    memset(value, '-', length);
    value[length] = '\0';
    memcpy(value + length - 100, canary, strlen(canary));
    return value;
}

static void insert_text(sqlite3 *db, const char *table, const char *text)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO %s (text) VALUES (?1)", table);
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK ||
        sqlite3_bind_text(statement, 1, text, -1, SQLITE_TRANSIENT) !=
            SQLITE_OK ||
        sqlite3_step(statement) != SQLITE_DONE) {
        fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_finalize(statement);
}

/* Live values, in a cell and at the end of an overflow chain, are not
 * residues, nor is a value with one live copy and one deleted. SQLite
 * leaves old copies of live cells behind when it moves them, so a value
 * that a live record contains is not counted. Every copy of a deleted
 * value is a residue: a deleted row's text in a page's free space, a
 * deleted long value on freelist pages, a deleted short value whose page
 * went to the freelist. Read with one thread and with three. */
static void test_live_and_residues(void)
{
    char path[] = "/tmp/lethe-test-page-scan-XXXXXX";
    sqlite3 *db = new_database(path, 0);
    exec_or_exit(db, "CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)");
    add_filler(db, 20000);
    char *live_long = long_value("Canary Overflow Live");
    char *gone_long = long_value("Canary Overflow Gone");
    insert_text(db, "note", "Canary Cell Live");
    insert_text(db, "note", live_long);
    insert_text(db, "note", gone_long);
    insert_text(db, "note", "Canary Free Space");
    insert_text(db, "note", "Canary Shared");
    insert_text(db, "note", "Canary Shared");
    insert_text(db, "note", "keeps the page in use");
    exec_or_exit(db, "DELETE FROM note WHERE text = 'Canary Free Space' OR "
                     "length(text) = 20000 AND instr(text, 'Gone') > 0 OR "
                     "rowid = (SELECT max(rowid) FROM note WHERE text = "
                     "'Canary Shared')");
    /* A page of filler emptied: its rows' text goes to the freelist. */
    insert_text(db, "filler", "Canary Freed Page");
    exec_or_exit(db, "DELETE FROM filler WHERE id > 19900");
    sqlite3_close(db);
    free(live_long);
    free(gone_long);

    enum { TEXTS = 7 };
    const char *texts[TEXTS] = {"Canary Cell Live", "Canary Overflow Live",
                                "Canary Shared", "Canary Overflow Gone",
                                "Canary Free Space", "Canary Freed Page",
                                "Canary Never Written"};
    int live[TEXTS] = {1, 1, 1, 0, 0, 0, 0};
    long reference[TEXTS];
    for (int i = 0; i < TEXTS; i++) {
        reference[i] = raw_count(path, texts[i]);
        check_value(texts[i], reference[i] > 0, i < TEXTS - 1, __LINE__);
    }
    for (int threads = 1; threads <= 3; threads += 2) {
        long counts[TEXTS];
        check_value("status", residues(path, texts, TEXTS, threads, counts),
                    1, __LINE__);
        for (int i = 0; i < TEXTS; i++)
            check_value(texts[i], counts[i], live[i] ? 0 : reference[i],
                        __LINE__);
    }
    remove(path);
}

/* With secure_delete on, the same deletions leave no copy: the raw
 * search and page_scan agree. */
static void test_secure_delete(void)
{
    char path[] = "/tmp/lethe-test-page-scan-XXXXXX";
    sqlite3 *db = new_database(path, 1);
    exec_or_exit(db, "CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)");
    char *gone_long = long_value("Canary Overflow Gone");
    insert_text(db, "note", gone_long);
    insert_text(db, "note", "Canary Free Space");
    insert_text(db, "note", "keeps the page in use");
    exec_or_exit(db, "DELETE FROM note WHERE text <> 'keeps the page in use'");
    sqlite3_close(db);
    free(gone_long);
    const char *texts[] = {"Canary Overflow Gone", "Canary Free Space"};
    long counts[2];
    check_value("status", residues(path, texts, 2, 2, counts), 1, __LINE__);
    for (int i = 0; i < 2; i++) {
        check_value(texts[i], raw_count(path, texts[i]), 0, __LINE__);
        check_value(texts[i], counts[i], 0, __LINE__);
    }
    remove(path);
}

/* A page after the database's last page is no page of it, even one that
 * looks like a b-tree page: here a copy of a leaf page from before its
 * row was deleted. */
static void test_past_the_end(void)
{
    char path[] = "/tmp/lethe-test-page-scan-XXXXXX";
    sqlite3 *db = new_database(path, 1);
    exec_or_exit(db, "PRAGMA page_size = 4096;"
                     "CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT);"
                     "INSERT INTO note (text) VALUES ('Canary Tail');");
    FILE *file = fopen(path, "rb");
    static char leaf[4096];
    if (!file || fseek(file, 4096, SEEK_SET) != 0 ||
        fread(leaf, 1, sizeof leaf, file) != sizeof leaf) {
        fprintf(stderr, "fixture: cannot read page 2 of %s\n", path);
        exit(1);
    }
    fclose(file);
    exec_or_exit(db, "DELETE FROM note");
    sqlite3_close(db);
    file = fopen(path, "ab");
    fwrite(leaf, 1, sizeof leaf, file);
    fclose(file);
    const char *texts[] = {"Canary Tail"};
    long counts[1];
    check_value("raw copies", raw_count(path, texts[0]), 1, __LINE__);
    check_value("status", residues(path, texts, 1, 1, counts), 1, __LINE__);
    check_value("copy past the end", counts[0], 1, __LINE__);
    remove(path);
}

/* The records of SQLite's own tables are no live copies: a value in the
 * SQL of a view counts, and so does one in a table whose root is passed
 * as one of SQLite's own (as sqlite_stat4 would be). */
static void test_internal_tables(void)
{
    char path[] = "/tmp/lethe-test-page-scan-XXXXXX";
    sqlite3 *db = new_database(path, 1);
    exec_or_exit(db, "CREATE TABLE stats (sample TEXT);"
                     "INSERT INTO stats VALUES ('Canary In Stats');"
                     "CREATE TABLE note (text TEXT);"
                     "INSERT INTO note VALUES ('Canary Live Note');"
                     "CREATE VIEW watched AS SELECT * FROM note WHERE "
                     "text = 'Canary In Schema';");
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema WHERE "
                               "name = 'stats'", -1, &statement,
                           NULL) != SQLITE_OK ||
        sqlite3_step(statement) != SQLITE_ROW) {
        fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    uint32_t root = (uint32_t)sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);

    const char *texts[] = {"Canary In Schema", "Canary In Stats",
                           "Canary Live Note"};
    for (int i = 0; i < 3; i++)
        check_value(texts[i], raw_count(path, texts[i]), 1, __LINE__);
    long counts[3];
    check_value("status", residues_with_roots(path, texts, 3, &root, 1, 2,
                                              counts),
                1, __LINE__);
    check_value("value in the schema", counts[0], 1, __LINE__);
    check_value("value in an own table", counts[1], 1, __LINE__);
    check_value("value in a user table", counts[2], 0, __LINE__);
    check_value("status", residues(path, texts, 3, 1, counts), 1, __LINE__);
    check_value("the same table as a user table", counts[1], 0, __LINE__);
    remove(path);
}

/* A database that stores text in UTF-16 is read like any other, with
 * needles in its encoding. */
static void test_utf16(void)
{
    for (int big_endian = 0; big_endian < 2; big_endian++) {
        char path[] = "/tmp/lethe-test-page-scan-XXXXXX";
        sqlite3 *db = new_database(path, 0);
        exec_or_exit(db, big_endian ? "PRAGMA encoding = 'UTF-16be';"
                                    : "PRAGMA encoding = 'UTF-16le';");
        exec_or_exit(db, "CREATE TABLE note (text TEXT);"
                         "INSERT INTO note VALUES ('Live Canary'), "
                         "('Gone Canary');"
                         "DELETE FROM note WHERE text = 'Gone Canary';");
        sqlite3_close(db);
        char live[32], gone[32];
        struct scan_needle needles[] = {
            {live, ascii_to_utf16("Live Canary", big_endian, live), 0},
            {gone, ascii_to_utf16("Gone Canary", big_endian, gone), 0},
        };
        long deleted = raw_count_bytes(path, gone, needles[1].length);
        check_value("UTF-16 fixture has the deleted text", deleted, 1,
                    __LINE__);
        char *err = NULL;
        check_value("UTF-16 status",
                    page_scan(path, needles, 2, NULL, 0, 1, &err), 1,
                    __LINE__);
        free(err);
        check_value("UTF-16 live text", needles[0].count, 0, __LINE__);
        check_value("UTF-16 text in free space", needles[1].count, deleted,
                    __LINE__);
        remove(path);
    }
}

/* Files that page_scan does not read return 0, a missing one -1. */
static void test_other_files(void)
{
    const char *texts[] = {"Canary"};
    long counts[1];
    char path[] = "/tmp/lethe-test-page-scan-XXXXXX";
    new_file(path);
    FILE *file = fopen(path, "wb");
    fputs("not a database, but it mentions a Canary", file);
    fclose(file);
    check_value("not a database", residues(path, texts, 1, 1, counts), 0,
                __LINE__);
    remove(path);
    struct scan_needle needle = {"Canary", 6, 0};
    char *err = NULL;
    check_value("missing file", page_scan(path, &needle, 1, NULL, 0, 1, &err), -1,
                __LINE__);
    check_value("message names the file",
                err != NULL && strstr(err, path) != NULL, 1, __LINE__);
    free(err);
}

int main(void)
{
    test_live_and_residues();
    test_secure_delete();
    test_past_the_end();
    test_internal_tables();
    test_utf16();
    test_other_files();
    return check_summary();
}
