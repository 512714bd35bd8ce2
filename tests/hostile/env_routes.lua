-- _ENV and _G lead only to the script's own globals.
-- expect: undefined global 'io'

assert(_ENV == _G)
assert(getmetatable(_G) == false)
local io = _ENV.io
