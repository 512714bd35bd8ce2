/*
 * plugin_loader.c: dlopen, the ABI check, lethe_plugin_init and the
 * commit of one native plugin (see plugin_loader.h).
 */
#include "plugin_loader.h"

#include "plugin_host.h"
#include "plugin_registry.h"
#include "util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int plugin_init_fn(const struct lethe_host *host,
                           struct lethe_plugin_info *info);

/* Compare the plugin's ABI record with this host. Returns 0, or -1 with
 * a message saying what differs and what to do. */
static int check_abi(const struct lethe_plugin_abi *abi, char *message,
                     size_t message_size)
{
    if (abi->abi_version == 0 || abi->abi_version > LETHE_PLUGIN_ABI_VERSION) {
        snprintf(message, message_size,
                 "it was built for plugin ABI version %u, but this Lethe "
                 "supports versions 1 to %d; rebuild it against this "
                 "Lethe's lethe/plugin.h or update Lethe",
                 abi->abi_version, LETHE_PLUGIN_ABI_VERSION);
        return -1;
    }
    size_t host_size = plugin_host_size(abi->abi_version);
    if (abi->host_size != host_size) {
        snprintf(message, message_size,
                 "it was built with a struct lethe_host of %u bytes, but "
                 "ABI version %u has %zu; rebuild it against lethe/plugin.h",
                 abi->host_size, abi->abi_version, host_size);
        return -1;
    }
    const struct {
        uint32_t built;
        size_t expected;
        const char *name;
    } structs[] = {
        {abi->info_size, sizeof(struct lethe_plugin_info),
         "struct lethe_plugin_info"},
        {abi->value_size, sizeof(struct lethe_value), "struct lethe_value"},
        {abi->criterion_size, sizeof(struct lethe_criterion),
         "struct lethe_criterion"},
        {abi->sql_function_size, sizeof(struct lethe_sql_function),
         "struct lethe_sql_function"},
        {abi->field_action_size, sizeof(struct lethe_field_action),
         "struct lethe_field_action"},
        {abi->guard_size, sizeof(struct lethe_guard), "struct lethe_guard"},
    };
    for (size_t i = 0; i < sizeof structs / sizeof structs[0]; i++) {
        if (structs[i].built != structs[i].expected) {
            snprintf(message, message_size,
                     "it was built with a %s of %u bytes, but this Lethe's "
                     "has %zu; rebuild it against lethe/plugin.h",
                     structs[i].name, structs[i].built, structs[i].expected);
            return -1;
        }
    }
    return 0;
}

/* Open the file and check its ABI record. Returns the init function, or
 * NULL with a message. */
static plugin_init_fn *open_plugin(struct lethe_plugin *plugin,
                                   char *message, size_t message_size)
{
    plugin->handle = dlopen(plugin->path, RTLD_NOW | RTLD_LOCAL);
    if (!plugin->handle) {
        const char *reason = dlerror();
        snprintf(message, message_size, "cannot open it: %s",
                 reason ? reason : "unknown error");
        return NULL;
    }
    const struct lethe_plugin_abi *abi =
        dlsym(plugin->handle, "lethe_plugin_abi");
    if (!abi) {
        snprintf(message, message_size,
                 "it does not export lethe_plugin_abi, so it is not a Lethe "
                 "plugin or was not built with LETHE_PLUGIN_DECLARE() from "
                 "lethe/plugin.h");
        return NULL;
    }
    if (check_abi(abi, message, message_size) != 0)
        return NULL;
    plugin->abi_version = abi->abi_version;
    plugin_init_fn *init = NULL;
    /* POSIX allows this conversion from the void * that dlsym returns. */
    *(void **)&init = dlsym(plugin->handle, "lethe_plugin_init");
    if (!init) {
        snprintf(message, message_size,
                 "it has no entry point lethe_plugin_init; define it with "
                 "LETHE_PLUGIN_EXPORT as lethe/plugin.h shows");
        return NULL;
    }
    return init;
}

/* Check what init filled in and copy it. */
static int accept_info(struct lethe_plugin *plugin, char *message,
                       size_t message_size)
{
    const struct lethe_plugin_info *info = &plugin->info;
    if (!info->name || strcmp(info->name, plugin->name) != 0) {
        snprintf(message, message_size,
                 "it calls itself '%s', but a plugin's name must be its "
                 "file name without .so ('%s')",
                 info->name ? info->name : "(no name)", plugin->name);
        return -1;
    }
    if (!info->version || !info->version[0]) {
        snprintf(message, message_size,
                 "lethe_plugin_init set no info->version");
        return -1;
    }
    plugin->version = util_strdup(info->version);
    plugin->description =
        util_strdup(info->description ? info->description : "");
    return 0;
}

struct lethe_plugin *plugin_loader_load(const char *path, const char *name,
                                        char *const *options,
                                        int option_count, char *message,
                                        size_t message_size)
{
    if (path[0] != '/') {
        snprintf(message, message_size, "plugin path %s is not absolute",
                 path);
        return NULL;
    }
    struct lethe_plugin *plugin =
        registry_stage(name, path, 0, options, option_count);
    if (!plugin) {
        snprintf(message, message_size, "out of memory");
        return NULL;
    }
    plugin_init_fn *init = open_plugin(plugin, message, message_size);
    if (!init) {
        registry_discard(plugin, NULL);
        return NULL;
    }
    plugin->initialising = 1;
    int status = init(plugin_host_table(), &plugin->info);
    plugin->initialising = 0;
    if (status != LETHE_OK) {
        snprintf(message, message_size, "lethe_plugin_init failed: %s",
                 plugin->message[0] ? plugin->message : "no message given");
    } else if (plugin->registration_failed) {
        snprintf(message, message_size, "%s", plugin->message);
        status = LETHE_ERROR;
    } else if (accept_info(plugin, message, message_size) != 0 ||
               plugin_host_finish(plugin, message, message_size) != 0 ||
               registry_commit(plugin, message, message_size) != 0) {
        status = LETHE_ERROR;
    }
    if (status != LETHE_OK) {
        registry_discard(plugin, NULL);
        return NULL;
    }
    return plugin;
}
