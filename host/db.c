/*
 * db.c: opening and configuring database connections (see db.h).
 */
#include "db.h"

#include "faultvfs.h"
#include "idset.h"
#include "isodate.h"
#include "plugin_sql.h"
#include "schema.h"
#include "sqlfunctions.h"
#include "textfold.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Fail unless foreign keys are on: a build of SQLite without them would
 * let cascades and restrictions silently do nothing. */
static int enable_foreign_keys(sqlite3 *db, const char *path, char **err)
{
    sqlite3_stmt *statement = NULL;
    int enabled = 0;
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) ==
            SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA foreign_keys", -1, &statement,
                           NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        enabled = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    if (!enabled)
        return util_fail(err, "%s: cannot enable foreign keys", path);
    return 0;
}

/* Read the schema once, which is where SQLite notices a file that is not
 * a database or is damaged. */
static int check_readable(sqlite3 *db, const char *path, char **err)
{
    int status = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema",
                              NULL, NULL, NULL);
    if (status == SQLITE_NOTADB)
        return util_fail(err,
                         "%s is not an SQLite database; check the path",
                         path);
    if (status == SQLITE_BUSY || status == SQLITE_LOCKED)
        return util_fail(err,
                         "%s is locked by another program; retry when it "
                         "has finished",
                         path);
    if ((status & 0xff) == SQLITE_CORRUPT)
        return util_fail(err,
                         "cannot read %s: %s; the file is damaged, so "
                         "restore it from a backup (`sqlite3 %s "
                         "'PRAGMA integrity_check'` lists the damage)",
                         path, sqlite3_errmsg(db), path);
    if (status != SQLITE_OK)
        return util_fail(err, "cannot read %s: %s", path,
                         sqlite3_errmsg(db));
    return 0;
}

static int check_mode(const char *path, enum db_mode mode, char **err)
{
    struct stat info;
    int exists = stat(path, &info) == 0;
    if (mode == DB_EXISTING && !exists)
        return util_fail(err,
                         "database %s not found; check the path, or "
                         "create one with `lethe init %s`",
                         path, path);
    if (mode == DB_NEW && exists)
        return util_fail(err,
                         "%s already exists; choose another file name or "
                         "remove it first",
                         path);
    if (exists && !S_ISREG(info.st_mode))
        return util_fail(err, "%s is not a regular file", path);
    return 0;
}

int db_open(const char *path, enum db_mode mode, sqlite3 **out, char **err)
{
    *out = NULL;
    if (check_mode(path, mode, err) != 0 || faultvfs_install(err) != 0)
        return -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW;
    if (mode == DB_NEW)
        flags |= SQLITE_OPEN_CREATE;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        util_fail(err, "cannot open %s: %s", path,
                  db ? sqlite3_errmsg(db) : strerror(ENOMEM));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
    if (check_readable(db, path, err) != 0 ||
        enable_foreign_keys(db, path, err) != 0 ||
        schema_check_version(db, path, err) != 0 ||
        idset_sql_register(db, err) != 0 ||
        sqlfunctions_register(db, err) != 0 ||
        textfold_register(db, err) != 0 || isodate_register(db, err) != 0 ||
        plugin_sql_attach(db, err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void db_close(sqlite3 *db)
{
    /* Statements are finalized by whoever prepared them; the full-text
     * index keeps statements of its own, which only it may finalize. A
     * statement still open here is a leak: sqlite3_close_v2 then closes
     * the connection when that statement is finalized. */
    if (db)
        plugin_sql_detach(db);
    if (db && sqlite3_close(db) != SQLITE_OK)
        sqlite3_close_v2(db);
}

int db_exec(sqlite3 *db, const char *sql, const char *what, char **err)
{
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) == SQLITE_OK)
        return 0;
    util_fail(err, "%s failed: %s", what,
              message ? message : sqlite3_errmsg(db));
    sqlite3_free(message);
    return -1;
}
