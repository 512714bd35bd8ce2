-- Plugins: the directories they load from, finding and loading them
-- (native NAME.so and Lua NAME.lua), and what a run uses of them: the
-- guards of the plugins it asked for, and their hooks.
--
-- Plugins load only from configured directories, in this order: each
-- --plugin-dir, then each directory of LETHE_PLUGIN_PATH (separated by
-- ':'), then the installed plugin directory. A directory must be an
-- absolute path; relative ones are rejected, so the current directory
-- is never searched unless given by its absolute path. A plugin is named,
-- never given by path: NAME.so, else NAME.lua, in the first directory
-- that has one. Files and directories that any user may write are
-- rejected.
--
-- A plugin that fails to load is reported and left out, and the run goes
-- on. A policy that requests it with plugin "NAME" fails with the reason.

local host = require "lethe.plugin_host"
local keys = require "lethe.keys"
local lua_plugins = require "lethe.lua_plugins"
local native = require "lethe.native"
local util = require "lethe.util"

local plugins = {}

local configured = false -- whether configure() ran
local directories = {}  -- { path, origin }, searched in order
local configured_options = {} -- plugin name -> { key = value }
local requested = {}    -- names from --plugin, in order
local loaded = {}       -- name -> description (see plugin_host.list)
local failed = {}       -- name -> message
-- Plain C functions handed to policies -> "plugin.function".
local function_names = setmetatable({}, { __mode = "k" })

-- The shared options of the commands that run policies.
plugins.option_spec = {
  ["plugin-dir"] = "list", plugin = "list", ["plugin-option"] = "list",
}

-- Help text for the shared options, appended to a command's help.
plugins.help = [[

Plugins (also LETHE_PLUGIN_PATH, absolute directories separated by ':'):
  --plugin-dir DIR
                  load plugins from DIR, an absolute path (repeatable)
  --plugin NAME   load plugin NAME (NAME.so or NAME.lua) for this run, so
                  that its guards and hooks apply (repeatable)
  --plugin-option NAME.KEY=VALUE
                  set option KEY of plugin NAME (repeatable)
]]

-- Add the plugin options to the option spec `spec` and return it.
function plugins.with_options(spec)
  for name, kind in pairs(plugins.option_spec) do spec[name] = kind end
  return spec
end

-- Whether `name` can name a plugin: [a-z][a-z0-9_]*, at most 63 bytes.
function plugins.is_name(name)
  return type(name) == "string" and #name <= 63
    and name:match("^[a-z][a-z0-9_]*$") ~= nil
end

local function warn(format, ...)
  io.stderr:write("lethe: ", string.format(format, ...), "\n")
end

-- Configuration -----------------------------------------------------------

-- Check the directory `path` (from `origin`) and return its real path, or
-- nil and the reason.
local function check_directory(path, origin)
  if path:sub(1, 1) ~= "/" then
    return nil, string.format("%s: plugin directory '%s' is not an "
      .. "absolute path; plugins never load from relative paths", origin,
      path)
  end
  local info, message = host.inspect(path)
  if not info then return nil, origin .. ": " .. message end
  if info.kind ~= "directory" then
    return nil, string.format("%s: %s is not a directory", origin, path)
  end
  if info.writable_by_others then
    return nil, string.format("%s: plugin directory %s is writable by "
      .. "every user; remove that permission (chmod o-w)", origin,
      info.real)
  end
  return info.real
end

local function add_directory(path, origin)
  for _, known in ipairs(directories) do
    if known.path == path then return end
  end
  directories[#directories + 1] = { path = path, origin = origin }
end

-- Parse "NAME.KEY=VALUE" into configured_options, or raise a usage error.
local function add_option(command, text, usage_error)
  local name, key, value = text:match("^([%w_]+)%.([%w_]+)=(.*)$")
  if not name then
    usage_error(command, "invalid --plugin-option '%s'; write "
      .. "NAME.KEY=VALUE, such as erasure_receipt.directory=/srv/receipts",
      text)
  end
  configured_options[name] = configured_options[name] or {}
  configured_options[name][key] = value
end

-- Add the directories of LETHE_PLUGIN_PATH and the installed plugin
-- directory, after those already configured.
local function add_default_directories()
  for path in (os.getenv("LETHE_PLUGIN_PATH") or ""):gmatch("[^:]+") do
    local real, message = check_directory(path, "LETHE_PLUGIN_PATH")
    if real then
      add_directory(real, "LETHE_PLUGIN_PATH")
    else
      warn("%s; ignored", message)
    end
  end
  local installed = host.installed_directory
  if installed ~= "" and host.inspect(installed) then
    local real = check_directory(installed, "the installed plugin directory")
    if real then add_directory(real, "installed") end
  end
end

-- Configure the plugin directories and options from the command line
-- `options` and the environment, then load the plugins named by
-- --plugin. `usage_error(command, format, ...)` raises a usage error.
-- A command without plugin options gets the default directories when a
-- policy first requests a plugin.
function plugins.configure(command, options, usage_error)
  configured = true
  directories, configured_options, requested = {}, {}, {}
  for _, path in ipairs(options["plugin-dir"] or {}) do
    local real, message = check_directory(path, "--plugin-dir")
    if not real then usage_error(command, "%s", message) end
    add_directory(real, "--plugin-dir")
  end
  add_default_directories()
  for _, text in ipairs(options["plugin-option"] or {}) do
    add_option(command, text, usage_error)
  end
  for _, name in ipairs(options.plugin or {}) do
    if not plugins.is_name(name) then
      usage_error(command, "invalid --plugin '%s': plugins are named (such "
        .. "as --plugin legal_hold), never given by path; put the file in a "
        .. "directory given with --plugin-dir", name)
    end
    requested[#requested + 1] = name
  end
  for _, name in ipairs(requested) do
    local description, message = plugins.load(name)
    if not description then
      warn("%s; the run goes on without it", message)
    end
  end
end

-- The configured directories, as { path, origin } in search order.
function plugins.directories()
  return directories
end

-- Finding and loading -----------------------------------------------------

-- The file of plugin `name`: its real path and kind ("C" or "Lua"), or
-- nil and the reason.
local function find(name)
  local searched = {}
  for _, directory in ipairs(directories) do
    for _, suffix in ipairs { ".so", ".lua" } do
      local info = host.inspect(directory.path .. "/" .. name .. suffix)
      if info then
        if info.kind ~= "file" then
          return nil, string.format("%s is not a regular file", info.real)
        end
        if info.writable_by_others then
          return nil, string.format("%s is writable by every user; remove "
            .. "that permission (chmod o-w)", info.real)
        end
        return info.real, suffix == ".so" and "C" or "Lua"
      end
    end
    searched[#searched + 1] = directory.path
  end
  if #searched == 0 then
    return nil, string.format("%s.so or %s.lua not found: no plugin "
      .. "directory is configured; use --plugin-dir DIR or "
      .. "LETHE_PLUGIN_PATH", name, name)
  end
  return nil, string.format("%s.so or %s.lua not found in the plugin "
    .. "directories (%s)", name, name, table.concat(searched, ", "))
end

-- The options of plugin `name`: the policy's `extra` ones, overridden by
-- --plugin-option. Values are text.
local function options_for(name, extra)
  local merged = {}
  for key, value in pairs(extra or {}) do merged[key] = tostring(value) end
  for key, value in pairs(configured_options[name] or {}) do
    merged[key] = value
  end
  return merged
end

-- Load plugin `name` (once per run), with the options `extra` from a
-- policy. Returns its description { name, version, description, path,
-- kind, abi, extensions, functions }, or nil and the reason, which names
-- the plugin.
function plugins.load(name, extra)
  if loaded[name] then
    for key, value in pairs(extra or {}) do
      local current = loaded[name].options[key]
      if current ~= tostring(value) and not (configured_options[name] or
          {})[key] then
        return nil, string.format("plugin %s is already loaded with "
          .. "option %s = %s; a policy cannot change it to %s", name, key,
          tostring(current), tostring(value))
      end
    end
    return loaded[name]
  end
  if failed[name] then return nil, failed[name] end
  if not configured then
    configured = true
    add_default_directories()
  end
  if not plugins.is_name(name) then
    return nil, string.format("invalid plugin name '%s': use lower-case "
      .. "letters, digits and _, starting with a letter", tostring(name))
  end
  local path, kind = find(name)
  local description, message
  local options = options_for(name, extra)
  if not path then
    message = kind
  elseif kind == "C" then
    description, message = host.load_native(path, name, options)
  else
    description, message = lua_plugins.load(path, name, options)
  end
  if not description then
    failed[name] = string.format("plugin %s%s: %s", name,
      path and " (" .. path .. ")" or "", message)
    return nil, failed[name]
  end
  description.options = options
  description.functions = host.functions(name)
  for function_name, f in pairs(description.functions) do
    function_names[f] = name .. "." .. function_name
  end
  loaded[name] = description
  return description
end

-- The "plugin.function" name of a plain C function that plugin "NAME"
-- returned, or nil for any other value.
function plugins.function_name(f)
  return function_names[f]
end

-- Load every plugin in the configured directories, for `lethe plugins`.
-- Returns the descriptions and the failures { name, message }.
function plugins.load_all()
  local names, seen = {}, {}
  for _, directory in ipairs(directories) do
    for _, file in ipairs(native.list_dir(directory.path) or {}) do
      local name = file:match("^(.+)%.so$") or file:match("^(.+)%.lua$")
      if name and plugins.is_name(name) and not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
    end
  end
  table.sort(names)
  for _, name in ipairs(names) do plugins.load(name) end
  return plugins.loaded(), plugins.failures()
end

-- The loaded plugins' descriptions, by name order.
function plugins.loaded()
  local list = {}
  for _, name in ipairs(util.sorted_keys(loaded)) do
    list[#list + 1] = loaded[name]
  end
  return list
end

-- The plugins that failed to load: { name, message }, by name order.
function plugins.failures()
  local list = {}
  for _, name in ipairs(util.sorted_keys(failed)) do
    list[#list + 1] = { name = name, message = failed[name] }
  end
  return list
end

-- The plugins whose guards and hooks apply to a run of `policy`: those
-- named by --plugin and by the policy's plugin "NAME", when loaded.
function plugins.active(policy)
  local active = {}
  for _, name in ipairs(requested) do
    if loaded[name] then active[name] = true end
  end
  for _, name in ipairs(policy and policy.plugins or {}) do
    if loaded[name] then active[name] = true end
  end
  return active
end

-- The extensions of `kind` of the active plugins, in load order.
local function active_extensions(policy, kind)
  local active, list = plugins.active(policy), {}
  for _, description in ipairs(host.list()) do
    if active[description.name] then
      for _, extension in ipairs(description.extensions) do
        if extension.kind == kind then list[#list + 1] = extension end
      end
    end
  end
  return list
end

-- Guards ------------------------------------------------------------------

-- Ask the guards of the run's active plugins about deleting `ids` of
-- `entity`; `add_block(reason, vetoed)` records each veto.
function plugins.apply_guards(run, entity, ids, add_block)
  if #ids == 0 then return end
  for _, guard in ipairs(active_extensions(run.policy, "guard")) do
    if guard.entity == nil or guard.entity == entity.name then
      local vetoed, reason
      if guard.implementation == "lua" then
        vetoed, reason = lua_plugins.check_guard(guard, run.db, entity.name,
          ids, run.now)
      else
        vetoed, reason = host.check_guard(guard.name, run.db, entity.name,
          ids, run.now)
        if not vetoed then util.fail("%s", reason) end
      end
      add_block(reason, vetoed & ids)
    end
  end
end

-- Hooks -------------------------------------------------------------------

-- Counts per table and operation of `plan`, as { {name, count} } with
-- names such as "person.delete".
local function plan_counts(plan)
  local totals = {}
  for _, rule in ipairs(plan and plan.rules or {}) do
    for _, effect in ipairs(rule.effects) do
      local name = effect.entity.table .. "." .. effect.operation
      totals[name] = (totals[name] or 0) + #effect.ids
    end
  end
  local list = {}
  for _, name in ipairs(util.sorted_keys(totals)) do
    list[#list + 1] = { name, totals[name] }
  end
  return list
end

-- Digests of the ids each rule acts on (keyed when the run has a key), as
-- { {"rule NAME", digest} }.
local function rule_digests(run, plan)
  local list = {}
  for _, rule in ipairs(plan and plan.rules or {}) do
    if rule.acting and rule.action ~= "keep" then
      list[#list + 1] = { "rule " .. rule.name,
                          keys.set_digest(rule.acting, run.key) }
    end
  end
  return list
end

-- Tell the run's active plugins about `event` ("before_plan", ...,
-- "after_erasure"). `details` may have command, plan, verified (true,
-- false or nil) and counts (more { {name, count} }). Returns the
-- failures as { plugin, message }.
function plugins.notify(event, run, details)
  local active = plugins.active(run.policy)
  if next(active) == nil then return {} end
  local counts = plan_counts(details.plan)
  for _, pair in ipairs(details.counts or {}) do counts[#counts + 1] = pair end
  local data = {
    event = event, command = details.command, policy = run.policy.name,
    policy_digest = run.policy.digest,
    plan_digest = details.plan and details.plan.digest or nil,
    now = run.now, at = native.time(), counts = counts,
    digests = rule_digests(run, details.plan), verified = details.verified,
  }
  local failures = host.notify(event, data, run.db, active)
  for _, hook in ipairs(active_extensions(run.policy, "hook")) do
    if hook.implementation == "lua" and hook.name == event then
      local ok, message = lua_plugins.call_hooks(hook.plugin, event, data,
        run.db)
      if not ok then
        failures[#failures + 1] = { plugin = hook.plugin, message = message }
      end
    end
  end
  return failures
end

-- Run the "before" hooks of `event`; a failure stops the run with the
-- plugin's message.
function plugins.before(event, run, details)
  local failures = plugins.notify(event, run, details)
  if #failures > 0 then
    util.fail("plugin %s stopped the run at %s: %s; nothing was changed",
      failures[1].plugin, event, failures[1].message)
  end
end

-- Run the "after" hooks of `event` and report failures on standard error.
-- Returns true when every hook succeeded.
function plugins.after(event, run, details)
  local failures = plugins.notify(event, run, details)
  for _, failure in ipairs(failures) do
    warn("plugin %s failed at %s: %s", failure.plugin, event,
      failure.message)
  end
  return #failures == 0
end

local function deletes(plan)
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      if effect.operation == "delete" then return true end
    end
  end
  return false
end

-- Before `plan` is applied by `command`: the before_apply hooks, and the
-- before_erasure hooks when the plan deletes rows. Raises when one fails.
function plugins.before_apply(run, plan, command)
  local details = { command = command, plan = plan }
  plugins.before("before_apply", run, details)
  if deletes(plan) then plugins.before("before_erasure", run, details) end
end

-- After `plan` was applied and committed: the after_apply hooks, and the
-- after_erasure hooks with the erasure check `check` (nil when it was
-- skipped) when the plan deleted rows. Returns true when every hook
-- succeeded.
function plugins.after_apply(run, plan, check, command)
  local ok = plugins.after("after_apply", run, { command = command,
    plan = plan })
  if deletes(plan) then
    ok = plugins.after("after_erasure", run, {
      command = command, plan = plan,
      verified = check and check.verified or nil,
      counts = { { "erasure.values_checked", check and check.values or 0 } },
    }) and ok
  end
  return ok
end

return plugins
