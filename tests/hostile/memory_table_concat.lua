-- table.concat of a giant table.
-- expect: memory limit of 64 MB reached
-- options: --memory-limit 64

local t = {}
for i = 1, 1e6 do t[i] = ("x"):rep(40) end
local s = table.concat(t)
