-- Bitwise operations on constants (wrong code in 5.4.4).
-- expect: declares no rules

local x <const> = 1
print(x << 62, -1 >> 1, 3 & ~0)
