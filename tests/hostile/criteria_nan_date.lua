-- NaN as a date.
-- expect: invalid date

local person = entity "person"
rule "nan" { select = person:where { { "registered", "before", 0/0 } }, action = delete() }
