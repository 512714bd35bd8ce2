/*
 * test_erasure_scan.c: erasure_scan on real SQLite files. It checks the
 * residues counted when the database file is read page by page, the same
 * when a WAL with content makes it search the rows instead, and the
 * errors of the file search and of the row search.
 */
#include "erasure_scan.h"

#include "checks.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text encoding of a fixture, as PRAGMA encoding names it. */
enum encoding { UTF8, UTF16LE, UTF16BE };
static const char *const encoding_names[] = {"UTF-8", "UTF-16le",
                                             "UTF-16be"};

/* A needle for the ASCII `text` in `encoding`; a UTF-16 form goes to
 * `buffer`, which must hold twice the length of text. */
static struct scan_needle needle_in(const char *text, enum encoding encoding,
                                    char *buffer)
{
    if (encoding == UTF8)
        return (struct scan_needle){text, strlen(text), 0};
    size_t length = ascii_to_utf16(text, encoding == UTF16BE, buffer);
    return (struct scan_needle){buffer, length, 0};
}

static struct scan_needle needle(const char *text)
{
    return needle_in(text, UTF8, NULL);
}

/* A database file with one live row whose adjacent columns spell
 * "Storgatan 166" and a text that contains "Jesper Lund". In WAL mode
 * with `wal` set, the rows stay in the WAL, which also keeps the old
 * value "Erased Person" of a row that was deleted. */
static sqlite3 *open_fixture_in(char *path, int wal, enum encoding encoding)
{
    sqlite3 *db = new_database(path, 0);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA encoding = '%s';",
             encoding_names[encoding]);
    exec_or_exit(db, pragma);
    if (wal)
        exec_or_exit(db, "PRAGMA journal_mode = WAL;"
                         "PRAGMA wal_autocheckpoint = 0;");
    exec_or_exit(db, "CREATE TABLE address (street TEXT, zip TEXT, "
                     "note TEXT);"
                     "INSERT INTO address VALUES ('Storgatan', ' 16698', "
                     "'call Jesper Lund first');"
                     "INSERT INTO address VALUES ('x', 'y', "
                     "'Erased Person');"
                     "DELETE FROM address WHERE street = 'x';");
    return db;
}

static sqlite3 *open_fixture(char *path, int wal)
{
    return open_fixture_in(path, wal, UTF8);
}

static void remove_fixture(sqlite3 *db, const char *path)
{
    char other[4096];
    sqlite3_close(db);
    remove(path);
    snprintf(other, sizeof other, "%s-wal", path);
    remove(other);
    snprintf(other, sizeof other, "%s-shm", path);
    remove(other);
}

/* Count the residues of three values, in the fixture's `encoding`, in
 * the database file (counts[0, 3)) and in its WAL (counts[3, 6)), and
 * check that the search works. */
static void scan_three_in(sqlite3 *db, const char *path,
                          enum encoding encoding, long *counts)
{
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", path);
    const char *files[] = {path, wal};
    const char *sqls[] = {"SELECT street, zip, note FROM address"};
    char forms[3][32];
    struct scan_needle values[] = {
        /* inside a live text */
        needle_in("Jesper Lund", encoding, forms[0]),
        /* across adjacent live columns */
        needle_in("Storgatan 166", encoding, forms[1]),
        /* only in the WAL's old frames */
        needle_in("Erased Person", encoding, forms[2]),
    };
    char *err = NULL;
    int status = erasure_scan(db, files, 2, sqls, 1, values, 3, counts, &err);
    check_value("status", status, 0, __LINE__);
    check_value("no message", err == NULL, 1, __LINE__);
    free(err);
    check_value("values' counts unchanged", values[0].count, 0, __LINE__);
}

static void scan_three(sqlite3 *db, const char *path, long *counts)
{
    scan_three_in(db, path, UTF8, counts);
}

/* No WAL: the file is read page by page. */
static void test_pages(void)
{
    char path[] = "/tmp/lethe-test-erasure-scan-XXXXXX";
    sqlite3 *db = open_fixture(path, 0);
    long counts[6];
    scan_three(db, path, counts);
    check_value("text in a live record", counts[0], 0, __LINE__);
    check_value("columns of a live record", counts[1], 0, __LINE__);
    /* The deleted row left its text in the page's free space. */
    check_value("old text in free space", counts[2], 1, __LINE__);
    for (int i = 3; i < 6; i++)
        check_value("missing WAL counts zero", counts[i], 0, __LINE__);
    remove_fixture(db, path);
}

/* A WAL with content: the rows are searched. */
static void test_rows(void)
{
    char path[] = "/tmp/lethe-test-erasure-scan-XXXXXX";
    sqlite3 *db = open_fixture(path, 1);
    long counts[6];
    scan_three(db, path, counts);
    check_value("text of a live row", counts[0] + counts[3], 0, __LINE__);
    check_value("columns of a live row", counts[1] + counts[4], 0,
                __LINE__);
    check_value("old text in the WAL", counts[5] > 0, 1, __LINE__);
    check_value("main file has no rows yet", counts[2], 0, __LINE__);
    remove_fixture(db, path);
}

/* A database that stores text in UTF-16, searched for UTF-16 values:
 * page by page in little-endian, by rows in big-endian, where the
 * records of the live rows must also be built in UTF-16. */
static void test_utf16(void)
{
    char path[] = "/tmp/lethe-test-erasure-scan-XXXXXX";
    sqlite3 *db = open_fixture_in(path, 0, UTF16LE);
    long counts[6];
    scan_three_in(db, path, UTF16LE, counts);
    check_value("UTF-16 pages: text in a live record", counts[0], 0,
                __LINE__);
    check_value("UTF-16 pages: columns of a live record", counts[1], 0,
                __LINE__);
    check_value("UTF-16 pages: old text in free space", counts[2], 1,
                __LINE__);
    remove_fixture(db, path);

    char wal_path[] = "/tmp/lethe-test-erasure-scan-XXXXXX";
    db = open_fixture_in(wal_path, 1, UTF16BE);
    scan_three_in(db, wal_path, UTF16BE, counts);
    check_value("UTF-16 rows: text of a live row", counts[0] + counts[3], 0,
                __LINE__);
    check_value("UTF-16 rows: columns of a live row", counts[1] + counts[4],
                0, __LINE__);
    check_value("UTF-16 rows: old text in the WAL", counts[5] > 0, 1,
                __LINE__);
    remove_fixture(db, wal_path);
}

/* A value in a statistics table that SQLite keeps (sqlite_stat4, made
 * here by renaming a table, because Debian's SQLite has no STAT4) is no
 * live copy: it counts as a residue. */
static void test_statistics(void)
{
    char path[] = "/tmp/lethe-test-erasure-scan-XXXXXX";
    sqlite3 *db = new_database(path, 1);
    exec_or_exit(db, "CREATE TABLE x (tbl, idx, neq, nlt, ndlt, sample);"
                     "INSERT INTO x VALUES ('t', 'i', '1', '1', '1', "
                     "'Canary In Stat4');"
                     "PRAGMA writable_schema = ON;"
                     "UPDATE sqlite_schema SET name = 'sqlite_stat4', "
                     "tbl_name = 'sqlite_stat4', sql = 'CREATE TABLE "
                     "sqlite_stat4(tbl, idx, neq, nlt, ndlt, sample)' "
                     "WHERE name = 'x';"
                     "PRAGMA writable_schema = OFF;");
    sqlite3_close(db);
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "fixture: cannot open %s\n", path);
        exit(1);
    }
    const char *files[] = {path};
    const char *sqls[] = {"SELECT sample FROM sqlite_stat4"};
    struct scan_needle values[] = {needle("Canary In Stat4")};
    long counts[1];
    char *err = NULL;
    check_value("status", erasure_scan(db, files, 1, sqls, 1, values, 1,
                                       counts, &err),
                0, __LINE__);
    check_value("no message", err == NULL, 1, __LINE__);
    free(err);
    check_value("value in sqlite_stat4", counts[0], 1, __LINE__);
    remove_fixture(db, path);
}

/* Run erasure_scan for one value on `files` and `sql`, and check that it
 * fails with a message that contains `expected`. */
static void check_failure(const char *what, sqlite3 *db,
                          const char *const *files, const char *sql,
                          const char *expected, int line)
{
    const char *sqls[] = {sql};
    struct scan_needle values[] = {needle("Jesper Lund")};
    long counts[2];
    char *err = NULL;
    int status = erasure_scan(db, files, 2, sqls, 1, values, 1, counts,
                              &err);
    check_value(what, status, -1, line);
    check_value(what, err != NULL && strstr(err, expected) != NULL, 1, line);
    free(err);
}

static void test_failures(void)
{
    char path[] = "/tmp/lethe-test-erasure-scan-XXXXXX";
    sqlite3 *db = open_fixture(path, 1);
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", path);
    /* A directory opens, but reading it fails. */
    const char *directory[] = {"/", wal};
    check_failure("unreadable file", db, directory,
                  "SELECT street, zip, note FROM address", "cannot read /",
                  __LINE__);
    const char *files[] = {path, wal};
    check_failure("failed query", db, files,
                  "SELECT street FROM no_such_table", "no_such_table",
                  __LINE__);
    remove_fixture(db, path);
}

int main(void)
{
    test_pages();
    test_rows();
    test_utf16();
    test_statistics();
    test_failures();
    return check_summary();
}
