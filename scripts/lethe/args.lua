-- Command-line arguments: the option parser and value checks shared by
-- every command. A usage error is raised as a table { usage = true,
-- command = ..., message = ... } so that lethe.cli prints it with a pointer
-- to --help and exits with status 2.

local dates = require "lethe.dates"
local limits = require "lethe.limits"
local native = require "lethe.native"
local sandbox = require "lethe.sandbox"

local args = {}

function args.usage_error(command, format, ...)
  error({ usage = true, command = command,
          message = string.format(format, ...) }, 0)
end

local usage_error = args.usage_error

-- Write one line to standard output.
function args.out(line)
  io.stdout:write(line, "\n")
end

-- Single-letter options and the long option each stands for.
local short_options = { ["-o"] = "output" }

-- Parse `arguments` for `command`. `spec` maps option names to "value",
-- "flag" or "list" (a value that may repeat, collected in a list);
-- `positional_names` names the positional arguments, required
-- unless the name ends in "?"; { any = true } accepts any number.
-- Returns options (with help = true for --help) and the positional list.
function args.parse(command, arguments, spec, positional_names)
  local options, positional = {}, {}
  local i = 1
  while i <= #arguments do
    local argument = arguments[i]
    if argument == "--help" or argument == "-h" then
      options.help = true
    elseif argument:sub(1, 2) == "--" or short_options[argument] then
      local name, inline = argument:match("^%-%-([^=]+)=(.*)$")
      name = name or short_options[argument] or argument:sub(3)
      local kind = spec[name]
      if not kind then
        usage_error(command, "unknown option --%s", name)
      end
      if kind == "flag" then
        if inline then usage_error(command, "--%s takes no value", name) end
        options[name] = true
      else
        local value = inline
        if not value then
          i = i + 1
          value = arguments[i]
        end
        if value == nil then
          usage_error(command, "--%s needs a value", name)
        end
        if kind == "list" then
          options[name] = options[name] or {}
          table.insert(options[name], value)
        else
          options[name] = value
        end
      end
    else
      positional[#positional + 1] = argument
    end
    i = i + 1
  end
  if options.help then return options, positional end
  args.apply_limits(command, options)
  if spec["plugin-dir"] then
    require("lethe.plugins").configure(command, options, usage_error)
  end
  if positional_names.any then return options, positional end
  if #positional > #positional_names then
    usage_error(command, "unexpected argument '%s'",
      positional[#positional_names + 1])
  end
  for index, name in ipairs(positional_names) do
    if positional[index] == nil and name:sub(-1) ~= "?" then
      usage_error(command, "missing %s", name)
    end
  end
  return options, positional
end

-- The value of option --`option` as a whole number written in decimal
-- digits (not 1e3 or 0x10), from `minimum` to `maximum` (no upper bound
-- when nil), or a usage error of `command`.
function args.integer(command, option, text, minimum, maximum)
  local digits = type(text) == "string" and text:match("^%-?%d+$")
  local value = digits and math.tointeger(tonumber(text))
  if not value or value < minimum or (maximum and value > maximum) then
    if maximum then
      usage_error(command, "--%s must be a whole number from %d to %d, not "
        .. "'%s'", option, minimum, maximum, tostring(text))
    end
    usage_error(command, "--%s must be a whole number of at least %d, not "
      .. "'%s'", option, minimum, tostring(text))
  end
  return value
end

function args.now(command, text)
  if text == nil then return native.time() end
  local instant, reason = dates.parse(text)
  if not instant then
    usage_error(command, "invalid --now '%s': %s (example: --now "
      .. "2024-06-30 or --now 2024-06-30T12:00:00Z)", text, reason)
  end
  return instant
end

-- Script limits ---------------------------------------------------------

-- The options that limit script code. A command that runs scripts adds
-- them to its option spec with args.with_limits. args.parse applies them,
-- and the LETHE_* environment variables, for every command.
args.limit_options = {
  ["memory-limit"] = "value", ["instruction-limit"] = "value",
  ["time-limit"] = "value", ["lua-path"] = "value",
}

-- Help text for the limit options, appended to a command's help.
args.limits_help = [[

Script limits (for the policy, its model and its helper modules; 0 turns
a limit off; LETHE_MEMORY_LIMIT, LETHE_INSTRUCTION_LIMIT, LETHE_TIME_LIMIT
and LETHE_LUA_PATH in the environment set the same):
  --memory-limit MB
                  megabytes that script code may add to the Lua heap
                  (default 256)
  --instruction-limit N
                  Lua instructions that script code may execute in the
                  run (default 1000000000)
  --time-limit SECONDS
                  seconds that script code may run in the run (default 60)
  --lua-path DIRS folders, separated by ':', where require finds a
                  policy's helper modules (default: none)
]]

-- Add the limit options to the option spec `spec` and return it.
function args.with_limits(spec)
  for name, kind in pairs(args.limit_options) do spec[name] = kind end
  return spec
end

-- The text of option `option`, else of environment variable `variable`,
-- and where it came from; nil when neither is set.
local function limit_setting(options, option, variable)
  if options[option] ~= nil then return options[option], "--" .. option end
  local value = os.getenv(variable)
  if value == nil or value == "" then return nil end
  return value, variable
end

local function limit_number(command, options, option, variable, maximum,
                            integer)
  local text, origin = limit_setting(options, option, variable)
  if text == nil then return nil end
  local value = tonumber(text)
  if integer then value = math.tointeger(value) end
  if not value or not (value >= 0 and value <= maximum) then
    usage_error(command, "invalid %s '%s': expected %s from 0 (no limit) "
      .. "to %.0f", origin, text, integer and "a whole number" or "a number",
      maximum)
  end
  return value
end

-- Configure the script limits and the helper-module folders from the
-- limit options in `options` and from the environment; options win.
function args.apply_limits(command, options)
  limits.configure {
    memory_mb = limit_number(command, options, "memory-limit",
      "LETHE_MEMORY_LIMIT", 1048576, true),
    instructions = limit_number(command, options, "instruction-limit",
      "LETHE_INSTRUCTION_LIMIT", 1e18, true),
    seconds = limit_number(command, options, "time-limit",
      "LETHE_TIME_LIMIT", 1e9, false),
  }
  local path = limit_setting(options, "lua-path", "LETHE_LUA_PATH")
  if path ~= nil then
    local folders = {}
    for folder in path:gmatch("[^:]+") do folders[#folders + 1] = folder end
    sandbox.configure { module_folders = folders }
  end
end

return args
