-- Tests of the bundled Northwind policy (northwind.lua). Customers have a
-- text key, so the model (and these ids) use the rowid: the n-th customer
-- below has id n. Reference time 2019-01-01: 18 months back is
-- 2017-07-01, 12 months back 2018-01-01.
--
--   customer 1 ALONE  never ordered                                 deleted
--   customer 2 QUIET  last order 2017-03-01 (shipped)              deleted
--   customer 3 OPEN   last order 2017-03-01, not shipped           vetoed
--   customer 4 FAXED  last order 2017-10-01, has a fax             fax cleared
--   customer 5 BUSY   last order 2018-06-01                        kept

local fixture = {
  customer = {
    { id = 1, ["CustomerID"] = "ALONE", company_name = "Alone AB" },
    { id = 2, ["CustomerID"] = "QUIET", company_name = "Quiet BV",
      fax = "030-1" },
    { id = 3, ["CustomerID"] = "OPEN", company_name = "Open Oy" },
    { id = 4, ["CustomerID"] = "FAXED", company_name = "Faxed SA",
      fax = "030-2" },
    { id = 5, ["CustomerID"] = "BUSY", company_name = "Busy Ltd",
      fax = "030-3" },
  },
  employee = { { id = 1, first_name = "Nancy", last_name = "Davolio" } },
  order = {
    { id = 10, ["CustomerID"] = "QUIET", employee = 1,
      ordered = "2017-03-01", shipped = "2017-03-05" },
    { id = 11, ["CustomerID"] = "OPEN", employee = 1,
      ordered = "2017-03-01" },
    { id = 12, ["CustomerID"] = "FAXED", employee = 1,
      ordered = "2017-10-01", shipped = "2017-10-04" },
    { id = 13, ["CustomerID"] = "BUSY", employee = 1,
      ordered = "2018-06-01", shipped = "2018-06-03" },
  },
  order_line = {
    { ["OrderID"] = 10, ["ProductID"] = 1 },
    { ["OrderID"] = 10, ["ProductID"] = 2 },
    { ["OrderID"] = 13, ["ProductID"] = 1 },
  },
}

test "customers without orders and quiet customers go" {
  policy = "northwind.lua",
  schema = "northwind_test_schema.sql",
  now = "2019-01-01",
  fixture = fixture,
  expect = {
    ["delete customers without orders"] = {
      selected = { 1 },
      deleted = { customer = { 1 } },
    },
    ["delete inactive customers"] = {
      selected = { 2, 3 },
      vetoed = { 3 },
      reasons = { "not shipped" },
      deleted = { customer = { 2 }, order = { 10 }, order_line = { 1, 2 } },
    },
    ["drop fax numbers of quiet customers"] = {
      selected = { 4 },
      updated = { customer = { 4 } },
    },
    -- Customer 3 was selected (and vetoed) by the rule above, so this
    -- rule does not see it again.
    ["keep everyone else"] = { selected = { 5 } },
  },
  after_apply = { customer = { 3, 4, 5 }, order = { 11, 12, 13 },
                  order_line = { 3 } },
}
