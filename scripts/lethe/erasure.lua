-- Physical erasure: making sure deleted personal data leaves the database
-- file, its journal and its WAL, not only the tables.
--
-- Before the deletes, the personal-data values of the rows about to go are
-- kept in memory (never written anywhere). The deleting connection runs
-- with secure_delete on, so freed pages are overwritten with zeros; the
-- full-text indexes are merged so that deleted entries leave their
-- segments; after the commit the WAL is checkpointed and truncated. Then
-- the files are searched for every kept value.

local native = require "lethe.native"
local util = require "lethe.util"

local erasure = {}

local quote = util.quote

-- Values shorter than this are left out of the search: a short name such
-- as "Ann" also occurs inside unrelated text.
erasure.minimum_length = 5

-- The distinct personal-data text values of the rows `ids` of `entity`.
-- Call before deleting them.
function erasure.collect_rows(db, entity, ids)
  local values = {}
  if not entity then return values end
  for _, name in ipairs(util.sorted_keys(entity.fields)) do
    local field = entity.fields[name]
    if field.personal and field.type == "text" then
      local rows = db:rows(string.format(
        "SELECT DISTINCT CAST(%s AS TEXT) AS value FROM %s WHERE %s "
        .. "IN lethe_ids(?1) AND length(%s) >= ?2",
        quote(field.column), quote(entity.table), quote(entity.key),
        quote(field.column)), { ids, erasure.minimum_length })
      for _, row in ipairs(rows) do values[#values + 1] = row.value end
    end
  end
  return values
end

-- Collect the distinct personal-data text values of the rows that the
-- plan's delete effects remove. Call inside the transaction, before the
-- deletes.
function erasure.collect(db, plan)
  local values, seen = {}, {}
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      if effect.operation == "delete" then
        for _, value in ipairs(erasure.collect_rows(db, effect.entity,
            effect.ids)) do
          if not seen[value] then
            seen[value] = true
            values[#values + 1] = value
          end
        end
      end
    end
  end
  return values
end

-- Merge every FTS5 index so that entries of deleted rows leave its
-- segments. Call inside the transaction, after the deletes.
function erasure.purge_indexes(db)
  local rows = db:rows("SELECT name FROM sqlite_schema WHERE type = 'table' "
    .. "AND sql LIKE 'CREATE VIRTUAL TABLE%' AND lower(sql) LIKE "
    .. "'%using fts5%' ORDER BY name")
  for _, row in ipairs(rows) do
    db:exec(string.format("INSERT INTO %s (%s) VALUES ('optimize')",
      quote(row.name), quote(row.name)))
  end
end

-- Does any live row still hold `value` in a text column? Then a copy in
-- the file is data that stays, not a residue.
local function still_live(db, value)
  local tables = db:rows("SELECT name FROM sqlite_schema WHERE type = "
    .. "'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND sql NOT LIKE "
    .. "'CREATE VIRTUAL TABLE%'")
  for _, t in ipairs(tables) do
    local columns = db:rows("SELECT name FROM pragma_table_info(?1)",
      { t.name })
    for _, column in ipairs(columns) do
      local found = db:scalar(string.format("SELECT 1 FROM %s WHERE "
        .. "instr(CAST(%s AS TEXT), ?1) > 0 LIMIT 1", quote(t.name),
        quote(column.name)), { value })
      if found then return true end
    end
  end
  return false
end

-- After the commit: checkpoint and truncate the WAL, optionally VACUUM,
-- then search the database files for the erased values. Returns a report
-- { files = {...}, values = n, residues = { { file, count } }, verified }.
function erasure.finish(db, values, vacuum)
  local mode = db:scalar("PRAGMA journal_mode")
  if mode == "wal" then db:scalar("PRAGMA wal_checkpoint(TRUNCATE)") end
  if vacuum then db:script("VACUUM") end
  local path = db:filename()
  local result = { files = {}, values = 0, residues = {},
                   verified = true }
  local searched, seen = {}, {}
  for _, value in ipairs(values) do
    if not seen[value] then
      seen[value] = true
      searched[#searched + 1] = value
    end
  end
  result.values = #searched
  for _, file in ipairs { path, path .. "-wal", path .. "-journal" } do
    result.files[#result.files + 1] = file
    if #searched > 0 then
      local counts, message = native.scan_file(file, searched)
      if not counts then error(message, 0) end
      local found = 0
      for i, count in ipairs(counts) do
        if count > 0 and not still_live(db, searched[i]) then
          found = found + count
        end
      end
      if found > 0 then
        result.verified = false
        result.residues[#result.residues + 1] = { file = file, count = found }
      end
    end
  end
  return result
end

-- One line for people: "verified: ..." or where copies were found.
function erasure.describe(result)
  if result.verified then
    return string.format("Erasure verified: no residual copies of %d erased "
      .. "values in %s.", result.values, table.concat(result.files, ", "))
  end
  local parts = {}
  for i, residue in ipairs(result.residues) do
    parts[i] = string.format("%d in %s", residue.count, residue.file)
  end
  return string.format("Erasure NOT verified: copies of erased values "
    .. "remain (%s). Run again with --vacuum to rewrite the file.",
    table.concat(parts, ", "))
end

return erasure
