-- Helpers in lethe.util: base64 against RFC 4648's test vectors, closest
-- name suggestions, identifier quoting and escaping text for a terminal.

local util = require "lethe.util"

local function check(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected),
      tostring(actual)), 2)
  end
end

-- RFC 4648, section 10.
local vectors = {
  [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
  fooba = "Zm9vYmE=", foobar = "Zm9vYmFy",
}
for plain, encoded in pairs(vectors) do
  check(util.base64_encode(plain), encoded, "encode " .. plain)
  check(util.base64_decode(encoded), plain, "decode " .. encoded)
end
local all_bytes = {}
for i = 0, 255 do all_bytes[#all_bytes + 1] = string.char(i) end
all_bytes = table.concat(all_bytes)
check(util.base64_decode(util.base64_encode(all_bytes)), all_bytes,
  "every byte value")
for _, bad in ipairs { "Zg=", "Zm9v!A==", "Z=g=", "Zg==Zg==" } do
  check(util.base64_decode(bad), nil, "malformed " .. bad)
end

check(util.closest("regstered", { "registered", "updated", "name" }),
  "registered", "closest name")
check(util.closest("xyz", { "registered", "updated" }), nil, "nothing close")
check(util.quote('Order "Details"'), '"Order ""Details"""', "quoting")

-- printable: C0 controls, DEL and C1 controls are escaped; other text,
-- UTF-8 included, stays as it is.
check(util.printable("Evil\27]0;title\7\27[2J"),
  "Evil\\x1b]0;title\\x07\\x1b[2J", "escape sequences")
check(util.printable("a\0b\tc\nd\127"), "a\\x00b\\x09c\\x0ad\\x7f",
  "NUL, tab, newline and DEL")
check(util.printable("\194\155x"), "\\u{9b}x", "C1 control")
check(util.printable("café Ünïcode ß €"), "café Ünïcode ß €", "UTF-8")
check(util.printable(""), "", "empty text")
