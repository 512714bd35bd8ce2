-- Unit tests of the sandbox and the script limits (lethe.sandbox,
-- lethe.limits). The end-to-end cases are in tests/hostile/.

local limits = require "lethe.limits"
local sandbox = require "lethe.sandbox"

local function fails_with(expected, f, ...)
  local ok, message = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. expected)
  assert(tostring(message):find(expected, 1, true),
    "expected '" .. expected .. "' in: " .. tostring(message))
  return message
end

local function run(text, name)
  return sandbox.run(text, name or "case.lua", sandbox.environment())
end

limits.configure { memory_mb = 16, instructions = 200000, seconds = 0 }
sandbox.reset()

-- A kill goes through the script's own pcall, stays until reset, and a
-- reset run starts from zero.
fails_with("loop.lua: instruction limit of 200000 reached", run,
  "while true do pcall(function() while true do end end) end", "loop.lua")
assert(limits.killed(), "the run is not marked killed")
fails_with("instruction limit of 200000 reached", run, "return 1")
sandbox.reset()
assert(not limits.killed(), "reset left the kill in place")
assert(run("return 1 + 1") == 2, "a fresh run fails")
assert(limits.state().instructions < 200000, "reset kept the count")

-- The memory cap stops a string that doubles, and the heap shrinks again.
fails_with("memory limit of 16 MB reached", run,
  "local s = 'x' while true do s = s .. s end")
sandbox.reset()
collectgarbage()
assert(limits.state().heap < 16 * 1024 * 1024, "the heap stayed large")

-- Each script has its own globals; an undefined global is an error.
run("shared = 1")
fails_with("undefined global 'shared'", run, "return shared")

-- Bytecode, dump and the protected string metatable.
fails_with("attempt to load a binary chunk", run,
  "assert(load('\\27Lua'))")
fails_with("attempt to call a nil value", run, "string.dump(print)")
assert(run("return getmetatable('')") == false,
  "getmetatable('') reveals the string metatable")

-- Finalizers, collector tuning, rawset on protected objects.
fails_with("__gc is not available", run, "setmetatable({}, { __gc = print })")
fails_with("is not available to scripts", run, "collectgarbage('stop')")
assert(run("return collectgarbage('count')") > 0)
fails_with("protected object", run, [[
  local object = setmetatable({}, { __metatable = "locked" })
  rawset(object, "field", 1)
]])

-- Data a script returns is copied without metatables; functions in it
-- are wrapped so that they run under the limits.
local data = run("return { a = { 1, 2 }, f = function() return 3 end }")
local copied = sandbox.copy_data(data, "data.lua")
assert(copied.a[2] == 2 and copied.f() == 3, "copy_data lost a value")
fails_with("data.lua: tables that a script returns cannot have a metatable",
  sandbox.copy_data, run("return setmetatable({}, {})"), "data.lua")

-- A wrapped callback is limited when Lethe calls it later.
local callback = sandbox.wrap("callback.lua",
  run("return function() while true do end end"))
fails_with("callback.lua: instruction limit", callback)
sandbox.reset()

-- The time limit ends a loop with the instruction limit off.
limits.configure { instructions = 0, seconds = 0.2 }
fails_with("time limit of 0.2 s reached", run, "while true do end")
sandbox.reset()

-- A memory error inside db:rows finalizes the statement, so the reading
-- connection holds no lock afterwards and another one can write.
local native = require "lethe.native"
local path = os.tmpname()
os.remove(path)
assert(native.create_database(path, { persons = 300, seed = 1,
                                      anchor = 1700000000 }))
local reader = assert(native.open(path))
limits.configure { memory_mb = 1 }
fails_with("rows.lua: memory limit of 1 MB reached", sandbox.call,
  "rows.lua", function()
    return reader:rows("SELECT * FROM appointment a, appointment b")
  end)
sandbox.reset()
local writer = assert(native.open(path))
writer:script("BEGIN EXCLUSIVE")
writer:script("COMMIT")
writer:close()
reader:close()
os.remove(path)

limits.configure { memory_mb = 256, instructions = 1000000000, seconds = 60 }
