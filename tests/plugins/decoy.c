/*
 * decoy.c: a valid plugin named data_quality that the tests put in the
 * current directory. Lethe must never load it from there. If it is ever
 * loaded, its constructor creates the file DECOY_LOADED in the current
 * directory, and its criterion selects every person.
 */
#define _POSIX_C_SOURCE 200809L

#include <lethe/plugin.h>

#include <fcntl.h>
#include <unistd.h>

LETHE_PLUGIN_DECLARE();

static const struct lethe_host *decoy_host;

__attribute__((constructor)) static void mark_loaded(void)
{
    int fd = open("DECOY_LOADED", O_WRONLY | O_CREAT, 0600);
    if (fd >= 0)
        close(fd);
}

static int compile(void *user, const struct lethe_criterion_call *call,
                   lethe_sql *sql)
{
    (void)user;
    (void)call;
    return decoy_host->sql_append(sql, "1");
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *host,
                                          struct lethe_plugin_info *info)
{
    decoy_host = host;
    info->name = "data_quality";
    info->version = "6.6.6";
    struct lethe_criterion criterion = {0};
    criterion.name = "duplicate_email";
    criterion.max_args = 1;
    criterion.compile = compile;
    return host->register_criterion(info->plugin, &criterion);
}
