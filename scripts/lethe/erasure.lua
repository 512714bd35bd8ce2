-- Physical erasure: making sure deleted personal data leaves the database
-- file, its journal and its WAL, not only the tables.
--
-- Before the deletes, the personal-data values of the rows about to go are
-- kept in memory (never written anywhere). The deleting connection runs
-- with secure_delete on, so freed pages are overwritten with zeros. The
-- full-text indexes that the run's changes reach are merged, so that
-- deleted entries leave their segments. After the commit the WAL is
-- checkpointed and truncated. Then the files are searched for every kept
-- value.

local fts_sources = require "lethe.fts_sources"
local native = require "lethe.native"
local util = require "lethe.util"

local erasure = {}

local quote = util.quote

-- Values shorter than this many bytes are left out of the search: a
-- short name such as "Ann" also occurs inside unrelated text.
erasure.minimum_length = 5

-- The personal-data text columns of `entity`, each as the expression
-- of its value when it is long enough to search, else NULL. The value is
-- taken as the bytes that the database stores: CAST(text AS BLOB) gives
-- text in the database's encoding, UTF-8 or UTF-16, and a BLOB as it is.
-- A round trip through Lua's UTF-8 would change UTF-16 text that is not
-- valid Unicode (a lone surrogate) and the bytes of a BLOB.
local function searched_columns(entity)
  local columns = {}
  for _, name in ipairs(util.sorted_keys(entity.fields)) do
    local field = entity.fields[name]
    if field.personal and field.type == "text" then
      -- The length in bytes: length() of text stops at a NUL byte.
      columns[#columns + 1] = string.format(
        "CASE WHEN length(CAST(%s AS BLOB)) >= %d THEN CAST(%s AS BLOB) END",
        quote(field.column), erasure.minimum_length, quote(field.column))
    end
  end
  return columns
end

-- The distinct personal-data text values of the rows `ids` of `entity`.
-- Call before deleting them.
function erasure.collect_rows(db, entity, ids)
  local values = {}
  if not entity then return values end
  for _, column in ipairs(searched_columns(entity)) do
    local rows = db:rows(string.format(
      "SELECT DISTINCT %s AS value FROM %s WHERE %s IN lethe_ids(?1)",
      column, quote(entity.table), quote(entity.key)), { ids })
    for _, row in ipairs(rows) do values[#values + 1] = row.value end
  end
  return values
end

-- The RETURNING clause that makes `DELETE FROM table WHERE key IN
-- lethe_ids(?1)` for the delete effect `effect` return the values that
-- collect_rows would, or nil when its entity has no personal text.
-- db:try_exec adds what the clause returns to its set of returned values,
-- so the values are gathered while the rows go, without reading them
-- twice.
function erasure.returning(effect)
  if effect.operation ~= "delete" or not effect.entity then return nil end
  local columns = searched_columns(effect.entity)
  if #columns == 0 then return nil end
  return " RETURNING " .. table.concat(columns, ", ")
end

-- The set (value = true) of the distinct personal-data text values of
-- the rows that the plan's delete effects remove, of those effects for
-- which `chosen(effect)` is true. Call inside the transaction, before the
-- deletes.
function erasure.collect(db, plan, chosen)
  local values = {}
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      if effect.operation == "delete" and chosen(effect) then
        for _, value in ipairs(erasure.collect_rows(db, effect.entity,
            effect.ids)) do
          values[value] = true
        end
      end
    end
  end
  return values
end

-- The values of the set `values` (or none for nil) as a list.
function erasure.list(values)
  local list = {}
  for value in pairs(values or {}) do list[#list + 1] = value end
  return list
end

-- Merge the FTS5 indexes that `changes` reach (see fts_sources.reached)
-- so that entries of deleted or overwritten rows leave their segments.
-- Call inside the transaction, after the changes.
-- NOTE: 'optimize' rewrites the whole index. SQLite 3.40 (Debian 12) has
-- no cheaper command that surely drops every deleted entry, because
-- 'merge' works on a bounded number of pages and segments at a time. The
-- 'secure-delete' option that removes entries at once came in 3.42.
function erasure.purge_indexes(db, changes)
  for _, name in ipairs(fts_sources.reached(db, changes)) do
    db:exec(string.format("INSERT INTO %s (%s) VALUES ('optimize')",
      quote(name), quote(name)))
  end
end

-- The stored columns of table `name` as a select list in the order of
-- its records: a rowid alias is stored as NULL, a WITHOUT ROWID table
-- stores its key columns first, virtual generated columns are not stored.
-- NOTE: stored generated columns are kept in declaration order here,
-- which may differ from their place in the record.
local function record_columns(db, name, sql)
  local columns, keys = {}, {}
  for _, column in ipairs(db:rows("SELECT name, type, pk, hidden FROM "
      .. "pragma_table_xinfo(?1) ORDER BY cid", { name })) do
    if column.hidden ~= 1 and column.hidden ~= 2 then
      columns[#columns + 1] = column
      if column.pk > 0 then keys[#keys + 1] = column end
    end
  end
  local without_rowid = sql:lower():find("%)%s*without%s+rowid%s*$")
  local list = {}
  if without_rowid then
    table.sort(keys, function(a, b) return a.pk < b.pk end)
    for _, column in ipairs(keys) do list[#list + 1] = quote(column.name) end
  end
  for _, column in ipairs(columns) do
    if not (without_rowid and column.pk > 0) then
      local alias = not without_rowid and #keys == 1 and column.pk == 1
        and column.type:upper() == "INTEGER"
      list[#list + 1] = alias and "NULL" or quote(column.name)
    end
  end
  return table.concat(list, ", ")
end

-- The query for the records of index `index`: its columns in order, then
-- the rowid or the table's key. A partial index keeps its WHERE clause.
-- Returns nil for an index on an expression, which is not searched.
local function index_query(db, index)
  local list = {}
  for _, column in ipairs(db:rows("SELECT cid, name FROM "
      .. "pragma_index_xinfo(?1) ORDER BY seqno", { index.name })) do
    if column.cid == -2 then return nil end
    list[#list + 1] = column.cid == -1 and "_rowid_" or quote(column.name)
  end
  local sql = index.sql or ""
  local where = sql:lower():find("%f[%w_]where%f[^%w_]")
  return string.format("SELECT %s FROM %s %s", table.concat(list, ", "),
    quote(index.tbl_name), where and sql:sub(where) or "")
end

-- The largest rowid of table `t` (0 for a WITHOUT ROWID table or an
-- empty one): a cheap estimate of its size.
local function largest_rowid(db, t)
  if t.sql:lower():find("%)%s*without%s+rowid%s*$") then return 0 end
  return db:scalar("SELECT max(_rowid_) FROM " .. quote(t.name)) or 0
end

-- Queries that return the records stored in the tables and indexes of
-- the database (not SQLite's own, not virtual tables but their shadow
-- tables), for native.erasure_scan. Small tables come first, so that a
-- search that finds every value early skips the largest tables.
local function record_queries(db)
  local queries, tables = {}, db:rows("SELECT name, sql FROM sqlite_schema "
    .. "WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND "
    .. "sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")
  for _, t in ipairs(tables) do t.size = largest_rowid(db, t) end
  table.sort(tables, function(a, b)
    if a.size ~= b.size then return a.size < b.size end
    return a.name < b.name
  end)
  local known = {}
  for _, t in ipairs(tables) do
    known[t.name] = true
    queries[#queries + 1] = string.format("SELECT %s FROM %s",
      record_columns(db, t.name, t.sql), quote(t.name))
  end
  for _, index in ipairs(db:rows("SELECT name, tbl_name, sql FROM "
      .. "sqlite_schema WHERE type = 'index' ORDER BY name")) do
    if known[index.tbl_name] then
      queries[#queries + 1] = index_query(db, index)
    end
  end
  return queries
end

-- SQLite stores a record longer than a page's local payload in parts on
-- overflow pages, so a copy left in the file need not be contiguous.
-- Values longer than this are also searched as consecutive 32-byte
-- pieces, so a split copy is found when one page contains 63 or more
-- consecutive bytes of it. Shorter values are searched whole only: pieces
-- of every value made the check several times slower on templated text.
-- NOTE: a copy of a value of this length or less that SQLite split across
-- pages (inside a record longer than a page) is not found.
erasure.piece_threshold = 512
erasure.piece_length = 32

-- Return four things: the needles to search for `values` (each distinct
-- value, then the pieces of the long ones), the owner of each needle (the
-- index of its value), the number of distinct values, and for each needle
-- the number of times one copy of its value contains it. A piece of
-- repetitive text occurs several times in each copy, so its count in a
-- file is divided by that number to give copies.
local function needles(values)
  local list, owners, repeats, seen, distinct = {}, {}, {}, {}, 0
  local piece = erasure.piece_length
  for _, value in ipairs(values) do
    if not seen[value] then
      seen[value] = true
      distinct = distinct + 1
      list[#list + 1] = value
      owners[#list] = distinct
      repeats[#list] = 1
      if #value > erasure.piece_threshold then
        local pieces = {}
        for at = 1, #value - piece + 1, piece do
          pieces[#pieces + 1] = value:sub(at, at + piece - 1)
        end
        local counts = native.count_needles(value, pieces)
        for i, text in ipairs(pieces) do
          list[#list + 1] = text
          owners[#list] = distinct
          repeats[#list] = counts[i]
        end
      end
    end
  end
  return list, owners, distinct, repeats
end

-- After the commit: optionally VACUUM, checkpoint and truncate the WAL,
-- then search the database files for the erased values. Returns a report
-- { files = {...}, values = n, residues = { { file, count } }, verified }.
function erasure.finish(db, values, vacuum)
  local path = db:filename()
  local result = { files = {}, values = 0, residues = {},
                   verified = true }
  -- The run is committed by now: a failure here leaves the erasure
  -- unverified, it does not undo the run. In WAL mode the VACUUM writes
  -- the rebuilt database to the WAL, so the checkpoint comes after it.
  local ok, message = pcall(function()
    if vacuum then db:script("VACUUM") end
    local mode = db:scalar("PRAGMA journal_mode")
    -- The first column is 1 when another connection's read kept the
    -- checkpoint from finishing.
    if mode == "wal" then
      result.checkpoint_blocked =
        db:scalar("PRAGMA wal_checkpoint(TRUNCATE)") == 1
    end
  end)
  result.vacuumed = vacuum and ok
  -- A rebuild that stays in the WAL has not reached the database file.
  if result.vacuumed and result.checkpoint_blocked and #values == 0 then
    result.verified = false
  end
  if not ok then
    result.verified = false
    result.failure = tostring(message)
  end
  local searched, owners, distinct, repeats = needles(values)
  result.values = distinct
  result.files = { path, path .. "-wal", path .. "-journal" }
  -- Copies that live records still contain (whole, inside longer text, or
  -- across adjacent columns of one record) are copies of data that
  -- stays, not residues: native.erasure_scan counts only the others.
  local scan = { counts = {} }
  if #searched > 0 then
    local message
    scan, message = native.erasure_scan(db, result.files, nil, searched)
    if scan == false then
      -- The WAL still contains pages, so the rows must be searched.
      scan, message = native.erasure_scan(db, result.files,
        record_queries(db), searched)
    end
    if not scan then error(message, 0) end
  end
  for f, file in ipairs(result.files) do
    -- A value counts the most copies that any of its needles found.
    local copies = {}
    for i, count in ipairs(scan.counts[f] or {}) do
      local owner = owners[i]
      count = (count + repeats[i] - 1) // repeats[i]
      if count > (copies[owner] or 0) then copies[owner] = count end
    end
    local found = 0
    for _, count in pairs(copies) do found = found + count end
    if found > 0 then
      result.verified = false
      result.residues[#result.residues + 1] = { file = file, count = found }
    end
  end
  return result
end

-- The residues of `result` as "N in FILE" parts.
local function residue_parts(result)
  local parts = {}
  for i, residue in ipairs(result.residues) do
    parts[i] = string.format("%d in %s", residue.count, residue.file)
  end
  return parts
end

-- The part of erasure.describe for a resumed batched run: the values of
-- the rows that an earlier process deleted were not searched.
local function describe_earlier(result)
  local found = residue_parts(result)
  return string.format("Erasure NOT verified: %d rows were done before the "
    .. "run resumed, and their values, kept in memory only, went with the "
    .. "process that deleted them, so they were not searched. Of the %d "
    .. "values erased since the resume, %s. Rebuild the file with VACUUM "
    .. "to remove copies left in free space.", result.earlier_rows,
    result.values, #found == 0 and "no copies remain in "
      .. table.concat(result.files, ", ")
      or "copies remain (" .. table.concat(found, ", ") .. ")")
end

-- One line for people: "verified: ..." or where copies were found.
function erasure.describe(result)
  if result.earlier_rows and not result.failure then
    return describe_earlier(result)
  end
  if result.failure then
    return string.format("Erasure NOT verified: the run is committed, but "
      .. "cleaning the files failed (%s); erased values may remain in %s. "
      .. "Run `lethe apply` again with --vacuum once the cause is fixed.",
      result.failure, table.concat(result.files, ", "))
  end
  if result.values == 0 and result.vacuumed then
    if result.checkpoint_blocked then
      return string.format("NOT rebuilt: VACUUM ran, but another "
        .. "connection kept a read open, so the old pages stay in %s. "
        .. "Close the other connections and run again.", result.files[2])
    end
    return string.format("Rebuilt %s with VACUUM; this run erased no "
      .. "values, so there was nothing to search for.", result.files[1])
  end
  if result.verified then
    return string.format("Erasure verified: no residual copies of %d erased "
      .. "values in %s.", result.values, table.concat(result.files, ", "))
  end
  -- The erased values are kept in memory only, so the advice is to
  -- rebuild the file: no later run can search for them again.
  local remedy = "Rebuild the file to remove them: `lethe apply` with "
    .. "--vacuum does even when it has nothing to change."
  if result.checkpoint_blocked then
    remedy = "Another connection kept a read open, so SQLite could not "
      .. "write the WAL back into the database and clear it. Close the "
      .. "other connections first. " .. remedy
  end
  return string.format("Erasure NOT verified: copies of erased values "
    .. "remain (%s). %s", table.concat(residue_parts(result), ", "), remedy)
end

return erasure
