-- An endless __close handler that runs while the limit unwinds.
-- expect: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

local guard <close> = setmetatable({}, { __close = function()
  while true do end
end })
while true do end
