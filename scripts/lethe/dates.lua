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
-- days_from_civil algorithm).
local function days_from_civil(year, month, day)
  if month <= 2 then year = year - 1 end
  local era = (year >= 0 and year or year - 399) // 400
  local year_of_era = year - era * 400
  local shifted_month = (month + 9) % 12
  local day_of_year = (153 * shifted_month + 2) // 5 + day - 1
  local day_of_era = year_of_era * 365 + year_of_era // 4
    - year_of_era // 100 + day_of_year
  return era * 146097 + day_of_era - 719468
end

local function civil_from_days(days)
  days = days + 719468
  local era = (days >= 0 and days or days - 146096) // 146097
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

-- Return year, month, day, hour, minute, second of an instant.
function dates.civil(instant)
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

-- Parse an ISO-8601 date or date and time: 'YYYY-MM-DD', optionally
-- followed by 'T' or a space, 'HH:MM' or 'HH:MM:SS', and 'Z' or an offset
-- '+HH:MM'. Returns the instant, or nil and the reason.
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
  local hour, minute, second, offset = 0, 0, 0, 0
  if rest ~= "" then
    local h, m, s, zone = rest:match("^[T ](%d%d):(%d%d):?(%d?%d?)(.*)$")
    if not h then
      return nil, "expected a time as THH:MM:SS after the date"
    end
    hour, minute = tonumber(h), tonumber(m)
    if s ~= "" and #s ~= 2 then
      return nil, "seconds must have two digits"
    end
    second = tonumber(s) or 0
    if hour > 23 or minute > 59 or second > 59 then
      return nil, "time of day out of range"
    end
    if zone ~= "" and zone ~= "Z" then
      local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d%d)$")
      if not sign then
        return nil, "expected Z or an offset like +02:00 after the time"
      end
      offset = (tonumber(zh) * 3600 + tonumber(zm) * 60)
        * (sign == "+" and 1 or -1)
    end
  end
  return dates.instant(year, month, day, hour, minute, second) - offset
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

return dates
