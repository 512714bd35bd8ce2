-- A guard check, called by the planner for each row, that allocates
-- without end.
-- expect: guard "hoards memory" failed on person \d+: .*memory limit of 64 MB reached
-- options: --memory-limit 64

local person = entity "person"
local hoard = {}

guard "hoards memory" {
  entity = person,
  check = function()
    while true do hoard[#hoard + 1] = ("x"):rep(1000) .. #hoard end
  end,
}

rule "delete old prospects" {
  select = person:where { { "category", "=", "Prospect" } },
  action = delete(),
}
