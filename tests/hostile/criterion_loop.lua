-- A Lua criterion, called by the planner for each row, that never
-- returns.
-- expect: the Lua criterion failed on person \d+: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

local person = entity "person"

rule "endless criterion" {
  select = person:where {
    { "category", "=", "Prospect" },
    { function() while true do end end },
  },
  action = delete(),
}
