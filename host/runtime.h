/*
 * runtime.h: the Lua state that runs Lethe's commands.
 *
 * Lethe's own Lua code (scripts/lethe/) is embedded in the binary and runs
 * with the full standard library; it loads policies and models into
 * restricted environments of their own.
 */
#ifndef LETHE_RUNTIME_H
#define LETHE_RUNTIME_H

#include <lua.h>

/* Create a Lua state with the standard libraries, where require finds
 * Lethe's embedded modules and the native modules lethe.native and
 * lethe.idset. Returns NULL when memory runs out. */
lua_State *runtime_new_state(void);

/* Run the command line through the Lua entry point lethe.cli.main and
 * return the process exit status (0 success, 1 failed run, 2 bad usage). */
int runtime_run(int argc, char **argv);

#endif
