/*
 * script_limits.c: the memory cap (a counting allocator), the instruction
 * budget (a count hook) and the wall-clock limit (a POSIX timer that sends
 * SIGALRM) for script code. script_limits.h describes the model.
 *
 * What is limited:
 * - Memory: inside a limited call the Lua heap may grow by at most the
 *   memory limit above its size when the outermost limited call began.
 *   Growth above that fails, which Lua reports as a memory error; after
 *   such a kill error handling may still use KILL_RESERVE bytes.
 * - Instructions: every HOOK_INTERVAL VM instructions the count hook adds
 *   them to the run's count. Inside limited calls all instructions count;
 *   outside them only those of script functions (a metamethod that
 *   Lethe's own code happened to trigger), so that a script cannot run
 *   unbounded work by hiding it where trusted code calls it.
 * - Time: the time spent inside limited calls is added up per run. The
 *   hook compares it with the limit, and a timer fires when the limit
 *   passes, for the case where the script sits in one library call (a
 *   backtracking string.find, a huge table.concat) and the hook cannot
 *   run. The timer's handler sets the hook to fire at the next
 *   instruction; if the script is still inside the limited call
 *   GRACE_SECONDS later, the handler writes a message and ends the
 *   process with status 1. SQLite rolls back an open transaction when the
 *   process dies, so the database stays as it was.
 *
 * The allocator frees its own state when the heap drops to zero, which
 * happens exactly once: lua_close frees the main state block last.
 */
#include "script_limits.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define RUNNING_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNNING_UNDER_ASAN 1
#endif
#endif

/* VM instructions between two calls of the count hook. */
#define HOOK_INTERVAL 1000

/* Bytes that error handling may still allocate after a memory kill: the
 * limit message and what unwinding needs. */
#define KILL_RESERVE (1024 * 1024)

/* How long a script may stay inside one library call after the time
 * limit before the process ends. */
#define GRACE_SECONDS 1

/* Chunk names of Lethe's embedded modules start with this (see
 * runtime.c); every other chunk is script code. */
#define TRUSTED_SOURCE "=[lethe]"

#define MEGABYTE ((size_t)1024 * 1024)

enum limit_kind {
    LIMIT_NONE,
    LIMIT_MEMORY,
    LIMIT_INSTRUCTIONS,
    LIMIT_TIME,
    LIMIT_INTERRUPT
};

struct script_limits {
    lua_State *main;          /* NULL until lua_newstate has returned */
    size_t heap;              /* bytes the Lua state has allocated now */
    size_t ceiling;           /* heap cap inside limited calls */
    lua_Integer memory_mb;    /* 0: no memory limit */
    lua_Integer backstop_mb;  /* memory_mb of the data-size limit, or -1 */
    lua_Integer instruction_limit; /* per run; 0: no limit */
    lua_Integer instructions; /* counted in this run, to HOOK_INTERVAL */
    double seconds_limit;     /* per run; 0: no limit */
    double seconds_used;      /* in limited calls of this run, finished */
    struct timespec entered;  /* start of the outermost limited call */
    struct timespec deadline; /* when the time limit passes, if any */
    volatile sig_atomic_t depth;  /* nesting of limited calls */
    volatile sig_atomic_t killed; /* enum limit_kind */
    volatile sig_atomic_t grace_armed;
    char script[128];         /* the innermost limited call's script */
    char killed_in[128];      /* the script that was running at the kill */
    char stuck_message[384];  /* what the watchdog writes before exiting */
};

/* The limits of the state inside a limited call, for the signal handler;
 * NULL outside limited calls. */
static struct script_limits *volatile watched;

static timer_t watchdog;
static int watchdog_ready;

static void count_hook(lua_State *L, lua_Debug *ar);

static struct script_limits *limits_of(lua_State *L)
{
    void *limits = NULL;
    lua_getallocf(L, &limits);
    return limits;
}

/* Copy a NUL-terminated string into `target` of `size` bytes, cutting it
 * short if needed; safe in a signal handler. */
static void copy_name(char *target, size_t size, const char *source)
{
    size_t i = 0;
    for (; i + 1 < size && source[i]; i++)
        target[i] = source[i];
    target[i] = '\0';
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Mark the run killed by `kind` and make the main thread's hook fire at
 * every instruction. Safe in a signal handler and in the allocator:
 * lua_sethook only stores fields. */
static void kill_run(struct script_limits *limits, enum limit_kind kind)
{
    if (limits->killed)
        return;
    copy_name(limits->killed_in, sizeof limits->killed_in, limits->script);
    limits->killed = kind;
    lua_sethook(limits->main, count_hook, LUA_MASKCOUNT, 1);
}

/* ------------------------------------------------------------------ */
/* The allocator                                                      */
/* ------------------------------------------------------------------ */

/* Whether the heap may grow by `growth` bytes now; kills the run on the
 * first refusal. */
static int may_grow(struct script_limits *limits, size_t growth)
{
    if (limits->depth == 0)
        return 1;
    size_t ceiling = limits->ceiling;
    if (limits->killed && ceiling <= SIZE_MAX - KILL_RESERVE)
        ceiling += KILL_RESERVE;
    if (growth <= ceiling && limits->heap <= ceiling - growth)
        return 1;
    kill_run(limits, LIMIT_MEMORY);
    return 0;
}

/* lua_Alloc: realloc with accounting. A NULL result for a growing
 * request is a memory error for Lua. Lua requires that shrinking never
 * fails, so a failed shrink keeps the larger block. */
static void *limited_alloc(void *ud, void *block, size_t old_size,
                           size_t new_size)
{
    struct script_limits *limits = ud;
    size_t old = block ? old_size : 0;
    if (new_size == 0) {
        free(block);
        limits->heap -= old;
        if (limits->heap == 0 && limits->main) {
            if (watched == limits)
                watched = NULL;
            free(limits); /* lua_close freed the main state block */
        }
        return NULL;
    }
    if (new_size > old && !may_grow(limits, new_size - old))
        return NULL;
    void *result = realloc(block, new_size);
    if (!result && new_size <= old)
        result = block;
    if (result)
        limits->heap = limits->heap - old + new_size;
    return result;
}

/* ------------------------------------------------------------------ */
/* The count hook and kill messages                                   */
/* ------------------------------------------------------------------ */

/* Push the message for the limit that killed the run. [-0, +1, m] */
static void push_kill_message(lua_State *L, struct script_limits *limits)
{
    const char *script = limits->killed_in[0] ? limits->killed_in
                                               : "a script";
    switch (limits->killed) {
    case LIMIT_MEMORY:
        lua_pushfstring(L,
                        "%s: memory limit of %I MB reached; raise it with "
                        "--memory-limit MB",
                        script, limits->memory_mb);
        break;
    case LIMIT_INSTRUCTIONS:
        lua_pushfstring(L,
                        "%s: instruction limit of %I reached; raise it "
                        "with --instruction-limit N",
                        script, limits->instruction_limit);
        break;
    case LIMIT_INTERRUPT:
        lua_pushfstring(L, "%s: interrupted", script);
        break;
    default: {
        char seconds[32];
        snprintf(seconds, sizeof seconds, "%g", limits->seconds_limit);
        lua_pushfstring(L,
                        "%s: time limit of %s s reached; raise it with "
                        "--time-limit SECONDS",
                        script, seconds);
    }
    }
}

/* Raise the kill message. Does not return. [-0, +1, v] */
static int raise_kill(lua_State *L, struct script_limits *limits)
{
    push_kill_message(L, limits);
    return lua_error(L);
}

static int is_trusted(lua_State *L, lua_Debug *ar)
{
    if (!lua_getinfo(L, "S", ar))
        return 1;
    return strncmp(ar->source, TRUSTED_SOURCE, sizeof TRUSTED_SOURCE - 1) ==
           0;
}

/* Count hook outside limited calls: only script code counts, and only
 * against the instruction budget. */
static void hook_outside(lua_State *L, lua_Debug *ar,
                         struct script_limits *limits, int interval)
{
    if (interval != HOOK_INTERVAL)
        lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_INTERVAL);
    if (is_trusted(L, ar))
        return;
    if (!limits->killed) {
        limits->instructions += interval;
        if (limits->instruction_limit <= 0 ||
            limits->instructions <= limits->instruction_limit)
            return;
        copy_name(limits->script, sizeof limits->script, ar->short_src);
        kill_run(limits, LIMIT_INSTRUCTIONS);
        lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_INTERVAL);
    }
    raise_kill(L, limits);
}

/* lua_Hook for LUA_MASKCOUNT: enforces the instruction budget and the
 * time limit, and raises again at every call once the run is killed.
 * Raises. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    struct script_limits *limits = limits_of(L);
    int interval = lua_gethookcount(L);
    if (limits->depth == 0) {
        hook_outside(L, ar, limits, interval);
        return;
    }
    if (!limits->killed) {
        limits->instructions += interval;
        if (limits->instruction_limit > 0 &&
            limits->instructions > limits->instruction_limit)
            kill_run(limits, LIMIT_INSTRUCTIONS);
        else if (limits->seconds_limit > 0 &&
                 limits->seconds_used + seconds_since(&limits->entered) >=
                     limits->seconds_limit)
            kill_run(limits, LIMIT_TIME);
    }
    if (!limits->killed)
        return;
    /* A coroutine has a hook of its own: make it fire at every
     * instruction too. */
    if (interval != 1)
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    raise_kill(L, limits);
}

/* ------------------------------------------------------------------ */
/* The watchdog timer                                                 */
/* ------------------------------------------------------------------ */

static void arm_watchdog(double seconds)
{
    if (!watchdog_ready)
        return;
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    if (seconds > 0) {
        spec.it_value.tv_sec = (time_t)seconds;
        spec.it_value.tv_nsec =
            (long)((seconds - (double)spec.it_value.tv_sec) * 1e9);
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0)
            spec.it_value.tv_nsec = 1;
    }
    timer_settime(watchdog, 0, &spec, NULL);
}

/* SIGALRM handler: the time limit passed, or the grace period after it.
 * Only async-signal-safe calls: clock_gettime, lua_sethook,
 * timer_settime, write and _exit. */
static void on_alarm(int signal_number)
{
    (void)signal_number;
    struct script_limits *limits = watched;
    if (!limits || limits->depth == 0 || limits->seconds_limit <= 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < limits->deadline.tv_sec ||
        (now.tv_sec == limits->deadline.tv_sec &&
         now.tv_nsec < limits->deadline.tv_nsec))
        return; /* a SIGALRM that another part of the process sent */
    if (!limits->killed)
        kill_run(limits, LIMIT_TIME);
    if (!limits->grace_armed) {
        limits->grace_armed = 1;
        arm_watchdog(GRACE_SECONDS);
        return;
    }
    const char *message = limits->stuck_message;
    ssize_t written = write(STDERR_FILENO, message, strlen(message));
    (void)written;
    _exit(1);
}

/* Install the SIGALRM handler and create the timer, once per process,
 * when a time limit is first used. Without them (timer_create failed) the
 * hook still enforces the time limit, except inside a single long library
 * call. */
static void prepare_watchdog(void)
{
    if (watchdog_ready)
        return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGALRM, &action, NULL) != 0)
        return;
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGALRM;
    if (timer_create(CLOCK_MONOTONIC, &event, &watchdog) == 0)
        watchdog_ready = 1;
}

/* ------------------------------------------------------------------ */
/* Limited calls                                                      */
/* ------------------------------------------------------------------ */

/* Lower the process's data-size limit to a backstop well above the Lua
 * heap cap (Lethe's own data, SQLite's cache and id sets live outside
 * the Lua heap), or restore the limit the process started with. Never
 * raises a limit above the one the process started with. Called when
 * script code first runs, so that work before it (creating a large
 * sample database) is not bound. Skipped under AddressSanitizer, whose
 * shadow memory counts as data. */
static void set_data_backstop(lua_Integer memory_mb)
{
#ifndef RUNNING_UNDER_ASAN
    static struct rlimit initial;
    static int have_initial;
    if (!have_initial) {
        if (getrlimit(RLIMIT_DATA, &initial) != 0)
            return;
        have_initial = 1;
    }
    struct rlimit wanted = initial;
    if (memory_mb > 0) {
        rlim_t backstop = (rlim_t)memory_mb * 4 * MEGABYTE + 2048 * MEGABYTE;
        if (initial.rlim_cur == RLIM_INFINITY || backstop < initial.rlim_cur)
            wanted.rlim_cur = backstop;
    }
    setrlimit(RLIMIT_DATA, &wanted);
#else
    (void)memory_mb;
#endif
}

/* Start a limited call of `script` on thread L. The hook is set again on
 * L at the outermost call, in case other code cleared it. */
static void enter(lua_State *L, struct script_limits *limits,
                  const char *script)
{
    copy_name(limits->script, sizeof limits->script, script);
    if (limits->depth++ > 0)
        return;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_INTERVAL);
    size_t room = (size_t)limits->memory_mb * MEGABYTE;
    limits->ceiling = limits->memory_mb > 0 && limits->heap <= SIZE_MAX - room
                          ? limits->heap + room
                          : SIZE_MAX;
    if (limits->backstop_mb != limits->memory_mb) {
        set_data_backstop(limits->memory_mb);
        limits->backstop_mb = limits->memory_mb;
    }
    limits->grace_armed = 0;
    snprintf(limits->stuck_message, sizeof limits->stuck_message,
             "lethe: %s: time limit of %g s reached while the script was "
             "inside a library call that did not return; the process "
             "stops (SQLite rolls back any open transaction)\n",
             limits->script, limits->seconds_limit);
    clock_gettime(CLOCK_MONOTONIC, &limits->entered);
    watched = limits;
    if (limits->seconds_limit > 0) {
        double remaining = limits->seconds_limit - limits->seconds_used;
        limits->deadline = limits->entered;
        limits->deadline.tv_sec += (time_t)remaining;
        limits->deadline.tv_nsec +=
            (long)((remaining - (double)(time_t)remaining) * 1e9);
        if (limits->deadline.tv_nsec >= 1000000000L) {
            limits->deadline.tv_sec++;
            limits->deadline.tv_nsec -= 1000000000L;
        }
        prepare_watchdog();
        arm_watchdog(remaining);
    }
}

static void leave(struct script_limits *limits, const char *outer_script)
{
    copy_name(limits->script, sizeof limits->script, outer_script);
    if (--limits->depth > 0)
        return;
    arm_watchdog(0);
    watched = NULL;
    limits->seconds_used += seconds_since(&limits->entered);
    limits->ceiling = SIZE_MAX;
    lua_sethook(limits->main, count_hook, LUA_MASKCOUNT, HOOK_INTERVAL);
}

/* limits.call(script, f, ...) -> the results of f(...), called with the
 * limits in force; `script` names the script in messages. An error of f
 * is raised again; a kill raises the limit's message instead, whatever
 * error value reached this boundary. [-(n+2), +r, e] */
static int limits_call(lua_State *L)
{
    struct script_limits *limits = limits_of(L);
    const char *script = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (!limits->killed && limits->depth == 0 && limits->seconds_limit > 0 &&
        limits->seconds_used >= limits->seconds_limit) {
        copy_name(limits->script, sizeof limits->script, script);
        kill_run(limits, LIMIT_TIME);
    }
    if (limits->killed)
        return raise_kill(L, limits);
    char outer[sizeof limits->script];
    copy_name(outer, sizeof outer, limits->script);
    enter(L, limits, script);
    int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    leave(limits, outer);
    if (limits->killed)
        return raise_kill(L, limits);
    if (status != LUA_OK)
        return lua_error(L);
    return lua_gettop(L) - 1;
}

/* Read optional field `name` of the table at index 1 as a number of at
 * least 0 into *value. Raises on a bad value. [-0, +0, v] */
static void read_setting(lua_State *L, const char *name, lua_Number *value)
{
    int type = lua_getfield(L, 1, name);
    if (type != LUA_TNIL) {
        int is_number = 0;
        lua_Number number = lua_tonumberx(L, -1, &is_number);
        if (!is_number || !(number >= 0))
            luaL_error(L, "limits.configure: %s must be a number of at "
                          "least 0",
                       name);
        *value = number;
    }
    lua_pop(L, 1);
}

/* limits.configure{ memory_mb = , instructions = , seconds = } sets the
 * limits given (0 turns one off) for the next limited calls. Raises on a
 * bad value. [-1, +0, v] */
static int limits_configure(lua_State *L)
{
    struct script_limits *limits = limits_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Number memory = (lua_Number)limits->memory_mb;
    lua_Number instructions = (lua_Number)limits->instruction_limit;
    lua_Number seconds = limits->seconds_limit;
    read_setting(L, "memory_mb", &memory);
    read_setting(L, "instructions", &instructions);
    read_setting(L, "seconds", &seconds);
    if (memory > 1024.0 * 1024 || instructions > 9e18 || seconds > 1e9)
        return luaL_error(L, "limits.configure: value out of range");
    limits->memory_mb = (lua_Integer)memory;
    limits->instruction_limit = (lua_Integer)instructions;
    limits->seconds_limit = seconds;
    return 0;
}

/* limits.reset() starts a new run: counters to zero, no kill.
 * [-0, +0, -] */
static int limits_reset(lua_State *L)
{
    struct script_limits *limits = limits_of(L);
    if (limits->depth > 0)
        return luaL_error(L, "limits.reset inside a limited call");
    limits->instructions = 0;
    limits->seconds_used = 0;
    limits->killed = LIMIT_NONE;
    limits->killed_in[0] = '\0';
    lua_sethook(limits->main, count_hook, LUA_MASKCOUNT, HOOK_INTERVAL);
    return 0;
}

/* limits.killed() -> true once a limit ended the run (until reset).
 * [-0, +1, -] */
static int limits_killed(lua_State *L)
{
    lua_pushboolean(L, limits_of(L)->killed != LIMIT_NONE);
    return 1;
}

/* limits.state() -> { heap, instructions, seconds, killed, memory_mb,
 * instruction_limit, seconds_limit, depth }; killed is "memory",
 * "instructions", "time" or nil. [-0, +1, m] */
static int limits_state(lua_State *L)
{
    static const char *const kinds[] = {NULL, "memory", "instructions",
                                        "time", "interrupt"};
    struct script_limits *limits = limits_of(L);
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, (lua_Integer)limits->heap);
    lua_setfield(L, -2, "heap");
    lua_pushinteger(L, limits->instructions);
    lua_setfield(L, -2, "instructions");
    lua_pushnumber(L, limits->seconds_used);
    lua_setfield(L, -2, "seconds");
    if (limits->killed) {
        lua_pushstring(L, kinds[limits->killed]);
        lua_setfield(L, -2, "killed");
    }
    lua_pushinteger(L, limits->memory_mb);
    lua_setfield(L, -2, "memory_mb");
    lua_pushinteger(L, limits->instruction_limit);
    lua_setfield(L, -2, "instruction_limit");
    lua_pushnumber(L, limits->seconds_limit);
    lua_setfield(L, -2, "seconds_limit");
    lua_pushinteger(L, limits->depth);
    lua_setfield(L, -2, "depth");
    return 1;
}

int script_limits_open(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"call", limits_call},   {"configure", limits_configure},
        {"reset", limits_reset}, {"state", limits_state},
        {"killed", limits_killed},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}

/* ------------------------------------------------------------------ */
/* The state                                                          */
/* ------------------------------------------------------------------ */

static int panic(lua_State *L)
{
    const char *message = lua_tostring(L, -1);
    fprintf(stderr, "lethe: unprotected Lua error: %s\n",
            message ? message : "(error object is not a string)");
    return 0; /* Lua then aborts */
}

/* lua_WarnFunction that drops warnings, as luaL_newstate's default does
 * until code calls warn("@on"); scripts have no warn function. */
static void ignore_warning(void *ud, const char *message, int to_continue)
{
    (void)ud;
    (void)message;
    (void)to_continue;
}

lua_State *script_limits_new_state(void)
{
    struct script_limits *limits = calloc(1, sizeof *limits);
    if (!limits)
        return NULL;
    limits->memory_mb = SCRIPT_LIMITS_DEFAULT_MEMORY_MB;
    limits->instruction_limit = SCRIPT_LIMITS_DEFAULT_INSTRUCTIONS;
    limits->seconds_limit = SCRIPT_LIMITS_DEFAULT_SECONDS;
    limits->ceiling = SIZE_MAX;
    limits->backstop_mb = -1;
    lua_State *L = lua_newstate(limited_alloc, limits);
    if (!L) {
        free(limits); /* main is NULL, so the allocator kept it */
        return NULL;
    }
    limits->main = L;
    lua_atpanic(L, panic);
    lua_setwarnf(L, ignore_warning, NULL);
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_INTERVAL);
    return L;
}

void script_limits_interrupt(void)
{
    struct script_limits *limits = watched;
    if (limits && limits->depth > 0)
        kill_run(limits, LIMIT_INTERRUPT);
}

void script_limits_harden_process(void)
{
    struct rlimit core;
    if (getrlimit(RLIMIT_CORE, &core) == 0) {
        core.rlim_cur = 0;
        setrlimit(RLIMIT_CORE, &core);
    }
}
