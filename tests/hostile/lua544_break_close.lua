-- break out of a loop with a to-be-closed variable.
-- expect: declares no rules

local closed = 0
for i = 1, 3 do
  local closer <close> = setmetatable({}, { __close = function() closed = closed + 1 end })
  if i == 2 then break end
end
assert(closed == 2)
