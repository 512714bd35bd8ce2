-- goto out of a block with a to-be-closed variable.
-- expect: declares no rules

local closed = 0
do
  local closer <close> = setmetatable({}, { __close = function() closed = closed + 1 end })
  goto out
end
::out::
assert(closed == 1)
