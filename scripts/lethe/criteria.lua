-- Criteria: compiling `{ field, operator, value... }` tables into SQL.
--
-- A criterion names a field of the entity, a field of a parent through a
-- link ("company.category"), or a relation to child rows ("activities")
-- with `any` or `none` and criteria of its own. Criteria in one group are
-- ANDed; groups are ORed. Values are always bound parameters, and NULL
-- never satisfies a criterion except `empty`.
--
-- NOTE: text comparisons fold case with SQLite's lower(), which folds
-- ASCII letters only.

local dates = require "lethe.dates"
local model = require "lethe.model"
local util = require "lethe.util"

local criteria = {}

local quote = util.quote

-- A compilation context: the model, the database (for lookup values), the
-- reference time, the parameters collected so far and an alias counter.
function criteria.context(definition, db, now)
  return { model = definition, db = db, now = now, params = {},
           aliases = 0, descriptions = {} }
end

local function parameter(context, value)
  local params = context.params
  params[#params + 1] = value
  return "?" .. #params
end

local function new_alias(context)
  context.aliases = context.aliases + 1
  return "t" .. context.aliases
end

local function column_of(alias, column)
  return alias .. "." .. quote(column)
end

local function describe(value)
  if type(value) == "table" then
    local parts = {}
    for i, item in ipairs(value) do parts[i] = describe(item) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if type(value) == "string" then return string.format("%q", value) end
  return tostring(value)
end

local function expect_count(criterion, count, usage)
  if #criterion ~= count then
    util.fail("criterion %s: '%s' takes %s", describe(criterion),
      criterion[2], usage)
  end
end

local function expect_list(criterion, value)
  if type(value) ~= "table" or #value == 0 then
    util.fail("criterion %s: '%s' needs a non-empty list of values such "
      .. "as {\"a\", \"b\"}", describe(criterion), criterion[2])
  end
  return value
end

-- Text ------------------------------------------------------------------

local function text_value(criterion, value)
  if type(value) ~= "string" and type(value) ~= "number" then
    util.fail("criterion %s: expected a text value", describe(criterion))
  end
  value = tostring(value)
  if value == "" then
    util.fail("criterion %s: the value is empty; use 'empty' or "
      .. "'not empty' to test whether a field has a value",
      describe(criterion))
  end
  return value
end

local text_operators = {
  ["="] = function(c, column, v)
    return string.format("lower(%s) = lower(%s)", column, c(v))
  end,
  ["<>"] = function(c, column, v)
    return string.format("lower(%s) <> lower(%s)", column, c(v))
  end,
  ["is exactly"] = function(c, column, v)
    return string.format("%s = %s", column, c(v))
  end,
  ["is not exactly"] = function(c, column, v)
    return string.format("%s <> %s", column, c(v))
  end,
  contains = function(c, column, v)
    return string.format("instr(lower(%s), lower(%s)) > 0", column, c(v))
  end,
  ["not contains"] = function(c, column, v)
    return string.format("instr(lower(%s), lower(%s)) = 0", column, c(v))
  end,
  ["begins with"] = function(c, column, v)
    local p = c(v)
    return string.format("lower(substr(%s, 1, length(%s))) = lower(%s)",
      column, p, p)
  end,
  ["not begins with"] = function(c, column, v)
    local p = c(v)
    return string.format("lower(substr(%s, 1, length(%s))) <> lower(%s)",
      column, p, p)
  end,
  ["ends with"] = function(c, column, v)
    local p = c(v)
    return string.format("lower(substr(%s, -length(%s))) = lower(%s)",
      column, p, p)
  end,
  ["not ends with"] = function(c, column, v)
    local p = c(v)
    return string.format("lower(substr(%s, -length(%s))) <> lower(%s)",
      column, p, p)
  end,
}
text_operators.equals = text_operators["="]
text_operators["not equals"] = text_operators["<>"]

local function compile_text(context, criterion, column)
  local operator = criterion[2]
  local bind = function(value) return parameter(context, value) end
  if operator == "one of" or operator == "not one of" then
    expect_count(criterion, 3, "a list of values")
    local placeholders = {}
    for i, value in ipairs(expect_list(criterion, criterion[3])) do
      placeholders[i] = "lower(" .. bind(text_value(criterion, value)) .. ")"
    end
    return string.format("lower(%s) %sIN (%s)", column,
      operator == "one of" and "" or "NOT ", table.concat(placeholders, ", "))
  end
  local build = text_operators[operator]
  if not build then return nil end
  expect_count(criterion, 3, "one value")
  return build(bind, column, text_value(criterion, criterion[3]))
end

-- Numbers -----------------------------------------------------------------

local comparisons = {
  ["="] = "=", ["<>"] = "<>", ["<"] = "<", [">"] = ">", ["<="] = "<=",
  [">="] = ">=",
}

local function number_value(criterion, value, field)
  if math.type(value) == nil
      or (field.type == "integer" and math.type(value) ~= "integer") then
    util.fail("criterion %s: expected %s value", describe(criterion),
      field.type == "integer" and "an integer" or "a number")
  end
  return value
end

local function compile_number(context, criterion, column, field)
  local operator = criterion[2]
  local bind = function(value)
    return parameter(context, number_value(criterion, value, field))
  end
  if comparisons[operator] then
    expect_count(criterion, 3, "one value")
    return string.format("%s %s %s", column, comparisons[operator],
      bind(criterion[3]))
  end
  if operator == "between" then
    expect_count(criterion, 4, "two values, the lower and upper bound")
    return string.format("%s BETWEEN %s AND %s", column, bind(criterion[3]),
      bind(criterion[4]))
  end
  if operator == "one of" or operator == "not one of" then
    expect_count(criterion, 3, "a list of values")
    local placeholders = {}
    for i, value in ipairs(expect_list(criterion, criterion[3])) do
      placeholders[i] = bind(value)
    end
    return string.format("%s %sIN (%s)", column,
      operator == "one of" and "" or "NOT ", table.concat(placeholders, ", "))
  end
  return nil
end

-- Dates -------------------------------------------------------------------

local function date_value(criterion, value)
  local instant, reason = dates.parse(value)
  if not instant then
    util.fail("criterion %s: invalid date %s: %s", describe(criterion),
      describe(value), reason)
  end
  return instant
end

local function relative_boundary(context, criterion)
  expect_count(criterion, 4, "a count and a unit, as in 3, \"years\"")
  local count, unit = criterion[3], dates.unit(criterion[4])
  if math.type(count) ~= "integer" or count < 0 then
    util.fail("criterion %s: the count must be a whole number, 0 or more",
      describe(criterion))
  end
  if not unit then
    util.fail("criterion %s: unknown unit %s; use days, weeks, months, "
      .. "quarters or years", describe(criterion), describe(criterion[4]))
  end
  return dates.shift(context.now, -count, unit)
end

local function compile_date(context, criterion, column)
  local operator = criterion[2]
  local function at(instant)
    return "julianday(" .. parameter(context, dates.format(instant)) .. ")"
  end
  local value = "julianday(" .. column .. ")"
  if operator == "before" or operator == "after" then
    expect_count(criterion, 3, "one date")
    local instant = date_value(criterion, criterion[3])
    return string.format("%s %s %s", value, operator == "before" and "<"
      or ">", at(instant))
  end
  if operator == "on" then
    expect_count(criterion, 3, "one date")
    local day = dates.format_date(date_value(criterion, criterion[3]))
    return string.format("date(%s) = %s", column, parameter(context, day))
  end
  if operator == "between" then
    expect_count(criterion, 4, "two dates")
    local first = date_value(criterion, criterion[3])
    local last = date_value(criterion, criterion[4])
    if #criterion[4] == 10 then last = last + 86400 - 1 end
    return string.format("%s BETWEEN %s AND %s", value, at(first), at(last))
  end
  if operator == "older than" or operator == "newer than" then
    local boundary = relative_boundary(context, criterion)
    context.descriptions[#context.descriptions + 1] = string.format(
      "%s %s %d %s: %s %s", criterion[1], operator, criterion[3],
      criterion[4], operator == "older than" and "before" or "from",
      dates.format(boundary))
    return string.format("%s %s %s", value,
      operator == "older than" and "<" or ">=", at(boundary))
  end
  return nil
end

-- Booleans and lookups ----------------------------------------------------

local function compile_boolean(context, criterion, column)
  local operator, value = criterion[2], criterion[3]
  if operator == "is true" or operator == "is false" then
    expect_count(criterion, 2, "no value")
    value = operator == "is true"
  elseif operator == "=" then
    expect_count(criterion, 3, "true or false")
    if type(value) ~= "boolean" then
      util.fail("criterion %s: expected true or false", describe(criterion))
    end
  else
    return nil
  end
  local _ = context
  return string.format("%s %s 0", column, value and "<>" or "=")
end

local function lookup_labels(context, field)
  local rows = context.db:rows(string.format("SELECT %s AS label FROM %s",
    quote(field.lookup.label), quote(field.lookup.table)))
  local labels = {}
  for i, row in ipairs(rows) do labels[i] = tostring(row.label) end
  return labels
end

local function compile_lookup(context, criterion, column, field)
  local operator = criterion[2]
  local values
  if operator == "=" or operator == "<>" then
    expect_count(criterion, 3, "one value")
    values = { criterion[3] }
  elseif operator == "one of" or operator == "not one of" then
    expect_count(criterion, 3, "a list of values")
    values = expect_list(criterion, criterion[3])
  else
    return nil
  end
  local labels = lookup_labels(context, field)
  local known = {}
  for _, label in ipairs(labels) do known[label] = true end
  local placeholders = {}
  for i, value in ipairs(values) do
    if not known[tostring(value)] then
      util.fail("criterion %s: %s is not a value of %s%s",
        describe(criterion), describe(value), field.name,
        util.suggestion(tostring(value), labels))
    end
    placeholders[i] = parameter(context, tostring(value))
  end
  local keys = string.format("SELECT %s FROM %s WHERE %s IN (%s)",
    quote(field.lookup.key), quote(field.lookup.table),
    quote(field.lookup.label), table.concat(placeholders, ", "))
  if operator == "=" or operator == "one of" then
    return string.format("%s IN (%s)", column, keys)
  end
  return string.format("(%s IS NOT NULL AND %s NOT IN (%s))", column, column,
    keys)
end

local compilers = {
  text = compile_text, integer = compile_number, number = compile_number,
  date = compile_date, boolean = compile_boolean, lookup = compile_lookup,
}

local function compile_field(context, criterion, alias, field)
  local column = column_of(alias, field.column)
  local operator = criterion[2]
  if operator == "empty" or operator == "not empty" then
    expect_count(criterion, 2, "no value")
    local text = field.type == "text"
    if operator == "empty" then
      return text and string.format("(%s IS NULL OR %s = '')", column, column)
        or string.format("%s IS NULL", column)
    end
    return text and string.format("(%s IS NOT NULL AND %s <> '')", column,
      column) or string.format("%s IS NOT NULL", column)
  end
  local sql = compilers[field.type](context, criterion, column, field)
  if not sql then
    util.fail("criterion %s: operator '%s' does not apply to %s field '%s'",
      describe(criterion), tostring(operator), field.type, field.name)
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
  return group
end

local function exists(context, criterion, entity, join, nested)
  local operator = criterion[2]
  if operator ~= "any" and operator ~= "none" then
    util.fail("criterion %s: '%s' relates to %s rows; use 'any' or 'none', "
      .. "followed by criteria on them", describe(criterion),
      criterion[1], entity.name)
  end
  local alias = new_alias(context)
  local condition = join(alias)
  if #nested > 0 then
    condition = condition .. " AND " .. compile_group(context, entity, alias,
      nested)
  end
  return string.format("%sEXISTS (SELECT 1 FROM %s %s WHERE %s)",
    operator == "none" and "NOT " or "", quote(entity.table), alias,
    condition)
end

local function compile_relation(context, criterion, alias, relation)
  local nested = nested_group(criterion, 3)
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

local function compile_link(context, criterion, alias, link)
  local operator = criterion[2]
  if operator == "empty" or operator == "not empty" then
    expect_count(criterion, 2, "no value")
    local column = column_of(alias, link.column)
    return string.format("%s IS %sNULL", column,
      operator == "empty" and "" or "NOT ")
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
    util.fail("criterion %s: '%s' is not a link of entity %s%s",
      describe(criterion), head, entity.name,
      util.suggestion(head, util.sorted_keys(entity.links)))
  end
  local inner = { rest, table.unpack(criterion, 2) }
  local parent_alias = new_alias(context)
  return string.format("EXISTS (SELECT 1 FROM %s %s WHERE %s AND %s)",
    quote(link.parent.table), parent_alias,
    join_parent(link, alias)(parent_alias),
    compile_criterion(context, inner, link.parent, parent_alias))
end

function compile_criterion(context, criterion, entity, alias)
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
    return compile_field(context, criterion, alias, member)
  elseif kind == "link" then
    return compile_link(context, criterion, alias, member)
  elseif kind == "relation" then
    return compile_relation(context, criterion, alias, member)
  end
  util.fail("unknown field '%s' of entity %s%s", name, entity.name,
    util.suggestion(name, model.member_names(entity)))
end

function compile_group(context, entity, alias, group)
  if type(group) ~= "table" then
    util.fail("expected a list of criteria, got %s", type(group))
  end
  if type(group[1]) == "string" then group = { group } end
  if #group == 0 then
    util.fail("empty criteria: a selection must say which rows it wants; "
      .. "use :all() to select every row on purpose")
  end
  local parts = {}
  for i, criterion in ipairs(group) do
    parts[i] = "(" .. compile_criterion(context, criterion, entity, alias)
      .. ")"
  end
  return table.concat(parts, " AND ")
end

-- Compile groups (ORed) of criteria (ANDed) on `entity` into a WHERE
-- expression over `alias`. Raises on an unknown field or a bad value.
function criteria.compile(context, entity, alias, groups)
  if #groups == 0 then
    util.fail("empty criteria: a selection must say which rows it wants; "
      .. "use :all() to select every row on purpose")
  end
  local parts = {}
  for i, group in ipairs(groups) do
    parts[i] = "(" .. compile_group(context, entity, alias, group) .. ")"
  end
  return table.concat(parts, " OR ")
end

return criteria
