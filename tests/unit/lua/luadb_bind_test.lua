-- Parameters of db:exec and db:scalar: a { blob = STRING } table binds
-- as a BLOB, whose bytes a UTF-16 database keeps as they are, while a
-- string binds as UTF-8 text, which such a database converts.

local native = require "lethe.native"

local path = os.tmpname()
os.remove(path)
local db = assert(native.open(path, "new"))
db:script([[
PRAGMA encoding = 'UTF-16le';
CREATE TABLE item (value);
]])
assert(db:scalar("PRAGMA encoding") == "UTF-16le", "fixture is not UTF-16")

-- Bytes that are not valid UTF-8, as a serialized id set may hold.
local bytes = "LIDS\1\255\0\216abc"

db:exec("INSERT INTO item (value) VALUES (?1)", { { blob = bytes } })
assert(db:scalar("SELECT typeof(value) FROM item") == "blob",
  "a { blob = ... } parameter was not stored as a BLOB")
assert(db:scalar("SELECT value FROM item") == bytes,
  "the BLOB's bytes changed")

-- The same bytes as a string are text, which SQLite converts to UTF-16
-- and back, so they do not come back unchanged.
db:exec("DELETE FROM item")
db:exec("INSERT INTO item (value) VALUES (?1)", { bytes })
assert(db:scalar("SELECT typeof(value) FROM item") == "text",
  "a string parameter was not stored as text")
assert(db:scalar("SELECT value FROM item") ~= bytes,
  "text with invalid UTF-8 came back unchanged; the test shows nothing")

-- A table without a string in field blob is an error naming the
-- parameter.
for _, parameter in ipairs { {}, { blob = 5 }, { text = "x" } } do
  local ok, message = pcall(db.exec, db,
    "INSERT INTO item (value) VALUES (?1)", { parameter })
  assert(not ok, "a table without a blob string was bound")
  assert(message:find("cannot bind a table as SQL parameter 1: expected "
    .. "{ blob = STRING }", 1, true), message)
end

db:close()
os.remove(path)
