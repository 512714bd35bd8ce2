/*
 * bad_duplicate.c: a plugin that registers the criterion name
 * duplicate_email, which the bundled data_quality plugin has. Loaded
 * after data_quality, Lethe must reject it; loaded alone, it loads.
 */
#include <lethe/plugin.h>

LETHE_PLUGIN_DECLARE();

static int compile(void *user, const struct lethe_criterion_call *call,
                   lethe_sql *sql)
{
    (void)user;
    (void)call;
    (void)sql;
    return LETHE_ERROR;
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *host,
                                          struct lethe_plugin_info *info)
{
    info->name = "bad_duplicate";
    info->version = "0.0.1";
    struct lethe_criterion criterion = {0};
    criterion.name = "duplicate_email";
    criterion.compile = compile;
    return host->register_criterion(info->plugin, &criterion);
}
