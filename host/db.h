/*
 * db.h: opening SQLite databases the way every Lethe command needs them.
 *
 * Every connection has foreign keys enforced, a busy timeout, the
 * lethe_ids table-valued function, the SQL functions of bulk updates
 * (sqlfunctions.h), lethe_fold (textfold.h), lethe_epoch (isodate.h) and
 * the functions that call plugins (plugin_sql.h).
 */
#ifndef LETHE_DB_H
#define LETHE_DB_H

#include <sqlite3.h>

enum db_mode {
    DB_EXISTING, /* the file must exist and be an SQLite database */
    DB_NEW       /* the file must not exist; it is created */
};

/* Milliseconds a statement waits for another writer before failing. */
#define DB_BUSY_TIMEOUT_MS 5000

/* Open `path`. On failure *out is NULL and *err names the file and says
 * what to do. The caller closes the handle with db_close(). */
int db_open(const char *path, enum db_mode mode, sqlite3 **out, char **err);

/* Close `db`. Every statement must be finalized first. NULL is allowed. */
void db_close(sqlite3 *db);

/* Run `sql` (one or more statements without results). `what` names the
 * step for the message, e.g. "starting the transaction". */
int db_exec(sqlite3 *db, const char *sql, const char *what, char **err);

#endif
