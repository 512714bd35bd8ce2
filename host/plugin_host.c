/*
 * plugin_host.c: the functions of struct lethe_host (see lethe/plugin.h)
 * and the checks on registrations.
 *
 * Sections: messages and options, registration checks, registration
 * functions, and the table itself; the services plugins use while they
 * run are in plugin_services.c. Every function checks the pointers it is
 * given, because a plugin's mistake must end in an error message, not in
 * a crash of the host.
 */
#include "plugin_host.h"

#include "ffi_signature.h"
#include "plugin_services.h"
#include "plugin_sql.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CRITERION_ARGS 16
#define MAX_SQL_FUNCTION_ARGS 32
#define ENTITY_MAX_LENGTH 255
#define KNOWN_FIELD_TYPES                                                   \
    (LETHE_FIELD_TEXT | LETHE_FIELD_INTEGER | LETHE_FIELD_NUMBER |          \
     LETHE_FIELD_DATE | LETHE_FIELD_BOOLEAN)

/* ---------------------------------------------------------------------- */
/* Messages and options                                                    */
/* ---------------------------------------------------------------------- */

static void host_set_error(lethe_plugin *plugin, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void host_log(lethe_plugin *plugin, int level, const char *format,
                     ...) __attribute__((format(printf, 3, 4)));

static void host_set_error(lethe_plugin *plugin, const char *format, ...)
{
    if (!plugin || !format)
        return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(plugin->message, sizeof plugin->message, format, arguments);
    va_end(arguments);
}

static void host_log(lethe_plugin *plugin, int level, const char *format,
                     ...)
{
    if (!plugin || !format)
        return;
    char text[1024];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    fprintf(stderr, "lethe: %splugin %s: %s\n",
            level == LETHE_LOG_WARNING ? "warning: " : "", plugin->name,
            text);
}

static const char *host_option(lethe_plugin *plugin, const char *key)
{
    if (!plugin || !key)
        return NULL;
    return registry_option(plugin, key);
}

/* ---------------------------------------------------------------------- */
/* Registration checks                                                     */
/* ---------------------------------------------------------------------- */

/* A model entity or field name: [A-Za-z_][A-Za-z0-9_]*, 1 to 255 bytes. */
static int valid_identifier(const char *name)
{
    if (!name || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return 0;
    size_t length = strlen(name);
    if (length > ENTITY_MAX_LENGTH)
        return 0;
    for (size_t i = 0; i < length; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return 0;
    }
    return 1;
}

static int check_arity(struct lethe_plugin *plugin,
                       const struct extension *extension)
{
    if (extension->min_args < 0 ||
        extension->max_args < extension->min_args ||
        extension->max_args > MAX_CRITERION_ARGS)
        return registry_fail(plugin, "%s '%s': min_args and max_args must "
                             "satisfy 0 <= min_args <= max_args <= %d",
                             registry_kind_name(extension->kind),
                             extension->name, MAX_CRITERION_ARGS);
    return LETHE_OK;
}

static int check_criterion(struct lethe_plugin *plugin,
                           const struct extension *extension,
                           int has_compile, int has_match)
{
    if (has_compile == has_match)
        return registry_fail(plugin, "criterion '%s' must set exactly one "
                             "of compile (SQL) and match (per row)",
                             extension->name);
    if (extension->entity && !valid_identifier(extension->entity))
        return registry_fail(plugin, "criterion '%s': invalid entity name",
                             extension->name);
    if (extension->fields && !has_match)
        return registry_fail(plugin, "criterion '%s': fields are only for "
                             "per-row (match) criteria", extension->name);
    for (char **field = extension->fields; field && *field; field++) {
        if (!valid_identifier(*field))
            return registry_fail(plugin, "criterion '%s': invalid field "
                                 "name '%s'", extension->name, *field);
    }
    return check_arity(plugin, extension);
}

static int check_field_action(struct lethe_plugin *plugin,
                              const struct extension *extension,
                              int has_per_value)
{
    const char *kind = registry_kind_name(extension->kind);
    if ((extension->sql_function != NULL) == (has_per_value != 0))
        return registry_fail(plugin, "%s '%s' must set exactly one of "
                             "sql_function and per_value", kind,
                             extension->name);
    if (extension->field_types == 0 ||
        (extension->field_types & ~(unsigned)KNOWN_FIELD_TYPES))
        return registry_fail(plugin, "%s '%s': field_types must be a "
                             "nonzero combination of LETHE_FIELD_* bits",
                             kind, extension->name);
    if (extension->kind == EXTENSION_STRATEGY &&
        (strcmp(extension->name, "null") == 0 ||
         strcmp(extension->name, "hash") == 0 ||
         strcmp(extension->name, "random") == 0))
        return registry_fail(plugin, "strategy name '%s' is already taken "
                             "by Lethe's own strategy", extension->name);
    return check_arity(plugin, extension);
}

/* Check an extension whose callback or Lua function the caller set. */
static int check_extension(struct lethe_plugin *plugin,
                           const struct extension *extension)
{
    int has_c = extension->c.function != NULL;
    int has_lua = extension->is_lua;
    switch (extension->kind) {
    case EXTENSION_CRITERION:
        return check_criterion(
            plugin, extension, !extension->per_row && (has_c || has_lua),
            extension->per_row && (has_c || has_lua));
    case EXTENSION_SQL_FUNCTION:
        /* A name another plugin took is reported by registry_add. */
        if (!registry_find(EXTENSION_SQL_FUNCTION, extension->name) &&
            plugin_sql_is_taken(extension->name))
            return registry_fail(plugin, "SQL function name '%s' is "
                                 "already taken by SQLite or Lethe",
                                 extension->name);
        if (extension->arg_count < -1 ||
            extension->arg_count > MAX_SQL_FUNCTION_ARGS || !has_c)
            return registry_fail(plugin, "SQL function '%s' needs a call "
                                 "function and an arg_count from -1 to %d",
                                 extension->name, MAX_SQL_FUNCTION_ARGS);
        return LETHE_OK;
    case EXTENSION_FIELD_ACTION:
    case EXTENSION_STRATEGY:
        return check_field_action(plugin, extension, has_c || has_lua);
    case EXTENSION_GUARD:
        if (extension->entity && !valid_identifier(extension->entity))
            return registry_fail(plugin, "guard '%s': invalid entity name",
                                 extension->name);
        if (!extension->reason || !extension->reason[0])
            return registry_fail(plugin, "guard '%s' needs a reason",
                                 extension->name);
        return LETHE_OK;
    case EXTENSION_HOOK:
        if (extension->event < LETHE_BEFORE_PLAN ||
            extension->event > LETHE_AFTER_ERASURE)
            return registry_fail(plugin, "unknown hook event %d",
                                 extension->event);
        return LETHE_OK;
    default:
        return LETHE_OK;
    }
}

int plugin_host_add(struct lethe_plugin *plugin, struct extension *extension)
{
    if (!plugin->initialising) {
        registry_free_extension(extension);
        return registry_fail(plugin, "registrations are possible only "
                             "during lethe_plugin_init");
    }
    if (check_extension(plugin, extension) != LETHE_OK) {
        plugin->registration_failed = 1;
        registry_free_extension(extension);
        return LETHE_ERROR;
    }
    return registry_add(plugin, extension);
}

/* The SQL function `name` among the plugin's own registrations. */
static int has_sql_function(const struct lethe_plugin *plugin,
                            const char *name)
{
    for (struct extension *e = plugin->extensions; e; e = e->next) {
        if (e->kind == EXTENSION_SQL_FUNCTION && strcmp(e->name, name) == 0)
            return 1;
    }
    return 0;
}

int plugin_host_finish(struct lethe_plugin *plugin, char *message,
                       size_t message_size)
{
    for (struct extension *e = plugin->extensions; e; e = e->next) {
        if (e->sql_function && !has_sql_function(plugin, e->sql_function)) {
            snprintf(message, message_size,
                     "%s '%s' uses the SQL function '%s', which the plugin "
                     "does not register", registry_kind_name(e->kind),
                     e->name, e->sql_function);
            return -1;
        }
        if (e->kind == EXTENSION_FUNCTION) {
            e->ffi->free_result = plugin->info.free_result;
            if (ffi_function_prepare(e->ffi, message, message_size) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Registration functions                                                  */
/* ---------------------------------------------------------------------- */

static char *copy_or_null(const char *text)
{
    return text ? util_strdup(text) : NULL;
}

static char **copy_list(const char *const *list)
{
    if (!list)
        return NULL;
    size_t count = 0;
    while (list[count])
        count++;
    char **copy = util_malloc((count + 1) * sizeof *copy);
    for (size_t i = 0; i < count; i++)
        copy[i] = util_strdup(list[i]);
    copy[count] = NULL;
    return copy;
}

/* Check the plugin pointer and the definition pointer of a register
 * call. */
static int check_call(lethe_plugin *plugin, const void *definition,
                      const char *what)
{
    if (!plugin)
        return LETHE_ERROR;
    if (!definition) {
        plugin->registration_failed = 1;
        return registry_fail(plugin, "%s: the definition is NULL", what);
    }
    return LETHE_OK;
}

/* Mark the plugin's registrations failed and set its message. */
static int reject(lethe_plugin *plugin, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int reject(lethe_plugin *plugin, const char *format, ...)
{
    plugin->registration_failed = 1;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(plugin->message, sizeof plugin->message, format, arguments);
    va_end(arguments);
    return LETHE_ERROR;
}

static int host_register_criterion(lethe_plugin *plugin,
                                   const struct lethe_criterion *definition)
{
    if (check_call(plugin, definition, "register_criterion") != LETHE_OK)
        return LETHE_ERROR;
    if ((definition->compile != NULL) == (definition->match != NULL))
        return reject(plugin, "criterion '%s' must set exactly one of "
                      "compile (SQL) and match (per row)",
                      definition->name ? definition->name : "(null)");
    struct extension *e = registry_new_extension(plugin, EXTENSION_CRITERION,
                                                 definition->name);
    if (!e)
        return LETHE_ERROR;
    e->description = copy_or_null(definition->description);
    e->entity = copy_or_null(definition->entity);
    e->min_args = definition->min_args;
    e->max_args = definition->max_args;
    e->per_row = definition->match != NULL;
    if (e->per_row)
        e->c.match = definition->match;
    else
        e->c.compile = definition->compile;
    e->fields = copy_list(definition->fields);
    e->user = definition->user;
    return plugin_host_add(plugin, e);
}

static int
host_register_sql_function(lethe_plugin *plugin,
                           const struct lethe_sql_function *definition)
{
    if (check_call(plugin, definition, "register_sql_function") != LETHE_OK)
        return LETHE_ERROR;
    struct extension *e = registry_new_extension(
        plugin, EXTENSION_SQL_FUNCTION, definition->name);
    if (!e)
        return LETHE_ERROR;
    e->arg_count = definition->arg_count;
    e->deterministic = definition->deterministic != 0;
    e->c.function = definition->call;
    e->user = definition->user;
    return plugin_host_add(plugin, e);
}

static int register_value_extension(lethe_plugin *plugin,
                                    enum extension_kind kind,
                                    const struct lethe_field_action *action,
                                    const char *what)
{
    if (check_call(plugin, action, what) != LETHE_OK)
        return LETHE_ERROR;
    struct extension *e = registry_new_extension(plugin, kind, action->name);
    if (!e)
        return LETHE_ERROR;
    e->description = copy_or_null(action->description);
    e->field_types = action->field_types;
    e->min_args = action->min_args;
    e->max_args = action->max_args;
    e->sql_function = copy_or_null(action->sql_function);
    e->c.per_value = action->per_value;
    e->user = action->user;
    return plugin_host_add(plugin, e);
}

static int
host_register_field_action(lethe_plugin *plugin,
                           const struct lethe_field_action *action)
{
    return register_value_extension(plugin, EXTENSION_FIELD_ACTION, action,
                                    "register_field_action");
}

static int host_register_strategy(lethe_plugin *plugin,
                                  const struct lethe_field_action *strategy)
{
    return register_value_extension(plugin, EXTENSION_STRATEGY, strategy,
                                    "register_strategy");
}

static int host_register_guard(lethe_plugin *plugin,
                               const struct lethe_guard *guard)
{
    if (check_call(plugin, guard, "register_guard") != LETHE_OK)
        return LETHE_ERROR;
    if (!guard->check)
        return reject(plugin, "guard '%s' has no check function",
                      guard->name ? guard->name : "(null)");
    struct extension *e =
        registry_new_extension(plugin, EXTENSION_GUARD, guard->name);
    if (!e)
        return LETHE_ERROR;
    e->entity = copy_or_null(guard->entity);
    e->reason = copy_or_null(guard->reason);
    e->c.guard = guard->check;
    e->user = guard->user;
    return plugin_host_add(plugin, e);
}

static const char *const event_names[] = {
    "before_plan",  "after_plan",     "before_apply",
    "after_apply", "before_erasure", "after_erasure",
};

static int host_register_hook(lethe_plugin *plugin, int event,
                              lethe_hook_fn *hook, void *user)
{
    if (check_call(plugin, (const void *)hook, "register_hook") != LETHE_OK)
        return LETHE_ERROR;
    if (event < LETHE_BEFORE_PLAN || event > LETHE_AFTER_ERASURE) {
        plugin->registration_failed = 1;
        return registry_fail(plugin, "register_hook: unknown event %d; use "
                             "LETHE_BEFORE_PLAN to LETHE_AFTER_ERASURE",
                             event);
    }
    struct extension *e = registry_new_extension(plugin, EXTENSION_HOOK,
                                                 event_names[event]);
    if (!e)
        return LETHE_ERROR;
    e->event = event;
    e->c.hook = hook;
    e->user = user;
    return plugin_host_add(plugin, e);
}

static int host_register_function(lethe_plugin *plugin,
                                  const char *signature,
                                  lethe_function_address address)
{
    if (check_call(plugin, signature, "register_function") != LETHE_OK)
        return LETHE_ERROR;
    static int self_test_state; /* 0 not run, 1 passed, -1 failed */
    static char self_test_message[256];
    if (self_test_state == 0)
        self_test_state = ffi_self_test(self_test_message,
                                        sizeof self_test_message) == 0
                              ? 1
                              : -1;
    if (self_test_state < 0)
        return reject(plugin, "%s", self_test_message);
    struct ffi_function *function = calloc(1, sizeof *function);
    if (!function)
        return reject(plugin, "%s", "out of memory");
    char message[256];
    if (ffi_signature_parse(signature, &function->signature, message,
                            sizeof message) != 0) {
        free(function);
        plugin->registration_failed = 1;
        return registry_fail(plugin, "unsupported function signature "
                             "\"%.120s\": %s", signature, message);
    }
    if (!address) {
        int status = reject(plugin, "function %s has a NULL address",
                            function->signature.name);
        free(function);
        return status;
    }
    snprintf(function->qualified_name, sizeof function->qualified_name,
             "%s.%s", plugin->name, function->signature.name);
    function->address = address;
    struct extension *e = registry_new_extension(
        plugin, EXTENSION_FUNCTION, function->signature.name);
    if (!e) {
        free(function);
        return LETHE_ERROR;
    }
    e->ffi = function;
    return plugin_host_add(plugin, e);
}

unsigned plugin_host_field_type(const char *name)
{
    static const struct {
        const char *name;
        unsigned bit;
    } types[] = {
        {"text", LETHE_FIELD_TEXT},       {"integer", LETHE_FIELD_INTEGER},
        {"number", LETHE_FIELD_NUMBER},   {"date", LETHE_FIELD_DATE},
        {"boolean", LETHE_FIELD_BOOLEAN},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(types[i].name, name) == 0)
            return types[i].bit;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* The table                                                               */
/* ---------------------------------------------------------------------- */

static const struct lethe_host host_table = {
    .size = sizeof(struct lethe_host),
    .abi_version = LETHE_PLUGIN_ABI_VERSION,
    .host_version = LETHE_VERSION,
    .set_error = host_set_error,
    .log = host_log,
    .option = host_option,
    .register_criterion = host_register_criterion,
    .register_sql_function = host_register_sql_function,
    .register_field_action = host_register_field_action,
    .register_strategy = host_register_strategy,
    .register_guard = host_register_guard,
    .register_hook = host_register_hook,
    .register_function = host_register_function,
    .sql_append = host_sql_append,
    .sql_append_identifier = host_sql_append_identifier,
    .sql_bind = host_sql_bind,
    .result_null = host_result_null,
    .result_integer = host_result_integer,
    .result_real = host_result_real,
    .result_text = host_result_text,
    .query = host_query,
    .idset_new = host_idset_new,
    .idset_free = host_idset_free,
    .idset_add = host_idset_add,
    .idset_contains = host_idset_contains,
    .idset_count = host_idset_count,
    .idset_entity = host_idset_entity,
    .idset_iterate = host_idset_iterate,
};

const struct lethe_host *plugin_host_table(void)
{
    return &host_table;
}

size_t plugin_host_size(uint32_t version)
{
    /* When ABI 2 appends members, ABI 1's size becomes the offset of the
     * first of them, recorded here. */
    if (version == 1)
        return sizeof(struct lethe_host);
    return 0;
}
