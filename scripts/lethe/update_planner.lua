-- Planning update and anonymise rules: which rows each field action
-- would change, a before/after preview of sample rows, consent rows to
-- update or insert, and the records skipped with a reason.

local dates = require "lethe.dates"
local updates = require "lethe.updates"
local util = require "lethe.util"

local update_planner = {}

local quote = util.quote

-- Plans preview hashes under this key when no key was given, so that the
-- preview shows the shape of the result without needing the secret.
local PREVIEW_KEY = "lethe preview key, not the real one"

local function key_column(entity, alias)
  return alias .. "." .. quote(entity.key)
end

-- A statement builder for effects: returns sql, params for the run's key
-- (updates.KEY leaves the key's placeholder in params, for storing).
-- params[1] is left for the effect's id set.
local function update_statement(entity, assignments)
  return function(key)
    local params = { false }
    local parts = updates.set_clause(assignments, params)
    local sets = {}
    for i, part in ipairs(parts) do
      sets[i] = part.column .. " = " .. part.expression
    end
    params.n = #params
    if key ~= updates.KEY then updates.bind_key(params, key) end
    return string.format("UPDATE %s SET %s WHERE %s IN lethe_ids(?1)",
      quote(entity.table), table.concat(sets, ", "), quote(entity.key)),
      params
  end
end

-- Rows among `ids` that the assignments would change, and a preview of
-- up to `count` of them: { id, label, changes = { {field, before, after} } }.
local function changing_rows(run, entity, assignments, ids, count)
  local params = { ids }
  local parts = updates.set_clause(assignments, params, "t0")
  local differs, columns = {}, { key_column(entity, "t0") .. " AS lethe_key" }
  for i, part in ipairs(parts) do
    differs[i] = string.format("t0.%s IS NOT (%s)", part.column,
      part.expression)
    columns[#columns + 1] = string.format("t0.%s AS before_%d, (%s) AS "
      .. "after_%d", part.column, i, part.expression, i)
  end
  params.n = #params
  updates.bind_key(params, run.key or PREVIEW_KEY)
  local where = string.format("%s IN lethe_ids(?1) AND (%s)",
    key_column(entity, "t0"), table.concat(differs, " OR "))
  local changing = run.db:ids(string.format("SELECT %s FROM %s t0 WHERE %s",
    key_column(entity, "t0"), quote(entity.table), where), params,
    entity.name, entity.table)
  local rows = run.db:rows(string.format("SELECT %s FROM %s t0 WHERE %s "
    .. "ORDER BY 1 LIMIT %d", table.concat(columns, ", "),
    quote(entity.table), where, count), params)
  local preview = {}
  for i, row in ipairs(rows) do
    local changes = {}
    for j, item in ipairs(assignments) do
      local before, after = row["before_" .. j], row["after_" .. j]
      if before ~= after then
        changes[#changes + 1] = { field = item.field.name, before = before,
                                  after = after, random = item.random,
                                  hashed = item.needs_key }
      end
    end
    preview[i] = { id = row.lethe_key, changes = changes }
  end
  return changing, preview
end

-- The key of the lookup row labelled `label`, or a failure that lists the
-- known labels.
local function lookup_key(db, field, label)
  local lookup = field.lookup
  local key = db:scalar(string.format("SELECT %s FROM %s WHERE %s = ?1",
    quote(lookup.key), quote(lookup.table), quote(lookup.label)), { label })
  if key == nil then
    local rows = db:rows(string.format("SELECT %s AS label FROM %s",
      quote(lookup.label), quote(lookup.table)))
    local labels = {}
    for i, row in ipairs(rows) do labels[i] = tostring(row.label) end
    util.fail("%s is not a value of %s%s", tostring(label), field.name,
      util.suggestion(tostring(label), labels))
  end
  return key
end

local function consent_fields(entity)
  local relation = entity.relations.consents
  if not relation then
    util.fail("consent actions need a relation named consents on entity "
      .. "%s", entity.name)
  end
  local child = relation.child
  for _, name in ipairs { "purpose", "legal_basis" } do
    if not child.fields[name] or child.fields[name].type ~= "lookup" then
      util.fail("consent actions need lookup field %s on entity %s", name,
        child.name)
    end
  end
  return relation, child
end

-- Plan one consent or withdraw_consent action for persons `ids`.
local function plan_consent(run, entity, action, ids, effects, skips)
  local db = run.db
  local relation, child = consent_fields(entity)
  local purpose = child.fields.purpose
  local purpose_key = lookup_key(db, purpose, action.purpose)
  local values = { legal_basis = lookup_key(db, child.fields.legal_basis,
    action.legal_basis) }
  if action.source then
    if not child.fields.source then
      util.fail("consent: entity %s has no source field", child.name)
    end
    values.source = lookup_key(db, child.fields.source, action.source)
  end
  local now = dates.format(run.now)
  local assignments = {}
  for _, name in ipairs(util.sorted_keys(values)) do
    local field, value = child.fields[name], values[name]
    assignments[#assignments + 1] = { field = field,
      description = string.format("%s %s: %s = %s", child.name,
        action.purpose, name, name == "legal_basis" and action.legal_basis
          or action.source),
      build = function(_, bind) return bind(value) end }
  end
  if child.fields.updated then
    assignments[#assignments + 1] = { field = child.fields.updated,
      description = child.name .. " updated = reference time",
      build = function(_, bind) return bind(now) end }
  end
  local existing = db:ids(string.format("SELECT c.%s FROM %s c WHERE c.%s IN "
    .. "lethe_ids(?1) AND c.%s = ?2", quote(child.key), quote(child.table),
    quote(relation.column), quote(purpose.column)), { ids, purpose_key },
    child.name, child.table)
  local owners = db:ids(string.format("SELECT c.%s FROM %s c WHERE c.%s IN "
    .. "lethe_ids(?1)", quote(relation.column), quote(child.table),
    quote(relation.column)), { existing }, entity.name, entity.table)
  local comparable = {}
  for _, item in ipairs(assignments) do
    if item.field ~= child.fields.updated then
      comparable[#comparable + 1] = item
    end
  end
  local changing, preview = changing_rows(run, child, comparable, existing,
    run.samples or 5)
  if #changing > 0 then
    effects[#effects + 1] = { operation = "update", entity = child,
      ids = changing, assignments = assignments, preview = preview,
      statement = update_statement(child, assignments) }
  end
  local missing = ids - owners
  if #missing == 0 then return end
  if action.kind == "withdraw" then
    skips[#skips + 1] = { reason = "has no " .. action.purpose
      .. " consent to withdraw", ids = missing }
    return
  end
  local columns = { relation.column, purpose.column,
    child.fields.legal_basis.column }
  local params = { false, purpose_key, values.legal_basis }
  if values.source then
    columns[#columns + 1] = child.fields.source.column
    params[#params + 1] = values.source
  end
  for _, name in ipairs { "registered", "updated" } do
    if child.fields[name] then
      columns[#columns + 1] = child.fields[name].column
      params[#params + 1] = now
    end
  end
  local selects = { "p." .. quote(relation.references) }
  local quoted = {}
  for i, column in ipairs(columns) do
    quoted[i] = quote(column)
    if i > 1 then selects[i] = "?" .. i end
  end
  effects[#effects + 1] = { operation = "insert", entity = child,
    ids = missing, description = string.format("%s %s: legal_basis = %s",
      child.name, action.purpose, action.legal_basis),
    statement = function()
      return string.format("INSERT INTO %s (%s) SELECT %s FROM %s p WHERE "
        .. "p.%s IN lethe_ids(?1)", quote(child.table),
        table.concat(quoted, ", "), table.concat(selects, ", "),
        quote(entity.table), quote(entity.key)), params
    end }
end

-- Plan update rule `rule` over `ids` (already without held records).
-- Returns the effects and the skips ({ reason, ids }).
function update_planner.plan(run, rule, ids)
  local entity = rule.entity
  local effects, skips = {}, {}
  local assignments = rule.updates.assignments
  if #assignments > 0 then
    local changing, preview = changing_rows(run, entity, assignments, ids,
      run.samples or 5)
    if #changing > 0 then
      effects[#effects + 1] = { operation = "update", entity = entity,
        ids = changing, assignments = assignments, preview = preview,
        statement = update_statement(entity, assignments) }
    end
  end
  for _, action in ipairs(rule.updates.related) do
    plan_consent(run, entity, action, ids, effects, skips)
  end
  return effects, skips
end

return update_planner
