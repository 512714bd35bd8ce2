-- Criteria on text, number, boolean and lookup fields.
--
-- Text operators other than "is exactly" and "is not exactly" compare the
-- Unicode case-folded forms (the SQL function lethe_fold, NFKC_Casefold)
-- of the stored value and of the criterion's value, which is folded once
-- when the criterion is compiled. No operator uses LIKE or GLOB, so "%"
-- and "_" in a value mean themselves. A stored NULL satisfies none of
-- these operators, the negations included.

local support = require "lethe.criteria.support"
local util = require "lethe.util"

local values = {}

local fail = support.fail
local parameter = support.parameter
local expect_count = support.expect_count
local expect_list = support.expect_list

-- Text --------------------------------------------------------------------

local function text_value(criterion, value)
  if type(value) ~= "string" and math.type(value) ~= "integer" then
    fail(criterion, "expected a text value")
  end
  value = tostring(value)
  if value == "" then
    fail(criterion, "the value is empty; use 'empty' or 'not empty' to "
      .. "test whether a field has a value")
  end
  return value
end

-- Return `value` case-folded by the database's lethe_fold.
local function fold(context, criterion, value)
  local folded = context.db:scalar("SELECT lethe_fold(?1)", { value })
  if folded == "" then
    fail(criterion, "the value %q holds only characters that case folding "
      .. "removes (such as soft hyphens); give visible text", value)
  end
  return folded
end

-- Number of characters of folded text, as SQLite's length() counts them.
local function character_count(text)
  return utf8.len(text) or #text
end

local folded_column = "lethe_fold(%s)"

-- Builders of SQL for one folded value: (bind, column, folded) -> SQL.
local text_operators = {
  ["="] = function(bind, column, folded)
    return string.format(folded_column .. " = %s", column, bind(folded))
  end,
  ["<>"] = function(bind, column, folded)
    return string.format(folded_column .. " <> %s", column, bind(folded))
  end,
  contains = function(bind, column, folded)
    return string.format("instr(" .. folded_column .. ", %s) > 0", column,
      bind(folded))
  end,
  ["not contains"] = function(bind, column, folded)
    return string.format("instr(" .. folded_column .. ", %s) = 0", column,
      bind(folded))
  end,
  ["begins with"] = function(bind, column, folded)
    return string.format("substr(" .. folded_column .. ", 1, %s) = %s",
      column, bind(character_count(folded)), bind(folded))
  end,
  ["not begins with"] = function(bind, column, folded)
    return string.format("substr(" .. folded_column .. ", 1, %s) <> %s",
      column, bind(character_count(folded)), bind(folded))
  end,
  ["ends with"] = function(bind, column, folded)
    return string.format("substr(" .. folded_column .. ", -%s) = %s",
      column, bind(character_count(folded)), bind(folded))
  end,
  ["not ends with"] = function(bind, column, folded)
    return string.format("substr(" .. folded_column .. ", -%s) <> %s",
      column, bind(character_count(folded)), bind(folded))
  end,
}
text_operators.equals = text_operators["="]
text_operators["not equals"] = text_operators["<>"]

-- Operators that compare the stored bytes as they are.
local exact_operators = { ["is exactly"] = "=", ["is not exactly"] = "<>" }

local function compile_text(context, criterion, column)
  local operator = criterion[2]
  local bind = function(value) return parameter(context, value) end
  if operator == "one of" or operator == "not one of" then
    expect_count(criterion, 3, "a list of values")
    local placeholders = {}
    for i, value in ipairs(expect_list(criterion, criterion[3])) do
      placeholders[i] = bind(fold(context, criterion,
        text_value(criterion, value)))
    end
    return string.format(folded_column .. " %sIN (%s)", column,
      operator == "one of" and "" or "NOT ", table.concat(placeholders, ", "))
  end
  if exact_operators[operator] then
    expect_count(criterion, 3, "one value")
    return string.format("%s %s %s", column, exact_operators[operator],
      bind(text_value(criterion, criterion[3])))
  end
  local build = text_operators[operator]
  if not build then return nil end
  expect_count(criterion, 3, "one value")
  local folded = fold(context, criterion, text_value(criterion, criterion[3]))
  return build(bind, column, folded)
end

-- Numbers -----------------------------------------------------------------

local comparisons = {
  ["="] = "=", ["<>"] = "<>", ["<"] = "<", [">"] = ">", ["<="] = "<=",
  [">="] = ">=",
}

-- The number of values that follow each number operator.
values.number_arity = {
  ["="] = 1, ["<>"] = 1, ["<"] = 1, [">"] = 1, ["<="] = 1, [">="] = 1,
  between = 2, ["one of"] = 1, ["not one of"] = 1,
}

local function number_value(criterion, value, integer)
  if math.type(value) == nil or value ~= value
      or (integer and math.type(value) ~= "integer") then
    fail(criterion, "expected %s value, not %s",
      integer and "an integer" or "a number", support.describe(value))
  end
  return value
end

-- SQL that is true when `expression` stands for a stored number, so that
-- text in a number column never compares as a number ('' > 5 is true in
-- SQLite).
local function is_number(expression)
  return string.format("typeof(%s) IN ('integer', 'real')", expression)
end

-- Compile the number `operator` with its values at criterion[first]
-- onwards against `expression`. `integer` requires whole numbers. Returns
-- nil for an operator that is not a number operator.
function values.compile_comparison(context, criterion, expression, operator,
                                   first, integer)
  local bind = function(value)
    return parameter(context, number_value(criterion, value, integer))
  end
  if comparisons[operator] then
    return string.format("%s %s %s", expression, comparisons[operator],
      bind(criterion[first]))
  end
  if operator == "between" then
    local low = number_value(criterion, criterion[first], integer)
    local high = number_value(criterion, criterion[first + 1], integer)
    if low > high then
      fail(criterion, "the lower bound %s is above the upper bound %s",
        tostring(low), tostring(high))
    end
    return string.format("%s BETWEEN %s AND %s", expression, bind(low),
      bind(high))
  end
  if operator == "one of" or operator == "not one of" then
    local placeholders = {}
    for i, value in ipairs(expect_list(criterion, criterion[first])) do
      placeholders[i] = bind(value)
    end
    return string.format("%s %sIN (%s)", expression,
      operator == "one of" and "" or "NOT ", table.concat(placeholders, ", "))
  end
  return nil
end

local function compile_number(context, criterion, column, field)
  local arity = values.number_arity[criterion[2]]
  if not arity then return nil end
  expect_count(criterion, 2 + arity, arity == 2
    and "two values, the lower and the upper bound" or "one value")
  local sql = values.compile_comparison(context, criterion, column,
    criterion[2], 3, field.type == "integer")
  return string.format("(%s AND %s)", is_number(column), sql)
end

-- Booleans and lookups ----------------------------------------------------

local function compile_boolean(_, criterion, column)
  local operator, value = criterion[2], criterion[3]
  if operator == "is true" or operator == "is false" then
    expect_count(criterion, 2, "no value")
    value = operator == "is true"
  elseif operator == "=" then
    expect_count(criterion, 3, "true or false")
    if type(value) ~= "boolean" then
      fail(criterion, "expected true or false")
    end
  else
    return nil
  end
  return string.format("(%s AND %s %s 0)", is_number(column), column,
    value and "<>" or "=")
end

-- Return the keys of the lookup rows whose label folds like `value`.
local function lookup_keys(context, criterion, field, value)
  local lookup = field.lookup
  local rows = context.db:rows(string.format("SELECT %s AS key FROM %s "
    .. "WHERE lethe_fold(%s) = lethe_fold(?1) AND %s IS NOT NULL",
    util.quote(lookup.key), util.quote(lookup.table),
    util.quote(lookup.label), util.quote(lookup.key)), { tostring(value) })
  if #rows == 0 then
    local labels = {}
    for i, row in ipairs(context.db:rows(string.format(
        "SELECT %s AS label FROM %s", util.quote(lookup.label),
        util.quote(lookup.table)))) do
      labels[i] = tostring(row.label)
    end
    fail(criterion, "%s is not a value of %s%s", support.describe(value),
      field.name, util.suggestion(tostring(value), labels))
  end
  local keys = {}
  for i, row in ipairs(rows) do keys[i] = row.key end
  return keys
end

local function compile_lookup(context, criterion, column, field)
  local operator = criterion[2]
  local wanted
  if operator == "=" or operator == "<>" then
    expect_count(criterion, 3, "one value")
    wanted = { criterion[3] }
  elseif operator == "one of" or operator == "not one of" then
    expect_count(criterion, 3, "a list of values")
    wanted = expect_list(criterion, criterion[3])
  else
    return nil
  end
  local placeholders = {}
  for _, value in ipairs(wanted) do
    if type(value) ~= "string" then
      fail(criterion, "expected a label of %s as text, such as %q",
        field.name, "Prospect")
    end
    for _, key in ipairs(lookup_keys(context, criterion, field, value)) do
      placeholders[#placeholders + 1] = parameter(context, key)
    end
  end
  local negated = operator == "<>" or operator == "not one of"
  return string.format("%s %sIN (%s)", column, negated and "NOT " or "",
    table.concat(placeholders, ", "))
end

-- Compilers by field type: (context, criterion, column SQL, field) -> SQL,
-- or nil when the operator does not apply to the type.
values.compilers = {
  text = compile_text, integer = compile_number, number = compile_number,
  boolean = compile_boolean, lookup = compile_lookup,
}

return values
