/*
 * bad_name.c: a plugin whose info->name differs from its file name.
 */
#include <lethe/plugin.h>

LETHE_PLUGIN_DECLARE();

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *host,
                                          struct lethe_plugin_info *info)
{
    (void)host;
    info->name = "someone_else";
    info->version = "0.0.1";
    return LETHE_OK;
}
