/*
 * bad_abi_version.c: a plugin built for an ABI version from the future.
 * Lethe must reject it before calling lethe_plugin_init.
 */
#include <lethe/plugin.h>

#include <stdlib.h>

LETHE_PLUGIN_EXPORT const struct lethe_plugin_abi lethe_plugin_abi = {
    LETHE_PLUGIN_ABI_VERSION + 98,
    sizeof(struct lethe_host),
    sizeof(struct lethe_plugin_info),
    sizeof(struct lethe_value),
    sizeof(struct lethe_criterion),
    sizeof(struct lethe_sql_function),
    sizeof(struct lethe_field_action),
    sizeof(struct lethe_guard),
};

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *host,
                                          struct lethe_plugin_info *info)
{
    (void)host;
    (void)info;
    abort(); /* never called */
}
