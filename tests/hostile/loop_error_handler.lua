-- An endless message handler: hooks are off inside it after a limit.
-- expect: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

local function handler() while true do end end
while true do xpcall(function() while true do end end, handler) end
