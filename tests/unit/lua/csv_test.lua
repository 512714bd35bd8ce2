-- CSV quoting against the rules of RFC 4180, section 2.

local csv = require "lethe.csv"

local function check(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %q, got %q", what, expected, actual), 2)
  end
end

check(csv.field("plain"), "plain", "plain field")
check(csv.field(nil), "", "nil is empty")
check(csv.field(42), "42", "number")
check(csv.field("a,b"), '"a,b"', "comma is quoted")
check(csv.field('say "hi"'), '"say ""hi"""', "quotes are doubled")
check(csv.field("two\nlines"), '"two\nlines"', "line feed is quoted")
check(csv.field("cr\rhere"), '"cr\rhere"', "carriage return is quoted")
check(csv.field(" spaced "), " spaced ", "spaces stay as they are")
check(csv.field("Ærø"), "Ærø", "UTF-8 passes through")
check(csv.record({ "a", nil, "c" }, 3), "a,,c\r\n", "record with a gap")
check(csv.document({ "id", "name" }, { { id = 1, name = "x,y" },
  { id = 2 } }), 'id,name\r\n1,"x,y"\r\n2,\r\n', "document")
