-- Reading the shared string metatable.
-- expect: attempt to index a boolean value

local string_metatable = getmetatable("")
local index = string_metatable.__index
