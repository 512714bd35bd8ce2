-- Command-line arguments: the option parser and value checks shared by
-- every command. A usage error is raised as a table { usage = true,
-- command = ..., message = ... } so that lethe.cli prints it with a pointer
-- to --help and exits with status 2.

local dates = require "lethe.dates"
local native = require "lethe.native"

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

-- Parse `arguments` for `command`. `spec` maps option names to "value" or
-- "flag"; `positional_names` names the positional arguments, required
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
        options[name] = value
      end
    else
      positional[#positional + 1] = argument
    end
    i = i + 1
  end
  if options.help then return options, positional end
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

function args.integer(command, option, text, minimum)
  local value = math.tointeger(tonumber(text))
  if not value or value < minimum then
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


return args
