-- A table that grows without end.
-- expect: memory limit of 64 MB reached
-- options: --memory-limit 64

local t = {}
for i = 1, math.huge do t[i] = { i } end
