-- Every criterion operator on the hand-built fixture database
-- (fixtures/crm_fixture.lua, reference time Tuesday 15 October 2019 10:00
-- UTC). The expected ids are worked out by hand from the fixture rows.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local fixture = dofile(here .. "fixtures/crm_fixture.lua")

local f = fixture.create()

-- { criterion or groups, expected person ids }
local person_cases = {
  -- Text, folded over all of Unicode.
  { { "lastname", "=", "østergaard" }, { 2 } },
  { { "lastname", "equals", "STRASSE" }, { 3, 8 } },
  { { "lastname", "is exactly", "Straße" }, { 3 } },
  { { "lastname", "is not exactly", "Straße" },
    { 1, 2, 4, 5, 6, 8, 9, 10, 11 } },
  { { "lastname", "<>", "strasse" }, { 1, 2, 4, 5, 6, 9, 10, 11 } },
  { { "lastname", "not equals", "ZOLA" }, { 2, 3, 4, 5, 6, 8, 9, 10, 11 } },
  { { "lastname", "contains", "ss" }, { 3, 8 } },
  { { "lastname", "contains", "ΣΣ" }, { 4 } },
  { { "lastname", "=", "οδυσσευς" }, { 4 } },
  { { "lastname", "ends with", "ς" }, { 4 } },
  { { "lastname", "begins with", "øster" }, { 2, 9 } },
  { { "lastname", "not begins with", "øster" },
    { 1, 3, 4, 5, 6, 8, 10, 11 } },
  { { "lastname", "ends with", "SURE" }, { 5 } },
  { { "lastname", "not ends with", "e" }, { 1, 2, 4, 6, 9, 10, 11 } },
  { { "lastname", "not contains", "a" }, { 4, 5, 6, 10, 11 } },
  { { "lastname", "ends with", "ærø" }, { 9 } },
  { { "lastname", "one of", { "ZOLA", "straße" } }, { 1, 3, 8 } },
  { { "lastname", "not one of", { "zola" } },
    { 2, 3, 4, 5, 6, 8, 9, 10, 11 } },
  { { "lastname", "empty" }, { 7, 10 } },
  { { "lastname", "not empty" }, { 1, 2, 3, 4, 5, 6, 8, 9, 11 } },
  { { "firstname", "=", "ÉMILE" }, { 1, 2, 4 } },
  { { "firstname", "is exactly", "émile" }, { 2 } },
  { { "firstname", "begins with", "é" }, { 1, 2, 4 } },
  { { "firstname", "=", "ΣΟΦΊΑ" }, { 6 } },
  -- "%" and "_" mean themselves.
  { { "lastname", "contains", "%" }, { 5 } },
  { { "lastname", "begins with", "100%" }, { 5 } },
  { { "lastname", "begins with", "100" }, { 5, 6 } },
  { { "title", "contains", "_" }, { 5 } },
  { { "title", "=", "A_B" }, { 5 } },
  { { "title", "ends with", "_b" }, { 5 } },
  { { "title", "empty" }, { 2, 4, 7, 8, 9, 10, 11 } },

  -- Numbers: NULL and text such as '' in a number column never compare.
  { { "birthyear", "=", 1975 }, { 2, 6 } },
  { { "birthyear", "<>", 1975 }, { 1, 3, 5 } },
  { { "birthyear", "<", 1975 }, { 1 } },
  { { "birthyear", ">", 1975 }, { 3, 5 } },
  { { "birthyear", "<=", 1975 }, { 1, 2, 6 } },
  { { "birthyear", ">=", 1990 }, { 3, 5 } },
  { { "birthyear", "between", 1970, 1990 }, { 2, 3, 6 } },
  { { "birthyear", "one of", { 1960, 2000 } }, { 1, 5 } },
  { { "birthyear", "not one of", { 1960, 2000 } }, { 2, 3, 6 } },
  { { "birthyear", "empty" }, { 4, 8, 9, 10, 11 } },
  { { "birthyear", "not empty" }, { 1, 2, 3, 5, 6, 7 } },

  -- Booleans.
  { { "nomailing", "is true" }, { 1, 3 } },
  { { "nomailing", "is false" }, { 2, 4, 5, 6, 7, 8, 9, 10, 11 } },
  { { "nomailing", "=", true }, { 1, 3 } },
  { { "nomailing", "=", false }, { 2, 4, 5, 6, 7, 8, 9, 10, 11 } },

  -- Lookups, by label, ignoring case.
  { { "category", "=", "prospect" }, { 2, 3 } },
  { { "category", "<>", "Prospect" }, { 1, 5, 6 } },
  { { "category", "one of", { "Customer", "Lost customer" } }, { 1, 5, 6 } },
  { { "category", "not one of", { "Prospect" } }, { 1, 5, 6 } },
  { { "category", "empty" }, { 4, 7, 8, 9, 10, 11 } },

  -- Absolute dates. Rows 8 ('not a date') and 9 ('2019-02-30') never
  -- match a date criterion.
  { { "registered", "before", "2019-10-01" }, { 3, 5, 6, 7 } },
  { { "registered", "after", "2019-10-14" }, { 4, 10, 11 } },
  { { "registered", "after", "2019-10-14T09:00:00Z" }, { 4, 10, 11 } },
  { { "registered", "after", "2019-10-14T08:59:59Z" }, { 1, 4, 10, 11 } },
  { { "registered", "on", "2019-10-14" }, { 1 } },
  { { "registered", "on", "2019-10-16" }, { 4 } },
  { { "registered", "between", "2019-04-01", "2019-09-30" }, { 3, 5 } },
  { { "registered", "between", "2019-04-01", "2019-09-30T23:00:00Z" },
    { 5 } },
  { { "registered", "before today" }, { 1, 2, 3, 5, 6, 7 } },
  { { "registered", "today" }, { 11 } },
  { { "registered", "after today" }, { 4, 10 } },
  { { "registered", "empty" }, {} },
  { { "updated", "empty" }, { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 } },
  { { "updated", "not empty" }, { 1 } },

  -- Relative periods around Tuesday 15 October 2019.
  { { "registered", "previous", 14, "days" }, { 1, 2 } },
  { { "registered", "previous", 2, "weeks" }, { 2, 3 } },
  { { "registered", "previous", 6, "months" }, { 3, 5 } },
  { { "registered", "this and previous", 3, "weeks" }, { 1, 2, 3, 4, 11 } },
  { { "registered", "next", 1, "month" }, { 10 } },
  { { "registered", "this", "month" }, { 1, 2, 4, 11 } },
  { { "registered", "this", "day" }, { 11 } },
  { { "registered", "this", "quarter" }, { 1, 2, 4, 10, 11 } },
  { { "registered", "previous", 1, "quarter" }, { 3 } },
  { { "registered", "this", "year" }, { 1, 2, 3, 4, 5, 6, 10, 11 } },
  { { "registered", "this, previous and next", 1, "days" }, { 1, 4, 11 } },
  { { "registered", "next", 2, "weeks" }, {} },
  { { "registered", "this and next", 1, "months" }, { 1, 2, 4, 10, 11 } },
  { { "registered", "previous", 1, "year" }, {} },
  { { "registered", "older than", 3, "years" }, { 7 } },
  { { "registered", "newer than", 6, "months" }, { 1, 2, 3, 4, 10, 11 } },

  -- Links to the company.
  { { "company.category", "=", "Customer" }, { 1, 2 } },
  { { "company.name", "contains", "100%" }, { 1, 2 } },
  { { "company", "empty" }, { 5, 6, 7, 8, 9, 10, 11 } },
  { { "company", "not empty" }, { 1, 2, 3, 4 } },
  { { "company", "any", { "name", "begins with", "ør" } }, { 4 } },

  -- Related rows: activities, sales, consents.
  { { "activities", "none", { "status", "=", 3 },
      { "activeDate", "after", "2019-01-01" } },
    { 2, 4, 5, 6, 7, 8, 9, 10, 11 } },
  { { "activities", "any" }, { 1, 2, 3, 5 } },
  { { "sales", "any", { "status", "=", 1 } }, { 1 } },
  { { "sales", "none" }, { 3, 4, 5, 6, 7, 8, 9, 10, 11 } },
  { { "consents", "none", { "purpose", "=", "EMARKETING" } },
    { 3, 4, 5, 6, 7, 8, 9, 10, 11 } },
  { { "consents", "any", { "legal_basis", "=", "WITHDRAWN" } }, { 2 } },
  { { "consents", "none", { { "purpose", "=", "EMARKETING" },
      { "legal_basis", "<>", "WITHDRAWN" } } },
    { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 } },

  -- Counters.
  { { "activities", "count", ">=", 2 }, { 1, 3 } },
  { { "activities", "count", "=", 0 }, { 4, 6, 7, 8, 9, 10, 11 } },
  { { "activities", "count", ">=", 1,
      { "activeDate", "previous", 1, "months" } }, { 3 } },
  { { "activities", "count", ">", 0, { "status", "<>", 3 } }, { 1, 3, 5 } },
  { { "activities", "count", "=", 1, { "type", "=", 1 } }, { 1, 3 } },
  { { "activities", "count", ">=", 2, { "direction", "=", 1 } }, { 3 } },
  { { "activities", "count", "between", 1, 2 }, { 1, 2, 5 } },
  { { "activities", "last", "activeDate", "before", "2019-10-05" },
    { 2, 3, 5 } },
  { { "activities", "last", "activeDate", "this", "month",
      { "status", "=", 3 } }, { 1 } },
  { { "activities", "last", "do_by", "after today" }, { 1 } },
  { { "activities", "last", "activeDate", "empty" },
    { 4, 6, 7, 8, 9, 10, 11 } },
  { { "activities", "first", "activeDate", "before", "2018-06-01" },
    { 2, 5 } },
  { { "sales", "sum", "amount", ">=", 1000 }, { 1 } },
  { { "sales", "sum", "amount", "=", 0 }, { 3, 4, 5, 6, 7, 8, 9, 10, 11 } },
  { { "sales", "count", "between", 1, 1 }, { 2 } },
  { { "sales", "count", "=", 1, { "status", "=", 1 },
      { "saledate", "newer than", 1, "years" } }, { 1 } },
}

for _, case in ipairs(person_cases) do
  local criterion, expected = case[1], case[2]
  fixture.same(fixture.ids(f, "person", { criterion }), expected,
    "person " .. require("lethe.criteria").describe(criterion))
end

-- Groups: criteria in a group are ANDed, groups are ORed.
fixture.same(fixture.ids(f, "person", {
  { { "category", "=", "Prospect" }, { "birthyear", ">", 1980 } },
  { { "nomailing", "is true" } },
}), { 1, 3 }, "two groups")

-- Companies by their persons, and company counters.
local company_cases = {
  { { "persons", "any", { "category", "=", "Prospect" } }, { 1, 2 } },
  { { "persons", "none" }, { 4 } },
  { { "persons", "count", ">=", 2 }, { 1 } },
  { { "activities", "count", ">=", 1 }, { 1 } },
  { { "sales", "any", { "status", "=", 1 } }, { 1, 2 } },
  { { "name", "contains", "_" }, { 2 } },
  { { "name", "=", "ØRSTED ÆRØ" }, { 3 } },
}
for _, case in ipairs(company_cases) do
  fixture.same(fixture.ids(f, "company", { case[1] }), case[2],
    "company " .. require("lethe.criteria").describe(case[1]))
end

-- Project counters.
fixture.same(fixture.ids(f, "project", { { "activities", "count", "=", 1 } }),
  { 1 }, "project with one activity")
fixture.same(fixture.ids(f, "project", { { "sales", "none" } }), { 2 },
  "project without sales")

-- The plan reports, per date field, the rows whose value is not a date:
-- person 8 ('not a date') and 9 ('2019-02-30'), activity 6 ('garbage').
local criteria = require "lethe.criteria"
local unreadable = criteria.unreadable_dates(f.db, fixture.selection(f,
  "person", { { { "registered", "today" },
    { "activities", "last", "activeDate", "empty" },
    { "updated", "before", "2020-01-01" } } }))
fixture.same({ #unreadable }, { 2 }, "fields with unreadable dates")
fixture.same({ unreadable[1].entity, unreadable[1].field,
  unreadable[1].count }, { "person", "registered", 2 }, "person.registered")
fixture.same({ unreadable[2].entity, unreadable[2].field,
  unreadable[2].count }, { "activity", "activeDate", 1 },
  "activity.activeDate")

-- Mistakes are errors that name the input.
local function compile(criterion)
  return function() fixture.ids(f, "person", { criterion }) end
end
fixture.fails(compile { "lastname", "contains", "" }, "the value is empty",
  "empty text")
fixture.fails(compile { "lastname", "contains", "\u{AD}" },
  "case folding removes", "text that folds to nothing")
fixture.fails(compile { "category", "=", "Prospekt" },
  "did you mean 'Prospect'", "unknown lookup label")
fixture.fails(compile { "registerd", "before", "2019-01-01" },
  "did you mean 'registered'", "unknown field")
fixture.fails(compile { "registered", "before", "2019-02-30" },
  "invalid date", "invalid date value")
fixture.fails(compile { "registered", "previous", 2, "fortnights" },
  "unknown unit", "unknown unit")
fixture.fails(compile { "registered", "previous", 0, "days" },
  "1 or more", "zero periods")
fixture.fails(compile { "registered", "between", "2019-02-01", "2019-01-01" },
  "first date is after the second", "reversed dates")
fixture.fails(compile { "birthyear", "between", 1990, 1970 },
  "lower bound", "reversed numbers")
fixture.fails(compile { "birthyear", ">", 19.5 }, "expected an integer",
  "fraction for an integer field")
fixture.fails(compile { "registered", "contains", "2019" },
  "does not apply to date field", "text operator on a date")
fixture.fails(compile { "activities", "count", "~", 1 }, "compares with",
  "unknown counter comparison")
fixture.fails(compile { "activities", "last", "status", "before",
  "2019-01-01" }, "needs a date field", "last of a number field")
fixture.fails(compile { "activities", "sometimes" }, "use 'any' or 'none'",
  "unknown relation operator")
fixture.fails(compile { "company.nme", "=", "x" }, "did you mean 'name'",
  "unknown parent field")
fixture.fails(compile { "activities", "any", { function() end } },
  "top level", "Lua criterion on related rows")

fixture.close(f)
