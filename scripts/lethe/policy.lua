-- The policy API: what a retention policy script sees, and loading a
-- policy into a checked list of rules.
--
-- A policy names its model with policy { model = ... }, takes entities
-- with entity "person", builds selections with :where and set algebra,
-- and declares rules in order with rule "name" { select = ..., action =
-- ... }. For each entity the first rule that selects a record decides
-- what happens to it; later rules never see it again.

local criteria = require "lethe.criteria"
local native = require "lethe.native"
local sandbox = require "lethe.sandbox"
local util = require "lethe.util"

local policy = {}

local Selection = {}
Selection.__index = Selection

local Action = {}
Action.__index = Action

-- Raise `message` at the innermost line of a user script (a chunk loaded
-- from a file, whose source starts with "@") on the call stack, so that
-- errors point at the policy line whatever path led to them.
local function raise_at_script(message)
  for level = 2, 64 do
    local info = debug.getinfo(level, "S")
    if not info then break end
    if info.source:sub(1, 1) == "@" then error(message, level) end
  end
  error(message, 0)
end

-- Run `body(...)`; an error it raises is raised again at the policy line
-- that called the API function.
local function at_caller(body, ...)
  local results = table.pack(pcall(body, ...))
  if not results[1] then raise_at_script(results[2]) end
  return table.unpack(results, 2, results.n)
end

local function is_selection(value)
  return getmetatable(value) == Selection
end

local function new_selection(fields)
  return setmetatable(fields, Selection)
end

local function combine(kind, symbol)
  return function(left, right)
    return at_caller(function()
      if not is_selection(left) or not is_selection(right) then
        util.fail("'%s' combines two selections, not a %s and a %s",
          symbol, type(left), type(right))
      end
      if left.entity ~= right.entity then
        util.fail("cannot combine a selection of %s with a selection of "
          .. "%s; use :related(\"%s\") to turn one into the other",
          left.entity.name, right.entity.name, left.entity.name)
      end
      return new_selection { kind = kind, entity = left.entity,
                             left = left, right = right }
    end)
  end
end

Selection.__add = combine("union", "+")
Selection.__bor = combine("union", "|")
Selection.__mul = combine("intersection", "*")
Selection.__band = combine("intersection", "&")
Selection.__sub = combine("difference", "-")
Selection.__bxor = combine("symmetric_difference", "~")

function Selection.__tostring(selection)
  return "selection of " .. selection.entity.name
end

-- The loader's state for the policy being loaded.
local current

local function compile_where(entity, groups)
  local context = criteria.context(current.model, current.db, current.now)
  local sql = criteria.compile(context, entity, "t0", groups)
  return new_selection { kind = "where", entity = entity, sql = sql,
                         params = context.params,
                         descriptions = context.descriptions }
end

-- selection:where(group, ...) keeps the rows that also satisfy the
-- criteria; entity:where is the same on all rows.
function Selection.where(self, ...)
  local groups = table.pack(...)
  return at_caller(function()
    local narrowed = compile_where(self.entity, groups)
    if self.kind == "all" then return narrowed end
    return new_selection { kind = "intersection", entity = self.entity,
                           left = self, right = narrowed }
  end)
end

-- selection:related(name) follows a link ("company") or a relation
-- ("persons") and selects the rows at the other end.
function Selection.related(self, name)
  return at_caller(function()
    local entity = self.entity
    local link, relation = entity.links[name], entity.relations[name]
    if not link and not relation then
      local names = util.sorted_keys(entity.links)
      for key in pairs(entity.relations) do names[#names + 1] = key end
      util.fail("%s has no link or relation '%s'%s", entity.name,
        tostring(name), util.suggestion(tostring(name), names))
    end
    local target = link and link.parent or relation.child
    return new_selection { kind = "related", entity = target, from = self,
                           link = link or relation,
                           direction = link and "parent" or "child" }
  end)
end

local Entity = {}
Entity.__index = Entity

function Entity.where(self, ...)
  local groups = table.pack(...)
  return at_caller(function() return compile_where(self.definition, groups) end)
end

function Entity.all(self)
  return new_selection { kind = "all", entity = self.definition }
end

function Entity.__tostring(self)
  return "entity " .. self.definition.name
end

-- Actions -------------------------------------------------------------------

local null = setmetatable({}, { __tostring = function() return "null" end })

local function check_update_values(values)
  if type(values) ~= "table" or next(values) == nil then
    util.fail("update needs a table of fields and values, such as "
      .. "update { blockEmarketing = true }")
  end
  for field in pairs(values) do
    if type(field) ~= "string" then
      util.fail("update: field names must be text")
    end
  end
  return values
end

local api = {}

function api.delete()
  return setmetatable({ kind = "delete" }, Action)
end

function api.keep()
  return setmetatable({ kind = "keep" }, Action)
end

function api.update(values)
  return at_caller(function()
    return setmetatable({ kind = "update",
                          values = check_update_values(values) }, Action)
  end)
end

api.null = null

-- Resolve update values against the fields of `entity`: each value must
-- suit the field's type. Returns a list of { field, value } sorted by
-- field name, with booleans as 0/1 and null as nil.
local function resolve_update(entity, values)
  local resolved = {}
  for _, name in ipairs(util.sorted_keys(values)) do
    local field = entity.fields[name]
    if not field then
      local names = util.sorted_keys(entity.fields)
      util.fail("update: unknown field '%s' of entity %s%s", name,
        entity.name, util.suggestion(name, names))
    end
    local value = values[name]
    if value == null then
      value = nil
    elseif field.type == "boolean" then
      if type(value) ~= "boolean" then
        util.fail("update: field %s is boolean; use true or false", name)
      end
      value = value and 1 or 0
    elseif field.type == "integer" and math.type(value) ~= "integer"
        or field.type == "number" and type(value) ~= "number"
        or (field.type == "text" or field.type == "date")
          and type(value) ~= "string" then
      util.fail("update: value %s does not suit %s field %s",
        tostring(value), field.type, name)
    elseif field.type == "lookup" then
      util.fail("update: lookup field %s cannot be set yet", name)
    end
    resolved[#resolved + 1] = { field = field, value = value }
  end
  return resolved
end

-- Policy declarations ---------------------------------------------------------

local function use_model(name)
  if current.model then return end
  current.model = current.resolve_model(name)
end

function api.policy(header)
  return at_caller(function()
    if type(header) ~= "table" then
      util.fail("policy expects a table, such as policy { name = \"...\", "
        .. "model = \"crm\" }")
    end
    if current.header then util.fail("policy { } is declared twice") end
    if current.model then
      util.fail("policy { } must come before the first use of entity")
    end
    current.header = header
    if header.name ~= nil and type(header.name) ~= "string" then
      util.fail("policy name must be text")
    end
    if header.model ~= nil and type(header.model) ~= "string" then
      util.fail("policy model must be text, such as model = \"crm\"")
    end
    use_model(header.model)
  end)
end

function api.entity(name)
  return at_caller(function()
    if type(name) ~= "string" then
      util.fail("entity expects a name, such as entity \"person\"")
    end
    use_model(nil)
    local definition = current.model.entities[name]
    if not definition then
      util.fail("unknown entity '%s' in model %s%s", name,
        current.model.name,
        util.suggestion(name, util.sorted_keys(current.model.entities)))
    end
    return setmetatable({ definition = definition, name = name }, Entity)
  end)
end

local function check_rule(name, body)
  if type(body) ~= "table" then
    util.fail("rule \"%s\" expects a table, such as { select = ..., "
      .. "action = delete() }", name)
  end
  for key in pairs(body) do
    if key ~= "select" and key ~= "action" and key ~= "reason" then
      util.fail("rule \"%s\": unknown key '%s'; a rule has select, action "
        .. "and reason", name, tostring(key))
    end
  end
  if not is_selection(body.select) then
    util.fail("rule \"%s\": select must be a selection, such as "
      .. "person:where { ... }", name)
  end
  if getmetatable(body.action) ~= Action then
    util.fail("rule \"%s\": action must be delete(), keep() or "
      .. "update { ... }", name)
  end
  if body.reason ~= nil and type(body.reason) ~= "string" then
    util.fail("rule \"%s\": reason must be text", name)
  end
end

function api.rule(name)
  if type(name) ~= "string" or name == "" then
    raise_at_script("rule expects a name, such as rule \"old prospects\" "
      .. "{ ... }")
  end
  local line = debug.getinfo(2, "l").currentline
  return function(body)
    return at_caller(function()
      check_rule(name, body)
      if current.names[name] then
        util.fail("rule \"%s\" is declared twice", name)
      end
      current.names[name] = true
      local action = body.action
      local rule = { name = name, selection = body.select,
                     entity = body.select.entity, action = action.kind,
                     reason = body.reason, line = line }
      if action.kind == "update" then
        rule.updates = resolve_update(rule.entity, action.values)
      end
      current.rules[#current.rules + 1] = rule
    end)
  end
end

-- Loading ---------------------------------------------------------------------

-- Load the policy `text` from `source` for a run. `options` has db, now
-- and resolve_model(declared_name) -> model. Returns the policy: name,
-- source, digest (SHA-256 of the text), model and rules in order.
function policy.load(text, source, options)
  current = { db = options.db, now = options.now, rules = {}, names = {},
              resolve_model = options.resolve_model }
  local ok, message = pcall(sandbox.run, text, source,
    sandbox.environment(api))
  local state = current
  current = nil
  if not ok then error(message, 0) end
  if not state.model then state.model = options.resolve_model(nil) end
  if #state.rules == 0 then
    util.fail("%s declares no rules; add at least one rule \"...\" { }",
      source)
  end
  local header = state.header or {}
  return {
    name = header.name or source:match("([^/]+)%.lua$") or source,
    source = source,
    digest = native.sha256(text),
    model = state.model,
    rules = state.rules,
  }
end

policy.null = null

return policy
