-- A guard check that loops only when apply plans again inside its write
-- transaction: the limit must roll the transaction back.
-- expect: guard "loops inside apply" failed on person \d+: .*instruction limit of 10000000 reached
-- options: --instruction-limit 10000000
-- run: apply

local person = entity "person"

-- The harness's helper module plan_calls returns how many checks one
-- plan makes (math.huge while it counts them), so that the check acts
-- only in the second plan of the apply run, inside the transaction.
local planned_calls = require "plan_calls"
local calls = 0

guard "loops inside apply" {
  entity = person,
  check = function()
    calls = calls + 1
    print("guard check " .. calls)
    if calls > planned_calls then while true do end end
    return false
  end,
}

rule "delete old prospects" {
  select = person:where {
    { "category", "=", "Prospect" },
    { "registered", "older than", 3, "years" },
  },
  action = delete(),
}
