-- Helpers that the criteria compilers share: the compilation context,
-- bound parameters, table aliases, and the messages for a malformed
-- criterion.

local util = require "lethe.util"

local support = {}

-- Return `value` as it would be written in a policy, for messages:
-- {"registered", "older than", 3, "years"}.
function support.describe(value)
  if type(value) == "table" then
    local parts = {}
    for i, item in ipairs(value) do parts[i] = support.describe(item) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if type(value) == "string" then return string.format("%q", value) end
  if type(value) == "function" then return "function" end
  return tostring(value)
end

local describe = support.describe

-- Raise "criterion {...}: MESSAGE".
function support.fail(criterion, format, ...)
  util.fail("criterion %s: %s", describe(criterion),
    string.format(format, ...))
end

-- Bind `value` as a new parameter of the statement and return its
-- placeholder ("?3").
function support.parameter(context, value)
  local params = context.params
  params[#params + 1] = value
  return "?" .. #params
end

-- Return a table alias not used elsewhere in the statement.
function support.new_alias(context)
  context.aliases = context.aliases + 1
  return "t" .. context.aliases
end

-- Return the SQL for `column` of the table under `alias`, quoted.
function support.column_of(alias, column)
  return alias .. "." .. util.quote(column)
end

-- Wrap the criteria of a correlated subquery (the related rows of one
-- row) so that SQLite finds those rows through the link column's index.
-- Without statistics, SQLite may prefer an index on a column that the
-- criteria test, such as the legal basis of consents, and then read
-- thousands of rows for every outer row. likely() hides the criteria from
-- index selection and changes nothing else.
function support.unindexed(sql)
  return "likely(" .. sql .. ")"
end

-- Raise unless the criterion has exactly `count` elements.
function support.expect_count(criterion, count, usage)
  if #criterion ~= count then
    support.fail(criterion, "'%s' takes %s", tostring(criterion[2]), usage)
  end
end

-- Return `value` if it is a non-empty list, else raise.
function support.expect_list(criterion, value)
  if type(value) ~= "table" or #value == 0 then
    support.fail(criterion, "'%s' needs a non-empty list of values such as "
      .. "{\"a\", \"b\"}", tostring(criterion[2]))
  end
  return value
end

-- Record a line for the plan: the criterion with its resolved values, as
-- in "registered previous 6 months: 2019-04-01 to 2019-09-30". Criteria
-- on related rows carry the relation in front ("activities: ...").
function support.note(context, text)
  local descriptions = context.descriptions
  descriptions[#descriptions + 1] = context.prefix .. text
end

-- Record that the criteria read the date column of a field, so that the
-- plan can report values there that are not dates.
function support.note_date_field(context, entity, field)
  local key = entity.table .. "\0" .. field.column
  if context.date_fields[key] then return end
  context.date_fields[key] = true
  local list = context.date_field_list
  list[#list + 1] = { entity = entity.name, field = field.name,
                      table = entity.table, column = field.column }
end

return support
