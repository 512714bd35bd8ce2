-- Calendar arithmetic and parsing in lethe.dates. Expected values are
-- worked by hand from the Gregorian calendar.

local dates = require "lethe.dates"

local function check(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected),
      tostring(actual)), 2)
  end
end

local function at(text)
  return assert(dates.parse(text))
end

-- The epoch and a few known instants.
check(at("1970-01-01"), 0, "epoch")
check(at("2000-03-01"), 951868800, "2000-03-01")
check(at("2019-10-15T13:45:30Z"), 1571147130, "instant with time")
check(dates.format(at("2019-10-15 13:45:30")), "2019-10-15 13:45:30",
  "round trip")

-- Days before 0000-03-01 come before the first 400-year era of the
-- calendar arithmetic, and must still format as themselves.
for _, text in ipairs { "0000-01-01 00:00:00", "0000-02-29 23:59:59",
    "0000-03-01 00:00:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59" } do
  check(dates.format(at(text)), text, "round trip of " .. text)
end
check(at("0000-01-01"), -62167219200, "0000-01-01")
check(dates.format(at("0000-01-01") - 1), "-001-12-31 23:59:59",
  "the last second of year -1")

-- Offsets convert to UTC.
check(at("2019-10-15T15:45:30+02:00"), at("2019-10-15T13:45:30Z"),
  "positive offset")
check(at("2019-10-15T08:45:30-05:00"), at("2019-10-15T13:45:30Z"),
  "negative offset")
check(at("2019-10-15T13:45"), at("2019-10-15T13:45:00Z"), "minutes only")

-- Invalid dates are rejected with a reason.
for _, text in ipairs { "2021-02-29", "2019-13-01", "2019-00-10",
    "2019-04-31", "2019-1-01", "15/10/2019", "2019-10-15T25:00:00",
    "2019-10-15T10:00:00+0", "2019-10-15X", "" } do
  local instant, reason = dates.parse(text)
  check(instant, nil, "invalid date " .. text)
  check(type(reason), "string", "reason for " .. text)
end
check(dates.parse("2020-02-29") ~= nil, true, "leap day 2020")
check(dates.parse("1900-02-29"), nil, "1900 is not a leap year")
check(dates.parse("2000-02-29") ~= nil, true, "2000 is a leap year")

-- Month arithmetic clamps to the end of the month.
check(dates.format_date(dates.add_months(at("2019-03-31"), -1)),
  "2019-02-28", "31 March minus a month, common year")
check(dates.format_date(dates.add_months(at("2020-03-31"), -1)),
  "2020-02-29", "31 March minus a month, leap year")
check(dates.format_date(dates.add_months(at("2019-01-31"), 1)),
  "2019-02-28", "31 January plus a month")
check(dates.format_date(dates.add_months(at("2019-10-15"), -6)),
  "2019-04-15", "six months back")
check(dates.format_date(dates.shift(at("2020-02-29"), -1, "year")),
  "2019-02-28", "leap day minus a year")
check(dates.format_date(dates.shift(at("2019-10-15"), -3, "year")),
  "2016-10-15", "three years back")
check(dates.format_date(dates.shift(at("2019-10-15"), -1, "quarter")),
  "2019-07-15", "a quarter back")
check(dates.format_date(dates.shift(at("2019-10-15"), -2, "week")),
  "2019-10-01", "two weeks back")
check(dates.format_date(dates.shift(at("2019-10-15"), -14, "day")),
  "2019-10-01", "fourteen days back")

-- Civil dates far from the epoch survive the round trip.
for _, text in ipairs { "1600-02-29", "1899-12-31", "2099-12-31",
    "2400-02-29" } do
  check(dates.format_date(at(text)), text, "round trip " .. text)
end
