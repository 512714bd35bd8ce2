/*
 * plugin_calls.h: calling plugins' extensions, from Lua (the functions of
 * `lethe.plugin_host` that run plugin code) and from SQLite into Lua
 * plugins.
 */
#ifndef LETHE_PLUGIN_CALLS_H
#define LETHE_PLUGIN_CALLS_H

#include "plugin_registry.h"

#include <lua.h>
#include <sqlite3.h>

/* Add compile_criterion, check_guard, notify, functions, query and
 * self_test to the module table on top of the stack. [-0, +0, m] */
void plugin_calls_register(lua_State *L);

/* Set the Lua thread on which SQLite's calls into Lua plugins run, or
 * NULL once the state that loaded them closes. */
void plugin_calls_set_thread(lua_State *thread);

/* Call the Lua function of per-row criterion `extension` for `row` and
 * set the SQL result (1 or 0), or an error naming the plugin. Runs on
 * the thread above in protected mode: no Lua error leaves it. */
void plugin_lua_match(const struct extension *extension,
                      sqlite3_context *context, const struct lethe_row *row);

/* Call the Lua function of a per-value field action or strategy with
 * `value` and `args` and set the SQL result from its return value. */
void plugin_lua_value(const struct extension *extension,
                      sqlite3_context *context,
                      const struct lethe_value *value, int arg_count,
                      const struct lethe_value *args);

#endif
