-- Lua plugins: a Lua module NAME.lua in a plugin directory, run in the
-- sandbox, with the extension points of native plugins. The module
-- returns a table:
--
--   return {
--     version = "1.0.0",
--     description = "what the plugin adds, in one line",
--     init = function(lethe)
--       lethe.strategy { name = "initial", field_types = { "text" },
--                        value = function(value) return value:sub(1, 1) end }
--     end,
--   }
--
-- init registers through `lethe` (see sdk/lua/lethe.lua, class
-- LethePluginHost): criterion, field_action, strategy, guard, hook,
-- option, query, ids and log. Registrations are possible only during
-- init, and either all of them take effect or none does. Every function
-- a plugin hands over runs later in the sandbox, under the script limits.

local host = require "lethe.plugin_host"
local idset = require "lethe.idset"
local native = require "lethe.native"
local sandbox = require "lethe.sandbox"

local lua_plugins = {}

-- Per plugin: criteria compiled to SQL (name -> function), guards (name ->
-- function) and hooks (event -> list of functions).
local parts = {}

-- The database that lethe.query reads while Lethe calls a plugin from Lua.
-- It is nil while SQLite calls one, because the host then reads the
-- database of the running statement.
local current_db

local events = {
  before_plan = 0, after_plan = 1, before_apply = 2, after_apply = 3,
  before_erasure = 4, after_erasure = 5,
}

-- Call f(...) with `db` as the database that lethe.query reads.
local function with_database(db, f, ...)
  local outer = current_db
  current_db = db
  local results = table.pack(pcall(f, ...))
  current_db = outer
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

-- A definition's field, read without running a metamethod of the script.
local function field(definition, key)
  return rawget(definition, key)
end

local function check_definition(what, definition)
  if type(definition) ~= "table" then
    error(string.format("%s expects a table, such as %s { name = \"...\", "
      .. "... }", what, what), 3)
  end
  if type(field(definition, "name")) ~= "string" then
    error(what .. ": name must be text", 3)
  end
end

local function text_list(definition, key, what)
  local list = field(definition, key)
  if list == nil then return nil end
  if type(list) ~= "table" then
    error(string.format("%s: %s must be a list of names", what, key), 3)
  end
  local copy = {}
  for i = 1, rawlen(list) do
    local item = rawget(list, i)
    if type(item) ~= "string" then
      error(string.format("%s: %s must be a list of names", what, key), 3)
    end
    copy[i] = item
  end
  return copy
end

local function wrapped(source, definition, key, what, required)
  local f = field(definition, key)
  if f == nil and not required then return nil end
  if type(f) ~= "function" then
    error(string.format("%s: %s must be a function", what, key), 3)
  end
  return sandbox.wrap(source, f)
end

-- Register with the host; a failure is an error of the plugin's init.
local function register(kind, definition)
  local ok, message = host.register_lua(kind, definition)
  if not ok then error(message, 3) end
end

-- The API table that init receives. `state.open` is true during init.
local function new_api(name, source, options, state, plugin_parts)
  local api = { name = name, host_version = native.version }
  local function open(what)
    if not state.open then
      error(what .. ": registrations are possible only during init", 3)
    end
  end

  function api.criterion(definition)
    open("criterion")
    check_definition("criterion", definition)
    local what = "criterion " .. field(definition, "name")
    local sql = wrapped(source, definition, "sql", what, false)
    local match = wrapped(source, definition, "match", what, false)
    if (sql == nil) == (match == nil) then
      error(what .. ": give exactly one of sql = function(call) and "
        .. "match = function(row, id, ...)", 2)
    end
    register("criterion", {
      name = field(definition, "name"),
      description = field(definition, "description"),
      entity = field(definition, "entity"),
      min_args = field(definition, "min_args"),
      max_args = field(definition, "max_args"),
      fields = text_list(definition, "fields", what),
      per_row = match and 1 or 0, match = match,
    })
    if sql then plugin_parts.criteria[field(definition, "name")] = sql end
  end

  local function value_extension(kind, definition)
    open(kind)
    check_definition(kind, definition)
    local what = kind:gsub("_", " ") .. " " .. field(definition, "name")
    register(kind, {
      name = field(definition, "name"),
      description = field(definition, "description"),
      field_types = text_list(definition, "field_types", what)
        or { "text" },
      min_args = field(definition, "min_args"),
      max_args = field(definition, "max_args"),
      value = wrapped(source, definition, "value", what, true),
    })
  end

  function api.field_action(definition)
    value_extension("field_action", definition)
  end

  function api.strategy(definition)
    value_extension("strategy", definition)
  end

  function api.guard(definition)
    open("guard")
    check_definition("guard", definition)
    local what = "guard " .. field(definition, "name")
    local check = wrapped(source, definition, "check", what, true)
    register("guard", {
      name = field(definition, "name"), entity = field(definition, "entity"),
      reason = field(definition, "reason"),
    })
    plugin_parts.guards[field(definition, "name")] = check
  end

  function api.hook(event, f)
    open("hook")
    if events[event] == nil then
      error(string.format("hook: unknown event %s; use before_plan, "
        .. "after_plan, before_apply, after_apply, before_erasure or "
        .. "after_erasure", tostring(event)), 2)
    end
    if type(f) ~= "function" then error("hook: expected a function", 2) end
    register("hook", { name = event, event = events[event] })
    local list = plugin_parts.hooks[event] or {}
    list[#list + 1] = sandbox.wrap(source, f)
    plugin_parts.hooks[event] = list
  end

  function api.option(key)
    return options[key]
  end

  function api.query(sql, params)
    local rows, message = host.query(current_db, sql, params)
    if not rows then error(message, 2) end
    return rows
  end

  function api.ids(entity, list)
    if list == nil then return idset.new(entity) end
    return idset.from_array(entity, list)
  end

  function api.log(message)
    io.stderr:write(string.format("lethe: plugin %s: %s\n", name,
      tostring(message)))
  end

  return api
end

-- Load the Lua plugin `name` from `path` with `options`. Returns its
-- description, or nil and the reason.
function lua_plugins.load(path, name, options)
  local text, message = native.read_file(path)
  if not text then return nil, message end
  local ok, module = pcall(function()
    return sandbox.copy_data(sandbox.run(text, path,
      sandbox.environment({})), path)
  end)
  if not ok then return nil, tostring(module) end
  if type(module) ~= "table" or type(module.init) ~= "function"
      or type(module.version) ~= "string" then
    return nil, "a Lua plugin returns a table with version = \"...\", "
      .. "description = \"...\" and init = function(lethe) ... end"
  end
  host.stage_lua(name, path, options)
  local state = { open = true }
  local plugin_parts = { criteria = {}, guards = {}, hooks = {} }
  local init_ok, init_message = pcall(module.init,
    new_api(name, path, options, state, plugin_parts))
  state.open = false
  if not init_ok then
    host.discard_lua()
    return nil, "init failed: " .. tostring(init_message)
  end
  local description, commit_message = host.commit_lua(module.version,
    type(module.description) == "string" and module.description or "")
  if not description then return nil, commit_message end
  parts[name] = plugin_parts
  return description
end

-- Compile the Lua plugin criterion `extension` for `call` (entity, table,
-- alias, key, now and args). `bind(value)` adds a parameter and returns
-- its placeholder. Returns the SQL expression.
function lua_plugins.compile_criterion(extension, db, call, bind)
  local compile = parts[extension.plugin].criteria[extension.name]
  call.bind = function(_, value)
    local kind = type(value)
    if kind ~= "string" and kind ~= "number" and kind ~= "boolean" then
      error(string.format("call:bind takes text, a number or a boolean, "
        .. "not %s; write NULL in the SQL itself", kind), 2)
    end
    return bind(value)
  end
  local sql = with_database(db, compile, call)
  if type(sql) ~= "string" or sql == "" then
    error(string.format("plugin %s, criterion '%s': sql must return the "
      .. "SQL expression as text", extension.plugin, extension.name), 0)
  end
  return sql
end

-- Ask the Lua guard `extension` about `ids` of `entity`. Returns the
-- vetoed ids and the reason; raises with the plugin's name on an error.
function lua_plugins.check_guard(extension, db, entity, ids, now)
  local check = parts[extension.plugin].guards[extension.name]
  local ok, vetoed, reason = pcall(with_database, db, check, entity,
    ids:copy(), now)
  local prefix = string.format("plugin %s, guard '%s'", extension.plugin,
    extension.name)
  if not ok then error(prefix .. ": " .. tostring(vetoed), 0) end
  if vetoed == nil then return idset.new(entity), extension.reason end
  if not pcall(function() return vetoed:entity() end)
      or vetoed:entity() ~= entity then
    error(string.format("%s: check must return an id set of %s (from "
      .. "lethe.ids) or nil", prefix, entity), 0)
  end
  if reason ~= nil and type(reason) ~= "string" then
    error(prefix .. ": the reason must be text", 0)
  end
  return vetoed, reason or extension.reason
end

-- The event table a Lua hook receives: `data` with counts and digests
-- as maps from name to value.
local function event_for_lua(data)
  local event = {}
  for key, value in pairs(data) do
    if key ~= "counts" and key ~= "digests" then event[key] = value end
  end
  event.counts, event.digests = {}, {}
  for _, pair in ipairs(data.counts or {}) do event.counts[pair[1]] = pair[2] end
  for _, pair in ipairs(data.digests or {}) do
    event.digests[pair[1]] = pair[2]
  end
  return event
end

-- Call the Lua hooks of plugin `name` for `event`, each with its own copy
-- of `data`. Returns true, or false and the first error.
function lua_plugins.call_hooks(name, event, data, db)
  for _, hook in ipairs(parts[name] and parts[name].hooks[event] or {}) do
    local ok, message = pcall(with_database, db, hook, event_for_lua(data))
    if not ok then return false, tostring(message) end
  end
  return true
end

return lua_plugins
