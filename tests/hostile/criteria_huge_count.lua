-- The largest integer as a relative-date count.
-- expect: older than.*(too large|out of range|invalid)

local person = entity "person"
rule "huge" { select = person:where { { "registered", "older than", math.maxinteger, "years" } }, action = delete() }
