-- Explaining one record (lethe.explain) on the hand-built fixture: each
-- criterion on its own, with resolved ranges and the record's values, set
-- algebra part by part, and earlier rules that take the record first.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local fixture = dofile(here .. "fixtures/crm_fixture.lua")
local explain = require "lethe.explain"
local policy = require "lethe.policy"

local f = fixture.create()

local loaded = policy.load([[
local person = entity "person"
rule "customers first" {
  select = person:where { "category", "=", "Customer" },
  action = keep(),
}
rule "quiet" {
  select = person:where {
    { "registered", "previous", 6, "months" },
    { "activities", "count", ">=", 2 },
    { "activities", "last", "activeDate", "before", "2019-10-05" },
    { function(row) return row.birthyear ~= 1975 end, "not born in 1975" },
  } - person:where { "lastname", "=", "Zola" },
  action = keep(),
}
]], "explain_policy.lua", { db = f.db, now = f.now,
  resolve_model = function() return f.model end })
local run = { db = f.db, now = f.now, policy = loaded }

local function check(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected),
      tostring(actual)), 2)
  end
end

-- Person 3: registered 2019-09-30, three activities, last readable one on
-- 2019-09-15, born 1990, not named Zola.
local result = explain.rule(run, loaded.rules[2], 3)
check(result.exists, true, "person 3 exists")
check(result.held, true, "person 3 selected")
check(result.tree.kind, "difference", "top node")
local items = result.tree.left.groups[1]
check(#items, 4, "four criteria")
check(items[1].held, true, "registered previous 6 months")
check(items[1].descriptions[1],
  "registered previous 6 months: 2019-04-01 to 2019-09-30", "range")
check(items[1].value, '"2019-09-30 23:30:00"', "registered value")
check(items[2].held, true, "count")
check(items[2].value, "3", "count value")
check(items[3].held, true, "last activity")
check(items[3].value, "2019-09-15 00:00:00", "last activity value")
check(items[4].held, true, "predicate")
check(items[4].text:find("not born in 1975", 1, true) ~= nil, true,
  "predicate text")
check(result.tree.right.held, false, "not Zola")

-- Person 1 fails the last-activity criterion alone, and a rule before
-- takes it anyway.
result = explain.rule(run, loaded.rules[2], 1)
items = result.tree.left.groups[1]
check(items[1].held, false, "person 1 registered in October")
check(items[2].held, true, "person 1 has two activities")
check(items[3].held, false, "person 1 last activity on 10 October")
check(items[3].value, "2019-10-10 00:00:00", "person 1 last activity")
check(result.held, false, "person 1 not selected")
check(result.earlier[1], "customers first", "earlier rule")

-- Unknown ids are reported, not explained.
check(explain.rule(run, loaded.rules[2], 999).exists, false, "no such id")

-- The text form has one line per criterion.
local lines = {}
explain.text(explain.rule(run, loaded.rules[2], 3), function(line)
  lines[#lines + 1] = line
end)
local text = table.concat(lines, "\n")
for _, wanted in ipairs {
  'Rule "quiet" (line 6), person 3: EMILE Straße',
  'yes   {"registered", "previous", 6, "months"}',
  "resolved: registered previous 6 months: 2019-04-01 to 2019-09-30",
  "value: 3",
  "The rule's selection contains this record",
} do
  if not text:find(wanted, 1, true) then
    error("explain text lacks " .. wanted .. ":\n" .. text)
  end
end

fixture.close(f)
