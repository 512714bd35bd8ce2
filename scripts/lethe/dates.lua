-- Dates and reference times. Every instant is a count of seconds since
-- 1970-01-01 UTC; calendar arithmetic uses the proleptic Gregorian
-- calendar and never the local time zone.

local dates = {}

local function is_leap(year)
  return year % 4 == 0 and (year % 100 ~= 0 or year % 400 == 0)
end

local month_lengths = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

function dates.days_in_month(year, month)
  if month == 2 and is_leap(year) then return 29 end
  return month_lengths[month]
end

-- Days from 1970-01-01 to the given civil date (Howard Hinnant's
-- days_from_civil algorithm). The C original subtracts 399 from a
-- negative year before its division, which truncates. Lua's // rounds
-- down, which gives the same era directly.
local function days_from_civil(year, month, day)
  if month <= 2 then year = year - 1 end
  local era = year // 400
  local year_of_era = year - era * 400
  local shifted_month = (month + 9) % 12
  local day_of_year = (153 * shifted_month + 2) // 5 + day - 1
  local day_of_era = year_of_era * 365 + year_of_era // 4
    - year_of_era // 100 + day_of_year
  return era * 146097 + day_of_era - 719468
end

local function civil_from_days(days)
  days = days + 719468
  local era = days // 146097
  local day_of_era = days - era * 146097
  local year_of_era = (day_of_era - day_of_era // 1460
    + day_of_era // 36524 - day_of_era // 146096) // 365
  local year = year_of_era + era * 400
  local day_of_year = day_of_era
    - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
  local shifted_month = (5 * day_of_year + 2) // 153
  local day = day_of_year - (153 * shifted_month + 2) // 5 + 1
  local month = shifted_month < 10 and shifted_month + 3 or shifted_month - 9
  if month <= 2 then year = year + 1 end
  return year, month, day
end

-- Return the instant of a UTC civil date and time.
function dates.instant(year, month, day, hour, minute, second)
  return days_from_civil(year, month, day) * 86400
    + (hour or 0) * 3600 + (minute or 0) * 60 + (second or 0)
end

-- Return year, month, day, hour, minute, second of an instant; a
-- fraction of a second is dropped.
function dates.civil(instant)
  instant = math.floor(instant)
  local days = instant // 86400
  local seconds = instant - days * 86400
  local year, month, day = civil_from_days(days)
  return year, month, day, seconds // 3600, seconds % 3600 // 60,
    seconds % 60
end

-- Format an instant as SQLite's canonical text, 'YYYY-MM-DD HH:MM:SS'.
function dates.format(instant)
  return string.format("%04d-%02d-%02d %02d:%02d:%02d", dates.civil(instant))
end

function dates.format_date(instant)
  local year, month, day = dates.civil(instant)
  return string.format("%04d-%02d-%02d", year, month, day)
end

-- Read the time of day and zone after the date: "HH:MM", "HH:MM:SS" or
-- "HH:MM:SS.fraction", then nothing, "Z", or an offset "+HH:MM", "-HH:MM",
-- "+HHMM", "-HHMM". Returns seconds since midnight UTC (possibly negative
-- or past a day once the offset is applied), or nil and the reason.
local function parse_time(rest)
  local hour, minute, tail = rest:match("^(%d%d):(%d%d)(.*)$")
  if not hour then
    return nil, "expected a time as HH:MM or HH:MM:SS after the date"
  end
  local second, fraction = 0, 0
  local digits, after = tail:match("^:(%d%d)(.*)$")
  if digits then
    second, tail = tonumber(digits), after
    local decimals, zone = tail:match("^%.(%d+)(.*)$")
    if decimals then
      fraction, tail = tonumber("0." .. decimals), zone
    elseif tail:sub(1, 1) == "." then
      return nil, "expected digits after the decimal point of the seconds"
    end
  elseif tail:sub(1, 1) == ":" then
    return nil, "seconds must have two digits"
  end
  hour, minute = tonumber(hour), tonumber(minute)
  if hour > 23 or minute > 59 or second > 59 then
    return nil, "time of day out of range"
  end
  local offset = 0
  if tail ~= "" and tail ~= "Z" then
    local sign, zone_hour, zone_minute = tail:match("^([+-])(%d%d):?(%d%d)$")
    if not sign or tonumber(zone_hour) > 23 or tonumber(zone_minute) > 59
        then
      return nil, "expected Z or an offset like +02:00 after the time"
    end
    offset = (tonumber(zone_hour) * 3600 + tonumber(zone_minute) * 60)
      * (sign == "+" and 1 or -1)
  end
  local seconds = hour * 3600 + minute * 60 + second - offset
  if fraction > 0 then return seconds + fraction end
  return seconds
end

-- Parse an ISO-8601 date or date and time: 'YYYY-MM-DD', optionally
-- followed by 'T' or a space, 'HH:MM', 'HH:MM:SS' or 'HH:MM:SS.fraction',
-- and 'Z' or an offset such as '+02:00'. These are the forms that the SQL
-- function lethe_epoch (host/isodate.c) reads. Returns the instant (an
-- integer, or a float with a fraction of a second), or nil and the reason.
function dates.parse(text)
  if type(text) ~= "string" then
    return nil, "expected a date as text"
  end
  local year, month, day, rest = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not year then
    return nil, "expected YYYY-MM-DD, optionally with a time"
  end
  year, month, day = tonumber(year), tonumber(month), tonumber(day)
  if month < 1 or month > 12 then
    return nil, "month " .. month .. " is out of range"
  end
  if day < 1 or day > dates.days_in_month(year, month) then
    return nil, string.format("%04d-%02d has no day %d", year, month, day)
  end
  local seconds = 0
  if rest ~= "" then
    local separator = rest:sub(1, 1)
    if separator ~= "T" and separator ~= " " then
      return nil, "expected 'T' or a space between the date and the time"
    end
    local reason
    seconds, reason = parse_time(rest:sub(2))
    if not seconds then return nil, reason end
  end
  return dates.instant(year, month, day) + seconds
end

-- Whether `text` is a date without a time of day ('YYYY-MM-DD').
function dates.is_date_only(text)
  return type(text) == "string" and #text == 10
end

-- Add `count` calendar months, clamping the day to the end of the target
-- month (31 March minus one month is the last day of February).
function dates.add_months(instant, count)
  local year, month, day, hour, minute, second = dates.civil(instant)
  local index = year * 12 + (month - 1) + count
  year, month = index // 12, index % 12 + 1
  day = math.min(day, dates.days_in_month(year, month))
  return dates.instant(year, month, day, hour, minute, second)
end

local unit_names = {
  day = "day", days = "day", week = "week", weeks = "week",
  month = "month", months = "month", quarter = "quarter",
  quarters = "quarter", year = "year", years = "year",
}

-- Return the canonical unit name, or nil for an unknown unit.
function dates.unit(name)
  return unit_names[name]
end

-- Shift an instant by `count` units (negative goes back).
function dates.shift(instant, count, unit)
  if unit == "day" then return instant + count * 86400 end
  if unit == "week" then return instant + count * 7 * 86400 end
  if unit == "month" then return dates.add_months(instant, count) end
  if unit == "quarter" then return dates.add_months(instant, 3 * count) end
  if unit == "year" then return dates.add_months(instant, 12 * count) end
  error("unknown unit " .. tostring(unit))
end

-- Calendar periods ----------------------------------------------------------

-- Return the start (midnight UTC) of the day that contains `instant`.
function dates.day_start(instant)
  instant = math.floor(instant)
  return instant - instant % 86400
end

-- Return the start of the `unit` period that contains `instant`: the day,
-- the week (weeks run from Monday to Sunday), the month, the quarter
-- (January, April, July, October) or the year.
function dates.period_start(instant, unit)
  local day = dates.day_start(instant)
  if unit == "day" then return day end
  if unit == "week" then
    -- 1970-01-01 was a Thursday, three days after a Monday.
    local weekday = (day // 86400 + 3) % 7
    return day - weekday * 86400
  end
  local year, month = dates.civil(day)
  if unit == "month" then return dates.instant(year, month, 1) end
  if unit == "quarter" then
    return dates.instant(year, month - (month - 1) % 3, 1)
  end
  if unit == "year" then return dates.instant(year, 1, 1) end
  error("unknown unit " .. tostring(unit))
end

-- The relative periods: whether a range covers the periods before the
-- current one, the current one, and the periods after it.
local relative_kinds = {
  ["this"] = { before = false, current = true, after = false },
  ["previous"] = { before = true, current = false, after = false },
  ["next"] = { before = false, current = false, after = true },
  ["this and previous"] = { before = true, current = true, after = false },
  ["this and next"] = { before = false, current = true, after = true },
  ["this, previous and next"] = { before = true, current = true,
                                  after = true },
}

-- Whether `name` is a relative period operator ("previous", ...).
function dates.is_relative(name)
  return relative_kinds[name] ~= nil
end

-- Resolve a relative period at reference time `now`. `kind` is one of
-- "this", "previous", "next", "this and previous", "this and next" and
-- "this, previous and next". `count` is the number of whole periods
-- before and after, ignored for "this". Returns the first instant of the
-- range and the first instant after it. "previous" and "next" leave out
-- the current period: with now on Tuesday 15 October 2019, previous 2
-- weeks is Monday 30 September to Sunday 13 October.
function dates.relative_range(now, kind, count, unit)
  local shape = relative_kinds[kind]
  assert(shape, "unknown relative period")
  local current = dates.period_start(now, unit)
  local next_start = dates.shift(current, 1, unit)
  local first, after
  if shape.before then
    first = dates.shift(current, -count, unit)
  else
    first = shape.current and current or next_start
  end
  if shape.after then
    after = dates.shift(current, count + 1, unit)
  else
    after = shape.current and next_start or current
  end
  return first, after
end

return dates
