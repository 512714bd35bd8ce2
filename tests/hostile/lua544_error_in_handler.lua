-- A stack overflow inside the message handler of a stack overflow.
-- expect: declares no rules

local function loop() return 1 + loop() end
print(xpcall(loop, loop))
