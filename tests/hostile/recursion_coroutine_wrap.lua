-- coroutine.wrap functions nested without end.
-- expect: C stack overflow

local function dive() return coroutine.wrap(function() return dive()() end) end
dive()()
