/*
 * bad_no_entry.c: a plugin with an ABI record but no lethe_plugin_init.
 */
#include <lethe/plugin.h>

LETHE_PLUGIN_DECLARE();

LETHE_PLUGIN_EXPORT int lethe_plugin_start(void);

LETHE_PLUGIN_EXPORT int lethe_plugin_start(void)
{
    return 0;
}
