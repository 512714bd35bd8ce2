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

-- Decoding: round trips and malformed input.
local document = { name = "Ærø \"x\"\n", list = json.array({ 1, 2.5, -3 }),
                   empty = json.array(), flag = false, none = json.null,
                   nested = { a = { b = "c" } } }
check(json.encode(json.decode(json.encode(document))), json.encode(document),
  "round trip")
check(json.decode('"\\u00e6\\ud83d\\ude00"'), "æ😀", "unicode escapes")
check(json.encode(json.decode(" [ ] ")), "[]", "empty array stays an array")
for _, bad in ipairs { "", "{", "[1,]", '{"a" 1}', "tru", '"abc', "1 2",
    '{"a":1,}', '"\\x"', '"\\ud83d"' } do
  local ok_bad, message = pcall(json.decode, bad)
  check(ok_bad, false, "malformed " .. bad)
  check(tostring(message):match("^invalid JSON") ~= nil, true,
    "message for " .. bad)
end
