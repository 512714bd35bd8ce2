-- Which FTS5 indexes a set of table changes reaches (lethe.fts_sources),
-- on a schema written for the test: indexes fed by triggers, by an
-- external content table, through a trigger on another table and through
-- a foreign-key cascade.

local fts_sources = require "lethe.fts_sources"
local native = require "lethe.native"

local path = os.tmpname()
os.remove(path)
local db = assert(native.open(path, "new"))
db:script([[
CREATE TABLE person (person_id INTEGER PRIMARY KEY, name TEXT, flag INT);
CREATE TABLE note (note_id INTEGER PRIMARY KEY, body TEXT, title TEXT,
  person_id INTEGER REFERENCES person ON DELETE CASCADE);
CREATE TABLE memo (memo_id INTEGER PRIMARY KEY, text TEXT);
CREATE TABLE log (log_id INTEGER PRIMARY KEY, what TEXT);
CREATE VIRTUAL TABLE note_fts USING fts5 (body, content = 'note',
  content_rowid = 'note_id');
CREATE VIRTUAL TABLE log_fts USING fts5 (what);
CREATE VIRTUAL TABLE memo_fts USING fts5 (text, content = 'memo',
  content_rowid = 'memo_id');
CREATE TRIGGER note_fts_delete AFTER DELETE ON note BEGIN
  INSERT INTO note_fts (note_fts, rowid, body)
  VALUES ('delete', old.note_id, old.body);
END;
CREATE TRIGGER note_fts_update AFTER UPDATE OF body ON note BEGIN
  INSERT INTO note_fts (note_fts, rowid, body)
  VALUES ('delete', old.note_id, old.body);
  INSERT INTO note_fts (rowid, body) VALUES (new.note_id, new.body);
END;
CREATE TRIGGER person_log AFTER UPDATE OF name ON person BEGIN
  DELETE FROM log WHERE what = old.name;
END;
CREATE TRIGGER log_fts_delete AFTER DELETE ON log BEGIN
  DELETE FROM log_fts WHERE rowid = old.log_id;
END;
]])

local function check(changes, expected, what)
  local actual = table.concat(fts_sources.reached(db, changes), ",")
  if actual ~= expected then
    error(string.format("%s: expected {%s}, got {%s}", what, expected,
      actual), 2)
  end
end

check({}, "", "no change")
check({ { table = "person", operation = "update", columns = { "flag" } } },
  "", "update of a column no trigger watches")
check({ { table = "person", operation = "insert" } }, "", "insert")
check({ { table = "note", operation = "delete" } }, "note_fts",
  "delete from a table with a delete trigger")
check({ { table = "note", operation = "update", columns = { "title" } } },
  "note_fts", "update of a content table's column")
check({ { table = "NOTE", operation = "update", columns = { "Body" } } },
  "note_fts", "names in another case")
check({ { table = "person", operation = "delete" } }, "note_fts",
  "delete that cascades to a table with a delete trigger")
check({ { table = "person", operation = "update", columns = { "name" } } },
  "log_fts", "trigger that deletes from a table with a trigger")
check({ { table = "person", operation = "update" } }, "log_fts",
  "update of columns not known")
check({ { table = "memo", operation = "delete" } }, "memo_fts",
  "delete from a content table without triggers")
check({ { table = "memo", operation = "delete" },
        { table = "person", operation = "delete" } }, "memo_fts,note_fts",
  "two changes")

local function check_tables(changes, expected, what)
  local names = {}
  for name in pairs(fts_sources.tables_reached(db, changes)) do
    names[#names + 1] = name
  end
  table.sort(names)
  local actual = table.concat(names, ",")
  if actual ~= expected then
    error(string.format("%s: expected tables {%s}, got {%s}", what, expected,
      actual), 2)
  end
end

check_tables({ { table = "person", operation = "update",
  columns = { "flag" } } }, "person", "update no trigger watches")
check_tables({ { table = "person", operation = "delete" } }, "note,person",
  "delete that cascades")
check_tables({ { table = "Person", operation = "update",
  columns = { "name" } } }, "log,person", "trigger that writes a table")

db:close()
os.remove(path)
