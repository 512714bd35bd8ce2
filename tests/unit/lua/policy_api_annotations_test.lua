-- The editor annotations in sdk/lua/lethe.lua against the policy API that
-- Lethe gives policies: every global function and every method of
-- entities and selections must be annotated, and nothing else.

local native = require "lethe.native"
local policy = require "lethe.policy"

local source_dir = debug.getinfo(1, "S").source:match("^@(.*)/tests/unit/lua/")
assert(source_dir, "cannot tell the source folder from this file's path")

local file = assert(io.open(source_dir .. "/sdk/lua/lethe.lua"))
local annotations = file:read("a")
file:close()

-- Names in `text` that `pattern` captures, as a set.
local function names(text, pattern)
  local found = {}
  for line in text:gmatch("[^\n]+") do
    local name = line:match(pattern)
    if name and not name:match("^__") then found[name] = true end
  end
  return found
end

local function union(a, b)
  local result = {}
  for name in pairs(a) do result[name] = true end
  for name in pairs(b) do result[name] = true end
  return result
end

local function check_same(expected, actual, what)
  local missing, extra = {}, {}
  for name in pairs(expected) do
    if not actual[name] then missing[#missing + 1] = name end
  end
  for name in pairs(actual) do
    if not expected[name] then extra[#extra + 1] = name end
  end
  table.sort(missing)
  table.sort(extra)
  if #missing > 0 or #extra > 0 then
    error(string.format("%s: not annotated in sdk/lua/lethe.lua: %s; "
      .. "annotated but not in Lethe: %s", what,
      #missing > 0 and table.concat(missing, ", ") or "none",
      #extra > 0 and table.concat(extra, ", ") or "none"), 2)
  end
end

-- The globals that a policy gets besides Lua's own library.
local api = policy.session(nil, nil, 0)
local globals = {}
for name in pairs(api) do globals[name] = true end
check_same(globals, union(names(annotations, "^function ([%a_][%w_]*)%("),
  names(annotations, "^([%a_][%w_]*) = ")), "policy API globals")

-- Methods of entities and selections, as policy.lua defines them.
local policy_source = assert(native.embedded("scripts/lethe/policy.lua"))
check_same(names(policy_source, "^function Entity%.([%a_][%w_]*)%("),
  names(annotations, "^function LetheEntity:([%a_][%w_]*)%("),
  "entity methods")
check_same(names(policy_source, "^function Selection%.([%a_][%w_]*)%("),
  names(annotations, "^function LetheSelection:([%a_][%w_]*)%("),
  "selection methods")

-- The Lua plugin API that lethe.lua_plugins gives a plugin's init.
local lua_plugins_source =
  assert(native.embedded("scripts/lethe/lua_plugins.lua"))
check_same(names(lua_plugins_source, "^  function api%.([%a_][%w_]*)%("),
  names(annotations, "^function LethePluginHost%.([%a_][%w_]*)%("),
  "Lua plugin API")

-- Methods of id sets, from the metatable of the native type.
local idset = require "lethe.idset"
local index = debug.getmetatable(idset.new("person")).__index
local set_methods = {}
for name in pairs(index) do
  if not name:match("^__") then set_methods[name] = true end
end
check_same(set_methods, names(annotations, "^function LetheIdSet:([%a_][%w_]*)%("),
  "id set methods")
