/*
 * plugin_sql.h: the SQL functions through which SQLite calls plugins.
 *
 * On every connection that db_open() makes, Lethe registers:
 *
 *   lethe_plugin_match(name, entity, n, a1..an, id, f1..fk)
 *       1 when per-row criterion `name` holds for the row of `entity`
 *       with record id `id` and field values f1..fk, given the policy's
 *       arguments a1..an
 *   lethe_plugin_action(name, value, a1..an)
 *   lethe_plugin_strategy(name, value, a1..an)
 *       the new value from a per-value field action or strategy; NULL
 *       stays NULL
 *   lethe_plugin_call(plugin.function, value, a1..an)
 *       a plugin's plain C function called with the field value first
 *
 * and every SQL function that a loaded plugin registered, under its own
 * name. All of them are SQLITE_DIRECTONLY: a trigger or view stored in a
 * database file cannot call a plugin. A plugin callback that fails makes
 * the statement fail with "plugin NAME, KIND 'X': message"; no Lua error
 * and no longjmp crosses SQLite.
 */
#ifndef LETHE_PLUGIN_SQL_H
#define LETHE_PLUGIN_SQL_H

#include <sqlite3.h>

struct extension;
struct lethe_plugin;

/* Register the functions above on `db` and remember it, so that plugins
 * loaded later add theirs. Returns 0, or -1 with a message in *err. */
int plugin_sql_attach(sqlite3 *db, char **err);

/* Forget `db`, which is about to close. */
void plugin_sql_detach(sqlite3 *db);

/* Register the SQL functions of `plugin` on every attached connection.
 * On failure none of them stays. Returns 0, or -1 with *err. */
int plugin_sql_add_plugin(struct lethe_plugin *plugin, char **err);

/* Remove every plugin's own SQL functions from the attached connections
 * (before the plugins are unloaded). */
void plugin_sql_remove_all(void);

/* Make the statement fail with "plugin P, KIND 'NAME': MESSAGE". */
void plugin_sql_report(sqlite3_context *context,
                       const struct extension *extension,
                       const char *message);

/* Whether SQL already has a function called `name` (SQLite's own and
 * Lethe's), so that a plugin cannot replace it. */
int plugin_sql_is_taken(const char *name);

#endif
