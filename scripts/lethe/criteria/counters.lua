-- Counters over related rows, as CRM "sales intelligence" screens show
-- them: how many activities or sales a company, person or project has,
-- the date of the last (or first) one, and the total of a number field.
-- Each counts all related rows, or those that satisfy criteria of their
-- own.
--
--   { "activities", "count", ">=", 3 }
--   { "activities", "count", "=", 0, { "status", "<>", 3 } }
--   { "sales", "count", ">", 0, { "status", "=", 1 },
--     { "saledate", "previous", 12, "months" } }
--   { "activities", "last", "activeDate", "before", "2020-01-01",
--     { "status", "=", 3 } }
--   { "sales", "sum", "amount", ">=", 10000, { "status", "=", 2 } }
--
-- Each counter is a correlated aggregate subquery, computed by SQLite at
-- the time the selection is evaluated, so it is never stale. A row with no
-- related rows has count 0 and sum 0, and no last or first date: it
-- satisfies no date criterion on them, only "empty".

local date_criteria = require "lethe.criteria.dates"
local support = require "lethe.criteria.support"
local util = require "lethe.util"
local values = require "lethe.criteria.values"

local counters = {}

local fail = support.fail
local column_of = support.column_of

-- Whether `operator` (criterion[2] of a relation criterion) is a counter.
function counters.is_counter(operator)
  return operator == "count" or operator == "last" or operator == "first"
    or operator == "sum"
end

-- The aggregated field of "last", "first" and "sum": its definition,
-- checked against the type the aggregate needs.
local function aggregated_field(criterion, child)
  local name = criterion[3]
  local field = type(name) == "string" and child.fields[name]
  if not field then
    fail(criterion, "'%s' needs a field of %s, such as %s%s", criterion[2],
      child.name, criterion[2] == "sum" and "\"amount\"" or "\"activeDate\"",
      type(name) == "string"
        and util.suggestion(name, util.sorted_keys(child.fields)) or "")
  end
  local wanted = criterion[2] == "sum" and "number" or "date"
  if (wanted == "date" and field.type ~= "date") or (wanted == "number"
      and field.type ~= "integer" and field.type ~= "number") then
    fail(criterion, "'%s' needs a %s field, and %s.%s is a %s field",
      criterion[2], wanted, child.name, name, field.type)
  end
  return field
end

-- The aggregate expression over the related rows under `child_alias`.
local function aggregate(criterion, field, child_alias)
  local operator = criterion[2]
  if operator == "count" then return "count(*)" end
  local column = column_of(child_alias, field.column)
  if operator == "sum" then
    return string.format("total(CASE WHEN typeof(%s) IN ('integer', "
      .. "'real') THEN %s END)", column, column)
  end
  return string.format("%s(lethe_epoch(%s))",
    operator == "last" and "max" or "min", column)
end

-- Return the comparison operator of a counter criterion, the index of its
-- first value and its number of values; raises for an unknown operator.
local function comparison_of(criterion)
  local operator = criterion[2]
  local at = operator == "count" and 3 or 4
  local comparison = criterion[at]
  if operator == "count" or operator == "sum" then
    local arity = values.number_arity[comparison]
    if not arity then
      fail(criterion, "'%s' compares with =, <>, <, >, <=, >=, between, "
        .. "one of or not one of, not %s", operator,
        support.describe(comparison))
    end
    return comparison, at + 1, arity
  end
  if comparison == "empty" or comparison == "not empty" then
    return comparison, at + 1, 0
  end
  local arity = date_criteria.arity[comparison]
  if not arity then
    fail(criterion, "'%s' compares dates: use before, on, after, between, "
      .. "today, previous, older than, ... or empty, not %s", operator,
      support.describe(comparison))
  end
  if #criterion < at + arity then
    fail(criterion, "'%s' takes %s", comparison,
      date_criteria.usage(comparison))
  end
  return comparison, at + 1, arity
end

-- Compile the comparison of the aggregate `expression`.
local function compare(context, criterion, expression, field, child)
  local operator = criterion[2]
  local comparison, first = comparison_of(criterion)
  if operator == "count" or operator == "sum" then
    return values.compile_comparison(context, criterion, expression,
      comparison, first, operator == "count")
  end
  support.note_date_field(context, child, field)
  if comparison == "empty" or comparison == "not empty" then
    return string.format("%s IS %sNULL", expression,
      comparison == "empty" and "" or "NOT ")
  end
  local label = string.format("%s %s %s", criterion[1], operator, field.name)
  return date_criteria.compile(context, criterion, expression, comparison,
    first, label)
end

-- The criteria after the comparison, which select the related rows that
-- count: each a criterion, or one list of criteria.
local function nested_criteria(criterion, child)
  local _, first, arity = comparison_of(criterion)
  local nested = {}
  for i = first + arity, #criterion do nested[#nested + 1] = criterion[i] end
  if #nested == 1 and type(nested[1]) == "table"
      and type(nested[1][1]) == "table" then
    nested = nested[1]
  end
  for _, item in ipairs(nested) do
    if type(item) ~= "table" then
      fail(criterion, "unexpected %s after the comparison; the rest must "
        .. "be criteria on %s rows", support.describe(item), child.name)
    end
  end
  return nested
end

-- Return the aggregate subquery of a counter on `relation` of the row
-- under `alias` (its value, such as the number of activities), and the
-- aggregated field (nil for count). `compile_nested(context, entity,
-- alias, criteria)` compiles the criteria that select the related rows
-- that count.
function counters.subquery(context, criterion, alias, relation,
                           compile_nested)
  local child = relation.child
  local field
  if criterion[2] ~= "count" then
    field = aggregated_field(criterion, child)
  end
  local nested = nested_criteria(criterion, child)
  local child_alias = support.new_alias(context)
  local condition = string.format("%s = %s",
    column_of(child_alias, relation.column),
    column_of(alias, relation.references))
  if #nested > 0 then
    condition = condition .. " AND " .. support.unindexed(compile_nested(
      context, child, child_alias, nested))
  end
  return string.format("(SELECT %s FROM %s %s WHERE %s)",
    aggregate(criterion, field, child_alias), util.quote(child.table),
    child_alias, condition), field
end

-- Compile a counter criterion on `relation` of the row under `alias`.
function counters.compile(context, criterion, alias, relation,
                          compile_nested)
  local subquery, field = counters.subquery(context, criterion, alias,
    relation, compile_nested)
  return compare(context, criterion, subquery, field, relation.child)
end

return counters
