/*
 * plugin_registry.c: the list of loaded plugins, their extensions, name
 * checks, staging and committing (see plugin_registry.h).
 */
#include "plugin_registry.h"

#include "plugin_sql.h"
#include "util.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lethe_plugin *committed;      /* in load order */
static sqlite3 *current_database;           /* see registry_enter_database */

static const char *const kind_names[EXTENSION_KIND_COUNT] = {
    [EXTENSION_CRITERION] = "criterion",
    [EXTENSION_SQL_FUNCTION] = "SQL function",
    [EXTENSION_FIELD_ACTION] = "field action",
    [EXTENSION_STRATEGY] = "strategy",
    [EXTENSION_GUARD] = "guard",
    [EXTENSION_HOOK] = "hook",
    [EXTENSION_FUNCTION] = "function",
};

const char *registry_kind_name(enum extension_kind kind)
{
    return kind < EXTENSION_KIND_COUNT ? kind_names[kind] : "extension";
}

int registry_valid_name(const char *name)
{
    if (!name || !(name[0] >= 'a' && name[0] <= 'z'))
        return 0;
    size_t length = 0;
    for (const char *c = name; *c; c++, length++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                 *c == '_';
        if (!ok || length >= REGISTRY_MAX_NAME)
            return 0;
    }
    return 1;
}

int registry_fail(struct lethe_plugin *plugin, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(plugin->message, sizeof plugin->message, format, arguments);
    va_end(arguments);
    return LETHE_ERROR;
}

/* ---------------------------------------------------------------------- */
/* Id sets that plugins see                                                */
/* ---------------------------------------------------------------------- */

void registry_idset_view(struct lethe_idset *view, struct idset *set)
{
    memset(view, 0, sizeof *view);
    view->magic = IDSET_VIEW_MAGIC;
    view->set = set;
}

struct idset *registry_idset_of(const struct lethe_idset *set)
{
    if (!set || (set->magic != IDSET_VIEW_MAGIC &&
                 set->magic != IDSET_OWNED_MAGIC)) {
        fputs("lethe: warning: a plugin passed a pointer that is not a "
              "Lethe id set (or a set that no longer exists); ignored\n",
              stderr);
        return NULL;
    }
    if (!set->set || !idset_ready(set->set))
        return NULL;
    return set->set;
}

void registry_idset_release(struct lethe_idset *set)
{
    if (set->storage.bitmap)
        roaring_bitmap_free(set->storage.bitmap);
    free(set->storage.entity);
    set->magic = 0;
    free(set);
}

/* ---------------------------------------------------------------------- */
/* Plugins and extensions                                                  */
/* ---------------------------------------------------------------------- */

struct lethe_plugin *registry_stage(const char *name, const char *path,
                                    int is_lua, char *const *options,
                                    int option_count)
{
    struct lethe_plugin *plugin = calloc(1, sizeof *plugin);
    if (!plugin)
        return NULL;
    plugin->name = util_strdup(name);
    plugin->path = util_strdup(path);
    plugin->is_lua = is_lua;
    plugin->options = util_malloc(((size_t)option_count + 1) *
                                  sizeof *plugin->options);
    for (int i = 0; i < option_count; i++)
        plugin->options[i] = util_strdup(options[i]);
    plugin->options[option_count] = NULL;
    plugin->info.plugin = plugin;
    return plugin;
}

struct extension *registry_new_extension(struct lethe_plugin *plugin,
                                         enum extension_kind kind,
                                         const char *name)
{
    if (kind != EXTENSION_HOOK && !registry_valid_name(name)) {
        plugin->registration_failed = 1;
        registry_fail(plugin, "invalid %s name '%s': use lower-case "
                      "letters, digits and _, starting with a letter, at "
                      "most %d bytes", registry_kind_name(kind),
                      name ? name : "(null)", REGISTRY_MAX_NAME);
        return NULL;
    }
    struct extension *extension = calloc(1, sizeof *extension);
    if (!extension) {
        plugin->registration_failed = 1;
        registry_fail(plugin, "out of memory");
        return NULL;
    }
    extension->kind = kind;
    extension->owner = plugin;
    extension->name = util_strdup(name);
    extension->lua_function = -2; /* LUA_NOREF */
    return extension;
}

void registry_free_extension(struct extension *extension)
{
    free(extension->name);
    free(extension->description);
    free(extension->entity);
    free(extension->reason);
    free(extension->sql_function);
    for (char **field = extension->fields; field && *field; field++)
        free(*field);
    free(extension->fields);
    free(extension->ffi);
    free(extension);
}

/* The extension of `kind` named `name` in `plugin`'s list, or NULL.
 * Plain C functions compare their plain name. */
static struct extension *find_in(const struct lethe_plugin *plugin,
                                 enum extension_kind kind, const char *name)
{
    for (struct extension *e = plugin->extensions; e; e = e->next) {
        if (e->kind == kind && strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

struct lethe_plugin *registry_plugin(const char *name)
{
    for (struct lethe_plugin *p = committed; p; p = p->next) {
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

struct extension *registry_find(enum extension_kind kind, const char *name)
{
    if (kind == EXTENSION_FUNCTION) {
        const char *dot = strchr(name, '.');
        if (!dot || (size_t)(dot - name) > REGISTRY_MAX_NAME)
            return NULL;
        char plugin_name[REGISTRY_MAX_NAME + 1];
        memcpy(plugin_name, name, (size_t)(dot - name));
        plugin_name[dot - name] = '\0';
        struct lethe_plugin *plugin = registry_plugin(plugin_name);
        return plugin ? find_in(plugin, kind, dot + 1) : NULL;
    }
    for (struct lethe_plugin *p = committed; p; p = p->next) {
        struct extension *e = find_in(p, kind, name);
        if (e)
            return e;
    }
    return NULL;
}

/* Whether extensions of `kind` share one namespace over all plugins. */
static int has_global_names(enum extension_kind kind)
{
    return kind != EXTENSION_HOOK && kind != EXTENSION_FUNCTION;
}

int registry_add(struct lethe_plugin *plugin, struct extension *extension)
{
    const char *kind = registry_kind_name(extension->kind);
    struct extension *taken = NULL;
    if (extension->kind != EXTENSION_HOOK)
        taken = find_in(plugin, extension->kind, extension->name);
    if (taken) {
        registry_fail(plugin, "%s '%s' is registered twice", kind,
                      extension->name);
    } else if (has_global_names(extension->kind) &&
               (taken = registry_find(extension->kind, extension->name))) {
        registry_fail(plugin, "%s name '%s' is already taken by plugin '%s'",
                      kind, extension->name, taken->owner->name);
    }
    if (taken) {
        plugin->registration_failed = 1;
        registry_free_extension(extension);
        return LETHE_ERROR;
    }
    struct extension **end = &plugin->extensions;
    while (*end)
        end = &(*end)->next;
    *end = extension;
    return LETHE_OK;
}

const char *registry_option(const struct lethe_plugin *plugin,
                            const char *key)
{
    for (char *const *option = plugin->options; option && option[0];
         option += 2) {
        if (strcmp(option[0], key) == 0)
            return option[1];
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Committing, discarding, resetting                                       */
/* ---------------------------------------------------------------------- */

int registry_commit(struct lethe_plugin *plugin, char *message,
                    size_t message_size)
{
    if (plugin->registration_failed) {
        snprintf(message, message_size, "%s", plugin->message);
        return -1;
    }
    struct lethe_plugin *same = registry_plugin(plugin->name);
    if (same) {
        snprintf(message, message_size,
                 "the name '%s' is already taken by the plugin loaded from "
                 "%s", plugin->name, same->path);
        return -1;
    }
    for (struct extension *e = plugin->extensions; e; e = e->next) {
        struct extension *taken = has_global_names(e->kind)
                                      ? registry_find(e->kind, e->name)
                                      : NULL;
        if (taken) {
            snprintf(message, message_size,
                     "%s name '%s' is already taken by plugin '%s'",
                     registry_kind_name(e->kind), e->name,
                     taken->owner->name);
            return -1;
        }
    }
    char *error = NULL;
    if (plugin_sql_add_plugin(plugin, &error) != 0) {
        snprintf(message, message_size, "%s", error);
        free(error);
        return -1;
    }
    plugin->initialising = 0;
    struct lethe_plugin **end = &committed;
    while (*end)
        end = &(*end)->next;
    *end = plugin;
    return 0;
}

static void free_plugin(struct lethe_plugin *plugin)
{
    struct extension *extension = plugin->extensions;
    while (extension) {
        struct extension *next = extension->next;
        registry_free_extension(extension);
        extension = next;
    }
    for (char **option = plugin->options; option && *option; option++)
        free(*option);
    free(plugin->options);
    free(plugin->name);
    free(plugin->version);
    free(plugin->description);
    free(plugin->path);
    if (plugin->handle)
        dlclose(plugin->handle);
    free(plugin);
}

/* Give the plugin's Lua references back. */
static void release_references(struct lethe_plugin *plugin,
                               void (*release)(int lua_function))
{
    for (struct extension *e = plugin->extensions; e; e = e->next) {
        if (release && e->lua_function >= 0)
            release(e->lua_function);
    }
}

void registry_discard(struct lethe_plugin *plugin,
                      void (*release)(int lua_function))
{
    release_references(plugin, release);
    if (plugin->handle && plugin->info.unload)
        plugin->info.unload(plugin->info.user);
    free_plugin(plugin);
}

void registry_reset(void (*release)(int lua_function))
{
    plugin_sql_remove_all();
    while (committed) {
        struct lethe_plugin *plugin = committed;
        committed = plugin->next;
        release_references(plugin, release);
        if (plugin->handle && plugin->info.unload)
            plugin->info.unload(plugin->info.user);
        free_plugin(plugin);
    }
}

struct lethe_plugin *registry_first(void)
{
    return committed;
}

/* ---------------------------------------------------------------------- */
/* The database of the current callback                                    */
/* ---------------------------------------------------------------------- */

void registry_enter_database(sqlite3 *db, sqlite3 **saved)
{
    *saved = current_database;
    current_database = db;
}

void registry_leave_database(sqlite3 *saved)
{
    current_database = saved;
}

sqlite3 *registry_database(void)
{
    return current_database;
}
