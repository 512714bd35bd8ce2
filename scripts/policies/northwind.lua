-- Retention policy for the Northwind sample database. With the date patch
-- (update.sql) its orders end in May 2018, so plan it with a fixed
-- reference time, for example --now 2019-01-01.

policy {
  name = "northwind retention",
  model = "northwind",
}

local customer = entity "customer"

-- Customers that never ordered have no reason to be kept.
rule "delete customers without orders" {
  select = customer:where { { "orders", "none" } },
  action = delete(),
  reason = "no order ever placed",
}

-- Customers without an order in 18 months go with their orders.
rule "delete inactive customers" {
  select = customer:where {
    { "orders", "none", { "ordered", "newer than", 18, "months" } },
  },
  action = delete(),
  reason = "no order for 18 months",
}

-- Customers without an order in a year no longer need a fax number on
-- file.
rule "drop fax numbers of quiet customers" {
  select = customer:where {
    { "orders", "none", { "ordered", "newer than", 12, "months" } },
    { "fax", "not empty" },
  },
  action = update { fax = null },
  reason = "no order for 12 months",
}

rule "keep everyone else" {
  select = customer:all(),
  action = keep(),
}
