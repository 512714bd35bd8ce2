/*
 * checks.h: the check counter and the SQLite fixture helpers that the
 * unit tests of the erasure search share. Each test is one program that
 * includes this header once.
 */
#ifndef LETHE_TEST_CHECKS_H
#define LETHE_TEST_CHECKS_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int passed, failed;

/* Count a check named `label` at `line` of `file`, and print it when it
 * fails. */
static inline void check_at(const char *file, const char *label,
                            long actual, long expected, int line)
{
    if (actual == expected) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "%s:%d: %s: expected %ld, got %ld\n", file, line, label,
            expected, actual);
}

#define check_value(label, actual, expected, line)                          \
    check_at(__FILE__, (label), (actual), (expected), (line))

/* Print the counts and return the program's exit status. */
static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

static inline void exec_or_exit(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
}

/* Create a database at a fresh path made from the template `path`
 * (ending in XXXXXX), with secure_delete on or off as asked: Debian's
 * SQLite turns it on by default. */
/* Create an empty file at a fresh path made from the template `path`
 * (ending in XXXXXX). */
static inline void new_file(char *path)
{
    int descriptor = mkstemp(path);
    if (descriptor < 0) {
        perror("mkstemp");
        exit(1);
    }
    close(descriptor);
}

/* Write the ASCII `text` in UTF-16, big-endian or little-endian, to
 * `out`, which must hold twice its length; returns that length. */
static inline size_t ascii_to_utf16(const char *text, int big_endian,
                                    char *out)
{
    size_t length = strlen(text);
    for (size_t i = 0; i < length; i++) {
        out[2 * i + (big_endian ? 1 : 0)] = text[i];
        out[2 * i + (big_endian ? 0 : 1)] = '\0';
    }
    return 2 * length;
}

static inline sqlite3 *new_database(char *path, int secure_delete)
{
    new_file(path);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "fixture: cannot open %s\n", path);
        exit(1);
    }
    exec_or_exit(db, secure_delete ? "PRAGMA secure_delete = ON"
                                   : "PRAGMA secure_delete = OFF");
    return db;
}

#endif
