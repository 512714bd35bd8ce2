/*
 * plugin_host.h: the struct lethe_host that plugins call, and the checks
 * every registration passes, whether it comes from a C plugin or a Lua
 * plugin.
 */
#ifndef LETHE_PLUGIN_HOST_H
#define LETHE_PLUGIN_HOST_H

#include "plugin_registry.h"

/* The host table given to lethe_plugin_init. */
const struct lethe_host *plugin_host_table(void);

/* The size of struct lethe_host for ABI `version`, or 0 for a version this
 * Lethe does not know. */
size_t plugin_host_size(uint32_t version);

/* Check `extension` (filled from a C definition or a Lua table) for its
 * kind and add it to the staged `plugin`. On failure the extension is
 * freed and the plugin's message gives the reason. Returns LETHE_OK or
 * LETHE_ERROR. */
int plugin_host_add(struct lethe_plugin *plugin, struct extension *extension);

/* Checks that need every registration of `plugin`: a field action's
 * sql_function must be one of the plugin's SQL functions, and plain C
 * functions get info->free_result and a libffi call interface. Returns 0,
 * or -1 with a message. */
int plugin_host_finish(struct lethe_plugin *plugin, char *message,
                       size_t message_size);

/* The field type bit for a model field type name ("text", ...), or 0. */
unsigned plugin_host_field_type(const char *name);

#endif
