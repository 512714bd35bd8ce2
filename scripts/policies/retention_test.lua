-- Tests of the bundled retention policy (retention.lua) on a small CRM
-- fixture. Each expected id below was worked out by hand from the rules:
--
--   person 1  prospect since 2015, no activity, no consent        deleted
--   person 2  prospect since 2015, activity in May 2023           kept
--   person 3  prospect since 2015, EMARKETING consent              kept
--   person 4  prospect registered in 2023                          kept
--   person 5  private prospect since 2016, consent withdrawn      deleted
--   person 6  contact of company 2, a lost customer since 2010    deleted
--   person 7  contact of company 4, a lost customer, CRM user      kept
--   person 8  customer contact who withdrew e-marketing consent    blocked
--   person 9  private prospect since 2015 who is a CRM user        vetoed
--   person 10 contact of company 3, a lost customer active in 2023 kept
--   person 11 private prospect registered 2020-12-01 (3.5 years)   deleted
--   person 12 private prospect registered 2022-01-01 (2.5 years)   kept
--   person 13 prospect whose last activity was on 2021-01-01        deleted
--   person 14 prospect whose last activity was on 2022-01-01        kept
--
-- Companies 6 (a lost customer with a sale in 2022) and 7 (a lost
-- customer registered in 2021) stay, each for one criterion. Lost
-- customers 8 to 13 sit half a year either side of the five-year bounds:
-- 8 (registered 2019-01-01), 10 (last activity 2018-12-01) and 12 (last
-- sale 2018-12-01) go; 9 (registered 2020-01-01), 11 (activity
-- 2020-01-01) and 13 (sale 2020-01-01) stay. So moving any date bound by
-- a year, either way, changes the outcome.

local fixture = {
  company = {
    { id = 1, name = "Prospect Co", category = "Prospect",
      registered = "2015-01-01" },
    { id = 2, name = "Lost Ltd", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 3, name = "Lost Recently", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 4, name = "Lost With User", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 5, name = "Customer AS", category = "Customer",
      registered = "2012-01-01" },
    { id = 6, name = "Lost But Bought", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 7, name = "Lost Newcomer", category = "Lost customer",
      registered = "2021-01-01" },
    { id = 8, name = "Lost 2019", category = "Lost customer",
      registered = "2019-01-01" },
    { id = 9, name = "Lost 2020", category = "Lost customer",
      registered = "2020-01-01" },
    { id = 10, name = "Active Until 2018", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 11, name = "Active Until 2020", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 12, name = "Bought Until 2018", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 13, name = "Bought Until 2020", category = "Lost customer",
      registered = "2010-01-01" },
  },
  person = {
    { id = 1, company = 1, firstname = "Anna", category = "Prospect",
      registered = "2015-01-01" },
    { id = 2, company = 1, firstname = "Bram", category = "Prospect",
      registered = "2015-01-01" },
    { id = 3, company = 1, firstname = "Cato", category = "Prospect",
      registered = "2015-01-01" },
    { id = 4, company = 1, firstname = "Dirk", category = "Prospect",
      registered = "2023-01-01" },
    { id = 5, firstname = "Eva", category = "Prospect",
      registered = "2016-01-01" },
    { id = 6, company = 2, firstname = "Finn", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 7, company = 4, firstname = "Gert", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 8, company = 5, firstname = "Hana", category = "Customer",
      registered = "2012-01-01", blockEmarketing = false },
    { id = 9, firstname = "Ivo", category = "Prospect",
      registered = "2015-01-01" },
    { id = 10, company = 3, firstname = "Joke", category = "Lost customer",
      registered = "2010-01-01" },
    { id = 11, firstname = "Kees", category = "Prospect",
      registered = "2020-12-01" },
    { id = 12, firstname = "Lies", category = "Prospect",
      registered = "2022-01-01" },
    { id = 13, firstname = "Mees", category = "Prospect",
      registered = "2015-01-01" },
    { id = 14, firstname = "Noor", category = "Prospect",
      registered = "2015-01-01" },
  },
  user = {
    { id = 1, name = "ivo", person = 9 },
    { id = 2, name = "gert", person = 7 },
  },
  activity = {
    { id = 1, person = 2, company = 1, activeDate = "2023-05-01",
      status = 3 },
    { id = 2, person = 10, company = 3, activeDate = "2023-01-01",
      status = 3 },
    { id = 3, person = 6, company = 2, activeDate = "2015-01-01",
      status = 3 },
    { id = 4, person = 13, activeDate = "2021-01-01", status = 3 },
    { id = 5, person = 14, activeDate = "2022-01-01", status = 3 },
    { id = 6, company = 10, activeDate = "2018-12-01", status = 3 },
    { id = 7, company = 11, activeDate = "2020-01-01", status = 3 },
  },
  sale = {
    { id = 1, company = 2, person = 6, saledate = "2016-01-01",
      status = 3 },
    { id = 2, company = 6, saledate = "2022-03-01", status = 2 },
    { id = 3, company = 12, saledate = "2018-12-01", status = 2 },
    { id = 4, company = 13, saledate = "2020-01-01", status = 2 },
  },
  consent = {
    { id = 1, person = 3, purpose = "EMARKETING", legal_basis = "CONSENT" },
    { id = 2, person = 5, purpose = "EMARKETING",
      legal_basis = "WITHDRAWN" },
    { id = 3, person = 8, purpose = "EMARKETING",
      legal_basis = "WITHDRAWN" },
  },
}

test "stale prospects are deleted" {
  policy = "retention.lua",
  now = "2024-06-30",
  fixture = fixture,
  expect = {
    ["delete stale prospects"] = {
      selected = { 1, 5, 9, 11, 13 },
      vetoed = { 9 },
      reasons = { "is a CRM user" },
      deleted = { person = { 1, 5, 11, 13 }, consent = { 2 },
                  activity = { 4 } },
    },
  },
}

test "lost customers go with their persons" {
  policy = "retention.lua",
  now = "2024-06-30",
  fixture = fixture,
  expect = {
    ["delete lost customers"] = {
      selected = { 2, 4, 8, 10, 12 },
      vetoed = { 4 },
      deleted = { company = { 2, 8, 10, 12 }, person = { 6 },
                  activity = { 3, 6 }, sale = { 1, 3 } },
    },
  },
}

test "withdrawn consent blocks e-marketing" {
  policy = "retention.lua",
  now = "2024-06-30",
  fixture = fixture,
  expect = {
    ["block e-marketing after withdrawal"] = {
      selected = { 8 },
      updated = { person = { 8 } },
    },
    ["keep everyone else"] = { selected = { 2, 3, 4, 7, 10, 12, 14 } },
  },
}

test "applying leaves exactly the kept rows" {
  policy = "retention.lua",
  now = "2024-06-30",
  fixture = fixture,
  after_apply = {
    person = { 2, 3, 4, 7, 8, 9, 10, 12, 14 },
    company = { 1, 3, 4, 5, 6, 7, 9, 11, 13 },
    activity = { 1, 2, 5, 7 },
    sale = { 2, 4 },
    consent = { 1, 3 },
  },
}
