/*
 * schema.c: creating and checking the default CRM schema.
 */
#include "schema.h"

#include "db.h"
#include "embedded.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char lethe_tables_sql[] =
    "CREATE TABLE IF NOT EXISTS lethe_meta ("
    " key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS lethe_right ("
    " user TEXT NOT NULL, right TEXT NOT NULL, granted TEXT NOT NULL,"
    " PRIMARY KEY (user, right));"
    "CREATE TABLE IF NOT EXISTS lethe_audit ("
    " audit_id INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL,"
    " policy TEXT NOT NULL, policy_digest TEXT NOT NULL,"
    " plan_digest TEXT NOT NULL, rule TEXT NOT NULL, action TEXT NOT NULL,"
    " entity TEXT NOT NULL, selected INTEGER NOT NULL,"
    " vetoed INTEGER NOT NULL, counts TEXT NOT NULL,"
    " ids_digest TEXT NOT NULL, previous_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS lethe_hold ("
    " hold_id INTEGER PRIMARY KEY, entity TEXT NOT NULL,"
    " record_id INTEGER NOT NULL, reason TEXT NOT NULL, until TEXT,"
    " user TEXT NOT NULL, created TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS lethe_hold_record"
    " ON lethe_hold (entity, record_id);"
    "CREATE TABLE IF NOT EXISTS lethe_run ("
    " run_id INTEGER PRIMARY KEY, plan_digest TEXT NOT NULL,"
    " policy TEXT NOT NULL, user TEXT NOT NULL,"
    " batch_size INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('running', 'done')),"
    " created TEXT NOT NULL, finished TEXT, total_rows INTEGER NOT NULL,"
    " done_rows INTEGER NOT NULL DEFAULT 0,"
    " effect INTEGER NOT NULL DEFAULT 1, last_id INTEGER NOT NULL DEFAULT -1,"
    " audit TEXT NOT NULL, ledger TEXT);"
    "CREATE TABLE IF NOT EXISTS lethe_run_effect ("
    " run_id INTEGER NOT NULL REFERENCES lethe_run (run_id),"
    " position INTEGER NOT NULL, rule TEXT NOT NULL,"
    " operation TEXT NOT NULL, entity TEXT NOT NULL,"
    " table_name TEXT NOT NULL, key_column TEXT NOT NULL,"
    " statement TEXT NOT NULL, params TEXT NOT NULL, ids BLOB NOT NULL,"
    " PRIMARY KEY (run_id, position));"
    "INSERT INTO lethe_meta (key, value) VALUES"
    " ('database_id', lower(hex(randomblob(16))))"
    " ON CONFLICT (key) DO NOTHING;";

int schema_ensure_lethe_tables(sqlite3 *db, char **err)
{
    return db_exec(db, lethe_tables_sql, "creating Lethe's tables", err);
}

int schema_create(sqlite3 *db, char **err)
{
    const struct embedded_file *schema = embedded_find("host/schema.sql");
    if (!schema)
        return util_fail(err, "the schema is missing from this build");
    if (db_exec(db, "BEGIN IMMEDIATE", "starting a transaction", err) != 0)
        return -1;
    char *version = util_format(
        "CREATE TABLE IF NOT EXISTS lethe_hold ("
    " hold_id INTEGER PRIMARY KEY, entity TEXT NOT NULL,"
    " record_id INTEGER NOT NULL, reason TEXT NOT NULL, until TEXT,"
    " user TEXT NOT NULL, created TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS lethe_hold_record"
    " ON lethe_hold (entity, record_id);"
    "INSERT INTO lethe_meta (key, value) VALUES"
        " ('schema', 'crm'), ('schema_version', '%d');",
        SCHEMA_VERSION);
    int status = db_exec(db, schema->data, "creating the CRM schema", err);
    if (status == 0)
        status = schema_ensure_lethe_tables(db, err);
    if (status == 0)
        status = db_exec(db, version, "recording the schema version", err);
    free(version);
    if (status == 0)
        return db_exec(db, "COMMIT", "committing the schema", err);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int schema_check_version(sqlite3 *db, const char *path, char **err)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT value FROM lethe_meta"
                           " WHERE key = 'schema_version'",
                           -1, &statement, NULL) != SQLITE_OK) {
        return 0; /* no lethe_meta: not a default CRM database */
    }
    int status = 0;
    if (sqlite3_step(statement) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(statement, 0);
        long version = text ? strtol(text, NULL, 10) : 0;
        if (version != SCHEMA_VERSION) {
            status = util_fail(err,
                               "%s has CRM schema version %s, but this "
                               "lethe reads version %d; use a lethe "
                               "release that matches the database",
                               path, text ? text : "(empty)",
                               SCHEMA_VERSION);
        }
    }
    sqlite3_finalize(statement);
    return status;
}
