-- Tests of the bundled Sakila policy (sakila.lua), on a fixture built from
-- the Sakila tables it uses. Reference time 2006-05-14: six months back is
-- 2005-11-14.
--
--   customer 1  closed, last rental 2005-08-01                    deleted
--   customer 2  closed, last rental 2005-12-01                    kept
--   customer 3  closed, last rental 2005-08-01, not returned      vetoed
--   customer 4  open, last rental 2005-08-01                      closed
--   customer 5  open, last rental 2006-02-01                      kept

local fixture = {
  address = { { id = 1, address = "1 Main St", district = "X", phone = "1" } },
  store = { { id = 1, address_id = 1 } },
  staff = { { id = 1, first_name = "Mike", last_name = "H", store = 1,
              username = "mike" } },
  customer = {
    { id = 1, store = 1, address = 1, first_name = "A", last_name = "One",
      active = "0" },
    { id = 2, store = 1, address = 1, first_name = "B", last_name = "Two",
      active = "0" },
    { id = 3, store = 1, address = 1, first_name = "C", last_name = "Three",
      active = "0" },
    { id = 4, store = 1, address = 1, first_name = "D", last_name = "Four",
      active = "1" },
    { id = 5, store = 1, address = 1, first_name = "E", last_name = "Five",
      active = "1" },
  },
  rental = {
    { id = 1, customer = 1, staff = 1, rental_date = "2005-08-01",
      return_date = "2005-08-03" },
    { id = 2, customer = 2, staff = 1, rental_date = "2005-12-01",
      return_date = "2005-12-03" },
    { id = 3, customer = 3, staff = 1, rental_date = "2005-08-01" },
    { id = 4, customer = 4, staff = 1, rental_date = "2005-08-01",
      return_date = "2005-08-02" },
    { id = 5, customer = 5, staff = 1, rental_date = "2006-02-01",
      return_date = "2006-02-02" },
  },
  payment = {
    { id = 1, customer = 1, staff = 1, rental = 1, amount = 2.99,
      payment_date = "2005-08-01" },
    { id = 2, customer = 4, staff = 1, rental = 4, amount = 0.99,
      payment_date = "2005-08-01" },
  },
}

test "closed accounts are deleted with rentals and payments" {
  policy = "sakila.lua",
  schema = "sakila_test_schema.sql",
  now = "2006-05-14",
  fixture = fixture,
  expect = {
    ["delete closed accounts"] = {
      selected = { 1, 3 },
      vetoed = { 3 },
      reasons = { "not returned" },
      deleted = { customer = { 1 }, rental = { 1 }, payment = { 1 } },
    },
    ["close dormant accounts"] = {
      selected = { 4 },
      updated = { customer = { 4 } },
    },
    ["keep everyone else"] = { selected = { 2, 5 } },
  },
  after_apply = { customer = { 2, 3, 4, 5 }, rental = { 2, 3, 4, 5 },
                  payment = { 2 } },
}
