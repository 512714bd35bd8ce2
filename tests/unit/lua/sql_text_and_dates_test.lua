-- The SQL functions that criteria rely on, through a real connection:
-- lethe_epoch (host/isodate.c) must read dates exactly as lethe.dates
-- does, and lethe_fold (host/textfold.c) must fold case as Unicode's
-- NFKC_Casefold does. Expected values are written by hand.

local dates = require "lethe.dates"
local native = require "lethe.native"

local path = os.tmpname()
os.remove(path)
assert(native.create_database(path))
local db = assert(native.open(path))

local function check(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected),
      tostring(actual)), 2)
  end
end

-- { text, seconds since the epoch or nil }
local epochs = {
  { "1970-01-01", 0 },
  { "2019-10-15", 1571097600 },
  { "2019-10-15T10:00", 1571133600 },
  { "2019-10-15 10:00:00", 1571133600 },
  { "2019-10-15T10:00:00Z", 1571133600 },
  { "2019-10-15T12:00:00+02:00", 1571133600 },
  { "2019-10-15T07:30:00-0230", 1571133600 },
  { "2019-10-15T10:00:00.25Z", 1571133600.25 },
  { "2020-02-29", 1582934400 },
  { "1969-12-31T23:59:59Z", -1 },
  { "2019-02-30", nil },
  { "2019-02-29", nil },
  { "2019-13-01", nil },
  { "2019-00-10", nil },
  { "now", nil },
  { "", nil },
  { "2019-10-15 ", nil },
  { " 2019-10-15", nil },
  { "2019-10-15T", nil },
  { "2019-10-15T24:00", nil },
  { "2019-10-15T10:60", nil },
  { "2019-10-15T10:00:60", nil },
  { "2019-10-15T10:00:00+24:00", nil },
  { "2019-10-15T10:00:00+02", nil },
  { "2019-10-15Z", nil },
  { "20191015", nil },
  { "2019-10-15T10:00:00.", nil },
  { "2019/10/15", nil },
  { "2019-10-15t10:00:00", nil },
  { "2019-10-15T10:0", nil },
  { "2019-1-01", nil },
  { "2019-10-15T10:00:00ZZ", nil },
}
for _, case in ipairs(epochs) do
  local text, expected = case[1], case[2]
  check(db:scalar("SELECT lethe_epoch(?1)", { text }), expected,
    "lethe_epoch(" .. string.format("%q", text) .. ")")
  check(dates.parse(text), expected,
    "dates.parse(" .. string.format("%q", text) .. ")")
end
check(db:scalar("SELECT lethe_epoch(20191015)"), nil, "an integer")
check(db:scalar("SELECT lethe_epoch(2458771.5)"), nil, "a Julian day")
check(db:scalar("SELECT lethe_epoch(NULL)"), nil, "NULL")

-- { text, folded }
local folds = {
  { "Straße", "strasse" },
  { "ÉMILE", "émile" },
  { "E\u{301}MILE", "émile" },
  { "ΟΔΥΣΣΕΥΣ", "οδυσσευσ" },
  { "οδυσσευς", "οδυσσευσ" },
  { "ØRSTED Ærø", "ørsted ærø" },
  { "\u{FB01}le", "file" },
  { "\u{212B}", "å" },
  { "a\u{AD}b", "ab" },
  { "100% A_B", "100% a_b" },
  { "", "" },
}
for _, case in ipairs(folds) do
  check(db:scalar("SELECT lethe_fold(?1)", { case[1] }), case[2],
    "lethe_fold(" .. string.format("%q", case[1]) .. ")")
end
check(db:scalar("SELECT lethe_fold(NULL)"), nil, "lethe_fold(NULL)")
check(db:scalar("SELECT lethe_fold(123)"), "123", "lethe_fold(123)")
check(db:scalar("SELECT lethe_fold(?1)", { "ab\xC3" }), "ab\xC3",
  "invalid UTF-8 stays as it is")

db:close()
os.remove(path)
