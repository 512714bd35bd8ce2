/*
 * plugin_loader.h: loading one native plugin from an absolute path.
 *
 * scripts/lethe/plugins.lua finds the file (NAME.so in the plugin
 * directories). This module opens the file it is given, checks the ABI
 * record before calling anything in it, runs lethe_plugin_init and
 * commits the plugin (see lethe/plugin.h).
 */
#ifndef LETHE_PLUGIN_LOADER_H
#define LETHE_PLUGIN_LOADER_H

#include <stddef.h>

struct lethe_plugin;

/* Load the plugin `name` from `path`, which must be absolute, with
 * `options` (key, value, ... : option_count strings). Returns the
 * committed plugin, or NULL with the reason in `message`; the host then
 * works on without it. */
struct lethe_plugin *plugin_loader_load(const char *path, const char *name,
                                        char *const *options,
                                        int option_count, char *message,
                                        size_t message_size);

#endif
