-- A guard check that sits in one backtracking string.find when apply plans
-- again inside its write transaction: the watchdog ends the process, and
-- SQLite must roll the transaction back.
-- expect: time limit of 1 s reached while the script was inside a library call
-- options: --time-limit 1
-- run: apply

local person = entity "person"

-- The harness's helper module plan_calls returns how many checks one
-- plan makes (math.huge while it counts them), so that the check acts
-- only in the second plan of the apply run, inside the transaction.
local planned_calls = require "plan_calls"
local calls = 0

guard "stalls inside apply" {
  entity = person,
  check = function()
    calls = calls + 1
    print("guard check " .. calls)
    if calls > planned_calls then
      string.find(string.rep("a", 40) .. "b", string.rep("a*", 30) .. "c")
    end
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
