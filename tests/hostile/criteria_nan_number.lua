-- NaN as a number value.
-- expect: (NaN|nan|not a number)

local sale = entity "sale"
rule "nan" { select = sale:where { { "amount", "<>", 0/0 } }, action = delete() }
