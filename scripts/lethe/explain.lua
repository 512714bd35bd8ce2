-- Explaining one record: for a rule and a record id, which criteria of
-- the rule's selection held and which did not, each with its resolved
-- values (date ranges) and the record's own value where there is one.
--
-- Each criterion is compiled on its own and tested for that id alone, so
-- that its result does not depend on the other criteria. Set algebra
-- (union, intersection, difference, symmetric difference) is explained
-- part by part; a part that follows a link or relation (:related) is
-- evaluated whole and tested for membership.

local criteria = require "lethe.criteria"
local dates = require "lethe.dates"
local planner = require "lethe.planner"
local predicates = require "lethe.criteria.predicates"
local idset = require "lethe.idset"
local util = require "lethe.util"

local explain = {}

local quote = util.quote

-- Whether row `id` of `entity` satisfies `sql` (with `params`).
local function holds(db, entity, sql, params, id)
  local bound = { table.unpack(params) }
  bound[#bound + 1] = id
  return db:scalar(string.format("SELECT count(*) FROM %s t0 WHERE t0.%s = "
    .. "?%d AND (%s)", quote(entity.table), quote(entity.key), #bound, sql),
    bound) > 0
end

-- The record's value for a criterion, as text, or nil.
local function value_of(run, entity, criterion, id)
  local context = criteria.context(run.model, run.db, run.now)
  local ok, sql, shown = pcall(criteria.value_sql, context, entity, "t0",
    criterion)
  if not ok or not sql then return nil end
  local params = context.params
  params[#params + 1] = id
  local value = run.db:scalar(string.format("SELECT %s FROM %s t0 WHERE "
    .. "t0.%s = ?%d", sql, quote(entity.table), quote(entity.key), #params),
    params)
  if value == nil then return "empty" end
  if shown == "epoch" then return dates.format(value) end
  if type(value) == "string" then return string.format("%q", value) end
  return tostring(value)
end

local function explain_predicate(run, entity, criterion, id)
  local label = criterion[2] or "Lua function"
  local info = debug.getinfo(criterion[1], "S")
  local result = { text = string.format("%s (%s:%d)", label, info.short_src,
    info.linedefined), descriptions = {} }
  local ok, kept = pcall(predicates.filter, run.db, entity,
    { { check = criterion[1], label = criterion[2] } },
    idset.from_array(entity.name, { id }))
  if not ok then
    result.error = tostring(kept)
  else
    result.held = #kept == 1
  end
  return result
end

-- Explain one criterion for record `id` of `entity`.
local function explain_criterion(run, entity, criterion, id)
  if criteria.is_predicate(criterion) then
    return explain_predicate(run, entity, criterion, id)
  end
  local context = criteria.context(run.model, run.db, run.now)
  local result = { text = criteria.describe(criterion) }
  local ok, sql = pcall(criteria.compile, context, entity, "t0",
    { { criterion } })
  result.descriptions = context.descriptions
  if not ok then
    result.error = tostring(sql)
    return result
  end
  result.held = holds(run.db, entity, sql, context.params, id)
  result.value = value_of(run, entity, criterion, id)
  return result
end

local explain_node

local function explain_where(run, selection, id)
  local node = { kind = "where", groups = {} }
  if selection.saved and selection.saved.kind == 0 then
    node.kind = "saved"
    node.text = "member of the static selection "
      .. string.format("\"%s\" (#%d)", selection.saved.name,
        selection.saved.id)
    node.held = holds(run.db, selection.entity, selection.sql,
      selection.params, id)
    return node
  end
  for i, group in ipairs(selection.groups) do
    local items = {}
    for j, criterion in ipairs(criteria.as_list(group)) do
      items[j] = explain_criterion(run, selection.entity, criterion, id)
    end
    node.groups[i] = items
  end
  local sql_holds = holds(run.db, selection.entity, selection.sql,
    selection.params, id)
  node.held = sql_holds and #predicates.apply(run.db, selection,
    idset.from_array(selection.entity.name, { id })) == 1
  return node
end

local combine = {
  union = function(left, right) return left or right end,
  intersection = function(left, right) return left and right end,
  difference = function(left, right) return left and not right end,
  symmetric_difference = function(left, right) return left ~= right end,
}

function explain_node(run, selection, id)
  local kind = selection.kind
  if kind == "where" then return explain_where(run, selection, id) end
  if combine[kind] then
    local left = explain_node(run, selection.left, id)
    local right = explain_node(run, selection.right, id)
    return { kind = kind, left = left, right = right,
             held = combine[kind](left.held, right.held),
             saved = selection.saved and selection.saved.name }
  end
  if kind == "all" then
    return { kind = "all", held = holds(run.db, selection.entity, "1", {},
      id) }
  end
  local ids = planner.evaluate(run.db, selection)
  return { kind = kind, held = ids:contains(id),
           via = selection.link and selection.link.name }
end

-- Explain `rule` (a rule of run.policy) for record `id` of its entity.
-- `run` has db, now and policy. Returns { rule, entity, id, exists, label,
-- held, tree, earlier }: held is whether the rule's selection contains
-- the record, tree explains it part by part, and earlier lists the rules
-- before it, on the same entity, that select the record first (so this
-- rule would not act on it).
function explain.rule(run, rule, id)
  local entity = rule.entity
  local context = { db = run.db, now = run.now, model = run.policy.model }
  local samples = planner.sample(run.db, entity,
    idset.from_array(entity.name, { id }), 1)
  local result = { rule = rule, entity = entity, id = id,
                   exists = #samples == 1,
                   label = samples[1] and samples[1].label or "" }
  if not result.exists then return result end
  result.tree = explain_node(context, rule.selection, id)
  result.held = result.tree.held
  result.earlier = {}
  for _, other in ipairs(run.policy.rules) do
    if other == rule then break end
    if other.entity == entity
        and explain_node(context, other.selection, id).held then
      result.earlier[#result.earlier + 1] = other.name
    end
  end
  return result
end

-- Text ---------------------------------------------------------------------

local function yes_no(held)
  if held == nil then return "error" end
  return held and "yes" or "no"
end

local node_titles = {
  union = "either part (union)", intersection = "both parts (intersection)",
  difference = "the first part but not the second (difference)",
  symmetric_difference = "exactly one part (symmetric difference)",
  all = "every row (all)",
}

local function write_node(node, indent, out)
  if node.kind == "where" then
    for i, group in ipairs(node.groups) do
      if #node.groups > 1 then
        out(string.format("%scriteria group %d (all must hold):", indent, i))
      end
      local inner = #node.groups > 1 and indent .. "  " or indent
      for _, item in ipairs(group) do
        local status = item.error and "error" or yes_no(item.held)
        out(string.format("%s%-5s %s", inner, status, item.text))
        for _, text in ipairs(item.descriptions or {}) do
          out(string.format("%s      resolved: %s", inner, text))
        end
        if item.value then
          out(string.format("%s      value: %s", inner, item.value))
        end
        if item.error then
          out(string.format("%s      %s", inner, item.error))
        end
      end
    end
    return
  end
  if node.kind == "saved" then
    out(string.format("%s%-5s %s", indent, yes_no(node.held), node.text))
    return
  end
  local title = node_titles[node.kind] or string.format(
    "records reached through %s", tostring(node.via))
  if node.saved then
    title = string.format("%s, saved selection \"%s\"", title, node.saved)
  end
  out(string.format("%s%-5s %s", indent, yes_no(node.held), title))
  for _, part in ipairs { node.left, node.right } do
    write_node(part, indent .. "  ", out)
  end
end

-- Write an explanation from explain.rule through `out(line)`.
function explain.text(result, out)
  local rule = result.rule
  out(string.format("Rule \"%s\" (line %s), %s %d%s", rule.name,
    tostring(rule.line), result.entity.name, result.id,
    result.label ~= "" and (": " .. result.label) or ""))
  if not result.exists then
    out(string.format("No %s has id %d.", result.entity.name, result.id))
    return
  end
  out("")
  write_node(result.tree, "  ", out)
  out("")
  if not result.held then
    out("The rule's selection does not contain this record.")
  elseif #result.earlier > 0 then
    out(string.format("The rule's selection contains this record, but an "
      .. "earlier rule selects it first: %s. This rule does not act on it.",
      table.concat(result.earlier, ", ")))
  else
    out("The rule's selection contains this record; no earlier rule on "
      .. "the same entity selects it.")
  end
end

-- Return an explanation from explain.rule as plain tables for JSON.
function explain.document(result)
  local function node_document(node)
    if not node then return nil end
    local document = { kind = node.kind, held = node.held, text = node.text,
                       saved = node.saved, via = node.via }
    if node.groups then
      document.groups = {}
      for i, group in ipairs(node.groups) do
        document.groups[i] = {}
        for j, item in ipairs(group) do
          document.groups[i][j] = { criterion = item.text,
            held = item.held, resolved = item.descriptions,
            value = item.value, error = item.error }
        end
      end
    end
    document.left = node_document(node.left)
    document.right = node_document(node.right)
    return document
  end
  return { rule = result.rule.name, line = result.rule.line,
           entity = result.entity.name, id = result.id,
           exists = result.exists, label = result.label,
           selected = result.held or false, earlier = result.earlier,
           selection = node_document(result.tree) }
end

return explain
