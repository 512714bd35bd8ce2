/*
 * plugin_lua.h: the trusted Lua module `lethe.plugin_host`, through which
 * scripts/lethe/plugins.lua loads plugins, lists them and calls their
 * extensions.
 */
#ifndef LETHE_PLUGIN_LUA_H
#define LETHE_PLUGIN_LUA_H

#include <lua.h>

/* Module opener for package.preload: the functions load_native,
 * stage_lua, register_lua, commit_lua, discard_lua, list, extension and
 * inspect, those of plugin_calls.h, and the fields abi_version and
 * installed_directory. When the state closes, every plugin is unloaded.
 * Only one Lua state at a time can use plugins. [-0, +1, m] */
int plugin_lua_open(lua_State *L);

#endif
