-- Precompiled bytecode passed to load through a reader function.
-- expect: attempt to load a binary chunk

local bytecode = BYTECODE
local pieces = { bytecode:sub(1, 3), bytecode:sub(4) }
local i = 0
assert(load(function() i = i + 1 return pieces[i] end))
