/*
 * my_plugin.c: a Lethe plugin to start from. It adds one deletion guard:
 * persons with an open sale (status 1 in the CRM schema) cannot be
 * deleted, with the reason "has an open sale".
 *
 * Rename the file, the project and info->name together: Lethe loads a
 * plugin NAME from NAME.so and checks that it calls itself NAME. See
 * docs/plugin-guide.md in Lethe's sources and lethe/plugin.h for the
 * other extension points.
 */
#include <lethe/plugin.h>

#include <string.h>

LETHE_PLUGIN_DECLARE();

static const struct lethe_host *host;
static lethe_plugin *self;

/* Called for each row of the query: add the person id to the vetoed
 * ids. */
static int add_vetoed(void *vetoed, int column_count,
                      const struct lethe_value *columns)
{
    if (column_count > 0 && columns[0].type == LETHE_INTEGER)
        host->idset_add(vetoed, columns[0].integer);
    return 0;
}

/* The guard: of the persons about to be deleted, veto those with an open
 * sale. */
static int check_open_sales(void *user, struct lethe_guard_call *call)
{
    (void)user;
    struct lethe_value candidates;
    memset(&candidates, 0, sizeof candidates);
    candidates.type = LETHE_IDSET;
    candidates.ids = call->candidates;
    return host->query(self,
                       "SELECT DISTINCT person_id FROM sale "
                       "WHERE person_id IN lethe_ids(?1) AND status = 1",
                       &candidates, 1, add_vetoed, call->vetoed);
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *h,
                                          struct lethe_plugin_info *info)
{
    host = h;
    self = info->plugin;
    info->name = "my_plugin";
    info->version = "0.1.0";
    info->description = "persons with an open sale cannot be deleted";
    struct lethe_guard guard;
    memset(&guard, 0, sizeof guard);
    guard.name = "open_sale";
    guard.entity = "person";
    guard.reason = "has an open sale";
    guard.check = check_open_sales;
    return host->register_guard(self, &guard);
}
