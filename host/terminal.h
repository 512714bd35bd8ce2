/*
 * terminal.h: the Lua module `lethe.terminal` for the REPL: line editing
 * and history through libedit, completion through a Lua function, the
 * terminal's width, and running code that Ctrl-C can interrupt.
 */
#ifndef LETHE_TERMINAL_H
#define LETHE_TERMINAL_H

#include <lua.h>

/* Module opener for package.preload. [-0, +1, m] */
int terminal_open(lua_State *L);

#endif
