-- The largest integer as a relative-date count.
-- expect: older than.*(too large|out of range|invalid)
-- known gap: the date arithmetic wraps around and selects every person

local person = entity "person"
rule "huge" { select = person:where { { "registered", "older than", math.maxinteger, "years" } }, action = delete() }
