/*
 * plugin_services.c: the services of struct lethe_host that plugins use
 * while they run: building a criterion's SQL, setting results, reading
 * the database and id sets (see lethe/plugin.h for their contracts).
 *
 * Every function checks the pointers it is given, because a plugin's
 * mistake must end in an error message, not in a crash of the host.
 */
#include "plugin_services.h"

#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENTITY_MAX_LENGTH 255

/* ---------------------------------------------------------------------- */
/* Building SQL                                                            */
/* ---------------------------------------------------------------------- */

void plugin_sql_builder_init(struct lethe_sql *sql,
                             struct lethe_plugin *plugin, int first)
{
    memset(sql, 0, sizeof *sql);
    sql->plugin = plugin;
    sql->first_placeholder = first;
}

void plugin_sql_builder_free(struct lethe_sql *sql)
{
    for (int i = 0; i < sql->param_count; i++) {
        if (sql->params[i].type == LETHE_TEXT)
            free((char *)sql->params[i].text);
    }
    free(sql->params);
    free(sql->text.data);
    memset(sql, 0, sizeof *sql);
}

int host_sql_append(lethe_sql *sql, const char *text)
{
    if (!sql || !text)
        return LETHE_ERROR;
    util_buffer_add(&sql->text, text, strlen(text));
    return LETHE_OK;
}

int host_sql_append_identifier(lethe_sql *sql, const char *name)
{
    if (!sql || !name)
        return LETHE_ERROR;
    util_buffer_add(&sql->text, "\"", 1);
    for (const char *c = name; *c; c++) {
        if (*c == '"')
            util_buffer_add(&sql->text, "\"\"", 2);
        else
            util_buffer_add(&sql->text, c, 1);
    }
    util_buffer_add(&sql->text, "\"", 1);
    return LETHE_OK;
}

int host_sql_bind(lethe_sql *sql, const struct lethe_value *value)
{
    if (!sql || !value)
        return LETHE_ERROR;
    if (value->type != LETHE_INTEGER && value->type != LETHE_REAL &&
        value->type != LETHE_TEXT) {
        sql->failed = 1;
        if (sql->plugin)
            registry_fail(sql->plugin, "sql_bind: only integer, real and "
                          "text values can be bound; write NULL in the SQL "
                          "itself");
        return LETHE_ERROR;
    }
    if (sql->param_count == sql->param_capacity) {
        sql->param_capacity = sql->param_capacity ? 2 * sql->param_capacity
                                                  : 4;
        sql->params = util_realloc(sql->params, (size_t)sql->param_capacity *
                                                    sizeof *sql->params);
    }
    struct lethe_value copy = *value;
    if (value->type == LETHE_TEXT) {
        char *text = util_malloc(value->length + 1);
        memcpy(text, value->text ? value->text : "", value->length);
        text[value->length] = '\0';
        copy.text = text;
    }
    sql->params[sql->param_count++] = copy;
    char placeholder[24];
    snprintf(placeholder, sizeof placeholder, "?%d",
             sql->first_placeholder + sql->param_count - 1);
    util_buffer_add(&sql->text, placeholder, strlen(placeholder));
    return LETHE_OK;
}

/* ---------------------------------------------------------------------- */
/* Results                                                                 */
/* ---------------------------------------------------------------------- */

void host_result_null(lethe_result *result)
{
    if (!result)
        return;
    result->set = 1;
    sqlite3_result_null(result->context);
}

void host_result_integer(lethe_result *result, int64_t value)
{
    if (!result)
        return;
    result->set = 1;
    sqlite3_result_int64(result->context, value);
}

void host_result_real(lethe_result *result, double value)
{
    if (!result)
        return;
    result->set = 1;
    sqlite3_result_double(result->context, value);
}

void host_result_text(lethe_result *result, const char *text,
                             size_t length)
{
    if (!result)
        return;
    result->set = 1;
    if (!text)
        sqlite3_result_null(result->context);
    else
        sqlite3_result_text64(result->context, text, length,
                              SQLITE_TRANSIENT, SQLITE_UTF8);
}

/* ---------------------------------------------------------------------- */
/* Reading the database                                                    */
/* ---------------------------------------------------------------------- */

/* Skip spaces and SQL comments. */
static const char *skip_space(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* Whether the statement starts with SELECT, WITH or VALUES. Checking
 * sqlite3_stmt_readonly() is not enough, because SQLite's documentation
 * of it counts BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ATTACH and
 * DETACH as read-only, and a plugin must not run them on the host's
 * connection. */
static int starts_as_query(const char *sql)
{
    const char *p = skip_space(sql);
    static const char *const words[] = {"SELECT", "WITH", "VALUES"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t length = strlen(words[i]);
        if (strncasecmp(p, words[i], length) == 0 &&
            !isalnum((unsigned char)p[length]) && p[length] != '_')
            return 1;
    }
    return 0;
}

int plugin_host_bind(sqlite3_stmt *statement,
                     const struct lethe_value *params, int count,
                     char *message, size_t message_size)
{
    if (sqlite3_bind_parameter_count(statement) != count) {
        snprintf(message, message_size, "query: %d parameters given for "
                 "%d placeholders", count,
                 sqlite3_bind_parameter_count(statement));
        return -1;
    }
    for (int i = 0; i < count; i++) {
        const struct lethe_value *value = &params[i];
        int status;
        switch (value->type) {
        case LETHE_NULL:
            status = sqlite3_bind_null(statement, i + 1);
            break;
        case LETHE_INTEGER:
            status = sqlite3_bind_int64(statement, i + 1, value->integer);
            break;
        case LETHE_REAL:
            status = sqlite3_bind_double(statement, i + 1, value->real);
            break;
        case LETHE_TEXT:
            status = sqlite3_bind_text64(
                statement, i + 1, value->text ? value->text : "",
                value->length, SQLITE_TRANSIENT, SQLITE_UTF8);
            break;
        case LETHE_IDSET: {
            struct idset *set = registry_idset_of(value->ids);
            status = set ? idset_bind(statement, i + 1, set) : SQLITE_MISUSE;
            break;
        }
        default:
            status = SQLITE_MISUSE;
        }
        if (status != SQLITE_OK) {
            snprintf(message, message_size, "query: cannot bind parameter "
                     "%d (value type %d)", i + 1, value->type);
            return -1;
        }
    }
    return 0;
}

int plugin_host_prepare_query(sqlite3 *db, const char *sql,
                              sqlite3_stmt **out, char *message,
                              size_t message_size)
{
    *out = NULL;
    if (!db) {
        snprintf(message, message_size, "query: no database is open during "
                 "this call (init has none)");
        return -1;
    }
    if (!sql || !starts_as_query(sql)) {
        snprintf(message, message_size, "query: only SELECT, WITH and "
                 "VALUES statements are allowed");
        return -1;
    }
    sqlite3_stmt *statement = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, &tail) != SQLITE_OK) {
        snprintf(message, message_size, "query: %s", sqlite3_errmsg(db));
        sqlite3_finalize(statement);
        return -1;
    }
    const char *problem = NULL;
    if (!statement || *skip_space(tail) != '\0')
        problem = "query: give exactly one statement";
    else if (!sqlite3_stmt_readonly(statement))
        problem = "query: the statement would write; plugins only read the "
                  "database";
    if (problem) {
        snprintf(message, message_size, "%s", problem);
        sqlite3_finalize(statement);
        return -1;
    }
    *out = statement;
    return 0;
}

/* Step `statement`, calling `row` for each row. */
static int step_rows(lethe_plugin *plugin, sqlite3 *db,
                     sqlite3_stmt *statement, lethe_row_fn *row, void *user)
{
    int columns = sqlite3_column_count(statement);
    struct lethe_value *values =
        util_malloc((size_t)(columns > 0 ? columns : 1) * sizeof *values);
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        for (int c = 0; c < columns; c++) {
            struct lethe_value *value = &values[c];
            memset(value, 0, sizeof *value);
            switch (sqlite3_column_type(statement, c)) {
            case SQLITE_INTEGER:
                value->type = LETHE_INTEGER;
                value->integer = sqlite3_column_int64(statement, c);
                break;
            case SQLITE_FLOAT:
                value->type = LETHE_REAL;
                value->real = sqlite3_column_double(statement, c);
                break;
            case SQLITE_NULL:
                value->type = LETHE_NULL;
                break;
            default:
                value->type = LETHE_TEXT;
                value->text = (const char *)sqlite3_column_text(statement, c);
                value->length = (size_t)sqlite3_column_bytes(statement, c);
                if (!value->text)
                    value->text = "";
            }
        }
        if (row && row(user, columns, values) != 0) {
            status = SQLITE_DONE;
            break;
        }
    }
    free(values);
    if (status != SQLITE_DONE)
        return registry_fail(plugin, "query failed: %s", sqlite3_errmsg(db));
    return LETHE_OK;
}

int host_query(lethe_plugin *plugin, const char *sql,
                      const struct lethe_value *params, int param_count,
                      lethe_row_fn *row, void *user)
{
    if (!plugin)
        return LETHE_ERROR;
    if (param_count < 0 || (param_count > 0 && !params))
        return registry_fail(plugin, "query: invalid parameters");
    sqlite3 *db = registry_database();
    sqlite3_stmt *statement = NULL;
    if (plugin_host_prepare_query(db, sql, &statement, plugin->message,
                                  sizeof plugin->message) != 0)
        return LETHE_ERROR;
    int status = LETHE_OK;
    if (plugin_host_bind(statement, params, param_count, plugin->message,
                         sizeof plugin->message) != 0)
        status = LETHE_ERROR;
    else
        status = step_rows(plugin, db, statement, row, user);
    sqlite3_finalize(statement);
    return status;
}

/* ---------------------------------------------------------------------- */
/* Id sets                                                                 */
/* ---------------------------------------------------------------------- */

lethe_idset *host_idset_new(lethe_plugin *plugin, const char *entity)
{
    if (!plugin)
        return NULL;
    if (!entity || !entity[0] || strlen(entity) > ENTITY_MAX_LENGTH) {
        registry_fail(plugin, "idset_new: invalid entity name");
        return NULL;
    }
    struct lethe_idset *set = calloc(1, sizeof *set);
    if (!set) {
        registry_fail(plugin, "idset_new: out of memory");
        return NULL;
    }
    set->storage.bitmap = roaring_bitmap_create();
    set->storage.entity = strdup(entity);
    if (!set->storage.bitmap || !set->storage.entity) {
        registry_idset_release(set);
        registry_fail(plugin, "idset_new: out of memory");
        return NULL;
    }
    set->magic = IDSET_OWNED_MAGIC;
    set->set = &set->storage;
    return set;
}

void host_idset_free(lethe_idset *set)
{
    if (!set)
        return;
    if (set->magic == IDSET_VIEW_MAGIC) {
        fputs("lethe: warning: a plugin tried to free an id set that Lethe "
              "passed to it; ignored\n", stderr);
        return;
    }
    if (registry_idset_of(set))
        registry_idset_release(set);
}

int host_idset_add(lethe_idset *set, int64_t id)
{
    struct idset *target = registry_idset_of(set);
    if (!target || id < 0 || id > (int64_t)UINT32_MAX)
        return LETHE_ERROR;
    roaring_bitmap_add(target->bitmap, (uint32_t)id);
    return LETHE_OK;
}

int host_idset_contains(const lethe_idset *set, int64_t id)
{
    struct idset *target = registry_idset_of(set);
    if (!target || id < 0 || id > (int64_t)UINT32_MAX)
        return 0;
    return roaring_bitmap_contains(target->bitmap, (uint32_t)id);
}

uint64_t host_idset_count(const lethe_idset *set)
{
    struct idset *target = registry_idset_of(set);
    return target ? roaring_bitmap_get_cardinality(target->bitmap) : 0;
}

const char *host_idset_entity(const lethe_idset *set)
{
    struct idset *target = registry_idset_of(set);
    return target ? target->entity : NULL;
}

struct visit_state {
    lethe_visit_fn *visit;
    void *user;
};

static bool visit_one(uint32_t id, void *state)
{
    struct visit_state *visiting = state;
    return visiting->visit(visiting->user, id) == 0;
}

int host_idset_iterate(const lethe_idset *set, lethe_visit_fn *visit,
                              void *user)
{
    struct idset *target = registry_idset_of(set);
    if (!target || !visit)
        return LETHE_ERROR;
    struct visit_state state = {visit, user};
    roaring_iterate(target->bitmap, visit_one, &state);
    return LETHE_OK;
}
