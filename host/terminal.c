/*
 * terminal.c: line editing, history, completion and interruption for the
 * REPL (see terminal.h).
 *
 * Ctrl-C while a line runs must stop that line and keep the session: the
 * SIGINT handler interrupts SQLite (sqlite3_interrupt) and sets a Lua
 * hook that raises an error at the next instruction, as Lua's own
 * interpreter does. Ctrl-C while a line is being typed clears the line.
 */
#include "terminal.h"

#include "idset.h"
#include "luadb.h"
#include "script_limits.h"
#include "util.h"

#include <editline/readline.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The state the completion callback and the SIGINT handler reach. They
 * run outside any Lua call of ours, so they find it here. */
static lua_State *completion_state;
static int completer_reference = LUA_NOREF;
static lua_State *running_state;
static sqlite3 *running_db;
static volatile sig_atomic_t interrupted;

/* terminal.is_terminal() -> whether standard input is a terminal. */
static int terminal_is_terminal(lua_State *L)
{
    lua_pushboolean(L, isatty(0));
    return 1;
}

/* Clear the interrupted flag and make `handler` catch SIGINT; the
 * handler in place before goes to *previous. */
static void install_interrupt_handler(void (*handler)(int), struct sigaction *previous)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_handler = handler;
    interrupted = 0;
    sigaction(SIGINT, &action, previous);
}

/* SIGINT while a line is typed. libedit restores the terminal, calls
 * this handler and then ends readline(). */
static void on_prompt_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

/* terminal.readline(prompt) -> the line, or nil at end of input; or "",
 * true when Ctrl-C cancelled the line. Packs the id sets that the last
 * lines did not use first (idset_compact_idle()). Without a terminal it
 * reads a plain line and shows no prompt. [-1, +(1|2), m] */
static int terminal_readline(lua_State *L)
{
    const char *prompt = luaL_checkstring(L, 1);
    if (!isatty(0)) {
        /* Waiting for input is the moment to shrink the sets that the
         * session keeps but no longer uses. */
        idset_compact_idle(L);
        luaL_Buffer buffer;
        luaL_buffinit(L, &buffer);
        int c, any = 0;
        while ((c = getchar()) != EOF && c != '\n') {
            luaL_addchar(&buffer, (char)c);
            any = 1;
        }
        luaL_pushresult(&buffer);
        if (c == EOF && !any)
            lua_pushnil(L);
        return 1;
    }
    struct sigaction previous;
    install_interrupt_handler(on_prompt_interrupt, &previous);
    idset_compact_idle(L);
    /* A Ctrl-C while the sets were packed cancels the line to come. */
    char *line = interrupted ? NULL : readline(prompt);
    sigaction(SIGINT, &previous, NULL);
    if (interrupted) {
        free(line);
        fputs("\n", stdout);
        fflush(stdout);
        lua_pushliteral(L, "");
        lua_pushboolean(L, 1);
        return 2;
    }
    if (!line) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, line);
    free(line);
    return 1;
}

/* terminal.add_history(line); terminal.read_history(path) and
 * terminal.write_history(path) -> true | nil, message. */
static int terminal_add_history(lua_State *L)
{
    add_history(luaL_checkstring(L, 1));
    return 0;
}

static int terminal_read_history(lua_State *L)
{
    lua_pushboolean(L, read_history(luaL_checkstring(L, 1)) == 0);
    return 1;
}

static int terminal_write_history(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (write_history(path) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot write the history file %s", path);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* terminal.width() -> columns of the terminal (80 when unknown). */
static int terminal_width(lua_State *L)
{
    struct winsize size;
    int columns = 80;
    if (ioctl(1, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        columns = size.ws_col;
    else if (getenv("COLUMNS"))
        columns = atoi(getenv("COLUMNS"));
    lua_pushinteger(L, columns > 20 ? columns : 80);
    return 1;
}

/* Ask the Lua completer for the candidates of `text`, given the whole
 * line before the cursor. Runs the completer protected; any error gives
 * no candidates. Returns a NULL-terminated malloc'ed array for libedit. */
static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    lua_State *L = completion_state;
    if (!L || completer_reference == LUA_NOREF)
        return NULL;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, completer_reference);
    lua_pushstring(L, text);
    lua_pushlstring(L, rl_line_buffer, (size_t)start);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        lua_settop(L, top);
        return NULL;
    }
    size_t count = (size_t)lua_rawlen(L, -1);
    if (count == 0) {
        lua_settop(L, top);
        return NULL;
    }
    /* libedit wants the common prefix first, then the candidates. */
    char **matches = calloc(count + 2, sizeof *matches);
    if (!matches) {
        lua_settop(L, top);
        return NULL;
    }
    size_t used = 1;
    for (size_t i = 1; i <= count; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        const char *candidate = lua_tostring(L, -1);
        if (candidate)
            matches[used++] = strdup(candidate);
        lua_pop(L, 1);
    }
    size_t prefix = used > 1 ? strlen(matches[1]) : 0;
    for (size_t i = 2; i < used; i++) {
        size_t j = 0;
        while (j < prefix && matches[i][j] == matches[1][j])
            j++;
        prefix = j;
    }
    matches[0] = strndup(used > 1 ? matches[1] : text, prefix);
    lua_settop(L, top);
    return matches;
}

/* terminal.set_completer(function(text, before) -> { candidates }). */
static int terminal_set_completer(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, completer_reference);
    completer_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    completion_state = L;
    rl_attempted_completion_function = complete;
    /* libedit reads the basic set; GNU readline the other. */
    static char word_breaks[] = " \t\n\"'`@$><=;|&{(,.:[";
    rl_completer_word_break_characters = word_breaks;
    rl_basic_word_break_characters = word_breaks;
    rl_completion_append_character = '\0';
    return 0;
}

static void stop_hook(lua_State *L, lua_Debug *debug)
{
    (void)debug;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted");
}

/* Ctrl-C: stop the query, and the script code through the limits (a
 * kill that pcall cannot swallow); Lethe's own code outside a limited
 * call stops at the next instruction through a hook of its own. */
static void on_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
    if (running_db)
        sqlite3_interrupt(running_db);
    script_limits_interrupt();
    if (running_state && !lua_gethook(running_state))
        lua_sethook(running_state, stop_hook,
                    LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* terminal.run(connection or nil, function, ...) -> true, results... |
 * false, message. Calls the function protected; Ctrl-C meanwhile stops
 * it with the error "interrupted" and interrupts the connection's query.
 * [-(n+2), +(1|2), -] */
static int terminal_run(lua_State *L)
{
    sqlite3 *db = lua_isnil(L, 1) ? NULL : luadb_check(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int arguments = lua_gettop(L) - 2;
    struct sigaction previous;
    running_state = L;
    running_db = db;
    install_interrupt_handler(on_interrupt, &previous);
    int base = 2;
    int status = lua_pcall(L, arguments, LUA_MULTRET, 0);
    sigaction(SIGINT, &previous, NULL);
    running_state = NULL;
    running_db = NULL;
    if (lua_gethook(L) == stop_hook)
        lua_sethook(L, NULL, 0, 0);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, base - 1);
    if (status != LUA_OK && interrupted) {
        lua_settop(L, base - 1);
        lua_pushliteral(L, "interrupted");
        return 2;
    }
    return lua_gettop(L) - (base - 2);
}

static const luaL_Reg terminal_functions[] = {
    {"is_terminal", terminal_is_terminal},
    {"readline", terminal_readline},
    {"add_history", terminal_add_history},
    {"read_history", terminal_read_history},
    {"write_history", terminal_write_history},
    {"width", terminal_width},
    {"set_completer", terminal_set_completer},
    {"run", terminal_run},
    {NULL, NULL},
};

int terminal_open(lua_State *L)
{
    rl_catch_signals = 1;
    luaL_newlib(L, terminal_functions);
    return 1;
}
