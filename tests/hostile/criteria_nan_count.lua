-- NaN as a relative-date count.
-- expect: the count must be a whole number

local person = entity "person"
rule "nan" { select = person:where { { "registered", "older than", 0/0, "days" } }, action = delete() }
