-- Retention policy for the Sakila sample database. Its data ends in
-- February 2006, so plan it with a fixed reference time, for example
-- --now 2006-08-31.

policy {
  name = "sakila retention",
  model = "sakila",
}

local customer = entity "customer"

-- Closed accounts with no rental in six months go, with their rentals
-- and payments.
rule "delete closed accounts" {
  select = customer:where {
    { "active", "=", "0" },
    { "rentals", "none", { "rental_date", "newer than", 6, "months" } },
  },
  action = delete(),
  reason = "account closed and no rental for 6 months",
}

-- Open accounts with no rental in six months are closed.
rule "close dormant accounts" {
  select = customer:where {
    { "active", "=", "1" },
    { "rentals", "none", { "rental_date", "newer than", 6, "months" } },
  },
  action = update { active = "0" },
  reason = "no rental for 6 months",
}

rule "keep everyone else" {
  select = customer:all(),
  action = keep(),
}
