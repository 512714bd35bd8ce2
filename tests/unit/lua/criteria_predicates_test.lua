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

-- Row objects ------------------------------------------------------------

-- Values keep their stored types: an integer stays an integer, text in an
-- integer column stays text, and NULL reads nil.
local stored = {}
fixture.ids(f, "person", { { function(row, id)
  stored[id] = { birthyear = row.birthyear, title = row.title, id = id }
  return false
end } })
assert(math.type(stored[1].birthyear) == "integer",
  "person 1's birthyear is not an integer")
assert(stored[1].birthyear == 1960, "person 1's birthyear")
assert(stored[7].birthyear == "", "person 7's birthyear, stored as ''")
assert(stored[4].birthyear == nil, "person 4's NULL birthyear")
assert(stored[1].title == "CEO", "person 1's title")
assert(stored[2].title == nil, "person 2's NULL title")
assert(math.type(stored[11].id) == "integer", "the id is not an integer")

-- A function that reads other fields on later rows gets their values: the
-- rows switch between firstname and lastname.
local names = {}
fixture.ids(f, "person", { { function(row, id)
  if id % 2 == 1 then
    names[#names + 1] = row.firstname
  else
    names[#names + 1] = row.lastname
  end
  return true
end } })
fixture.same(names, { "Émile", "ØSTERGAARD", "EMILE", "ΟΔΥΣΣΕΥΣ",
  "Sophia", "100 percent", "Ola", "strasse", "Åse", "", "Zoë" },
  "fields read on alternate rows")

-- pairs(row) gives every field whose value is not NULL, with the value
-- stored in the table.
local expected = {}
local stored_rows = f.db:rows("SELECT * FROM person WHERE person_id = 2")
for name, field in pairs(f.model.entities.person.fields) do
  expected[name] = stored_rows[1][field.column or name]
end
local listed = {}
fixture.ids(f, "person", { { function(row, id)
  if id == 2 then
    for name, value in pairs(row) do listed[name] = value end
  end
  return false
end } })
for name, value in pairs(expected) do
  assert(listed[name] == value, "pairs(row) gives " .. name .. " = "
    .. tostring(listed[name]) .. ", expected " .. tostring(value))
end
for name in pairs(listed) do
  assert(expected[name] ~= nil, "pairs(row) gives the NULL field " .. name)
end

-- The metatable is hidden.
local metatable
fixture.ids(f, "person", { { function(row)
  metatable = getmetatable(row)
  return false
end } })
assert(metatable == false, "getmetatable(row) is not false")

-- A row kept past its call cannot be read: not in a later call, not after
-- the evaluation, and not after an evaluation that failed.
local kept_row
fixture.fails(function()
  fixture.ids(f, "person", { { function(row, id)
    if id == 1 then
      kept_row = row
      return true
    end
    return kept_row.firstname ~= nil
  end } })
end, "the row is no longer available", "row read in a later call")
fixture.fails(function() return kept_row.firstname end,
  "the row is no longer available", "row read after the scan")
fixture.fails(function() return pairs(kept_row) end,
  "the row is no longer available", "pairs after the scan")
local failed_row
pcall(fixture.ids, f, "person", { { function(row)
  failed_row = row
  error("stop")
end } })
fixture.fails(function() return failed_row.lastname end,
  "the row is no longer available", "row of a failed scan")
assert(not f.db:in_transaction(), "a failed scan left a transaction open")

-- Scans nest: a function may evaluate a selection with a function of its
-- own, and the outer row stays readable in the inner calls.
local same_year = {}
fixture.ids(f, "person", { { { "birthyear", "=", 1975 },
  { function(row, id)
      same_year[id] = fixture.ids(f, "person", { { function(inner)
        return inner.birthyear == row.birthyear
      end } })
      return true
    end } } })
fixture.same(same_year[2], { 2, 6 }, "nested scan from person 2")
fixture.same(same_year[6], { 2, 6 }, "nested scan from person 6")

-- Predicates with SQL criteria ---------------------------------------------

-- In the same group, the function reads a different field per row of the
-- SQL's result (persons 1 and 6 are customers).
fixture.same(fixture.ids(f, "person", {
  { { "category", "=", "Customer" }, { function(row, id)
      if id == 1 then return row.title == "CEO" end
      return row.firstname == "Σοφία"
    end } },
}), { 1, 6 }, "predicate reading per-row fields after SQL")

-- Two functions in one group: the second is called only on the rows that
-- the first kept.
local second_calls = {}
fixture.same(fixture.ids(f, "person", {
  { { "birthyear", "=", 1975 },
    { function(row) return row.firstname == "émile" end },
    { function(row, id)
        second_calls[#second_calls + 1] = id
        return row.lastname == "ØSTERGAARD"
      end } },
}), { 2 }, "two predicates in a group")
fixture.same(second_calls, { 2 }, "calls of the second predicate")

-- OR-groups, each with SQL and a function, and a plain SQL group.
fixture.same(fixture.ids(f, "person", {
  { { "category", "=", "Prospect" },
    { function(row) return row.title == "Sales" end } },
  { { "category", "=", "Customer" },
    { function(row) return row.birthyear == 1975 end } },
  { { "birthyear", "=", 2000 } },
}), { 3, 5, 6 }, "predicates in OR-groups")

-- The script limits -----------------------------------------------------

-- All calls of a function share one limited call: the instruction budget
-- stops a function that loops after some rows, a pcall inside it does not
-- swallow the kill, and the error names the row.
local limits = require "lethe.limits"
local sandbox = require "lethe.sandbox"
limits.configure { instructions = 200000, seconds = 0 }
fixture.fails(function()
  fixture.ids(f, "person", { { function(_, id)
    if id < 5 then return true end
    pcall(function() while true do end end)
    return true
  end } })
end, "the Lua criterion failed on person 5: instruction limit of 200000 reached",
  "loop after some rows")
fixture.fails(function()
  fixture.ids(f, "person", { { function() return true end } })
end, "instruction limit of 200000 reached", "kill stays until reset")
assert(not f.db:in_transaction(), "a killed scan left a transaction open")
sandbox.reset()

-- The memory limit stops a function that allocates without end.
limits.configure { memory_mb = 16, instructions = 0 }
fixture.fails(function()
  fixture.ids(f, "person", { { function(_, id)
    if id < 3 then return true end
    local hoard = {}
    while true do hoard[#hoard + 1] = ("x"):rep(100) .. #hoard end
  end } })
end, "the Lua criterion failed on person 3: memory limit of 16 MB reached",
  "memory after some rows")
sandbox.reset()
limits.configure { memory_mb = 256, instructions = 1000000000, seconds = 60 }

fixture.close(f)
