-- Deep recursion through __index, through C frames.
-- expect: C stack overflow

local t = setmetatable({}, {})
getmetatable(t).__index = function(self, key) return self[key .. "x"] end
local v = t.x
