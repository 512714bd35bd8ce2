-- Date criteria put a text range on the column in front of the exact
-- lethe_epoch test, so that SQLite can use an index. The text range must
-- never drop a row that the exact test accepts. The rows here hold dates
-- in every form that lethe_epoch reads, half a second, one second and a
-- minute on either side of each boundary. They are written with offsets
-- up to -23:59 and +23:59, so that their local date is a day off the UTC
-- date. The expected rows are worked out in Lua from the instants the
-- rows were generated from, not by the SQL under test.

local dates = require "lethe.dates"
local model = require "lethe.model"
local native = require "lethe.native"
local planner = require "lethe.planner"
local criteria = require "lethe.criteria"

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local same = dofile(here .. "fixtures/crm_fixture.lua").same

local path = os.tmpname()
os.remove(path)
assert(native.create_database(path))
local db = assert(native.open(path))
local definition = model.load("crm")
model.check_database(definition, db, path)

local function instant(text)
  return assert(dates.parse(text), text)
end

-- The reference time: Tuesday 15 October 2019, 10:00 UTC.
local now = instant("2019-10-15T10:00:00Z")

-- Return `seconds` east of UTC as "+HH:MM" or "-HH:MM", or without the
-- colon unless `with_colon`.
local function offset_text(seconds, with_colon)
  local sign = seconds < 0 and "-" or "+"
  seconds = math.abs(seconds)
  return string.format(with_colon and "%s%02d:%02d" or "%s%02d%02d", sign,
    seconds // 3600, seconds % 3600 // 60)
end

-- Return the local date and time 'YYYY-MM-DD HH:MM:SS' of `at` at
-- `offset` seconds east of UTC, or nil when its year is outside 0000 to
-- 9999, which lethe_epoch cannot read.
local function wall_clock(at, offset)
  local wall = dates.format(at + offset)
  if not wall:match("^%d%d%d%d%-") then return nil end
  return wall
end

local function zone_text(offset)
  return offset == 0 and "Z" or offset_text(offset, true)
end

-- Return the texts for `at` (an integer instant) at an offset of
-- `offset` seconds, in each form lethe_epoch reads.
local function texts_for(at, offset)
  local wall = wall_clock(at, offset)
  if not wall then return {} end
  local date, time = wall:sub(1, 10), wall:sub(12)
  local forms = {
    date .. "T" .. time .. zone_text(offset),
    date .. " " .. time .. offset_text(offset, false),
  }
  if offset == 0 then
    forms[#forms + 1] = date .. " " .. time
    if time:sub(7, 8) == "00" then
      forms[#forms + 1] = date .. "T" .. time:sub(1, 5)
    end
    if time == "00:00:00" then forms[#forms + 1] = date end
  end
  return forms
end

-- { text, instant } for rows around each boundary.
local OFFSETS = { -86340, -3600, 0, 3600, 86340 }
local STEPS = { -60, -1, 0, 1, 60 }
local rows = {}
local function add_row(text, at)
  rows[#rows + 1] = { text = text, at = at }
end
local function add_rows_around(boundary)
  for _, step in ipairs(STEPS) do
    for _, offset in ipairs(OFFSETS) do
      for _, text in ipairs(texts_for(boundary + step, offset)) do
        add_row(text, boundary + step)
      end
    end
  end
  -- Half a second on either side, with a fraction of a second.
  for _, offset in ipairs(OFFSETS) do
    for _, whole in ipairs { boundary - 1, boundary } do
      local wall = wall_clock(whole, offset)
      if wall then
        add_row(wall:gsub(" ", "T") .. ".5" .. zone_text(offset),
          whole + 0.5)
      end
    end
  end
end

-- { criterion, first, above, after, last }: the rows selected are those
-- with an instant >= first, > above, < after and <= last (each if
-- given). The instants are written out by hand from the operator's
-- definition in docs/policy-guide.md.
local cases = {
  { { "registered", "before", "2019-10-01" },
    after = "2019-10-01T00:00:00Z" },
  { { "registered", "before", "2019-10-01T12:30:00Z" },
    after = "2019-10-01T12:30:00Z" },
  { { "registered", "after", "2019-10-01" },
    first = "2019-10-02T00:00:00Z" },
  { { "registered", "after", "2019-10-01T12:30:00+02:00" },
    above = "2019-10-01T10:30:00Z" },
  { { "registered", "on", "2019-10-01" },
    first = "2019-10-01T00:00:00Z", after = "2019-10-02T00:00:00Z" },
  { { "registered", "between", "2019-09-28", "2019-10-01" },
    first = "2019-09-28T00:00:00Z", after = "2019-10-02T00:00:00Z" },
  { { "registered", "between", "2019-09-28T06:00:00Z",
      "2019-10-01T12:30:00Z" },
    first = "2019-09-28T06:00:00Z", last = "2019-10-01T12:30:00Z" },
  { { "registered", "older than", 3, "years" },
    after = "2016-10-15T10:00:00Z" },
  { { "registered", "newer than", 3, "years" },
    first = "2016-10-15T10:00:00Z" },
  { { "registered", "older than", 0, "days" },
    after = "2019-10-15T10:00:00Z" },
  { { "registered", "before today" }, after = "2019-10-15T00:00:00Z" },
  { { "registered", "today" },
    first = "2019-10-15T00:00:00Z", after = "2019-10-16T00:00:00Z" },
  { { "registered", "after today" }, first = "2019-10-16T00:00:00Z" },
  { { "registered", "this", "month" },
    first = "2019-10-01T00:00:00Z", after = "2019-11-01T00:00:00Z" },
  { { "registered", "previous", 2, "weeks" },
    first = "2019-09-30T00:00:00Z", after = "2019-10-14T00:00:00Z" },
  { { "registered", "this and next", 1, "quarters" },
    first = "2019-10-01T00:00:00Z", after = "2020-04-01T00:00:00Z" },
  -- Bounds at the ends of the years that text bounds cover.
  { { "registered", "before", "9999-12-31T12:00:00Z" },
    after = "9999-12-31T12:00:00Z" },
  { { "registered", "after", "0000-01-01" },
    first = "0000-01-02T00:00:00Z" },
  { { "registered", "after", "0000-01-01T00:00:30Z" },
    above = "0000-01-01T00:00:30Z" },
}

local boundaries = {}
for _, case in ipairs(cases) do
  for _, key in ipairs { "first", "above", "after", "last" } do
    if case[key] then boundaries[case[key]] = true end
  end
end
for text in pairs(boundaries) do add_rows_around(instant(text)) end

-- The first and the last instants lethe_epoch can read: texts near them
-- stay within the years 0000 to 9999 whatever their offset.
add_row("0000-01-01T00:00:00+23:59", instant("0000-01-01T00:00:00Z")
  - 86340)
add_row("9999-12-31T23:59:59-23:59", instant("9999-12-31T23:59:59Z")
  + 86340)

db:exec("BEGIN")
for id, row in ipairs(rows) do
  db:exec("INSERT INTO person (person_id, registered) VALUES (?1, ?2)",
    { id, row.text })
end
db:exec("COMMIT")

-- Check that the texts were generated right: lethe_epoch reads each of
-- them as the instant it was made from.
for id, row in ipairs(rows) do
  local read = db:scalar("SELECT lethe_epoch(?1)", { row.text })
  if read ~= row.at then
    error(string.format("row %d %q: lethe_epoch gives %s, expected %s", id,
      row.text, tostring(read), tostring(row.at)))
  end
end

local function expected_ids(case)
  local first = case.first and instant(case.first)
  local above = case.above and instant(case.above)
  local after = case.after and instant(case.after)
  local last = case.last and instant(case.last)
  local ids = {}
  for id, row in ipairs(rows) do
    if (not first or row.at >= first) and (not above or row.at > above)
        and (not after or row.at < after) and (not last or row.at <= last)
        then
      ids[#ids + 1] = id
    end
  end
  return ids
end

local person = definition.entities.person

local function selected_ids(criterion)
  local selection = criteria.selection(function()
    return criteria.context(definition, db, now)
  end, person, { { criterion } })
  return planner.evaluate(db, selection):to_array(), selection
end

for _, case in ipairs(cases) do
  local criterion = case[1]
  local label = criteria.describe(criterion)
  local expected = expected_ids(case)
  -- The case must have rows on both sides of its boundaries, or it could
  -- not fail.
  assert(#expected > 0, label .. ": no row inside the range")
  assert(#expected < #rows, label .. ": no row outside the range")
  local actual, selection = selected_ids(criterion)
  same(actual, expected, label)
  local bounded = selection.sql:find('t0."registered" [<>]') ~= nil
  local near_edge = criterion[3] == "9999-12-31T12:00:00Z"
    or criterion[3] == "0000-01-01" or criterion[3] == "0000-01-01T00:00:30Z"
  assert(bounded ~= near_edge, label .. (near_edge
    and ": a text bound outside the years 0000 to 9999"
    or ": no text bound on the column"))
end

-- A date criterion on related rows gets the text range too: every person
-- has one activity at the instant of its row.
db:exec("BEGIN")
for id, row in ipairs(rows) do
  db:exec("INSERT INTO appointment (appointment_id, person_id, type, "
    .. "status, activeDate, registered) VALUES (?1, ?1, 1, 3, ?2, ?2)",
    { id, row.text })
end
db:exec("COMMIT")
local newer = { first = "2016-10-15T10:00:00Z" }
same(selected_ids { "activities", "any",
  { "activeDate", "newer than", 3, "years" } }, expected_ids(newer),
  "activities any newer than 3 years")
local outside = {}
local inside = {}
for _, id in ipairs(expected_ids(newer)) do inside[id] = true end
for id in ipairs(rows) do
  if not inside[id] then outside[#outside + 1] = id end
end
same(selected_ids { "activities", "none",
  { "activeDate", "newer than", 3, "years" } }, outside,
  "activities none newer than 3 years")

-- SQLite seeks the index on the date column, and the one on (person_id,
-- activeDate) inside the correlated subquery.
local function query_plan(criteria_list)
  local selection = criteria.selection(function()
    return criteria.context(definition, db, now)
  end, person, { criteria_list })
  local details = {}
  for _, row in ipairs(db:rows("EXPLAIN QUERY PLAN SELECT t0.person_id "
      .. "FROM person t0 WHERE " .. selection.sql, selection.params)) do
    details[#details + 1] = row.detail
  end
  return table.concat(details, "\n")
end

local plan = query_plan { { "registered", "older than", 3, "years" } }
assert(plan:find("USING COVERING INDEX person_registered (registered<?)",
  1, true), "older than: expected the index on registered, got\n" .. plan)
plan = query_plan { { "activities", "none",
  { "activeDate", "newer than", 3, "years" } } }
assert(plan:find("appointment_person (person_id=? AND activeDate>?)", 1,
  true), "activities none newer than: expected the index on (person_id, "
  .. "activeDate), got\n" .. plan)

-- "any" on related rows reads the matching child rows through their own
-- index, once, instead of testing every person.
plan = query_plan { { "consents", "any", { "purpose", "=", "EMARKETING" },
  { "legal_basis", "=", "WITHDRAWN" } } }
assert(plan:find("consentperson_purpose (consentpurpose_id=? AND "
  .. "legalbase_id=?)", 1, true), "consents any: expected the index on "
  .. "(purpose, legal basis), got\n" .. plan)
assert(not plan:find("CORRELATED", 1, true),
  "consents any: expected no correlated subquery, got\n" .. plan)

db:close()
os.remove(path)
