-- Coroutines that resume coroutines without end.
-- expect: C stack overflow

local function dive()
  local ok, message = coroutine.resume(coroutine.create(dive))
  error(message, 0)
end
dive()
