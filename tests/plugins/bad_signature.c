/*
 * bad_signature.c: a plugin that declares one plain C function with the
 * signature given in its option `signature` (default a variadic one),
 * so that the tests can try signatures Lethe must reject.
 */
#include <lethe/plugin.h>

LETHE_PLUGIN_DECLARE();

static int64_t sum(int64_t first)
{
    return first;
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *host,
                                          struct lethe_plugin_info *info)
{
    info->name = "bad_signature";
    info->version = "0.0.1";
    const char *signature = host->option(info->plugin, "signature");
    if (!signature)
        signature = "int64_t sum(int64_t first, ...)";
    return host->register_function(info->plugin, signature,
                                   (lethe_function_address)sum);
}
