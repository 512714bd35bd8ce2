/*
 * bad_init_fails.c: a plugin whose lethe_plugin_init fails after it
 * registered a guard. Lethe must report the plugin's message and keep
 * none of its registrations.
 */
#include <lethe/plugin.h>

LETHE_PLUGIN_DECLARE();

static int veto_everything(void *user, struct lethe_guard_call *call)
{
    (void)user;
    (void)call;
    return LETHE_ERROR;
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *host,
                                          struct lethe_plugin_info *info)
{
    info->name = "bad_init_fails";
    info->version = "0.0.1";
    const struct lethe_guard guard = {"bad_init_guard", "person",
                                      "must never apply", veto_everything,
                                      NULL};
    host->register_guard(info->plugin, &guard);
    host->set_error(info->plugin, "the licence file is missing");
    return LETHE_ERROR;
}
