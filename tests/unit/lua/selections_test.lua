-- Saved selections (lethe.selections) on the hand-built fixture:
-- static, dynamic and combined selections, nesting, cycles, dependents,
-- conversion, persons to companies, and `selection "name"` in a policy.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local fixture = dofile(here .. "fixtures/crm_fixture.lua")
local idset = require "lethe.idset"
local planner = require "lethe.planner"
local policy = require "lethe.policy"
local selections = require "lethe.selections"

local f = fixture.create()
local db, model, now = f.db, f.model, f.now
local person = model.entities.person

local function members(reference)
  return planner.evaluate(db, selections.resolve(db, model, now,
    reference)):to_array()
end

-- Dynamic: criteria stored as text, read back in the sandbox.
local prospects = selections.save_dynamic(db, model, "prospects", person,
  { { { "category", "=", "Prospect" } } }, now)
local text = db:scalar("SELECT criteria FROM selection WHERE selection_id = "
  .. "?1", { prospects })
fixture.same({ text }, { '{\n  { "category", "=", "Prospect" },\n}\n' },
  "stored criteria text")
fixture.same(members("prospects"), { 2, 3 }, "dynamic selection")

-- Static: a member list.
selections.save_static(db, model, "picked", person,
  idset.from_array("person", { 1, 3, 11 }), now)
fixture.same(members("picked"), { 1, 3, 11 }, "static selection")

-- Combined, each operation, and nested.
local expected = {
  union = { 1, 2, 3, 11 }, intersect = { 3 },
  left_minus_right = { 2 }, right_minus_left = { 1, 11 },
  symmetric_difference = { 1, 2, 11 },
}
for _, operation in ipairs(selections.operations) do
  selections.save_combined(db, "c " .. operation, selections.find(db,
    "prospects"), operation, selections.find(db, "picked"), now)
  fixture.same(members("c " .. operation), expected[operation], operation)
end
selections.save_combined(db, "nested", selections.find(db, "c union"),
  "left_minus_right", selections.find(db, "c intersect"), now)
fixture.same(members("nested"), { 1, 2, 11 }, "nested combination")
fixture.same(members("#" .. prospects), { 2, 3 }, "reference by id")

-- Dependents, direct and through others.
local names = {}
for i, row in ipairs(selections.dependents(db, prospects)) do
  names[i] = row.name
end
fixture.same(names, { "c union", "c intersect", "c left_minus_right",
  "c right_minus_left", "c symmetric_difference", "nested" },
  "dependents of prospects")

-- A change that would make a selection use itself is rejected, and so is
-- a cycle written into the table by hand.
fixture.fails(function()
  selections.save_combined(db, "c union", selections.find(db, "nested"),
    "union", selections.find(db, "picked"), now,
    selections.existing(db, "c union", true))
end, "would use itself", "cycle on save")
db:exec("UPDATE selection SET left_id = (SELECT selection_id FROM "
  .. "selection WHERE name = 'nested') WHERE name = 'c intersect'")
fixture.fails(function() members("nested") end, "uses itself",
  "cycle on use")
db:exec("UPDATE selection SET left_id = ?1 WHERE name = 'c intersect'",
  { prospects })

-- Names: taken names need replace; unknown names get a suggestion.
fixture.fails(function() selections.existing(db, "picked", false) end,
  "use --replace", "taken name")
fixture.fails(function() selections.find(db, "prospect") end,
  "did you mean 'prospects'", "unknown name")

-- A selection in use cannot be removed; the message names its users.
fixture.fails(function()
  selections.remove(db, selections.find(db, "picked"))
end, "\"nested\"", "remove a selection in use")
selections.remove(db, selections.find(db, "nested"))
fixture.fails(function() selections.find(db, "nested") end,
  "no saved selection", "removed")

-- Converting freezes the records of the moment.
local row = selections.find(db, "c union")
selections.convert(db, model, row, planner.evaluate(db,
  selections.build(db, model, now, row)), now)
db:exec("UPDATE person SET category_idx = 1 WHERE person_id = 5")
fixture.same(members("c union"), { 1, 2, 3, 11 }, "converted is static")
fixture.same(members("prospects"), { 2, 3, 5 }, "dynamic follows changes")
db:exec("UPDATE person SET category_idx = 3 WHERE person_id = 5")

-- Persons to their companies, and back; Lua functions cannot be saved.
local target, groups = selections.related_groups(model,
  selections.find(db, "prospects"), "company")
selections.save_dynamic(db, model, "prospect companies", target, groups, now)
fixture.same(members("prospect companies"), { 1, 2 }, "companies")
target, groups = selections.related_groups(model,
  selections.find(db, "prospect companies"), "persons")
selections.save_dynamic(db, model, "their persons", target, groups, now)
fixture.same(members("their persons"), { 1, 2, 3 }, "persons again")
fixture.fails(function()
  selections.save_dynamic(db, model, "fn", person,
    { { { function() return true end } } }, now)
end, "cannot be saved", "Lua function criterion")
fixture.fails(function()
  selections.save_static(db, model, "projects", model.entities.project,
    idset.from_array("project", { 1 }), now)
end, "companies or persons", "static selection of projects")

-- In a policy, `selection "name"` is a selection like any other.
local loaded = policy.load([[
local person = entity "person"
rule "saved" {
  select = selection "c intersect" + selection "picked":where {
    { "birthyear", "=", 1960 } },
  action = keep(),
}
]], "saved_policy.lua", { db = db, now = now,
  resolve_model = function() return model end })
fixture.same(planner.evaluate(db, loaded.rules[1].selection):to_array(),
  { 1, 3 }, "saved selections in a policy")
fixture.fails(function()
  policy.load('rule "r" { select = selection "nope", action = keep() }',
    "saved_policy.lua", { db = db, now = now,
      resolve_model = function() return model end })
end, "saved_policy.lua:1: no saved selection is named \"nope\"",
  "unknown saved selection in a policy")

-- A deleted member leaves a static selection (the foreign key cascades).
db:exec("DELETE FROM person WHERE person_id = 11")
fixture.same(members("picked"), { 1, 3 }, "deleted member")

fixture.close(f)
