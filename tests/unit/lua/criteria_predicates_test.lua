-- Lua function criteria: applied only to the rows the SQL criteria of
-- their group select, with a read-only row, and errors that name the
-- line where the function was written. Fixture: fixtures/crm_fixture.lua.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local fixture = dofile(here .. "fixtures/crm_fixture.lua")
local policy = require "lethe.policy"
local planner = require "lethe.planner"

local f = fixture.create()

-- Only the rows that the SQL criteria let through reach the function.
local calls = {}
local function born_1990(row, id)
  calls[#calls + 1] = id
  return row.birthyear == 1990
end
fixture.same(fixture.ids(f, "person", {
  { { "category", "=", "Prospect" }, { born_1990 } },
}), { 3 }, "predicate after SQL")
fixture.same(calls, { 2, 3 }, "predicate calls")

-- A group of only a predicate is applied to every row; groups are still
-- ORed.
fixture.same(fixture.ids(f, "person", {
  { { "birthyear", "=", 1960 } },
  { function(row) return row.firstname == "Sophia" end },
}), { 1, 5 }, "predicate in its own group")

-- A description may follow the function.
fixture.same(fixture.ids(f, "person", {
  { { function(row) return row.title == "Sales" end, "sells" } },
}), { 3 }, "predicate with a description")

-- Lookups hold their key and dates their text.
local seen = {}
fixture.ids(f, "person", { { { "birthyear", "=", 1960 },
  { function(row)
      seen.category, seen.registered = row.category, row.registered
      return true
    end } } })
fixture.same({ seen.category, seen.registered },
  { 2, "2019-10-14T09:00:00Z" }, "row values")

-- The row is read-only.
fixture.fails(function()
  fixture.ids(f, "person", { { { function(row) row.lastname = "x" end } } })
end, "read-only", "writing the row")

-- A misspelled field is an error, not nil.
fixture.fails(function()
  fixture.ids(f, "person", { { { function(row) return row.lastnme end } } })
end, "person has no field 'lastnme'; did you mean 'lastname'?",
  "misspelled field")

-- An error names where the function was written and the record.
local line = debug.getinfo(1, "l").currentline + 2
fixture.fails(function()
  fixture.ids(f, "person", { { { function(row) return row.nothing.x end } } })
end, string.format("criteria_predicates_test.lua:%d: the Lua criterion "
  .. "failed on person 1", line), "predicate error")

-- In a policy, a predicate works in rules but not in a guard's where, and
-- a mistake in one is raised at the policy line.
local function load(text)
  return policy.load(text, "predicate_policy.lua", {
    db = f.db, now = f.now,
    resolve_model = function() return f.model end,
  })
end
local loaded = load([[
local person = entity "person"
rule "sales people" {
  select = person:where { { "nomailing", "is true" },
    { function(row) return row.title == "Sales" end } },
  action = keep(),
}
]])
fixture.same(planner.evaluate(f.db, loaded.rules[1].selection):to_array(),
  { 3 }, "predicate in a policy rule")
fixture.fails(function()
  load([[
local person = entity "person"
guard "x" { entity = person, where = { function() return true end } }
rule "r" { select = person:all(), action = keep() }
]])
end, "predicate_policy.lua:2:", "predicate in a guard's where")
fixture.fails(function()
  load([[
local person = entity "person"
rule "r" {
  select = person:where { { function() end, 42 } },
  action = keep(),
}
]])
end, "predicate_policy.lua:3:", "predicate with a bad description")

fixture.close(f)
