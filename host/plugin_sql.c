/*
 * plugin_sql.c: the SQL functions that call plugins (see plugin_sql.h),
 * and the list of open connections they are registered on.
 */
#include "plugin_sql.h"

#include "ffi_call.h"
#include "plugin_calls.h"
#include "plugin_registry.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maximum nesting depth of plugin callbacks: a callback whose query calls
 * a plugin's SQL function, and so on. */
#define MAX_CALLBACK_DEPTH 8
/* Arguments converted without a heap allocation. */
#define STACK_VALUES 16

static const int function_flags =
    SQLITE_UTF8 | SQLITE_DIRECTONLY;

static sqlite3 **connections;
static size_t connection_count, connection_capacity;
static int callback_depth;

static void report_failure(sqlite3_context *context,
                           const struct extension *extension,
                           const char *message);

/* ---------------------------------------------------------------------- */
/* Values and callbacks                                                    */
/* ---------------------------------------------------------------------- */

static void value_from_sql(sqlite3_value *source, struct lethe_value *out)
{
    memset(out, 0, sizeof *out);
    switch (sqlite3_value_type(source)) {
    case SQLITE_INTEGER:
        out->type = LETHE_INTEGER;
        out->integer = sqlite3_value_int64(source);
        break;
    case SQLITE_FLOAT:
        out->type = LETHE_REAL;
        out->real = sqlite3_value_double(source);
        break;
    case SQLITE_NULL:
        out->type = LETHE_NULL;
        break;
    default:
        out->type = LETHE_TEXT;
        out->text = (const char *)sqlite3_value_text(source);
        out->length = (size_t)sqlite3_value_bytes(source);
        if (!out->text) {
            out->text = "";
            out->length = 0;
        }
    }
}

/* Convert `count` SQL values; the result is `stack` when it fits, else a
 * heap array the caller frees. */
static struct lethe_value *values_from_sql(sqlite3_value **argv, int count,
                                           struct lethe_value *stack)
{
    struct lethe_value *values = count <= STACK_VALUES
                                     ? stack
                                     : util_malloc((size_t)count *
                                                   sizeof *values);
    for (int i = 0; i < count; i++)
        value_from_sql(argv[i], &values[i]);
    return values;
}

void plugin_sql_report(sqlite3_context *context,
                       const struct extension *extension, const char *message)
{
    report_failure(context, extension, message);
}

/* Set the error "plugin P, KIND 'NAME': MESSAGE" on `context`. */
static void report_failure(sqlite3_context *context,
                           const struct extension *extension,
                           const char *message)
{
    char *text = sqlite3_mprintf(
        "plugin %s, %s '%s': %s", extension->owner->name,
        registry_kind_name(extension->kind), extension->name,
        message && message[0] ? message : "failed without a message");
    sqlite3_result_error(context, text ? text : "out of memory", -1);
    sqlite3_free(text);
}

/* Start a callback of `extension` on the connection of `context`.
 * Returns 0, or -1 with an error set when callbacks nest too deeply. */
static int enter(sqlite3_context *context, const struct extension *extension,
                 sqlite3 **saved)
{
    if (callback_depth >= MAX_CALLBACK_DEPTH) {
        char message[64];
        snprintf(message, sizeof message,
                 "plugin callbacks nest more than %d levels deep",
                 MAX_CALLBACK_DEPTH);
        report_failure(context, extension, message);
        return -1;
    }
    callback_depth++;
    extension->owner->message[0] = '\0';
    registry_enter_database(sqlite3_context_db_handle(context), saved);
    return 0;
}

static void leave(sqlite3 *saved)
{
    registry_leave_database(saved);
    callback_depth--;
}

/* Return the extension named by the text argument `index`, cached as
 * auxiliary data while the statement runs. Sets an error and returns NULL
 * when no loaded plugin has it. */
static struct extension *named_extension(sqlite3_context *context,
                                         sqlite3_value **argv, int index,
                                         enum extension_kind kind)
{
    struct extension *extension = sqlite3_get_auxdata(context, index);
    if (extension)
        return extension;
    const char *name = (const char *)sqlite3_value_text(argv[index]);
    extension = name ? registry_find(kind, name) : NULL;
    if (!extension) {
        char *text = sqlite3_mprintf("no loaded plugin has the %s '%s'",
                                     registry_kind_name(kind),
                                     name ? name : "");
        sqlite3_result_error(context, text ? text : "out of memory", -1);
        sqlite3_free(text);
        return NULL;
    }
    sqlite3_set_auxdata(context, index, extension, NULL);
    return extension;
}

/* ---------------------------------------------------------------------- */
/* The dispatching functions                                               */
/* ---------------------------------------------------------------------- */

/* A plugin's own SQL function; user data is its extension. */
static void call_plugin_function(sqlite3_context *context, int argc,
                                 sqlite3_value **argv)
{
    const struct extension *extension = sqlite3_user_data(context);
    struct lethe_value stack[STACK_VALUES];
    struct lethe_value *values = values_from_sql(argv, argc, stack);
    struct lethe_result result = {context, 0};
    sqlite3 *saved;
    if (enter(context, extension, &saved) == 0) {
        int status = extension->c.function(extension->user, argc, values,
                                           &result);
        leave(saved);
        if (status != LETHE_OK)
            report_failure(context, extension, extension->owner->message);
        else if (!result.set)
            sqlite3_result_null(context);
    }
    if (values != stack)
        free(values);
}

/* lethe_plugin_match(name, entity, n, a1..an, id, f1..fk) */
static void match_row(sqlite3_context *context, int argc,
                      sqlite3_value **argv)
{
    struct extension *extension =
        named_extension(context, argv, 0, EXTENSION_CRITERION);
    if (!extension)
        return;
    int arg_count = argc >= 3 ? sqlite3_value_int(argv[2]) : -1;
    int field_count = 0;
    while (extension->fields && extension->fields[field_count])
        field_count++;
    if (arg_count < 0 || argc != 4 + arg_count + field_count) {
        report_failure(context, extension, "called with the wrong number "
                       "of SQL arguments");
        return;
    }
    const char *entity = (const char *)sqlite3_value_text(argv[1]);
    struct lethe_value stack[STACK_VALUES];
    struct lethe_value *values = values_from_sql(argv + 3, argc - 3, stack);
    struct lethe_row row = {
        sizeof row, entity ? entity : "",
        sqlite3_value_int64(argv[3 + arg_count]), arg_count, values,
        field_count, (const char *const *)extension->fields,
        values + arg_count + 1};
    sqlite3 *saved;
    if (enter(context, extension, &saved) == 0) {
        if (extension->lua_function >= 0) {
            plugin_lua_match(extension, context, &row);
        } else {
            int matches = 0;
            int status = extension->c.match(extension->user, &row, &matches);
            if (status != LETHE_OK)
                report_failure(context, extension, extension->owner->message);
            else
                sqlite3_result_int(context, matches != 0);
        }
        leave(saved);
    }
    if (values != stack)
        free(values);
}

/* lethe_plugin_action / lethe_plugin_strategy(name, value, a1..an); the
 * user data is the extension kind. */
static void replace_value(sqlite3_context *context, int argc,
                          sqlite3_value **argv)
{
    enum extension_kind kind =
        (enum extension_kind)(size_t)sqlite3_user_data(context);
    struct extension *extension = named_extension(context, argv, 0, kind);
    if (!extension)
        return;
    if (argc < 2 || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    struct lethe_value stack[STACK_VALUES];
    struct lethe_value *values = values_from_sql(argv + 1, argc - 1, stack);
    sqlite3 *saved;
    if (enter(context, extension, &saved) == 0) {
        if (extension->lua_function >= 0) {
            plugin_lua_value(extension, context, values, argc - 2,
                             values + 1);
        } else {
            struct lethe_result result = {context, 0};
            int status = extension->c.per_value(extension->user, values,
                                                argc - 2, values + 1,
                                                &result);
            if (status != LETHE_OK)
                report_failure(context, extension, extension->owner->message);
            else if (!result.set)
                sqlite3_result_null(context);
        }
        leave(saved);
    }
    if (values != stack)
        free(values);
}

/* lethe_plugin_call(plugin.function, value, a1..an) */
static void call_c_function(sqlite3_context *context, int argc,
                            sqlite3_value **argv)
{
    struct extension *extension =
        named_extension(context, argv, 0, EXTENSION_FUNCTION);
    if (!extension)
        return;
    sqlite3 *saved;
    if (enter(context, extension, &saved) != 0)
        return;
    ffi_function_call_sql(extension->ffi, context, argc - 1, argv + 1);
    leave(saved);
}

/* ---------------------------------------------------------------------- */
/* Connections                                                             */
/* ---------------------------------------------------------------------- */

static int create(sqlite3 *db, const char *name, int arg_count, int flags,
                  void *user,
                  void (*call)(sqlite3_context *, int, sqlite3_value **),
                  char **err)
{
    if (sqlite3_create_function_v2(db, name, arg_count, flags, user, call,
                                   NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    return util_fail(err, "cannot register the SQL function %s: %s", name,
                     sqlite3_errmsg(db));
}

/* Register (call != NULL) or remove the SQL functions of `plugin` on
 * `db`. */
static int plugin_functions(sqlite3 *db, const struct lethe_plugin *plugin,
                            int remove, char **err)
{
    for (struct extension *e = plugin->extensions; e; e = e->next) {
        if (e->kind != EXTENSION_SQL_FUNCTION)
            continue;
        int flags = function_flags |
                    (e->deterministic ? SQLITE_DETERMINISTIC : 0);
        if (remove)
            sqlite3_create_function_v2(db, e->name, e->arg_count, flags,
                                       NULL, NULL, NULL, NULL, NULL);
        else if (create(db, e->name, e->arg_count, flags, e,
                        call_plugin_function, err) != 0)
            return -1;
    }
    return 0;
}

int plugin_sql_attach(sqlite3 *db, char **err)
{
    if (create(db, "lethe_plugin_match", -1, function_flags, NULL,
               match_row, err) != 0 ||
        create(db, "lethe_plugin_action", -1, function_flags,
               (void *)(size_t)EXTENSION_FIELD_ACTION, replace_value,
               err) != 0 ||
        create(db, "lethe_plugin_strategy", -1, function_flags,
               (void *)(size_t)EXTENSION_STRATEGY, replace_value,
               err) != 0 ||
        create(db, "lethe_plugin_call", -1, function_flags, NULL,
               call_c_function, err) != 0)
        return -1;
    for (struct lethe_plugin *p = registry_first(); p; p = p->next) {
        if (plugin_functions(db, p, 0, err) != 0)
            return -1;
    }
    if (connection_count == connection_capacity) {
        connection_capacity = connection_capacity ? 2 * connection_capacity
                                                  : 4;
        connections = util_realloc(connections, connection_capacity *
                                                    sizeof *connections);
    }
    connections[connection_count++] = db;
    return 0;
}

void plugin_sql_detach(sqlite3 *db)
{
    for (size_t i = 0; i < connection_count; i++) {
        if (connections[i] == db) {
            connections[i] = connections[--connection_count];
            break;
        }
    }
    if (connection_count == 0) {
        free(connections);
        connections = NULL;
        connection_capacity = 0;
    }
}

int plugin_sql_add_plugin(struct lethe_plugin *plugin, char **err)
{
    for (size_t i = 0; i < connection_count; i++) {
        if (plugin_functions(connections[i], plugin, 0, err) != 0) {
            for (size_t j = 0; j <= i; j++)
                plugin_functions(connections[j], plugin, 1, NULL);
            return -1;
        }
    }
    return 0;
}

void plugin_sql_remove_all(void)
{
    for (size_t i = 0; i < connection_count; i++) {
        for (struct lethe_plugin *p = registry_first(); p; p = p->next)
            plugin_functions(connections[i], p, 1, NULL);
    }
}

/* Whether `db` lists a function called `name`. */
static int lists_function(sqlite3 *db, const char *name)
{
    sqlite3_stmt *statement = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_function_list "
                           "WHERE name = ?1", -1, &statement,
                           NULL) == SQLITE_OK &&
        sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC) == SQLITE_OK)
        found = sqlite3_step(statement) == SQLITE_ROW;
    sqlite3_finalize(statement);
    return found;
}

int plugin_sql_is_taken(const char *name)
{
    if (strncmp(name, "lethe_", 6) == 0 || strncmp(name, "sqlite_", 7) == 0)
        return 1;
    if (connection_count > 0)
        return lists_function(connections[0], name);
    sqlite3 *db = NULL;
    int taken = 1;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE,
                        NULL) == SQLITE_OK)
        taken = lists_function(db, name);
    sqlite3_close(db);
    return taken;
}
