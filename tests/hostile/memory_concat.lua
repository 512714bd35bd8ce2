-- Doubling a string by concatenation.
-- expect: memory limit of 64 MB reached
-- options: --memory-limit 64

local s = "x"
while true do s = s .. s end
