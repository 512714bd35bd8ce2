-- Criteria: compiling `{ field, operator, value... }` tables into SQL.
--
-- A criterion names a field of the entity, a field of a parent through a
-- link ("company.category"), or a relation to child rows ("activities")
-- with `any` or `none` and criteria of its own, or with a counter (see
-- lethe.criteria.counters). Criteria in one group are ANDed; groups are
-- ORed. Field, link and relation names are checked against the model and
-- quoted; values are always bound parameters; NULL never satisfies a
-- criterion except `empty`.
--
-- A criterion may also be a Lua function of the row, `{ function(row, id)
-- ... end }`, standing at the top level of a group: it is applied to the
-- rows that the group's other criteria select (lethe.criteria.predicates).
--
-- The operators of each field type live in lethe.criteria.values (text,
-- numbers, booleans, lookups) and lethe.criteria.dates.

local counters = require "lethe.criteria.counters"
local date_criteria = require "lethe.criteria.dates"
local model = require "lethe.model"
local plugin_policy = require "lethe.plugin_policy"
local support = require "lethe.criteria.support"
local util = require "lethe.util"
local values = require "lethe.criteria.values"

local criteria = {}

local quote = util.quote
local describe = support.describe
local fail = support.fail
local column_of = support.column_of
local expect_count = support.expect_count

criteria.describe = describe

-- A compilation context: the model, the database (for lookup values and
-- case folding), the reference time, the parameters collected so far, an
-- alias counter, the plan's descriptions of resolved values, and the date
-- fields the criteria read.
function criteria.context(definition, db, now)
  return { model = definition, db = db, now = now, params = {},
           aliases = 0, descriptions = {}, prefix = "", date_fields = {},
           date_field_list = {} }
end

-- Whether `criterion` is a Lua predicate: { function(row, id) ... end }.
local function is_predicate(criterion)
  return type(criterion) == "table" and type(criterion[1]) == "function"
end

criteria.is_predicate = is_predicate

-- Fields ------------------------------------------------------------------

local function compile_empty(criterion, column, field)
  expect_count(criterion, 2, "no value")
  local textual = field.type == "text" or field.type == "date"
  if criterion[2] == "empty" then
    return textual and string.format("(%s IS NULL OR %s = '')", column,
      column) or string.format("%s IS NULL", column)
  end
  return textual and string.format("(%s IS NOT NULL AND %s <> '')", column,
    column) or string.format("%s IS NOT NULL", column)
end

local function compile_field(context, criterion, entity, alias, field)
  local column = column_of(alias, field.column)
  local operator = criterion[2]
  if operator == "empty" or operator == "not empty" then
    return compile_empty(criterion, column, field)
  end
  local sql
  if field.type == "date" then
    sql = date_criteria.compile_field(context, criterion, column, field,
      entity)
  else
    sql = values.compilers[field.type](context, criterion, column, field)
  end
  if not sql then
    fail(criterion, "operator '%s' does not apply to %s field '%s'",
      tostring(operator), field.type, field.name)
  end
  return sql
end

-- Related entities --------------------------------------------------------

local compile_group

-- The nested criteria of a relation criterion: every element after the
-- operator, each a criterion, or one list of criteria.
local function nested_group(criterion, first)
  local group = {}
  for i = first, #criterion do group[#group + 1] = criterion[i] end
  if #group == 1 and type(group[1]) == "table"
      and type(group[1][1]) == "table" then
    group = group[1]
  end
  for _, item in ipairs(group) do
    if type(item) ~= "table" then
      fail(criterion, "unexpected %s after '%s'; the rest must be criteria "
        .. "on the related rows, such as { \"status\", \"=\", 3 }",
        describe(item), tostring(criterion[2]))
    end
  end
  return group
end

-- Compile `nested` criteria on `entity` with the plan's descriptions
-- prefixed by `prefix`.
local function compile_nested(context, entity, alias, nested, prefix)
  local outer = context.prefix
  context.prefix = outer .. prefix
  local sql = compile_group(context, entity, alias, nested)
  context.prefix = outer
  return sql
end

local function exists(context, criterion, entity, join, nested)
  local operator = criterion[2]
  local alias = support.new_alias(context)
  local condition = join(alias)
  if #nested > 0 then
    condition = condition .. " AND " .. support.unindexed(compile_nested(
      context, entity, alias, nested, criterion[1] .. " " .. operator
      .. ": "))
  end
  return string.format("%sEXISTS (SELECT 1 FROM %s %s WHERE %s)",
    operator == "none" and "NOT " or "", quote(entity.table), alias,
    condition)
end

-- `any` on a relation: the row's referenced column is among the link
-- values of the child rows that satisfy `nested`. The subquery is not
-- correlated, so SQLite can read it once through an index on the nested
-- criteria and look the rows up, or probe it for every row, whichever is
-- cheaper. A NULL on either side of the link matches nothing. IN then
-- gives NULL where EXISTS gave 0, which selects no row either, because
-- compiled criteria are only joined with AND and OR, never negated.
-- `none` stays a NOT EXISTS (see exists()), because NOT IN would need the
-- child's NULL links removed to stay correct.
-- NOTE: IN compares with the collation of the referenced column, and the
-- EXISTS form used the link column's. They differ only where the schema
-- declares different collations on the two columns.
local function any_child(context, criterion, alias, relation, nested)
  local child_alias = support.new_alias(context)
  local condition = ""
  if #nested > 0 then
    condition = " WHERE " .. compile_nested(context, relation.child,
      child_alias, nested, criterion[1] .. " any: ")
  end
  return string.format("%s IN (SELECT %s FROM %s %s%s)",
    column_of(alias, relation.references),
    column_of(child_alias, relation.column), quote(relation.child.table),
    child_alias, condition)
end

local function compile_relation(context, criterion, alias, relation)
  local operator = criterion[2]
  if counters.is_counter(operator) then
    return counters.compile(context, criterion, alias, relation,
      function(inner_context, child, child_alias, nested)
        return compile_nested(inner_context, child, child_alias, nested,
          criterion[1] .. " " .. operator .. ": ")
      end)
  end
  if operator ~= "any" and operator ~= "none" then
    fail(criterion, "'%s' relates to %s rows; use 'any' or 'none' followed "
      .. "by criteria on them, or a counter: count, last, first or sum",
      criterion[1], relation.child.name)
  end
  local nested = nested_group(criterion, 3)
  if operator == "any" then
    return any_child(context, criterion, alias, relation, nested)
  end
  return exists(context, criterion, relation.child, function(child_alias)
    return string.format("%s = %s", column_of(child_alias, relation.column),
      column_of(alias, relation.references))
  end, nested)
end

local function join_parent(link, alias)
  return function(parent_alias)
    return string.format("%s = %s", column_of(parent_alias, link.references),
      column_of(alias, link.column))
  end
end

-- A link to a parent: `empty` when no parent row exists (the column is
-- NULL or points nowhere), `any` or `none` with criteria on the parent.
local function compile_link(context, criterion, alias, link)
  local operator = criterion[2]
  if operator == "empty" or operator == "not empty" then
    expect_count(criterion, 2, "no value")
    operator = operator == "empty" and "none" or "any"
    return exists(context, { criterion[1], operator }, link.parent,
      join_parent(link, alias), {})
  end
  if operator ~= "any" and operator ~= "none" then
    fail(criterion, "'%s' links to a %s row; use 'empty', 'not empty', "
      .. "'any' or 'none' followed by criteria on it, or a field of it as "
      .. "in \"%s.name\"", criterion[1], link.parent.name, criterion[1])
  end
  return exists(context, criterion, link.parent, join_parent(link, alias),
    nested_group(criterion, 3))
end

local compile_criterion

-- "company.category": the criterion holds for a row whose parent through
-- the link satisfies the rest of the path.
local function compile_path(context, criterion, entity, alias, head, rest)
  local link = entity.links[head]
  if not link then
    fail(criterion, "'%s' is not a link of entity %s%s", head, entity.name,
      util.suggestion(head, util.sorted_keys(entity.links)))
  end
  local inner = { rest, table.unpack(criterion, 2) }
  local parent_alias = support.new_alias(context)
  local outer = context.prefix
  context.prefix = outer .. head .. "."
  local sql = compile_criterion(context, inner, link.parent, parent_alias)
  context.prefix = outer
  return string.format("EXISTS (SELECT 1 FROM %s %s WHERE %s AND %s)",
    quote(link.parent.table), parent_alias,
    join_parent(link, alias)(parent_alias), support.unindexed(sql))
end

function compile_criterion(context, criterion, entity, alias)
  if plugin_policy.is_criterion(criterion) then
    return plugin_policy.compile_criterion(context, criterion, entity, alias)
  end
  if is_predicate(criterion) then
    fail(criterion, "a Lua function criterion can stand only at the top "
      .. "level of a selection's criteria, not on related rows or in a "
      .. "guard's where; use a guard's check = function(row) for guards")
  end
  if type(criterion) ~= "table" or type(criterion[1]) ~= "string"
      or type(criterion[2]) ~= "string" then
    util.fail("criterion %s: expected { field, operator, value... }",
      describe(criterion))
  end
  local name = criterion[1]
  local head, rest = name:match("^([^.]+)%.(.+)$")
  if head then
    return compile_path(context, criterion, entity, alias, head, rest)
  end
  local kind, member = model.member(entity, name)
  if kind == "field" then
    return compile_field(context, criterion, entity, alias, member)
  elseif kind == "link" then
    return compile_link(context, criterion, alias, member)
  elseif kind == "relation" then
    return compile_relation(context, criterion, alias, member)
  end
  util.fail("unknown field '%s' of entity %s%s", name, entity.name,
    util.suggestion(name, model.member_names(entity)))
end

criteria.compile_criterion = compile_criterion

-- Return SQL for the value that `criterion` tests on the row of `entity`
-- under `alias`, for explaining a record: a field's column (a lookup's
-- label), or a counter's aggregate. The second result is the display
-- format: "epoch" for a counter's last or first date, else nil. Returns
-- nil for other criteria.
function criteria.value_sql(context, entity, alias, criterion)
  if type(criterion) ~= "table" or type(criterion[1]) ~= "string" then
    return nil
  end
  local kind, member = model.member(entity, criterion[1])
  if kind == "field" then
    local column = column_of(alias, member.column)
    if member.type == "lookup" then
      local lookup = member.lookup
      return string.format("(SELECT l.%s FROM %s l WHERE l.%s = %s)",
        quote(lookup.label), quote(lookup.table), quote(lookup.key), column)
    end
    return column
  end
  if kind == "relation" and counters.is_counter(criterion[2]) then
    local sql = counters.subquery(context, criterion, alias, member,
      function(inner_context, child, child_alias, nested)
        return compile_group(inner_context, child, child_alias, nested)
      end)
    local shown = (criterion[2] == "last" or criterion[2] == "first")
      and "epoch" or nil
    return sql, shown
  end
  return nil
end

local empty_message = "empty criteria: a selection must say which rows it "
  .. "wants; use :all() to select every row on purpose"

-- A group as a list of criteria: a lone criterion stands for a group of
-- one.
local function as_list(group)
  if type(group) ~= "table" then
    util.fail("expected a list of criteria, got %s", type(group))
  end
  if group[1] ~= nil and type(group[1]) ~= "table" then return { group } end
  return group
end

criteria.as_list = as_list

function compile_group(context, entity, alias, group)
  group = as_list(group)
  if #group == 0 then util.fail(empty_message) end
  local parts = {}
  for i, criterion in ipairs(group) do
    parts[i] = "(" .. compile_criterion(context, criterion, entity, alias)
      .. ")"
  end
  return table.concat(parts, " AND ")
end

-- Compile groups (ORed) of criteria (ANDed) on `entity` into a WHERE
-- expression over `alias`. Raises on an unknown field, a bad value or a
-- Lua function criterion.
function criteria.compile(context, entity, alias, groups)
  if #groups == 0 then util.fail(empty_message) end
  local parts = {}
  for i, group in ipairs(groups) do
    parts[i] = "(" .. compile_group(context, entity, alias, group) .. ")"
  end
  return table.concat(parts, " OR ")
end

-- Selections --------------------------------------------------------------

-- Split a group into its SQL criteria and its Lua predicates.
local function split_group(group)
  local sql_part, predicates = {}, {}
  for _, criterion in ipairs(as_list(group)) do
    if is_predicate(criterion) then
      if #criterion > 2 or (criterion[2] ~= nil
          and type(criterion[2]) ~= "string") then
        fail(criterion, "a Lua function criterion is { function(row, id) "
          .. "... end } with an optional description as text after it")
      end
      predicates[#predicates + 1] = { check = criterion[1],
                                      label = criterion[2] }
    else
      sql_part[#sql_part + 1] = criterion
    end
  end
  return sql_part, predicates
end

-- Compile `groups` on `entity` into a selection, a table that
-- lethe.planner evaluates: { kind = "where", entity, sql, params, groups,
-- descriptions, date_fields }. When a group contains Lua predicates, the
-- result is a union of one "where" per group, each with its predicates
-- (applied after the SQL). `new_context()` returns a fresh context.
function criteria.selection(new_context, entity, groups)
  if #groups == 0 then util.fail(empty_message) end
  local parts, with_predicates = {}, false
  for i, group in ipairs(groups) do
    local sql_part, predicates = split_group(group)
    if #sql_part == 0 and #predicates == 0 then util.fail(empty_message) end
    parts[i] = { criteria = sql_part, predicates = predicates }
    with_predicates = with_predicates or #predicates > 0
  end
  if not with_predicates then
    local context = new_context()
    return { kind = "where", entity = entity, groups = groups,
             sql = criteria.compile(context, entity, "t0", groups),
             params = context.params, descriptions = context.descriptions,
             date_fields = context.date_field_list }
  end
  local result
  for i, part in ipairs(parts) do
    local context = new_context()
    local node = { kind = "where", entity = entity, groups = { groups[i] },
                   sql = "1", params = context.params,
                   predicates = part.predicates }
    if #part.criteria > 0 then
      node.sql = compile_group(context, entity, "t0", part.criteria)
    end
    node.descriptions = context.descriptions
    node.date_fields = context.date_field_list
    result = result and { kind = "union", entity = entity, left = result,
                          right = node } or node
  end
  return result
end

-- Unreadable dates ----------------------------------------------------------

local function collect_date_fields(selection, into, seen)
  for _, item in ipairs(selection.date_fields or {}) do
    local key = item.table .. "\0" .. item.column
    if not seen[key] then
      seen[key] = true
      into[#into + 1] = item
    end
  end
  for _, child in ipairs { selection.left, selection.right, selection.from } do
    if child then collect_date_fields(child, into, seen) end
  end
  return into
end

-- For every date field that `selection`'s criteria read, the number of
-- rows of its table whose value is neither empty nor a date that
-- lethe_epoch can read, as a list of { entity, field, table, column,
-- count } with count > 0. Such rows satisfy no date criterion on that
-- field. `cache` (optional) keeps counts between calls of one run.
function criteria.unreadable_dates(db, selection, cache)
  cache = cache or {}
  local result = {}
  for _, item in ipairs(collect_date_fields(selection, {}, {})) do
    local key = item.table .. "\0" .. item.column
    local count = cache[key]
    if count == nil then
      local column = quote(item.column)
      count = db:scalar(string.format("SELECT count(*) FROM %s WHERE %s IS "
        .. "NOT NULL AND %s <> '' AND lethe_epoch(%s) IS NULL",
        quote(item.table), column, column, column))
      cache[key] = count
    end
    if count > 0 then
      result[#result + 1] = { entity = item.entity, field = item.field,
                              table = item.table, column = item.column,
                              count = count }
    end
  end
  return result
end

return criteria
