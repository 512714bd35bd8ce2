-- Bulk updates and anonymisation: the field actions a policy can put in
-- update { ... } and anonymise { ... }, their checks against the model,
-- and the SQL they become. Every field action is an SQL expression over
-- the row, so an update over an id set stays one UPDATE statement; the
-- functions it needs (lethe_replace, lethe_regex_replace, lethe_list_add,
-- lethe_list_remove, lethe_keyed_hash, lethe_random_shape) are registered
-- on every connection by the host.

local native = require "lethe.native"
local util = require "lethe.util"

local updates = {}

local quote = util.quote

local FieldAction = {}
FieldAction.__index = FieldAction

local RelatedAction = {}
RelatedAction.__index = RelatedAction

-- A bound parameter that stands for the anonymisation key. The key is
-- bound when a statement runs and never becomes part of a plan's text.
updates.KEY = setmetatable({}, { __tostring = function() return "key" end })

local function field_action(kind, fields)
  fields.kind = kind
  fields.enabled = true
  return setmetatable(fields, FieldAction)
end

updates.is_field_action = function(value)
  return getmetatable(value) == FieldAction
end

-- Field actions of plugins (lethe.plugin_policy) are FieldActions of kind
-- "plugin" with an assign(field) function that returns the assignment.
updates.field_action = field_action

-- Policy API ------------------------------------------------------------------

local api = {}
updates.api = api

function api.clear() return field_action("clear", {}) end
function api.check() return field_action("check", {}) end
function api.uncheck() return field_action("uncheck", {}) end
function api.toggle() return field_action("toggle", {}) end

local function options_of(options, allowed, what)
  options = options or {}
  if type(options) ~= "table" then
    util.fail("%s: options must be a table such as { case_sensitive = "
      .. "true }", what)
  end
  for key, value in pairs(options) do
    if not allowed[key] then
      util.fail("%s: unknown option '%s'", what, tostring(key))
    end
    if type(value) ~= "boolean" then
      util.fail("%s: option %s must be true or false", what, key)
    end
  end
  return options
end

function api.replace(search, replacement, options)
  if type(search) ~= "string" or search == "" then
    util.fail("replace: the text to search for must be non-empty text")
  end
  if type(replacement) ~= "string" then
    util.fail("replace: the replacement must be text")
  end
  options = options_of(options, { case_sensitive = true, whole_word = true },
    "replace")
  return field_action("replace", { search = search,
    replacement = replacement, case_sensitive = options.case_sensitive
      or false, whole_word = options.whole_word or false })
end

function api.regex_replace(pattern, replacement, options)
  if type(pattern) ~= "string" or pattern == "" then
    util.fail("regex_replace: the pattern must be non-empty text")
  end
  if type(replacement) ~= "string" then
    util.fail("regex_replace: the replacement must be text")
  end
  local ok, message = native.check_regex(pattern)
  if not ok then
    util.fail("regex_replace: invalid pattern %q: %s", pattern, message)
  end
  options = options_of(options, { case_sensitive = true }, "regex_replace")
  return field_action("regex", { pattern = pattern,
    replacement = replacement,
    case_sensitive = options.case_sensitive ~= false })
end

function api.add_value(value)
  if type(value) ~= "string" or value == "" then
    util.fail("add_value needs a non-empty text value")
  end
  return field_action("add_value", { value = value })
end

function api.remove_value(value)
  if type(value) ~= "string" or value == "" then
    util.fail("remove_value needs a non-empty text value")
  end
  return field_action("remove_value", { value = value })
end

function api.increment(amount)
  amount = amount == nil and 1 or amount
  if type(amount) ~= "number" or amount ~= amount then
    util.fail("increment needs a number")
  end
  return field_action("increment", { amount = amount })
end

-- Anonymisation strategies, for anonymise { field = strategy }.
function api.fixed(text)
  if type(text) ~= "string" then util.fail("fixed needs a text value") end
  return field_action("fixed", { value = text })
end
function api.hashed() return field_action("hash", {}) end
function api.random_text() return field_action("random", {}) end

-- off(action) keeps an action in the policy but switches it off.
function api.off(action)
  if getmetatable(action) ~= FieldAction then
    action = field_action("set", { value = action })
  end
  local copy = setmetatable({}, FieldAction)
  for key, value in pairs(action) do copy[key] = value end
  copy.enabled = false
  return copy
end

-- consent { purpose = "EMARKETING", legal_basis = "WITHDRAWN",
-- source = "USER" } gives each selected person that consent: the existing
-- row for the purpose is updated, a missing one is inserted.
function api.consent(values)
  if type(values) ~= "table" or type(values.purpose) ~= "string" then
    util.fail("consent needs a table with purpose = \"...\"")
  end
  for key in pairs(values) do
    if key ~= "purpose" and key ~= "legal_basis" and key ~= "source" then
      util.fail("consent: unknown key '%s'; use purpose, legal_basis and "
        .. "source", tostring(key))
    end
  end
  if type(values.legal_basis) ~= "string" then
    util.fail("consent needs legal_basis = \"...\"")
  end
  return setmetatable({ kind = "consent", purpose = values.purpose,
    legal_basis = values.legal_basis, source = values.source }, RelatedAction)
end

-- withdraw_consent("EMARKETING") sets the legal basis of each selected
-- person's consent for that purpose to WITHDRAWN; persons without one are
-- skipped.
function api.withdraw_consent(purpose)
  if type(purpose) ~= "string" then
    util.fail("withdraw_consent needs a purpose, such as \"EMARKETING\"")
  end
  return setmetatable({ kind = "withdraw", purpose = purpose,
    legal_basis = "WITHDRAWN" }, RelatedAction)
end

updates.is_related_action = function(value)
  return getmetatable(value) == RelatedAction
end

-- Resolving against the model -------------------------------------------------

local field_kinds = {
  set = true, clear = true, check = { boolean = true },
  uncheck = { boolean = true }, toggle = { boolean = true },
  replace = { text = true, list = true },
  regex = { text = true, list = true },
  add_value = { list = true, text = true },
  remove_value = { list = true, text = true },
  increment = { integer = true, number = true },
  fixed = { text = true, list = true }, hash = { text = true, list = true },
  random = { text = true, list = true },
}

local function set_value(field, value)
  if value == updates.null then return nil end
  if field.type == "boolean" then
    if type(value) ~= "boolean" then
      util.fail("field %s is boolean; use true or false", field.name)
    end
    return value and 1 or 0
  end
  if field.type == "integer" and math.type(value) ~= "integer"
      or field.type == "number" and type(value) ~= "number"
      or (field.type == "text" or field.type == "date"
        or field.type == "list") and type(value) ~= "string" then
    util.fail("value %s does not suit %s field %s", tostring(value),
      field.type, field.name)
  end
  if field.type == "lookup" then
    util.fail("lookup field %s cannot be set by update yet", field.name)
  end
  return value
end

-- Return an assignment { field, kind, description, build(column, bind) }
-- for field action `action` on `field`.
local function assignment(field, action)
  if action.kind == "plugin" then return action.assign(field) end
  local kinds = field_kinds[action.kind]
  if type(kinds) == "table" and not kinds[field.type] then
    util.fail("%s does not apply to %s field %s", action.kind, field.type,
      field.name)
  end
  local kind = action.kind
  local function describe(text) return field.name .. " " .. text end
  if kind == "set" then
    local value = set_value(field, action.value)
    return { field = field, description = describe("= " .. (value == nil
      and "null" or tostring(value))),
      build = function(_, bind) return bind(value) end }
  elseif kind == "clear" then
    return { field = field, description = describe("cleared"),
      build = function() return "NULL" end, clears = true }
  elseif kind == "check" or kind == "uncheck" then
    return { field = field, description = describe(kind == "check"
      and "= true" or "= false"),
      build = function() return kind == "check" and "1" or "0" end }
  elseif kind == "toggle" then
    return { field = field, description = describe("toggled"),
      build = function(column)
        return string.format("CASE WHEN %s IS NULL THEN NULL WHEN %s <> 0 "
          .. "THEN 0 ELSE 1 END", column, column)
      end }
  elseif kind == "replace" then
    return { field = field, description = describe(string.format(
      "%q replaced by %q%s%s", action.search, action.replacement,
      action.case_sensitive and ", case-sensitive" or "",
      action.whole_word and ", whole words" or "")),
      build = function(column, bind)
        return string.format("lethe_replace(%s, %s, %s, %d, %d)", column,
          bind(action.search), bind(action.replacement),
          action.case_sensitive and 1 or 0, action.whole_word and 1 or 0)
      end }
  elseif kind == "regex" then
    return { field = field, description = describe(string.format(
      "/%s/ replaced by %q", action.pattern, action.replacement)),
      build = function(column, bind)
        return string.format("lethe_regex_replace(%s, %s, %s, %d)", column,
          bind(action.pattern), bind(action.replacement),
          action.case_sensitive and 1 or 0)
      end }
  elseif kind == "add_value" or kind == "remove_value" then
    local separator = field.separator or ";"
    return { field = field, description = describe(string.format("%s %q",
      kind == "add_value" and "gains" or "loses", action.value)),
      build = function(column, bind)
        return string.format("lethe_list_%s(%s, %s, %s)", kind == "add_value"
          and "add" or "remove", column, bind(action.value), bind(separator))
      end }
  elseif kind == "increment" then
    return { field = field, description = describe("+ "
      .. tostring(action.amount)),
      build = function(column, bind)
        return string.format("%s + %s", column, bind(action.amount))
      end }
  elseif kind == "fixed" then
    return { field = field, description = describe("= " .. string.format(
      "%q", action.value)),
      build = function(_, bind) return bind(action.value) end }
  elseif kind == "hash" then
    return { field = field, description = describe("replaced by its keyed "
      .. "hash"), needs_key = true,
      build = function(column, bind)
        return string.format("lethe_keyed_hash(%s, %s)", bind(updates.KEY),
          column)
      end }
  elseif kind == "random" then
    return { field = field, description = describe("replaced by random "
      .. "text of the same shape"), random = true,
      build = function(column)
        return string.format("lethe_random_shape(%s)", column)
      end }
  end
  error("unknown field action " .. tostring(kind))
end

local function check_not_null(entity, item)
  if item.clears and entity.columns
      and entity.columns[item.field.column] == 1 then
    util.fail("field %s cannot be cleared: column %s.%s is NOT NULL",
      item.field.name, entity.table, item.field.column)
  end
end

local function find_field(entity, name)
  local field = entity.fields[name]
  if not field then
    util.fail("unknown field '%s' of entity %s%s", name, entity.name,
      util.suggestion(name, util.sorted_keys(entity.fields)))
  end
  return field
end

-- Resolve the values of update { ... } for `entity`: fields by name (a
-- value or a field action) and, in the list part, related actions.
-- Returns { assignments = {...}, related = {...} }, without the actions
-- switched off with off().
function updates.resolve(entity, values)
  local resolved = { assignments = {}, related = {} }
  for _, name in ipairs(util.sorted_keys(values)) do
    local value = values[name]
    if math.type(name) == "integer" then
      if getmetatable(value) ~= RelatedAction then
        util.fail("update: list items must be consent { ... } or "
          .. "withdraw_consent(...), not %s", type(value))
      end
      resolved.related[#resolved.related + 1] = value
    else
      local field = find_field(entity, name)
      local action = getmetatable(value) == FieldAction and value
        or field_action("set", { value = value })
      if action.enabled then
        local item = assignment(field, action)
        check_not_null(entity, item)
        resolved.assignments[#resolved.assignments + 1] = item
      end
    end
  end
  if #resolved.assignments == 0 and #resolved.related == 0 then
    util.fail("update changes nothing: every field action is switched off")
  end
  return resolved
end

-- Default anonymisation of a field: NULL when the column allows it, else
-- random text of the same shape (for text) or a fixed zero.
local function default_strategy(entity, field)
  local not_null = entity.columns and entity.columns[field.column] == 1
  if not not_null then return field_action("set", { value = updates.null }) end
  if field.type == "text" or field.type == "list" then
    return field_action("random", {})
  end
  util.fail("anonymise: field %s is NOT NULL and not text; give it a "
    .. "strategy", field.name)
end

-- Resolve anonymise { field = strategy, ... }: strategies are "null",
-- "hash", "random", fixed(text) or hashed()/random_text(). Without fields,
-- every personal field of the entity gets the default strategy.
function updates.resolve_anonymise(entity, spec)
  local values = {}
  local names = {}
  for name in pairs(spec) do names[#names + 1] = name end
  if #names == 0 then
    for name, field in pairs(entity.fields) do
      if field.personal then values[name] = default_strategy(entity, field) end
    end
    if next(values) == nil then
      util.fail("anonymise: entity %s has no personal fields in the model",
        entity.name)
    end
  end
  for name, strategy in pairs(spec) do
    local field = find_field(entity, name)
    if strategy == "null" then
      values[name] = field_action("set", { value = updates.null })
    elseif strategy == "hash" then
      values[name] = field_action("hash", {})
    elseif strategy == "random" then
      values[name] = field_action("random", {})
    elseif getmetatable(strategy) == FieldAction
        and (strategy.kind == "fixed" or strategy.kind == "hash"
          or strategy.kind == "random" or strategy.is_strategy) then
      values[name] = strategy
    elseif type(strategy) == "string" and updates.find_strategy(strategy) then
      values[name] = updates.find_strategy(strategy)
    else
      util.fail("anonymise: strategy for %s must be \"null\", \"hash\", "
        .. "\"random\", fixed(\"text\") or a loaded plugin's strategy",
        field.name)
    end
  end
  return updates.resolve(entity, values)
end

-- SQL -------------------------------------------------------------------------

-- Build "col = expr, ..." for `assignments`, appending parameters to
-- `params` (whose first entries the caller has placed already).
function updates.set_clause(assignments, params, alias)
  local function bind(value)
    params[#params + 1] = value
    params.n = #params
    return "?" .. #params
  end
  local parts = {}
  for i, item in ipairs(assignments) do
    local column = (alias and alias .. "." or "") .. quote(item.field.column)
    parts[i] = { column = quote(item.field.column),
                 expression = item.build(column, bind) }
  end
  return parts
end

-- Replace updates.KEY in `params` by `key`; fail when it is needed and
-- missing.
function updates.bind_key(params, key)
  for i = 1, params.n or #params do
    if params[i] == updates.KEY then
      if not key then
        util.fail("anonymising with a keyed hash needs a key: pass "
          .. "--key-file FILE or set LETHE_KEY_FILE")
      end
      params[i] = key
    end
  end
  return params
end

updates.null = setmetatable({}, { __tostring = function() return "null" end })

-- The strategy a plugin registered under `name`, as a field action, or
-- nil; lethe.plugin_policy replaces this.
function updates.find_strategy()
  return nil
end

return updates
