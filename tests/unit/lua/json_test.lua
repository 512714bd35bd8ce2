-- The JSON encoder: escaping, key order, arrays and null.

local json = require "lethe.json"

local function check(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, expected, actual), 2)
  end
end

check(json.encode({ b = 1, a = "x" }), '{"a":"x","b":1}', "sorted keys")
check(json.encode({ 1, 2, 3 }), "[1,2,3]", "array")
check(json.encode(json.array()), "[]", "empty array")
check(json.encode({}), "{}", "empty object")
check(json.encode("a\"b\\c\n\1"), '"a\\"b\\\\c\\n\\u0001"', "escapes")
check(json.encode({ a = json.null }), '{"a":null}', "null")
check(json.encode(0.5), "0.5", "float")
check(json.encode(1 / 0), "null", "infinity")
check(json.encode("Ærø"), '"Ærø"', "UTF-8 passes through")
local ok = pcall(json.encode, { [true] = 1 })
check(ok, false, "boolean key is an error")
