-- One huge string.rep.
-- expect: memory limit of 64 MB reached
-- options: --memory-limit 64

local s = string.rep("x", 1e9)
