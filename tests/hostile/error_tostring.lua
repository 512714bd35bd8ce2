-- An error object whose __tostring never returns.
-- expect: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

error(setmetatable({}, { __tostring = function() while true do end end }))
