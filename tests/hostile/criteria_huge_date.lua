-- A date far beyond year 9999.
-- expect: invalid date

local person = entity "person"
rule "huge" { select = person:where { { "registered", "before", "99999999-01-01" } }, action = delete() }
