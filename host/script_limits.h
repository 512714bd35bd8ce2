/*
 * script_limits.h: memory, instruction and wall-clock limits for script
 * code.
 *
 * Policies, models, Lua plugins and REPL input are script code. They run
 * inside limited calls (limits.call from Lua, see script_limits.c), which
 * cap how much the Lua heap may grow, how many VM instructions a run may
 * execute and how long its script code may take. Lethe's own Lua and C
 * code is trusted and runs without these limits between limited calls.
 *
 * When a limit is reached the run is killed: from then on every hook call
 * inside limited calls raises again and allocations above the cap fail, so
 * that no pcall in a script can swallow the error, until the outermost
 * limited call returns. The kill stays in force (later limited calls fail
 * at once) until limits.reset() starts a new run, as a REPL does before
 * each evaluation.
 */
#ifndef LETHE_SCRIPT_LIMITS_H
#define LETHE_SCRIPT_LIMITS_H

#include <lua.h>

/* Defaults; the command line and the environment can change each one
 * (see scripts/lethe/args.lua). */
#define SCRIPT_LIMITS_DEFAULT_MEMORY_MB 256
#define SCRIPT_LIMITS_DEFAULT_INSTRUCTIONS 1000000000LL
#define SCRIPT_LIMITS_DEFAULT_SECONDS 60.0

/* Create a Lua state whose allocator counts and caps the heap and whose
 * count hook enforces the instruction budget, with the default limits.
 * Returns NULL when memory runs out. lua_close frees the limits too. */
lua_State *script_limits_new_state(void);

/* luaopen function of the trusted module `lethe.limits` (configure,
 * reset, call, state). Scripts never see it. [-0, +1, m] */
int script_limits_open(lua_State *L);

/* Stop the script code that runs inside a limited call now, as a limit
 * would, with the message "SCRIPT: interrupted"; for a SIGINT handler
 * (the REPL's Ctrl-C). Does nothing outside limited calls. Async-signal
 * safe. */
void script_limits_interrupt(void);

/* Set the process-level limit that needs no configuration: no core files,
 * because a core file would hold personal data from the database. The
 * data-size backstop follows the memory limit, so the first limited call
 * sets it. */
void script_limits_harden_process(void);

#endif
