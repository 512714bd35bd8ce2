-- A <const> _ENV, which 5.4.4 compiled wrongly (fixed in Debian).
-- expect: declares no rules

local _ENV <const> = _ENV
local function read() return tostring end
assert(read() == tostring)
