-- Relative periods and ages in lethe.dates, table-driven. The first rows
-- take today as Tuesday 15 October 2019 (previous 2 weeks is 30
-- September to 13 October); the rest cover week, quarter and year
-- boundaries, month ends and leap days. Expected days are counted on a
-- calendar by hand.

local dates = require "lethe.dates"

local function at(text)
  return assert(dates.parse(text))
end

-- { now, kind, count, unit, first day, last day }
local periods = {
  { "2019-10-15T10:00:00Z", "previous", 14, "day", "2019-10-01",
    "2019-10-14" },
  { "2019-10-15T10:00:00Z", "previous", 2, "week", "2019-09-30",
    "2019-10-13" },
  { "2019-10-15T10:00:00Z", "previous", 6, "month", "2019-04-01",
    "2019-09-30" },
  { "2019-10-15T10:00:00Z", "this and previous", 3, "week", "2019-09-23",
    "2019-10-20" },
  { "2019-10-15T10:00:00Z", "next", 1, "month", "2019-11-01",
    "2019-11-30" },
  { "2019-10-15T10:00:00Z", "this", 0, "day", "2019-10-15", "2019-10-15" },
  { "2019-10-15T10:00:00Z", "this", 0, "week", "2019-10-14", "2019-10-20" },
  { "2019-10-15T10:00:00Z", "this", 0, "quarter", "2019-10-01",
    "2019-12-31" },
  { "2019-10-15T10:00:00Z", "previous", 1, "quarter", "2019-07-01",
    "2019-09-30" },
  { "2019-10-15T10:00:00Z", "this, previous and next", 1, "month",
    "2019-09-01", "2019-11-30" },
  { "2019-10-15T10:00:00Z", "this and next", 2, "year", "2019-01-01",
    "2021-12-31" },
  { "2019-10-15T10:00:00Z", "next", 2, "day", "2019-10-16", "2019-10-17" },
  { "2019-10-15T10:00:00Z", "next", 1, "quarter", "2020-01-01",
    "2020-03-31" },
  -- Sunday still belongs to the week that started on Monday.
  { "2019-10-20T23:59:59Z", "this", 0, "week", "2019-10-14", "2019-10-20" },
  { "2019-10-21T00:00:00Z", "this", 0, "week", "2019-10-21", "2019-10-27" },
  -- Leap years.
  { "2020-02-29T12:00:00Z", "this", 0, "month", "2020-02-01", "2020-02-29" },
  { "2020-02-29T12:00:00Z", "this", 0, "week", "2020-02-24", "2020-03-01" },
  { "2020-03-31T12:00:00Z", "previous", 1, "month", "2020-02-01",
    "2020-02-29" },
  { "2019-03-31T12:00:00Z", "previous", 1, "month", "2019-02-01",
    "2019-02-28" },
  { "2020-02-29T12:00:00Z", "next", 1, "year", "2021-01-01", "2021-12-31" },
  { "2024-03-15T00:00:00Z", "previous", 1, "quarter", "2023-10-01",
    "2023-12-31" },
  -- Year boundaries.
  { "2020-01-01T00:00:00Z", "previous", 1, "week", "2019-12-23",
    "2019-12-29" },
  { "2020-01-01T00:00:00Z", "this", 0, "week", "2019-12-30", "2020-01-05" },
  { "2020-01-01T00:00:00Z", "previous", 1, "quarter", "2019-10-01",
    "2019-12-31" },
  { "2019-12-31T23:59:59Z", "next", 1, "day", "2020-01-01", "2020-01-01" },
  { "2019-11-15T00:00:00Z", "this and next", 3, "month", "2019-11-01",
    "2020-02-29" },
}

for _, case in ipairs(periods) do
  local now, kind, count, unit, first, last = table.unpack(case)
  local start, after = dates.relative_range(at(now), kind, count, unit)
  local what = string.format("%s %s %d %s", now, kind, count, unit)
  local got_first = dates.format(start)
  local got_last = dates.format_date(after - 86400)
  if got_first ~= first .. " 00:00:00" then
    error(string.format("%s: first day %s, expected %s", what, got_first,
      first))
  end
  if got_last ~= last then
    error(string.format("%s: last day %s, expected %s", what, got_last,
      last))
  end
  if dates.format(after):sub(12) ~= "00:00:00" then
    error(what .. ": the range must end at midnight")
  end
end

-- Ages: `count` units before now, clamping to the end of the month.
-- { now, count, unit, boundary }
local ages = {
  { "2019-10-15T10:00:00Z", 3, "year", "2016-10-15 10:00:00" },
  { "2020-03-31T12:00:00Z", 1, "month", "2020-02-29 12:00:00" },
  { "2019-03-31T12:00:00Z", 1, "month", "2019-02-28 12:00:00" },
  { "2020-02-29T00:00:00Z", 1, "year", "2019-02-28 00:00:00" },
  { "2020-02-29T00:00:00Z", 4, "year", "2016-02-29 00:00:00" },
  { "2019-05-31T00:00:00Z", 1, "quarter", "2019-02-28 00:00:00" },
  { "2019-12-31T00:00:00Z", 1, "month", "2019-11-30 00:00:00" },
  { "2019-10-15T10:00:00Z", 2, "week", "2019-10-01 10:00:00" },
  { "2019-10-15T10:00:00Z", 14, "day", "2019-10-01 10:00:00" },
  { "2019-10-15T10:00:00Z", 0, "year", "2019-10-15 10:00:00" },
}
for _, case in ipairs(ages) do
  local now, count, unit, expected = table.unpack(case)
  local boundary = dates.format(dates.shift(at(now), -count, unit))
  if boundary ~= expected then
    error(string.format("%s minus %d %s: got %s, expected %s", now, count,
      unit, boundary, expected))
  end
end

-- Period starts.
local starts = {
  { "2019-10-15T10:00:00Z", "day", "2019-10-15 00:00:00" },
  { "2019-10-15T10:00:00Z", "week", "2019-10-14 00:00:00" },
  { "2019-10-15T10:00:00Z", "month", "2019-10-01 00:00:00" },
  { "2019-08-15T10:00:00Z", "quarter", "2019-07-01 00:00:00" },
  { "2019-10-15T10:00:00Z", "year", "2019-01-01 00:00:00" },
  { "1970-01-01T00:00:00Z", "week", "1969-12-29 00:00:00" },
}
for _, case in ipairs(starts) do
  local now, unit, expected = table.unpack(case)
  local start = dates.format(dates.period_start(at(now), unit))
  if start ~= expected then
    error(string.format("start of the %s of %s: got %s, expected %s", unit,
      now, start, expected))
  end
end
