/*
 * plugin_services.h: the functions behind the service members of struct
 * lethe_host (SQL building, results, queries, id sets), and the SQL
 * builder and query checks that the Lua side of plugins shares.
 */
#ifndef LETHE_PLUGIN_SERVICES_H
#define LETHE_PLUGIN_SERVICES_H

#include "plugin_registry.h"
#include "util.h"

/* An SQL expression under construction (lethe_sql in the ABI): the text
 * and copies of the bound values, numbered from first_placeholder. */
struct lethe_sql {
    struct util_buffer text;
    struct lethe_value *params; /* text values own their copies */
    int param_count, param_capacity;
    int first_placeholder;
    struct lethe_plugin *plugin;
    int failed;
};

/* Start and free an SQL builder whose placeholders start at ?first. */
void plugin_sql_builder_init(struct lethe_sql *sql,
                             struct lethe_plugin *plugin, int first);
void plugin_sql_builder_free(struct lethe_sql *sql);

/* Prepare `sql` for a plugin's read of `db`: one statement, starting with
 * SELECT, WITH or VALUES, that does not write. Returns 0 with *out set,
 * or -1 with a message. */
int plugin_host_prepare_query(sqlite3 *db, const char *sql,
                              sqlite3_stmt **out, char *message,
                              size_t message_size);

/* Bind `count` values to ?1..?count of `statement` (an id set binds for
 * lethe_ids). Returns 0, or -1 with a message. */
int plugin_host_bind(sqlite3_stmt *statement,
                     const struct lethe_value *params, int count,
                     char *message, size_t message_size);

/* The members of struct lethe_host with the same names. */
int host_sql_append(lethe_sql *sql, const char *text);
int host_sql_append_identifier(lethe_sql *sql, const char *name);
int host_sql_bind(lethe_sql *sql, const struct lethe_value *value);
void host_result_null(lethe_result *result);
void host_result_integer(lethe_result *result, int64_t value);
void host_result_real(lethe_result *result, double value);
void host_result_text(lethe_result *result, const char *text,
                      size_t length);
int host_query(lethe_plugin *plugin, const char *sql,
               const struct lethe_value *params, int param_count,
               lethe_row_fn *row, void *user);
lethe_idset *host_idset_new(lethe_plugin *plugin, const char *entity);
void host_idset_free(lethe_idset *set);
int host_idset_add(lethe_idset *set, int64_t id);
int host_idset_contains(const lethe_idset *set, int64_t id);
uint64_t host_idset_count(const lethe_idset *set);
const char *host_idset_entity(const lethe_idset *set);
int host_idset_iterate(const lethe_idset *set, lethe_visit_fn *visit,
                       void *user);

#endif
