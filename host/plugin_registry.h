/*
 * plugin_registry.h: the loaded plugins and what they registered.
 *
 * One registry per process, for the one Lua state that uses plugins at a
 * time (lethe.plugins, plugin_lua.c, resets it when that state closes).
 * A plugin is first "staged": lethe_plugin_init (or a Lua plugin's init)
 * registers into it, and registry_commit() makes the plugin and all its
 * extensions visible at once, or registry_discard() drops them, so a
 * plugin never half loads. Committed plugins stay until the reset, so
 * pointers to them and to their extensions stay valid.
 *
 * Names: criteria, SQL functions, field actions, strategies and guards
 * each have one namespace over all plugins. Plain C functions are named
 * per plugin, and hooks have no names.
 */
#ifndef LETHE_PLUGIN_REGISTRY_H
#define LETHE_PLUGIN_REGISTRY_H

#include "ffi_call.h"
#include "idset.h"

#include <lethe/plugin.h>
#include <sqlite3.h>

/* Maximum length of a plugin or extension name, in bytes. */
#define REGISTRY_MAX_NAME 63
/* Maximum length of a message that a plugin sets with set_error, in
 * bytes. */
#define REGISTRY_MAX_MESSAGE 512

enum extension_kind {
    EXTENSION_CRITERION,
    EXTENSION_SQL_FUNCTION,
    EXTENSION_FIELD_ACTION,
    EXTENSION_STRATEGY,
    EXTENSION_GUARD,
    EXTENSION_HOOK,
    EXTENSION_FUNCTION,
    EXTENSION_KIND_COUNT
};

/* One registration of a plugin. Strings are owned copies. A C extension
 * has its callback in `c`, and a Lua extension has is_lua set. SQLite
 * calls per-row criteria, per-value field actions and strategies, so
 * for those `lua_function` is a reference in the Lua registry. For the
 * other Lua extensions it is -2 (LUA_NOREF), because scripts/lethe/
 * lua_plugins.lua calls them from Lua. */
struct extension {
    enum extension_kind kind;
    struct lethe_plugin *owner;
    char *name;
    char *description;
    char *entity;          /* criteria and guards; NULL for any */
    char *reason;          /* guards */
    char *sql_function;    /* field actions and strategies */
    char **fields;         /* per-row criteria: NULL-terminated */
    int min_args, max_args;
    unsigned field_types;  /* field actions and strategies */
    int arg_count;         /* SQL functions: -1 for any */
    int deterministic;     /* SQL functions */
    int event;             /* hooks: enum lethe_event_kind */
    union {
        lethe_compile_fn *compile;
        lethe_match_fn *match;
        lethe_function_fn *function;
        lethe_value_fn *per_value;
        lethe_guard_fn *guard;
        lethe_hook_fn *hook;
    } c;
    int per_row;           /* criteria: match (1) or compile (0) */
    void *user;
    int is_lua;            /* implemented by a Lua plugin */
    int lua_function;      /* called from SQL: a Lua registry reference */
    struct ffi_function *ffi; /* plain C functions */
    struct extension *next;
};

/* A loaded (or loading) plugin; the struct behind lethe_plugin. */
struct lethe_plugin {
    char *name;
    char *version;
    char *description;
    char *path;             /* absolute path of the file it came from */
    int is_lua;
    void *handle;           /* dlopen handle of a native plugin */
    uint32_t abi_version;
    struct lethe_plugin_info info;
    int initialising;       /* registrations are open */
    int registration_failed;
    char message[REGISTRY_MAX_MESSAGE]; /* from set_error */
    char **options;         /* key, value, key, value, ..., NULL */
    struct extension *extensions;
    struct lethe_plugin *next;
};

/* The result of an SQL function or per-value callback: the SQLite
 * context it sets. */
struct lethe_result {
    sqlite3_context *context;
    int set; /* nonzero once a result_* function ran */
};

/* A host-side id set as plugins see it: a view of a set that belongs to
 * Lua (VIEW), or a set that a plugin created with idset_new (OWNED). */
#define IDSET_VIEW_MAGIC 0x4c545631u  /* "LTV1" */
#define IDSET_OWNED_MAGIC 0x4c544f31u /* "LTO1" */

struct lethe_idset {
    uint32_t magic;
    struct idset *set;     /* VIEW: the Lua set; OWNED: &storage */
    struct idset storage;  /* OWNED only */
};

/* Make `view` a read-write view of `set` for a plugin call. */
void registry_idset_view(struct lethe_idset *view, struct idset *set);

/* Return the host set behind `set`, or NULL (with a warning on standard
 * error) for a pointer that is not a live Lethe id set. */
struct idset *registry_idset_of(const struct lethe_idset *set);

/* Free a set that a plugin created and handed over; the caller has taken
 * its bitmap. */
void registry_idset_release(struct lethe_idset *set);

/* Create a staged plugin. `options` are key, value pairs (count strings,
 * copied). Returns NULL on memory exhaustion. */
struct lethe_plugin *registry_stage(const char *name, const char *path,
                                    int is_lua, char *const *options,
                                    int option_count);

/* Make a staged plugin and its extensions visible. Fails (message in
 * `message`) when the plugin's name or an extension name is taken by a
 * committed plugin, or a registration failed. Registers its SQL functions
 * on every open connection. */
int registry_commit(struct lethe_plugin *plugin, char *message,
                    size_t message_size);

/* Free a staged plugin and its extensions, and unload its file; Lua
 * references go back through `release` (may be NULL). */
void registry_discard(struct lethe_plugin *plugin,
                      void (*release)(int lua_function));

/* Unload every committed plugin (calling their unload callbacks) and
 * release every Lua reference through `release(lua_function)`. */
void registry_reset(void (*release)(int lua_function));

/* The committed plugins, in load order. */
struct lethe_plugin *registry_first(void);

/* The committed plugin called `name`, or NULL. */
struct lethe_plugin *registry_plugin(const char *name);

/* The committed extension of `kind` called `name`, or NULL. For plain C
 * functions, `name` is "PLUGIN.FUNCTION". */
struct extension *registry_find(enum extension_kind kind, const char *name);

/* Add `extension` (filled by the caller, name already copied) to the
 * staged `plugin`, after checking that its name is free among the
 * committed plugins and the plugin's own registrations. On failure the
 * extension is freed, the plugin's message is set and its registration
 * marked failed. */
int registry_add(struct lethe_plugin *plugin, struct extension *extension);

/* A new extension of `kind` for `plugin` with a copy of `name`, or NULL
 * (message set on the plugin) on an invalid name or memory exhaustion. */
struct extension *registry_new_extension(struct lethe_plugin *plugin,
                                         enum extension_kind kind,
                                         const char *name);

/* Free an extension that was never added. */
void registry_free_extension(struct extension *extension);

/* Whether `name` is a valid plugin or extension name:
 * [a-z][a-z0-9_]*, at most REGISTRY_MAX_NAME bytes. */
int registry_valid_name(const char *name);

/* The value of option `key` of `plugin`, or NULL. */
const char *registry_option(const struct lethe_plugin *plugin,
                            const char *key);

/* Set the plugin's message (printf-style); returns LETHE_ERROR. */
int registry_fail(struct lethe_plugin *plugin, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The name of an extension kind for messages, such as "criterion". */
const char *registry_kind_name(enum extension_kind kind);

/* The database that plugin callbacks read through host->query: set
 * around each callback by its caller, NULL outside callbacks. */
void registry_enter_database(sqlite3 *db, sqlite3 **saved);
void registry_leave_database(sqlite3 *saved);
sqlite3 *registry_database(void);

#endif
