-- Criteria on dates. The operators compare with absolute dates (before,
-- on, after, between), the day of the reference time (before today,
-- today, after today), calendar periods around it (this month, previous
-- 2 weeks, this and next 3 quarters, ...) and ages (older than / newer
-- than 3 years).
--
-- Every operator compares instants: the stored text is read by the SQL
-- function lethe_epoch, which returns NULL for text that is not an
-- ISO-8601 date, so such a value satisfies no date criterion. "Today" and
-- the periods are UTC calendar days, weeks from Monday to Sunday, months,
-- quarters and years. A value given as a date without a time stands for
-- the whole day: "after 2020-01-01" starts on 2 January.

local dates = require "lethe.dates"
local support = require "lethe.criteria.support"

local date_criteria = {}

local fail = support.fail
local describe = support.describe
local DAY = 86400

-- The number of values that follow each date operator.
date_criteria.arity = {
  before = 1, after = 1, on = 1, between = 2,
  ["before today"] = 0, today = 0, ["after today"] = 0,
  this = 1, previous = 2, ["next"] = 2, ["this and previous"] = 2,
  ["this and next"] = 2, ["this, previous and next"] = 2,
  ["older than"] = 2, ["newer than"] = 2,
}

-- Return the instant a criterion value names and whether it is a whole
-- day (a date without a time).
local function date_value(criterion, value)
  local instant, reason = dates.parse(value)
  if not instant then
    fail(criterion, "invalid date %s: %s; write it as YYYY-MM-DD or "
      .. "YYYY-MM-DDTHH:MM:SSZ", describe(value), tostring(reason))
  end
  return instant, dates.is_date_only(value)
end

local function unit_value(criterion, value)
  local unit = dates.unit(value)
  if not unit then
    fail(criterion, "unknown unit %s; use days, weeks, months, quarters or "
      .. "years", describe(value))
  end
  return unit
end

-- Counts beyond this many units (100,000 days is about 274 years) would
-- leave the calendar that dates can hold, and larger ones wrap around.
local MAXIMUM_COUNT = 100000

local function count_value(criterion, value, minimum)
  if math.type(value) ~= "integer" or value < minimum then
    fail(criterion, "the count must be a whole number, %d or more, not %s",
      minimum, describe(value))
  end
  if value > MAXIMUM_COUNT then
    fail(criterion, "the count %s is too large; it can be at most %d",
      describe(value), MAXIMUM_COUNT)
  end
  return value
end

-- Text bounds in front of the exact test let SQLite use an index on the
-- date column, which it cannot do for lethe_epoch(column). Every text
-- that lethe_epoch reads starts with its local date as 'YYYY-MM-DD', with
-- a four-digit year and nothing before it. Its offset from UTC is at most
-- 23:59, so its instant lies less than two days from the start of that
-- local date. A row at or after instant A therefore has a text at or
-- after the date two days before A's UTC day. A row at or before instant
-- B has a text before the date two days after B's UTC day. Values that
-- are not text (numbers, blobs) fail the exact test whatever the text
-- bound gives. Text order is date order only for the years 0000 to 9999,
-- so a bound outside them is left out.
local FIRST_TEXT_DAY = dates.instant(0, 1, 1)
local LAST_TEXT_DAY = dates.instant(9999, 12, 31)
local TEXT_MARGIN = 2 * DAY

-- Return SQL `column >= date` (when `lower`) or `column < date` that
-- every row at or after `instant` (or at or before it) satisfies. Returns
-- nil when that date is outside the years 0000 to 9999.
local function text_bound(context, column, instant, lower)
  local day = dates.day_start(instant)
  day = lower and day - TEXT_MARGIN or day + TEXT_MARGIN
  if day < FIRST_TEXT_DAY or day > LAST_TEXT_DAY then return nil end
  return string.format("%s %s %s", column, lower and ">=" or "<",
    support.parameter(context, dates.format_date(day)))
end

-- Prefix `exact`, the test that decides, with text bounds on
-- target.column that keep every row whose instant lies in [first, last].
-- Either bound may be nil. A target without a column, such as a
-- counter's aggregate, gets no text bounds.
local function with_text_range(context, target, first, last, exact)
  local parts = {}
  if target.column and first then
    parts[#parts + 1] = text_bound(context, target.column, first, true)
  end
  if target.column and last then
    parts[#parts + 1] = text_bound(context, target.column, last, false)
  end
  parts[#parts + 1] = exact
  return table.concat(parts, " AND ")
end

-- Return SQL for the instant of `target` >= first and < after, with the
-- text bounds in front. Either bound may be nil.
local function in_range(context, target, first, after)
  local parts = {}
  if first then
    parts[#parts + 1] = string.format("%s >= %s", target.expression,
      support.parameter(context, first))
  end
  if after then
    parts[#parts + 1] = string.format("%s < %s", target.expression,
      support.parameter(context, after))
  end
  return with_text_range(context, target, first, after,
    table.concat(parts, " AND "))
end

-- "2019-04-01 to 2019-09-30" for the whole days from `first` up to
-- `after`.
local function days_text(first, after)
  local last = after - DAY
  if last <= first then return dates.format_date(first) end
  return dates.format_date(first) .. " to " .. dates.format_date(last)
end

local function compile_absolute(context, criterion, target, operator,
                                first)
  local instant, whole_day = date_value(criterion, criterion[first])
  if operator == "before" then
    return in_range(context, target, nil,
      whole_day and dates.day_start(instant) or instant)
  elseif operator == "after" then
    if whole_day then
      return in_range(context, target, instant + DAY, nil)
    end
    return with_text_range(context, target, instant, nil,
      string.format("%s > %s", target.expression,
        support.parameter(context, instant)))
  elseif operator == "on" then
    local day = dates.day_start(instant)
    return in_range(context, target, day, day + DAY)
  end
  local last, last_whole_day = date_value(criterion, criterion[first + 1])
  if last < instant then
    fail(criterion, "the first date is after the second; give the earlier "
      .. "date first")
  end
  if last_whole_day then
    return in_range(context, target, instant, last + DAY)
  end
  return with_text_range(context, target, instant, last,
    string.format("%s BETWEEN %s AND %s", target.expression,
      support.parameter(context, instant), support.parameter(context, last)))
end

local function compile_today(context, target, operator, label)
  local today = dates.day_start(context.now)
  if operator == "before today" then
    support.note(context, string.format("%s before today: before %s", label,
      dates.format_date(today)))
    return in_range(context, target, nil, today)
  elseif operator == "today" then
    support.note(context, string.format("%s today: %s", label,
      dates.format_date(today)))
    return in_range(context, target, today, today + DAY)
  end
  support.note(context, string.format("%s after today: from %s", label,
    dates.format_date(today + DAY)))
  return in_range(context, target, today + DAY, nil)
end

local function compile_period(context, criterion, target, operator,
                              first, label)
  local count, unit
  if operator == "this" then
    count, unit = 0, unit_value(criterion, criterion[first])
  else
    count = count_value(criterion, criterion[first], 1)
    unit = unit_value(criterion, criterion[first + 1])
  end
  local start, after = dates.relative_range(context.now, operator, count,
    unit)
  local words = operator == "this" and ("this " .. unit)
    or string.format("%s %d %s", operator, count, criterion[first + 1])
  support.note(context, string.format("%s %s: %s", label, words,
    days_text(start, after)))
  return in_range(context, target, start, after)
end

local function compile_age(context, criterion, target, operator, first,
                           label)
  local count = count_value(criterion, criterion[first], 0)
  local unit = unit_value(criterion, criterion[first + 1])
  local boundary = dates.shift(context.now, -count, unit)
  local older = operator == "older than"
  support.note(context, string.format("%s %s %d %s: %s %s", label, operator,
    count, criterion[first + 1], older and "before" or "from",
    dates.format(boundary)))
  if older then return in_range(context, target, nil, boundary) end
  return in_range(context, target, boundary, nil)
end

-- Compile the date `operator` with its values at criterion[first] onwards
-- against `expression`, an SQL expression for the instant in seconds
-- (such as lethe_epoch(t0."registered")). `label` names what is compared
-- in the plan's descriptions. When `column` (optional) is the date column
-- that `expression` reads, a text range on it comes first, so that SQLite
-- can use an index. Returns nil when `operator` is not a date operator.
-- The caller checks the number of values against the arity.
function date_criteria.compile(context, criterion, expression, operator,
                               first, label, column)
  local target = { expression = expression, column = column }
  if operator == "before" or operator == "after" or operator == "on"
      or operator == "between" then
    return compile_absolute(context, criterion, target, operator, first)
  elseif operator == "before today" or operator == "today"
      or operator == "after today" then
    return compile_today(context, target, operator, label)
  elseif dates.is_relative(operator) then
    return compile_period(context, criterion, target, operator, first,
      label)
  elseif operator == "older than" or operator == "newer than" then
    return compile_age(context, criterion, target, operator, first, label)
  end
  return nil
end

-- Usage text for the values of a date operator, for messages.
function date_criteria.usage(operator)
  local arity = date_criteria.arity[operator]
  if arity == 0 then return "no value" end
  if operator == "between" then return "two dates" end
  if arity == 1 and operator == "this" then
    return "a unit, as in \"this\", \"month\""
  end
  if arity == 1 then return "one date" end
  return "a count and a unit, as in 3, \"years\""
end

-- Compile a criterion on the date field `field` stored in `column`.
function date_criteria.compile_field(context, criterion, column, field,
                                     entity)
  local operator = criterion[2]
  local arity = date_criteria.arity[operator]
  if not arity then return nil end
  support.expect_count(criterion, 2 + arity, date_criteria.usage(operator))
  support.note_date_field(context, entity, field)
  return date_criteria.compile(context, criterion,
    "lethe_epoch(" .. column .. ")", operator, 3, criterion[1], column)
end

return date_criteria
