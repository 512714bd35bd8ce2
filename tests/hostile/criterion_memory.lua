-- A Lua criterion, called by the planner for each row, that allocates
-- without end after some rows.
-- expect: the Lua criterion failed on person \d+: memory limit of 64 MB reached
-- options: --memory-limit 64

local person = entity "person"
local hoard = {}
local calls = 0

rule "hoarding criterion" {
  select = person:where {
    { function()
        calls = calls + 1
        if calls < 5 then return true end
        while true do hoard[#hoard + 1] = ("x"):rep(1000) .. #hoard end
      end },
  },
  action = delete(),
}
