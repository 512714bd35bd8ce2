-- NaN as a number value.
-- expect: (NaN|nan|not a number)
-- known gap: a NaN value is accepted and matches no row

local sale = entity "sale"
rule "nan" { select = sale:where { { "amount", "<>", 0/0 } }, action = delete() }
