/*
 * test_erasure_scan.c: erasure_scan on a real SQLite file: the counts in
 * the files, which values live rows explain, and the errors of the file
 * search and of the row search.
 */
#include "erasure_scan.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int passed, failed;

static void check_value(const char *what, long actual, long expected,
                        int line)
{
    if (actual == expected) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "%s:%d: %s: expected %ld, got %ld\n", __FILE__, line,
            what, expected, actual);
}

static struct scan_needle needle(const char *text)
{
    struct scan_needle result = {text, strlen(text), 0};
    return result;
}

/* A database file with one live row whose adjacent columns spell
 * "Storgatan 166" and a text that contains "Jesper Lund". */
static sqlite3 *open_fixture(char *path)
{
    int descriptor = mkstemp(path);
    if (descriptor < 0) {
        perror("mkstemp");
        exit(1);
    }
    close(descriptor);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE address (street TEXT, zip TEXT, "
                     "note TEXT);"
                     "INSERT INTO address VALUES ('Storgatan', ' 16698', "
                     "'call Jesper Lund first');",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    return db;
}

static void test_counts_and_live(sqlite3 *db, const char *path)
{
    char missing[4096];
    snprintf(missing, sizeof missing, "%s-wal", path);
    const char *files[] = {path, missing};
    const char *sqls[] = {"SELECT street, zip, note FROM address"};
    struct scan_needle values[] = {
        needle("Jesper Lund"),   /* inside a live text */
        needle("Storgatan 166"), /* across adjacent live columns */
        needle("Erased Person"), /* nowhere */
    };
    long counts[2 * 3];
    unsigned char live[3];
    char *err = NULL;
    int status = erasure_scan(db, files, 2, sqls, 1, values, 3, counts,
                              live, &err);
    check_value("status", status, 0, __LINE__);
    check_value("no message", err == NULL, 1, __LINE__);
    free(err);
    check_value("text in file", counts[0] > 0, 1, __LINE__);
    check_value("columns in file", counts[1] > 0, 1, __LINE__);
    check_value("absent value", counts[2], 0, __LINE__);
    for (int i = 0; i < 3; i++)
        check_value("missing file counts zero", counts[3 + i], 0, __LINE__);
    check_value("text is live", live[0], 1, __LINE__);
    check_value("columns are live", live[1], 1, __LINE__);
    check_value("absent value is not live", live[2], 0, __LINE__);
    check_value("values' counts unchanged", values[0].count, 0, __LINE__);
}

/* Run erasure_scan for one value on `file` and `sql`, and check that it
 * fails with a message that contains `expected`. */
static void check_failure(const char *what, sqlite3 *db, const char *file,
                          const char *sql, const char *expected, int line)
{
    const char *files[] = {file};
    const char *sqls[] = {sql};
    struct scan_needle values[] = {needle("Jesper Lund")};
    long counts[1];
    unsigned char live[1];
    char *err = NULL;
    int status = erasure_scan(db, files, 1, sqls, 1, values, 1, counts,
                              live, &err);
    check_value(what, status, -1, line);
    check_value(what, err != NULL && strstr(err, expected) != NULL, 1, line);
    free(err);
}

static void test_failures(sqlite3 *db, const char *path)
{
    /* A directory opens, but reading it fails. */
    check_failure("unreadable file", db, "/",
                  "SELECT street, zip, note FROM address", "cannot read /",
                  __LINE__);
    check_failure("failed query", db, path,
                  "SELECT street FROM no_such_table", "no_such_table",
                  __LINE__);
}

int main(void)
{
    char path[] = "/tmp/lethe-test-erasure-scan-XXXXXX";
    sqlite3 *db = open_fixture(path);
    test_counts_and_live(db, path);
    test_failures(db, path);
    sqlite3_close(db);
    remove(path);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
