-- __close handlers that close coroutines, nested deeply (crashes Lua 5.4.4 itself).
-- expect: coroutine.close nested more than 100 levels deep

local previous = false
for _ = 1, 100000 do
  local outer = previous
  previous = coroutine.create(function()
    local closer <close> = setmetatable({}, { __close = function()
      if outer then assert(coroutine.close(outer)) end
    end })
    coroutine.yield()
  end)
  coroutine.resume(previous)
end
assert(coroutine.close(previous))
