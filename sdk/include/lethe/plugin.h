/*
 * lethe/plugin.h: the C interface between Lethe and its native plugins.
 *
 * A native plugin is a shared object NAME.so in one of Lethe's plugin
 * directories. It contains, in one of its source files:
 *
 *     #include <lethe/plugin.h>
 *
 *     LETHE_PLUGIN_DECLARE();
 *
 *     LETHE_PLUGIN_EXPORT int
 *     lethe_plugin_init(const struct lethe_host *host,
 *                       struct lethe_plugin_info *info)
 *     {
 *         info->name = "NAME";
 *         info->version = "1.0.0";
 *         info->description = "what the plugin adds, in one line";
 *         return host->register_guard(info->plugin, &my_guard);
 *     }
 *
 * Loading happens in this order:
 *   1. dlopen() with RTLD_NOW | RTLD_LOCAL. The plugin's ELF constructors
 *      run here, so a plugin must not do work in them.
 *   2. Lethe reads lethe_plugin_abi (written by LETHE_PLUGIN_DECLARE) and
 *      rejects the plugin, without calling any of its functions, when the
 *      ABI version or a struct size differs from what this Lethe expects.
 *   3. Lethe calls lethe_plugin_init(). Registrations are possible only
 *      during this call. They take effect when init returns LETHE_OK,
 *      every registration succeeded and info->name equals the file name
 *      without ".so"; otherwise none of them does and the plugin is
 *      unloaded.
 *
 * Compatibility: struct lethe_host only grows at its end, and each group
 * of members is marked with the ABI version that added it. A plugin built
 * for ABI version N loads in every Lethe whose LETHE_PLUGIN_ABI_VERSION is
 * N or more. A plugin that wants a member newer than its minimum Lethe
 * checks LETHE_HOST_HAS(host, member) first.
 *
 * Rules for every callback a plugin registers:
 *   - It runs on Lethe's thread, never concurrently with another callback.
 *   - It returns LETHE_OK, or LETHE_ERROR after host->set_error(). Lethe
 *     then stops the statement or the run with that message, prefixed
 *     with the plugin's name. Errors of "after" hooks are the exception
 *     (see lethe_hook_fn).
 *   - Pointers it receives are valid only until it returns.
 *   - It receives personal data only where its job needs it. Hooks get
 *     counts and digests, guards get id sets, and only criteria, field
 *     actions and strategies receive field values.
 *
 * Plain C functions (register_function) are called from Lua through
 * libffi. Their signatures use only these types:
 *
 *     bool  int32_t  int64_t  uint32_t  double  float
 *     const char *          text argument (UTF-8, no NUL bytes) or result
 *                           that Lethe copies and does not free
 *     char *                result only: Lethe copies it and frees it with
 *                           info->free_result
 *     const lethe_idset *   id set argument (read only)
 *     lethe_idset *         result only: a set from host->idset_new(),
 *                           which Lethe takes over
 *     void                  result, or the only "parameter" as in f(void)
 *
 * Anything else (structs by value, other pointers, varargs, arrays) is
 * rejected when the plugin loads. A NULL text or id set result reaches
 * Lua as nil.
 */
#ifndef LETHE_PLUGIN_H
#define LETHE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define LETHE_PLUGIN_ABI_VERSION 1

#if defined(__GNUC__)
#define LETHE_PLUGIN_EXPORT __attribute__((visibility("default")))
#define LETHE_PLUGIN_PRINTF(format_index, first_index) \
    __attribute__((format(printf, format_index, first_index)))
#else
#define LETHE_PLUGIN_EXPORT
#define LETHE_PLUGIN_PRINTF(format_index, first_index)
#endif

/* Return values of lethe_plugin_init, callbacks and host functions. */
enum lethe_status { LETHE_OK = 0, LETHE_ERROR = 1 };

/* The host's handle for one loaded plugin. Pass info->plugin to every
 * host function that takes one. */
typedef struct lethe_plugin lethe_plugin;
/* A set of record ids of one entity (unsigned 32-bit ids). */
typedef struct lethe_idset lethe_idset;
/* An SQL expression that a criterion's compile callback builds. */
typedef struct lethe_sql lethe_sql;
/* The result of an SQL function or a per-value callback. */
typedef struct lethe_result lethe_result;

/* ---------------------------------------------------------------------- */
/* Values                                                                  */
/* ---------------------------------------------------------------------- */

enum lethe_type {
    LETHE_NULL = 0,
    LETHE_INTEGER = 1,
    LETHE_REAL = 2,
    LETHE_TEXT = 3,
    LETHE_IDSET = 4 /* only as a parameter of host->query */
};

/* A value of a field, an argument or a query column. Only the member that
 * `type` names is meaningful. */
struct lethe_value {
    int type; /* enum lethe_type */
    int64_t integer;
    double real;
    const char *text;  /* UTF-8, NUL-terminated */
    size_t length;     /* bytes of text, without the terminating NUL */
    const lethe_idset *ids;
};

/* Field types, as bits: the model field types a field action or a
 * strategy applies to. */
enum lethe_field_type {
    LETHE_FIELD_TEXT = 1u << 0,
    LETHE_FIELD_INTEGER = 1u << 1,
    LETHE_FIELD_NUMBER = 1u << 2,
    LETHE_FIELD_DATE = 1u << 3,
    LETHE_FIELD_BOOLEAN = 1u << 4
};

/* ---------------------------------------------------------------------- */
/* Criteria                                                                */
/* ---------------------------------------------------------------------- */

/* The context of a criterion("NAME", args...) in a policy: it applies to
 * a row of `entity` under the SQL alias `alias`. */
struct lethe_criterion_call {
    size_t size;          /* sizeof this struct in the host */
    const char *entity;   /* entity name in the model, such as "person" */
    const char *table;    /* its table */
    const char *alias;    /* alias of that table in the statement */
    const char *key;      /* its key column ("rowid" for some tables) */
    int64_t now;          /* the run's reference time, Unix seconds */
    int arg_count;
    const struct lethe_value *args; /* the policy's arguments */
};

/* One row for a per-row criterion. */
struct lethe_row {
    size_t size;          /* sizeof this struct in the host */
    const char *entity;
    int64_t id;           /* the record id */
    int arg_count;
    const struct lethe_value *args;    /* the policy's arguments */
    int field_count;
    const char *const *field_names;    /* lethe_criterion.fields, in order */
    const struct lethe_value *fields;  /* their values in this row */
};

/* Build an SQL boolean expression for the criterion with
 * host->sql_append, host->sql_append_identifier and host->sql_bind. */
typedef int lethe_compile_fn(void *user,
                             const struct lethe_criterion_call *call,
                             lethe_sql *sql);
/* Set *matches to 1 when the row satisfies the criterion, else 0. */
typedef int lethe_match_fn(void *user, const struct lethe_row *row,
                           int *matches);

/* A criterion. Exactly one of compile and match is set. A compiled
 * criterion runs inside SQLite; a per-row one is called for every row
 * that the other criteria of its group leave. */
struct lethe_criterion {
    const char *name;        /* [a-z][a-z0-9_]*, at most 63 bytes */
    const char *description; /* one line, shown by `lethe plugins` */
    const char *entity;      /* the entity it applies to; NULL for any */
    int min_args;            /* arguments after the name in the policy */
    int max_args;
    lethe_compile_fn *compile;
    lethe_match_fn *match;
    /* match only: model field names the row carries, NULL-terminated;
     * NULL for none (the row then has only its id). */
    const char *const *fields;
    void *user;
};

/* ---------------------------------------------------------------------- */
/* SQL functions, field actions and anonymisation strategies               */
/* ---------------------------------------------------------------------- */

/* An SQL function: set the result with host->result_*. Without a result
 * call, the result is NULL. */
typedef int lethe_function_fn(void *user, int argc,
                              const struct lethe_value *argv,
                              lethe_result *result);

/* An SQL function that Lethe registers under `name` on every database
 * connection, so that criteria and field actions can call it. */
struct lethe_sql_function {
    const char *name;   /* [a-z][a-z0-9_]*; not a function SQLite has and
                           not starting with lethe_ or sqlite_ */
    int arg_count;      /* 0 to 32, or -1 for any number */
    int deterministic;  /* nonzero when equal arguments give equal results */
    lethe_function_fn *call;
    void *user;
};

/* Replace one non-NULL field value; `args` are the policy's arguments.
 * Set the new value with host->result_*; without a result call the field
 * becomes NULL. A NULL field value stays NULL without a call. */
typedef int lethe_value_fn(void *user, const struct lethe_value *value,
                           int arg_count, const struct lethe_value *args,
                           lethe_result *result);

/* A bulk-update field action (field_action("NAME", args...) in a
 * policy) or an anonymisation strategy (anonymise { field = "NAME" }).
 * Exactly one of sql_function and per_value is set. */
struct lethe_field_action {
    const char *name;         /* [a-z][a-z0-9_]*, at most 63 bytes */
    const char *description;
    unsigned field_types;     /* enum lethe_field_type bits */
    int min_args;
    int max_args;
    /* The name of an SQL function this plugin registers; the new value is
     * sql_function(old value, args...), computed inside SQLite. */
    const char *sql_function;
    lethe_value_fn *per_value;
    void *user;
};

/* ---------------------------------------------------------------------- */
/* Guards and hooks                                                        */
/* ---------------------------------------------------------------------- */

/* A guard's input and output. */
struct lethe_guard_call {
    size_t size;                   /* sizeof this struct in the host */
    const char *entity;            /* the entity about to be deleted */
    const lethe_idset *candidates; /* ids the plan would delete */
    lethe_idset *vetoed;           /* add the ids that must stay */
    int64_t now;                   /* the run's reference time */
    /* Optional: the reason for this call's vetoes, instead of the
     * guard's own. Lethe copies it when the callback returns. */
    const char *reason;
};

typedef int lethe_guard_fn(void *user, struct lethe_guard_call *call);

/* A deletion guard: it vetoes records, which then stay with their
 * children, and the plan shows the reason. Guards never stop updates or
 * anonymisation. */
struct lethe_guard {
    const char *name;   /* [a-z][a-z0-9_]*, at most 63 bytes */
    const char *entity; /* the entity it guards; NULL for every entity */
    const char *reason; /* shown in plans, such as "has an open invoice" */
    lethe_guard_fn *check;
    void *user;
};

enum lethe_event_kind {
    LETHE_BEFORE_PLAN = 0,
    LETHE_AFTER_PLAN = 1,
    LETHE_BEFORE_APPLY = 2,
    LETHE_AFTER_APPLY = 3,
    LETHE_BEFORE_ERASURE = 4,
    LETHE_AFTER_ERASURE = 5
};

/* A named count, such as "person.delete" (rows deleted from table
 * person). */
struct lethe_count {
    const char *name;
    int64_t value;
};

/* A named digest in hexadecimal, such as a rule's keyed id-set digest. */
struct lethe_digest {
    const char *name;
    const char *hex;
};

/* The data a hook receives about the run: names, counts and digests,
 * never personal data or record ids. */
struct lethe_event {
    size_t size;               /* sizeof this struct in the host */
    int kind;                  /* enum lethe_event_kind */
    const char *command;       /* "plan" or "apply" */
    const char *policy;        /* the policy's name */
    const char *policy_digest; /* SHA-256 of the policy text */
    const char *plan_digest;   /* NULL before the plan exists */
    int64_t now;               /* the run's reference time, Unix seconds */
    int64_t at;                /* when the event happened, Unix seconds */
    size_t count_count;
    const struct lethe_count *counts;
    size_t digest_count;
    const struct lethe_digest *digests;
    /* After an erasure: 1 when the database files were searched and no
     * erased value was found, 0 when copies remain, -1 when not checked. */
    int verified;
};

/* A hook. An error from a "before" hook stops the run before anything
 * changes. An error from an "after" hook is reported and the command
 * exits with status 1, but the change it follows stays. */
typedef int lethe_hook_fn(void *user, const struct lethe_event *event);

/* ---------------------------------------------------------------------- */
/* Reading the database and id sets                                        */
/* ---------------------------------------------------------------------- */

/* Called for each row of host->query; return 0 to go on, anything else
 * to stop the query early (which is not an error). */
typedef int lethe_row_fn(void *user, int column_count,
                         const struct lethe_value *columns);

/* Called for each id of host->idset_iterate, in ascending order; return
 * 0 to go on, anything else to stop. */
typedef int lethe_visit_fn(void *user, int64_t id);

/* Any function, for register_function; cast with
 * (lethe_function_address)my_function. */
typedef void (*lethe_function_address)(void);

/* ---------------------------------------------------------------------- */
/* The host                                                                */
/* ---------------------------------------------------------------------- */

enum lethe_log_level { LETHE_LOG_INFO = 0, LETHE_LOG_WARNING = 1 };

/* The host functions that Lethe gives a plugin. Members are only ever
 * appended. */
struct lethe_host {
    size_t size;              /* sizeof(struct lethe_host) in the host */
    uint32_t abi_version;     /* the host's LETHE_PLUGIN_ABI_VERSION */
    const char *host_version; /* Lethe's version, such as "0.1.0" */

    /* ABI 1: errors, log messages and options. ------------------------ */

    /* Set the message that goes with the next LETHE_ERROR this plugin
     * returns. The text is copied. */
    void (*set_error)(lethe_plugin *plugin, const char *format, ...)
        LETHE_PLUGIN_PRINTF(2, 3);
    /* Write a line to standard error, prefixed with the plugin's name. */
    void (*log)(lethe_plugin *plugin, int level, const char *format, ...)
        LETHE_PLUGIN_PRINTF(3, 4);
    /* The value of option KEY (from --plugin-option NAME.KEY=VALUE or the
     * policy's plugin("NAME", { KEY = VALUE })), or NULL. */
    const char *(*option)(lethe_plugin *plugin, const char *key);

    /* ABI 1: registration, only during lethe_plugin_init. --------------
     * Each returns LETHE_OK, or LETHE_ERROR with a message (invalid
     * definition, or a name that another plugin already registered). The
     * host copies the definition and its strings. */
    int (*register_criterion)(lethe_plugin *plugin,
                              const struct lethe_criterion *criterion);
    int (*register_sql_function)(lethe_plugin *plugin,
                                 const struct lethe_sql_function *function);
    int (*register_field_action)(lethe_plugin *plugin,
                                 const struct lethe_field_action *action);
    int (*register_strategy)(lethe_plugin *plugin,
                             const struct lethe_field_action *strategy);
    int (*register_guard)(lethe_plugin *plugin,
                          const struct lethe_guard *guard);
    int (*register_hook)(lethe_plugin *plugin, int event,
                         lethe_hook_fn *hook, void *user);
    /* Declare a plain C function, such as
     * "char *phone_e164(const char *number, const char *country)". Lua
     * calls it as NAME on the table that plugin("PLUGIN") returns. */
    int (*register_function)(lethe_plugin *plugin, const char *signature,
                             lethe_function_address address);

    /* ABI 1: building a criterion's SQL. ------------------------------ */

    /* Append SQL text. */
    int (*sql_append)(lethe_sql *sql, const char *text);
    /* Append `name` as a quoted SQL identifier. */
    int (*sql_append_identifier)(lethe_sql *sql, const char *name);
    /* Append a placeholder and bind `value` (integer, real or text) to it;
     * write NULL in the SQL itself. */
    int (*sql_bind)(lethe_sql *sql, const struct lethe_value *value);

    /* ABI 1: results of SQL functions and per-value callbacks. -------- */

    void (*result_null)(lethe_result *result);
    void (*result_integer)(lethe_result *result, int64_t value);
    void (*result_real)(lethe_result *result, double value);
    /* The text is copied. */
    void (*result_text)(lethe_result *result, const char *text,
                        size_t length);

    /* ABI 1: reading the database. ------------------------------------
     * Run one read-only statement (SELECT, WITH or VALUES) on the run's
     * database, calling `row` for each row. Parameters bind to ?1, ?2, ...;
     * an id set binds for lethe_ids(?N). Only possible inside a callback
     * that has a database (criteria, SQL functions, guards, hooks). */
    int (*query)(lethe_plugin *plugin, const char *sql,
                 const struct lethe_value *params, int param_count,
                 lethe_row_fn *row, void *user);

    /* ABI 1: id sets. -------------------------------------------------- */

    /* A new empty set of `entity`, owned by the plugin until it frees it
     * or returns it from a plain C function; NULL on failure. */
    lethe_idset *(*idset_new)(lethe_plugin *plugin, const char *entity);
    /* Free a set from idset_new. Sets the host passed in are not freed. */
    void (*idset_free)(lethe_idset *set);
    /* Add an id (0 to 4294967295). */
    int (*idset_add)(lethe_idset *set, int64_t id);
    /* 1 when the set contains `id`, else 0. */
    int (*idset_contains)(const lethe_idset *set, int64_t id);
    uint64_t (*idset_count)(const lethe_idset *set);
    const char *(*idset_entity)(const lethe_idset *set);
    /* Call `visit` for every id in ascending order. */
    int (*idset_iterate)(const lethe_idset *set, lethe_visit_fn *visit,
                         void *user);
};

/* Whether `host` has `member`: a plugin that uses a member added after
 * its minimum Lethe version checks this first. */
#define LETHE_HOST_HAS(host, member)                                        \
    (offsetof(struct lethe_host, member) + sizeof((host)->member) <=        \
     (host)->size)

/* The plugin's name, version and callbacks, which lethe_plugin_init
 * fills in. */
struct lethe_plugin_info {
    lethe_plugin *plugin;    /* set by the host */
    const char *name;        /* required: the file name without ".so" */
    const char *version;     /* required, such as "1.2.0" */
    const char *description; /* one line */
    /* Frees the char * results of plain C functions; required when a
     * registered function returns char *. */
    void (*free_result)(void *text);
    /* Called before the plugin is unloaded, with `user`. */
    void (*unload)(void *user);
    void *user;
};

/* ---------------------------------------------------------------------- */
/* The ABI record and the entry point                                      */
/* ---------------------------------------------------------------------- */

/* The ABI version and struct sizes a plugin was built with. Lethe
 * compares them with its own before it calls anything in the plugin. */
struct lethe_plugin_abi {
    uint32_t abi_version;
    uint32_t host_size;
    uint32_t info_size;
    uint32_t value_size;
    uint32_t criterion_size;
    uint32_t sql_function_size;
    uint32_t field_action_size;
    uint32_t guard_size;
};

#define LETHE_PLUGIN_ABI_INITIALIZER                                        \
    {                                                                       \
        LETHE_PLUGIN_ABI_VERSION, sizeof(struct lethe_host),                \
            sizeof(struct lethe_plugin_info), sizeof(struct lethe_value),   \
            sizeof(struct lethe_criterion),                                 \
            sizeof(struct lethe_sql_function),                              \
            sizeof(struct lethe_field_action), sizeof(struct lethe_guard)   \
    }

/* Define the plugin's ABI record; use once, at file scope. */
#define LETHE_PLUGIN_DECLARE()                                              \
    LETHE_PLUGIN_EXPORT const struct lethe_plugin_abi lethe_plugin_abi =    \
        LETHE_PLUGIN_ABI_INITIALIZER

/* The entry point every plugin defines: fill `info` and register the
 * plugin's extensions through `host`. Return LETHE_OK, or LETHE_ERROR
 * after host->set_error(info->plugin, ...). */
LETHE_PLUGIN_EXPORT int
lethe_plugin_init(const struct lethe_host *host,
                  struct lethe_plugin_info *info);

#ifdef __cplusplus
}
#endif

#endif
