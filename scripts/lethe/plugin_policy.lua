-- The plugin part of the policy API, and how plugin extensions become SQL.
--
--   plugin "NAME"              load a plugin for this policy: its guards
--                              and hooks apply to the run; returns a table
--                              of its plain C functions
--   plugin("NAME", options)    the same with options (text, numbers or
--                              booleans); --plugin-option wins over them
--   criterion("NAME", ...)     a plugin criterion with its arguments, used
--                              where a criterion { field, op, ... } is
--   field_action("NAME", ...)  a plugin field action for update { }
--   field_action(f, ...)       a plain C function f of a plugin as a field
--                              action: the field gets f(value, ...), and
--                              keeps its value where f returns NULL
--   strategy("NAME", ...)      a plugin anonymisation strategy; one that
--                              takes no arguments may also be written as
--                              "NAME" in anonymise { }

local host = require "lethe.plugin_host"
local lua_plugins = require "lethe.lua_plugins"
local plugins = require "lethe.plugins"
local support = require "lethe.criteria.support"
local updates = require "lethe.updates"
local util = require "lethe.util"

local plugin_policy = {}

local quote = util.quote

-- The metatable of criterion(...) values: { name, arguments..., n }.
local Criterion = {}

function Criterion.__tostring(criterion)
  return "plugin criterion " .. tostring(criterion[1])
end

-- Whether `value` is a criterion(...) value.
function plugin_policy.is_criterion(value)
  return getmetatable(value) == Criterion
end

-- Check that `arguments` (a table.pack result) hold only values SQL can
-- bind: text, numbers and booleans.
local function check_arguments(what, arguments)
  for i = 1, arguments.n do
    local kind = type(arguments[i])
    if kind ~= "string" and kind ~= "number" and kind ~= "boolean" then
      util.fail("%s: argument %d is a %s; plugins take text, numbers and "
        .. "booleans", what, i, kind)
    end
  end
end

local function check_count(what, extension, count)
  if count < extension.min_args or count > extension.max_args then
    local wanted = extension.min_args == extension.max_args
      and tostring(extension.min_args)
      or string.format("%d to %d", extension.min_args, extension.max_args)
    util.fail("%s takes %s argument%s, not %d", what, wanted,
      wanted == "1" and "" or "s", count)
  end
end

local function find(kind, name, what)
  local extension = host.extension(kind, name)
  if not extension then
    util.fail("unknown plugin %s '%s'; load the plugin that provides it "
      .. "first, with plugin \"NAME\" or --plugin NAME", what, tostring(name))
  end
  return extension
end

-- Criteria ------------------------------------------------------------------

-- Compile the criterion(...) value `criterion` on a row of `entity` under
-- `alias` in the criteria compilation `context`; returns SQL.
function plugin_policy.compile_criterion(context, criterion, entity, alias)
  local name = criterion[1]
  local extension = find("criterion", name, "criterion")
  local what = "criterion " .. name
  if extension.entity and extension.entity ~= entity.name then
    util.fail("%s applies to %s, not to %s", what, extension.entity,
      entity.name)
  end
  local args = { n = criterion.n - 1 }
  for i = 2, criterion.n do args[i - 1] = criterion[i] end
  check_count(what, extension, args.n)
  local bind = function(value) return support.parameter(context, value) end
  local key = alias .. "." .. quote(entity.key)
  if extension.per_row then
    local parts = { bind(name), bind(entity.name), tostring(args.n) }
    for i = 1, args.n do parts[#parts + 1] = bind(args[i]) end
    parts[#parts + 1] = key
    for _, field_name in ipairs(extension.fields or {}) do
      local field = entity.fields[field_name]
      if not field then
        util.fail("%s reads field '%s', which entity %s does not have",
          what, field_name, entity.name)
      end
      parts[#parts + 1] = alias .. "." .. quote(field.column)
    end
    return "lethe_plugin_match(" .. table.concat(parts, ", ") .. ")"
  end
  local call = { entity = entity.name, table = entity.table, alias = alias,
                 key = entity.key, now = context.now, args = args }
  if extension.implementation == "lua" then
    return "(" .. lua_plugins.compile_criterion(extension, context.db, call,
      bind) .. ")"
  end
  local sql, params = host.compile_criterion(name, context.db, call,
    #context.params + 1)
  if not sql then util.fail("%s", params) end
  for _, value in ipairs(params) do bind(value) end
  return "(" .. sql .. ")"
end

-- Field actions and strategies ----------------------------------------------

-- Model field types that a C parameter kind accepts.
local accepts = {
  ["const char *"] = { text = true, date = true },
  int32_t = { integer = true, boolean = true },
  int64_t = { integer = true, boolean = true },
  uint32_t = { integer = true, boolean = true },
  bool = { boolean = true, integer = true },
  double = { number = true, integer = true },
  float = { number = true, integer = true },
}

local function argument_text(arguments)
  local parts = {}
  for i = 1, arguments.n do
    parts[i] = type(arguments[i]) == "string"
      and string.format("%q", arguments[i]) or tostring(arguments[i])
  end
  return table.concat(parts, ", ")
end

-- The assignment (see lethe.updates) of a plugin field action on `field`.
local function assignment(action, field)
  local extension, arguments = action.extension, action.arguments
  local types = {}
  for _, name in ipairs(extension.field_types or {}) do types[name] = true end
  if extension.kind == "function" then
    local result = extension.result == "char *" and "const char *"
      or extension.result
    types = {}
    for name in pairs(accepts[extension.parameters[1]] or {}) do
      if (accepts[result] or {})[name] then types[name] = true end
    end
  end
  if not types[field.type] then
    util.fail("%s does not apply to %s field %s", action.label, field.type,
      field.name)
  end
  return {
    field = field,
    description = string.format("%s via %s(%s)", field.name, action.label,
      argument_text(arguments)),
    build = function(column, bind)
      local parts = { column }
      for i = 1, arguments.n do parts[#parts + 1] = bind(arguments[i]) end
      if extension.kind == "function" then
        table.insert(parts, 1, bind(extension.qualified_name))
        return string.format("coalesce(lethe_plugin_call(%s), %s)",
          table.concat(parts, ", "), column)
      elseif extension.sql_function then
        return string.format("%s(%s)", extension.sql_function,
          table.concat(parts, ", "))
      end
      table.insert(parts, 1, bind(extension.name))
      return string.format("lethe_plugin_%s(%s)",
        extension.kind == "strategy" and "strategy" or "action",
        table.concat(parts, ", "))
    end,
  }
end

local function plugin_action(extension, arguments, label, is_strategy)
  local action = updates.field_action("plugin", { extension = extension,
    arguments = arguments, label = label, is_strategy = is_strategy })
  action.assign = function(field) return assignment(action, field) end
  return action
end

-- Check the policy's arguments of plain C function `extension` (all
-- parameters but the first, which takes the field value).
local function check_function_arguments(extension, arguments)
  local what = "field_action(" .. extension.qualified_name .. ")"
  if extension.not_usable_in_sql then
    util.fail("%s: %s", what, extension.not_usable_in_sql)
  end
  local expected = #extension.parameters - 1
  if arguments.n ~= expected then
    util.fail("%s takes %d argument%s after the function, not %d", what,
      expected, expected == 1 and "" or "s", arguments.n)
  end
  for i = 1, arguments.n do
    local kind = extension.parameters[i + 1]
    local value = arguments[i]
    local ok
    if kind == "const char *" then ok = type(value) == "string"
    elseif kind == "double" or kind == "float" then
      ok = type(value) == "number"
    elseif kind == "bool" then ok = type(value) == "boolean"
    else ok = math.type(value) == "integer" end
    if not ok then
      util.fail("%s: argument %d must be %s, not %s", what, i, kind,
        type(value))
    end
  end
end

local function field_action(target, arguments)
  if type(target) == "function" then
    local qualified = plugins.function_name(target)
    if not qualified then
      util.fail("field_action: the function is not a plain C function of "
        .. "a plugin; give a plugin field action's name or a function "
        .. "from the table that plugin \"NAME\" returns")
    end
    local extension = find("function", qualified, "function")
    check_function_arguments(extension, arguments)
    return plugin_action(extension, arguments, qualified, false)
  end
  if type(target) ~= "string" then
    util.fail("field_action expects the name of a plugin field action or "
      .. "a plugin's function, not a %s", type(target))
  end
  local extension = find("field_action", target, "field action")
  check_arguments("field_action " .. target, arguments)
  check_count("field action " .. target, extension, arguments.n)
  return plugin_action(extension, arguments, target, false)
end

local function strategy(name, arguments)
  if type(name) ~= "string" then
    util.fail("strategy expects the name of a plugin strategy, such as "
      .. "strategy(\"initial\")")
  end
  local extension = find("strategy", name, "strategy")
  check_arguments("strategy " .. name, arguments)
  check_count("strategy " .. name, extension, arguments.n)
  return plugin_action(extension, arguments, name, true)
end

-- anonymise { field = "NAME" } for a plugin strategy without arguments.
updates.find_strategy = function(name)
  if not host.extension("strategy", name) then return nil end
  return strategy(name, { n = 0 })
end

-- The policy API --------------------------------------------------------------

-- Check plugin("NAME", options) options: text keys; text, number or
-- boolean values.
local function check_options(name, options)
  if options == nil then return nil end
  if type(options) ~= "table" then
    util.fail("plugin \"%s\": options must be a table such as { years = "
      .. "10 }", name)
  end
  for key, value in pairs(options) do
    local kind = type(value)
    if type(key) ~= "string" or (kind ~= "string" and kind ~= "number"
        and kind ~= "boolean") then
      util.fail("plugin \"%s\": options have text keys and text, number "
        .. "or boolean values", name)
    end
  end
  return options
end

-- Add plugin, criterion, field_action and strategy to the policy API
-- table `api`. `current()` returns the loader state of the policy being
-- loaded, whose list `plugins` records the plugins the policy requested.
-- `at_caller(f)` runs f and raises its error at the policy line.
function plugin_policy.add_to(api, current, at_caller)
  function api.plugin(name, options)
    return at_caller(function()
      if type(name) ~= "string" then
        util.fail("plugin expects a name, such as plugin \"legal_hold\"")
      end
      local description, message = plugins.load(name,
        check_options(name, options))
      if not description then util.fail("%s", message) end
      local state = current()
      if state then
        state.plugins = state.plugins or {}
        local listed = false
        for _, known in ipairs(state.plugins) do
          listed = listed or known == name
        end
        if not listed then state.plugins[#state.plugins + 1] = name end
      end
      local functions = {}
      for key, value in pairs(description.functions) do
        functions[key] = value
      end
      return functions
    end)
  end

  function api.criterion(name, ...)
    local arguments = table.pack(...)
    return at_caller(function()
      if type(name) ~= "string" then
        util.fail("criterion expects the name of a plugin criterion, such "
          .. "as criterion(\"duplicate_email\")")
      end
      check_arguments("criterion " .. name, arguments)
      local value = { name, n = arguments.n + 1 }
      for i = 1, arguments.n do value[i + 1] = arguments[i] end
      return setmetatable(value, Criterion)
    end)
  end

  function api.field_action(target, ...)
    local arguments = table.pack(...)
    return at_caller(field_action, target, arguments)
  end

  function api.strategy(name, ...)
    local arguments = table.pack(...)
    return at_caller(strategy, name, arguments)
  end
end

return plugin_policy
