-- A finalizer, which would run outside the limits.
-- expect: __gc is not available to scripts

setmetatable({}, { __gc = function() error("from __gc") end })
collectgarbage()
