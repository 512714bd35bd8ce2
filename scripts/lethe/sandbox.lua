-- The restricted environment that policies and models run in: no io, no
-- os beyond time and date, no package, no debug, no string.dump, and
-- load only for text chunks inside the same environment. Reading a global
-- that does not exist is an error, so that a typo never reads nil.
--
-- NOTE: these are language-level limits only. Memory, instruction and
-- wall-clock limits for scripts are not in place yet.

local sandbox = {}

local safe_string = {}
for name, value in pairs(string) do
  if name ~= "dump" then safe_string[name] = value end
end

local function copy(library)
  local result = {}
  for name, value in pairs(library) do result[name] = value end
  return result
end

-- print writes to standard error, so that a script's output never mixes
-- with a plan printed as JSON on standard output.
local function print_to_stderr(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  io.stderr:write(table.concat(parts, "\t", 1, parts.n), "\n")
end

-- The shared string metatable stays out of reach: changing it would change
-- string methods for Lethe's own code too.
local function safe_getmetatable(value)
  if type(value) == "string" then return nil end
  return getmetatable(value)
end

local safe_os = {
  time = os.time, date = os.date, clock = os.clock, difftime = os.difftime,
}

-- Return a new environment table. `extra` entries (the policy API) are
-- added to it.
function sandbox.environment(extra)
  local environment = {
    assert = assert, error = error, ipairs = ipairs, next = next,
    pairs = pairs, pcall = pcall, select = select, tonumber = tonumber,
    tostring = tostring, type = type, xpcall = xpcall,
    rawequal = rawequal, rawlen = rawlen, rawget = rawget, rawset = rawset,
    setmetatable = setmetatable, getmetatable = safe_getmetatable,
    print = print_to_stderr, _VERSION = _VERSION,
    string = copy(safe_string), table = copy(table), math = copy(math),
    utf8 = copy(utf8), coroutine = copy(coroutine), os = copy(safe_os),
  }
  environment._G = environment
  environment.load = function(chunk, name, mode, env)
    if type(chunk) ~= "string" then
      error("load accepts only text in this environment", 2)
    end
    if mode ~= nil and mode ~= "t" then
      error("load accepts only text chunks (mode \"t\")", 2)
    end
    return load(chunk, name, "t", env or environment)
  end
  for name, value in pairs(extra or {}) do environment[name] = value end
  return setmetatable(environment, {
    __index = function(_, name)
      error("undefined global '" .. tostring(name) .. "'", 2)
    end,
  })
end

-- Run script `text` in `environment`; `source` names it in messages (and
-- the line is added by Lua). Returns the script's first result; raises on
-- syntax or run-time errors.
function sandbox.run(text, source, environment)
  local chunk, message = load(text, "@" .. source, "t", environment)
  if not chunk then error(message, 0) end
  return chunk()
end

return sandbox
