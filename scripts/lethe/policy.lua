-- The policy API: what a retention policy script sees, and loading a
-- policy into a checked list of rules.
--
-- A policy names its model with policy { model = ... }, takes entities
-- with entity "person", builds selections with :where and set algebra,
-- and declares rules in order with rule "name" { select = ..., action =
-- ... }. For each entity the first rule that selects a record decides
-- what happens to it; later rules never see it again.

local criteria = require "lethe.criteria"
local plugin_policy = require "lethe.plugin_policy"
local native = require "lethe.native"
local sandbox = require "lethe.sandbox"
local selections = require "lethe.selections"
local updates = require "lethe.updates"
local util = require "lethe.util"

local policy = {}

local Selection = {}
local Action = {}

-- Selection, entity and action objects are empty proxies. Their fields
-- live here, and only Lethe's own code reads them, so that a policy can
-- neither change a selection's SQL nor reach the model through one. Type
-- checks look up kind_of rather than metatables, which scripts cannot
-- see (__metatable), so that no script can forge an object either.
local fields_of = setmetatable({}, { __mode = "k" })
local kind_of = setmetatable({}, { __mode = "k" })

-- Whether the function that indexes an API object, two levels above
-- this one, is Lethe's own code (an embedded module, see runtime.c).
local function read_by_lethe()
  local info = debug.getinfo(3, "S")
  return info ~= nil and info.source:sub(1, 8) == "=[lethe]"
end

-- Make `methods` the metatable of one kind of API object: its methods
-- for everyone, the fields named in `public` for everyone, the other
-- fields for Lethe's code only, no assignments, and a hidden metatable.
local function protect(methods, name, public)
  methods.__index = function(object, key)
    local method = methods[key]
    if method ~= nil then return method end
    local fields = fields_of[object]
    if fields and (public[key] or read_by_lethe()) then
      return fields[key]
    end
    return nil
  end
  methods.__newindex = function()
    error(name .. " objects cannot be changed", 2)
  end
  methods.__metatable = name
end

-- Return a new API object of kind `methods` with `fields`.
local function make(methods, fields)
  local object = setmetatable({}, methods)
  fields_of[object] = fields
  kind_of[object] = methods
  return object
end

protect(Selection, "selection", {})
protect(Action, "action", { kind = true })

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
  return kind_of[value] == Selection
end

local function new_selection(fields)
  return make(Selection, fields)
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

-- #selection counts its records in the database of the run or session.
function Selection.__len(selection)
  return at_caller(function()
    if not current then
      util.fail("a selection can be counted only while a policy loads or "
        .. "in the REPL")
    end
    return #require("lethe.planner").evaluate(current.db, selection)
  end)
end


-- Compile criteria groups into a selection. Lua function criteria are
-- allowed unless `sql_only` is set (a guard's where must be pure SQL).
local function compile_where(entity, groups, sql_only)
  local model, db, now = current.model, current.db, current.now
  local function new_context() return criteria.context(model, db, now) end
  if sql_only then
    local context = new_context()
    local sql = criteria.compile(context, entity, "t0", groups)
    return new_selection { kind = "where", entity = entity, sql = sql,
                           params = context.params, groups = groups,
                           descriptions = context.descriptions,
                           date_fields = context.date_field_list }
  end
  return new_selection(criteria.selection(new_context, entity, groups))
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
protect(Entity, "entity", { name = true })

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

local api = {}

function api.delete()
  return make(Action, { kind = "delete" })
end

-- Deleting every row of a table is a separate form: a plain delete() that
-- would empty a table stops instead, and apply asks for --all-rows too.
function api.delete_all()
  return make(Action, { kind = "delete", all_rows = true })
end

function api.keep()
  return make(Action, { kind = "keep" })
end

function api.update(values)
  return at_caller(function()
    if type(values) ~= "table" or next(values) == nil then
      util.fail("update needs a table of fields and values, such as "
        .. "update { blockEmarketing = true }")
    end
    return make(Action, { kind = "update", values = values })
  end)
end

-- anonymise { field = strategy, ... } or anonymise() for every personal
-- field: an update that replaces personal data and keeps the row.
function api.anonymise(spec)
  return at_caller(function()
    if spec ~= nil and type(spec) ~= "table" then
      util.fail("anonymise takes a table of fields and strategies, such as "
        .. "anonymise { lastname = \"hash\" }")
    end
    return make(Action, { kind = "update", anonymise = spec or {} })
  end)
end

api.null = updates.null

-- plugin, criterion, field_action and strategy (lethe.plugin_policy).
plugin_policy.add_to(api, function() return current end, at_caller)

-- The field actions and consent actions of lethe.updates; each raises at
-- the policy line.
for name, constructor in pairs(updates.api) do
  api[name] = function(...)
    local arguments = table.pack(...)
    return at_caller(function()
      return constructor(table.unpack(arguments, 1, arguments.n))
    end)
  end
end

-- Caps --------------------------------------------------------------------------

-- Check a cap table { rows = N, share = F } and return it.
local function check_cap(cap, what)
  if cap == nil then return nil end
  if type(cap) ~= "table" then
    util.fail("%s must be a table such as { rows = 1000, share = 0.1 }",
      what)
  end
  for key, value in pairs(cap) do
    if key == "rows" then
      if math.type(value) ~= "integer" or value < 0 then
        util.fail("%s: rows must be a whole number, 0 or more", what)
      end
    elseif key == "share" then
      if type(value) ~= "number" or value ~= value or value < 0
          or value > 1 then
        util.fail("%s: share must be a number from 0 to 1, such as 0.1 "
          .. "for ten per cent", what)
      end
    else
      util.fail("%s: unknown key '%s'; a cap has rows and share", what,
        tostring(key))
    end
  end
  return { rows = cap.rows, share = cap.share }
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
    for key in pairs(header) do
      if key ~= "name" and key ~= "model" and key ~= "max_per_rule"
          and key ~= "max_per_run" then
        util.fail("policy: unknown key '%s'; a policy has name, model, "
          .. "max_per_rule and max_per_run", tostring(key))
      end
    end
    current.header = { name = header.name, model = header.model,
      max_per_rule = check_cap(header.max_per_rule, "max_per_rule"),
      max_per_run = check_cap(header.max_per_run, "max_per_run") }
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
    return make(Entity, { definition = definition, name = name })
  end)
end

-- selection "name" (or "#12"): a selection saved in the database (see
-- `lethe selection`), usable in rules and set algebra like any other.
-- Dynamic and combined ones are evaluated at the run's reference time.
function api.selection(reference)
  return at_caller(function()
    use_model(nil)
    return new_selection(selections.resolve(current.db, current.model,
      current.now, reference))
  end)
end

local function check_rule(name, body)
  if type(body) ~= "table" then
    util.fail("rule \"%s\" expects a table, such as { select = ..., "
      .. "action = delete() }", name)
  end
  for key in pairs(body) do
    if key ~= "select" and key ~= "action" and key ~= "reason"
        and key ~= "max" then
      util.fail("rule \"%s\": unknown key '%s'; a rule has select, action, "
        .. "reason and max", name, tostring(key))
    end
  end
  check_cap(body.max, "rule \"" .. name .. "\": max")
  if not is_selection(body.select) then
    util.fail("rule \"%s\": select must be a selection, such as "
      .. "person:where { ... }", name)
  end
  if kind_of[body.action] ~= Action then
    util.fail("rule \"%s\": action must be delete(), delete_all(), keep() "
      .. "or update { ... }", name)
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
                     all_rows = action.all_rows, reason = body.reason,
                     max = check_cap(body.max, "max"), line = line }
      if action.anonymise then
        rule.updates = updates.resolve_anonymise(rule.entity,
          action.anonymise)
        rule.anonymise = true
      elseif action.kind == "update" then
        rule.updates = updates.resolve(rule.entity, action.values)
      end
      current.rules[#current.rules + 1] = rule
    end)
  end
end

-- guard "name" { entity = person, reason = "...", where = { criteria } }
-- vetoes deleting the rows that satisfy the criteria; `check =
-- function(row) ... end` vetoes the rows for which it returns true, where
-- row holds the entity's fields by name. Either or both may be given.
function api.guard(name)
  if type(name) ~= "string" or name == "" then
    raise_at_script("guard expects a name, such as guard \"open invoice\" "
      .. "{ ... }")
  end
  return function(body)
    return at_caller(function()
      if type(body) ~= "table" or kind_of[body.entity] ~= Entity then
        util.fail("guard \"%s\": entity must be an entity, such as entity "
          .. "= person", name)
      end
      for key in pairs(body) do
        if key ~= "entity" and key ~= "reason" and key ~= "where"
            and key ~= "check" then
          util.fail("guard \"%s\": unknown key '%s'; a guard has entity, "
            .. "reason, where and check", name, tostring(key))
        end
      end
      if body.where == nil and body.check == nil then
        util.fail("guard \"%s\" needs where = { criteria } or check = "
          .. "function(row)", name)
      end
      if body.check ~= nil and type(body.check) ~= "function" then
        util.fail("guard \"%s\": check must be a function of the row", name)
      end
      local definition = body.entity.definition
      local guard = { name = name, entity = definition,
                      reason = body.reason or name,
                      check = body.check
                        and sandbox.wrap(current.source or "repl",
                          body.check) }
      if type(guard.reason) ~= "string" then
        util.fail("guard \"%s\": reason must be text", name)
      end
      if body.where ~= nil then
        guard.selection = compile_where(definition, { body.where }, true)
      end
      current.guards[#current.guards + 1] = guard
    end)
  end
end

-- Loading ---------------------------------------------------------------------

-- Load the policy `text` from `source` for a run. `options` has db, now
-- and resolve_model(declared_name) -> model. Returns the policy: name,
-- source, digest (SHA-256 of the text), model and rules in order.
function policy.load(text, source, options)
  local outer = current
  current = { db = options.db, now = options.now, rules = {}, names = {},
              source = source,
              guards = {}, resolve_model = options.resolve_model }
  local ok, message = pcall(sandbox.run, text, source,
    sandbox.environment(api))
  local state = current
  current = outer
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
    guards = state.guards,
    plugins = state.plugins or {},
    max_per_rule = header.max_per_rule,
    max_per_run = header.max_per_run,
  }
end

policy.null = updates.null
policy.is_selection = is_selection

-- Start an interactive session on `db` with `model` at reference time
-- `now`: the policy API then works outside a policy file, as in the REPL.
-- Returns the API table (entity, rule, delete, update, ...).
function policy.session(db, loaded_model, now)
  current = { db = db, now = now, rules = {}, names = {}, guards = {},
              model = loaded_model, header = {},
              resolve_model = function() return loaded_model end }
  return api
end

-- In a session: check `body` as a rule named `name` and return a policy
-- with that one rule and the session's guards, ready to plan.
function policy.session_policy(name, body, text)
  local before = #current.rules
  current.names[name] = nil
  api.rule(name)(body)
  local rule = current.rules[#current.rules]
  current.rules[before + 1] = nil
  return { name = "repl", source = "repl", digest = native.sha256(text),
           model = current.model, rules = { rule }, guards = current.guards,
           plugins = current.plugins or {} }
end

return policy
