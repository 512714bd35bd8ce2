/*
 * schema.h: the default CRM schema (host/schema.sql) and Lethe's own
 * bookkeeping tables, which any database that Lethe acts on receives.
 */
#ifndef LETHE_SCHEMA_H
#define LETHE_SCHEMA_H

#include <sqlite3.h>

/* Version of the default CRM schema that this build creates and reads. */
#define SCHEMA_VERSION 2

/* Create the default CRM schema and Lethe's tables in an empty database,
 * in one transaction, and record the schema version. */
int schema_create(sqlite3 *db, char **err);

/* Create Lethe's own tables (lethe_meta, lethe_right, lethe_audit,
 * lethe_hold, lethe_run, lethe_run_effect) if they are missing, and give the database a random id. Used on databases of any schema before the first write. */
int schema_ensure_lethe_tables(sqlite3 *db, char **err);

/* Fail when the database records a CRM schema version other than the one
 * this build reads. A database without a recorded version passes: it is
 * not a default CRM database, and its model checks its tables. */
int schema_check_version(sqlite3 *db, const char *path, char **err);

#endif
