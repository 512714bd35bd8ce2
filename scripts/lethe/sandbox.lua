-- The sandbox: the one way Lethe runs script code (policies, models, Lua
-- plugins, REPL input) and the restricted environment that code sees.
--
-- Environment: the base functions except dofile, loadfile and warn, with
-- collectgarbage limited to "count", "collect" and "step"; string without
-- dump; table, math, utf8, coroutine; os with time, date, clock and
-- difftime only. No io, package or debug. load takes text only and runs
-- it in the script's own environment. require loads helper modules, as
-- text, only from the folders configured with --lua-path. Each script
-- gets its own globals, and reading an undefined global is an error that
-- names it. setmetatable rejects __gc, because a finalizer would run at
-- whatever moment the collector picks, outside the script's limits. The
-- host hides the shared string metatable (see runtime.c).
--
-- Limits: every call into script code goes through sandbox.call (or
-- sandbox.run and sandbox.wrap, built on it), which runs it under the
-- memory, instruction and time limits of lethe.limits. A run's counters
-- add up over all its calls until sandbox.reset().
--
-- Scripts cannot write files: no function in this environment writes
-- anywhere but standard error (print).

local limits = require "lethe.limits"
local native = require "lethe.native"

local sandbox = {}

-- Folders that require searches, in order, and the modules loaded in
-- this run: name -> value, or `loading` while its chunk runs.
local module_folders = {}
local loaded_modules = {}
local loading = {}

-- Configure the sandbox: settings.module_folders lists the folders that
-- require searches (from --lua-path).
function sandbox.configure(settings)
  module_folders = {}
  for _, folder in ipairs(settings.module_folders or {}) do
    module_folders[#module_folders + 1] = folder
  end
end

-- Start a new run: the limits' counters start from zero and helper
-- modules load again. A REPL calls this before each evaluation.
function sandbox.reset()
  limits.reset()
  loaded_modules = {}
end

-- Return a text for the error value `value` that a script raised. Runs
-- inside the limits, because __tostring is script code.
local function error_text(value)
  local kind = type(value)
  if kind == "string" then return value end
  if kind == "number" or kind == "boolean" or kind == "nil" then
    return tostring(value)
  end
  -- Without __tostring a table prints as its address, which means
  -- nothing to the reader. Lua gives such an error no position either.
  local metatable = debug.getmetatable(value)
  if not (metatable and metatable.__tostring) then
    return "error object is a " .. kind .. " value, not a message; raise "
      .. "a string, as in error(\"what went wrong\")"
  end
  local ok, text = pcall(tostring, value)
  if ok and type(text) == "string" then return text end
  return "(error object is a " .. kind .. " value)"
end

-- Call f(...) and turn an error into text that names `script`, so that
-- no script value (a table with a __tostring of its own) leaves the
-- limits as an error.
local function describe_failure(script, ok, ...)
  if ok then return ... end
  local text = error_text((...))
  if not text:find(script, 1, true) then text = script .. ": " .. text end
  error(text, 0)
end

local function call_and_describe(script, f, ...)
  return describe_failure(script, pcall(f, ...))
end

-- Number of sandbox.call calls so far: a caller compares two readings to
-- tell whether script code ran in between.
sandbox.calls = 0

-- Call the script function f(...) under the limits; `script` names the
-- script in limit messages. Returns f's results; raises f's error as text,
-- or the message of the limit that was reached.
function sandbox.call(script, f, ...)
  sandbox.calls = sandbox.calls + 1
  return limits.call(script, call_and_describe, script, f, ...)
end

-- Return a function that calls the script function `f` through
-- sandbox.call: for callbacks that Lethe calls later (guard checks,
-- Lua criteria).
function sandbox.wrap(script, f)
  return function(...) return sandbox.call(script, f, ...) end
end

local function copy(library, leave_out)
  local result = {}
  for name, value in pairs(library) do
    if name ~= leave_out then result[name] = value end
  end
  return result
end

-- print writes to standard error, so that a script's output never mixes
-- with a plan printed as JSON on standard output.
local function print_to_stderr(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  io.stderr:write(table.concat(parts, "\t", 1, parts.n), "\n")
end

local function checked_setmetatable(value, metatable)
  if type(metatable) == "table" and rawget(metatable, "__gc") ~= nil then
    error("setmetatable: __gc is not available to scripts, because a "
      .. "finalizer runs whenever the collector decides, outside the "
      .. "script's limits", 2)
  end
  return setmetatable(value, metatable)
end

-- An error that the count hook raises (a limit) reaches a message
-- handler with hooks turned off, so a handler that loops would never be
-- stopped: once the run is killed, the script's handler is skipped.
local function checked_xpcall(f, handler, ...)
  return xpcall(f, function(message)
    if limits.killed() then return message end
    return handler(message)
  end, ...)
end

-- rawset would put fields into a protected object (a selection is an
-- empty proxy whose fields Lethe reads through its metatable), so it
-- rejects tables whose metatable is protected with __metatable.
local function checked_rawset(value, key, element)
  local metatable = type(value) == "table" and debug.getmetatable(value)
  if metatable and rawget(metatable, "__metatable") ~= nil then
    error("rawset: the table is a protected object", 2)
  end
  return rawset(value, key, element)
end

local collect_options = { count = true, collect = true, step = true }

local function checked_collectgarbage(option, ...)
  option = option or "collect"
  if not collect_options[option] then
    error(string.format("collectgarbage(\"%s\") is not available to "
      .. "scripts; use \"count\", \"collect\" or \"step\"",
      tostring(option)), 2)
  end
  return collectgarbage(option, ...)
end

-- Lua 5.4.4 does not count the C stack when coroutine.close, or a
-- coroutine.wrap function that fails, closes the pending to-be-closed
-- variables of a coroutine. So __close handlers that close further
-- coroutines can nest until the C stack overflows and the process
-- crashes; the standalone lua5.4 of Debian 12 does, with 100000 levels.
-- Both functions are wrapped to bound the nesting.
local maximum_close_depth = 100
local close_depth = 0

local function bounded(f, name)
  return function(...)
    if close_depth >= maximum_close_depth then
      error(string.format("%s nested more than %d levels deep", name,
        maximum_close_depth), 2)
    end
    close_depth = close_depth + 1
    local results = table.pack(pcall(f, ...))
    close_depth = close_depth - 1
    if not results[1] then error(results[2], 0) end
    return table.unpack(results, 2, results.n)
  end
end

local safe_coroutine = copy(coroutine)
safe_coroutine.close = bounded(coroutine.close, "coroutine.close")
safe_coroutine.wrap = function(f)
  return bounded(coroutine.wrap(f), "a coroutine.wrap function")
end

local safe_os = {
  time = os.time, date = os.date, clock = os.clock, difftime = os.difftime,
}

-- Return the chunk name for load(text, name): never one that starts like
-- the names of Lethe's own modules, so that loaded code is always script
-- code for the limits.
local function load_chunk_name(name)
  if name == nil then return "=(load)" end
  return "=(load) " .. tostring(name):sub(1, 60)
end

-- Load `text` (a string, or a reader function as load accepts) as a text
-- chunk in `environment`. Returns the chunk, or nil and a message;
-- precompiled bytecode is rejected with Lua's message "attempt to load a
-- binary chunk".
local function load_text(text, chunk_name, environment)
  return load(text, chunk_name, "t", environment)
end

local function module_path_names(name)
  if type(name) ~= "string" then return nil end
  local parts = {}
  for part in (name .. "."):gmatch("([^.]*)%.") do
    if not part:match("^[%a_][%w_]*$") then return nil end
    parts[#parts + 1] = part
  end
  return table.concat(parts, "/") .. ".lua"
end

local new_environment

-- require(name) for scripts: loads helper module `name` (a.b is a/b.lua)
-- from the configured folders, as text, in an environment of its own
-- with the same API as the script that requires it, and under the
-- limits. Each module loads once per run.
local function require_module(name, extra)
  local relative = module_path_names(name)
  if not relative then
    error(string.format("require: invalid module name '%s'; use names "
      .. "such as \"helpers\" or \"rules.common\"", tostring(name)), 3)
  end
  local cached = loaded_modules[name]
  if cached == loading then
    error(string.format("require: module '%s' requires itself", name), 3)
  end
  if cached ~= nil then return cached end
  local text, path
  for _, folder in ipairs(module_folders) do
    local candidate = folder .. "/" .. relative
    text = native.read_file(candidate)
    if text then
      path = candidate
      break
    end
  end
  if not text then
    error(string.format("require: module '%s' not found; helper modules "
      .. "load only from the folders given with --lua-path%s", name,
      #module_folders > 0 and " (searched " .. table.concat(module_folders,
      ", ") .. ")" or ", and none was given"), 3)
  end
  loaded_modules[name] = loading
  local ok, result = pcall(sandbox.run, text, path, new_environment(extra))
  if not ok then
    loaded_modules[name] = nil
    error(result, 0)
  end
  if result == nil then result = true end
  loaded_modules[name] = result
  return result
end

-- Return a new environment: its own globals, the restricted library, and
-- the entries of `extra` (the policy API).
function new_environment(extra)
  local environment = {
    assert = assert, error = error, ipairs = ipairs, next = next,
    pairs = pairs, pcall = pcall, select = select, tonumber = tonumber,
    tostring = tostring, type = type, xpcall = checked_xpcall,
    rawequal = rawequal, rawlen = rawlen, rawget = rawget,
    rawset = checked_rawset,
    setmetatable = checked_setmetatable, getmetatable = getmetatable,
    collectgarbage = checked_collectgarbage,
    print = print_to_stderr, _VERSION = _VERSION,
    string = copy(string, "dump"), table = copy(table), math = copy(math),
    utf8 = copy(utf8), coroutine = copy(safe_coroutine), os = copy(safe_os),
  }
  environment._G = environment
  environment.load = function(chunk, name, mode, env)
    if type(chunk) ~= "string" and type(chunk) ~= "function" then
      error("load: expected a string or a reader function", 2)
    end
    if mode ~= nil and mode ~= "t" then
      error("load: only text chunks can be loaded (mode \"t\"); "
        .. "precompiled bytecode is rejected", 2)
    end
    if env ~= nil and env ~= environment then
      error("load: a loaded chunk always runs in the script's own "
        .. "environment; leave out the env argument", 2)
    end
    return load_text(chunk, load_chunk_name(name), environment)
  end
  environment.require = function(name)
    -- Not a tail call, so that require_module's errors at level 3 point
    -- at the script's line.
    local module = require_module(name, extra)
    return module
  end
  for name, value in pairs(extra or {}) do environment[name] = value end
  return setmetatable(environment, {
    __index = function(_, name)
      error("undefined global '" .. tostring(name) .. "'", 2)
    end,
    __metatable = false,
  })
end

sandbox.environment = new_environment

-- Load the script `text` as a text chunk in `environment`; `source` names
-- it in messages (Lua adds the line). Raises on a syntax error or on
-- bytecode.
function sandbox.load(text, source, environment)
  local chunk, message = load_text(text, "@" .. source, environment)
  if not chunk then error(message, 0) end
  return chunk
end

-- Run the script `text` in `environment` under the limits. Returns the
-- script's results; raises on a syntax error, a run-time error or a
-- limit.
function sandbox.run(text, source, environment)
  return sandbox.call(source, sandbox.load(text, source, environment))
end

-- Return a copy of `value`, data a script returned (a model table), made
-- of plain tables: no metatables, so that Lethe reading it later never
-- runs script code outside the limits. Functions in it are wrapped with
-- sandbox.wrap. Raises, naming `source`, on a table with a metatable or
-- on userdata and threads.
function sandbox.copy_data(value, source)
  local copies = {}
  local function copy_value(item)
    local kind = type(item)
    if kind == "function" then return sandbox.wrap(source, item) end
    if kind == "userdata" or kind == "thread" then
      error(string.format("%s: a %s cannot be part of the data a script "
        .. "returns", source, kind), 0)
    end
    if kind ~= "table" then return item end
    if copies[item] then return copies[item] end
    if getmetatable(item) ~= nil then
      error(string.format("%s: tables that a script returns cannot have "
        .. "a metatable", source), 0)
    end
    local result = {}
    copies[item] = result
    for key, element in next, item do
      result[copy_value(key)] = copy_value(element)
    end
    return result
  end
  return copy_value(value)
end

return sandbox
