-- A Lua criterion that accepts some rows, then loops forever inside a
-- pcall of its own. All calls of the criterion share one limited call, so
-- the instruction budget must still stop it, and the pcall must not
-- swallow the kill.
-- expect: the Lua criterion failed on person \d+: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

local person = entity "person"
local calls = 0

rule "endless criterion after some rows" {
  select = person:where {
    { function()
        calls = calls + 1
        if calls < 5 then return true end
        pcall(function() while true do end end)
        return true
      end },
  },
  action = delete(),
}
