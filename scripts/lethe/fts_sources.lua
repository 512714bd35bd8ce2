-- Which full-text (FTS5) indexes a set of table changes reaches.
--
-- When a trigger removes a row from an index, FTS5 writes a delete marker
-- into a new segment, and the row's terms stay in the old segment until a
-- merge combines the two. Merging every index on every run costs seconds
-- on a large database, so erasure merges only the indexes that a run's
-- changes reach: through the triggers on the changed tables (and on the
-- tables those triggers write to), through foreign-key actions, and
-- through an index's own content table. Where the schema text cannot be
-- read, the analysis assumes that an index is reached.

local util = require "lethe.util"

local fts_sources = {}

-- The FTS5 tables of the schema: { name, lower_name, content } where
-- content is the lower-case name of the external content table, if any.
local function fts_tables(db)
  local result = {}
  for _, row in ipairs(db:rows("SELECT name, sql FROM sqlite_schema WHERE "
      .. "type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND "
      .. "lower(sql) LIKE '%using fts5%' ORDER BY name")) do
    local sql = row.sql:lower()
    local content = sql:match("content%s*=%s*['\"]?([%w_]+)")
    result[#result + 1] = { name = row.name, lower_name = row.name:lower(),
                            content = content }
  end
  return result
end

-- Does `text` (lower case) name `name` (lower case) as a whole word?
local function mentions(text, name)
  local start = 1
  while true do
    local first, last = text:find(name, start, true)
    if not first then return false end
    local before = first > 1 and text:sub(first - 1, first - 1) or " "
    local after = text:sub(last + 1, last + 1)
    if not before:match("[%w_]") and not after:match("[%w_]") then
      return true
    end
    start = first + 1
  end
end

-- The events a trigger fires on: { delete = bool, insert = bool,
-- update = true | { column = true } }. A header that cannot be read
-- counts as firing on every event.
local function trigger_events(sql)
  local header = sql:match("^(.-)%f[%w_]begin%f[^%w_]") or ""
  if header:find("%f[%w_]delete%s+on%f[^%w_]") then return { delete = true } end
  if header:find("%f[%w_]insert%s+on%f[^%w_]") then return { insert = true } end
  local columns = header:match("%f[%w_]update%s+of%s+(.-)%s+on%f[^%w_]")
  if columns then
    local set = {}
    for column in columns:gmatch("[%w_]+") do set[column] = true end
    return { update = set }
  end
  if header:find("%f[%w_]update%s+on%f[^%w_]") then return { update = true } end
  return { delete = true, insert = true, update = true }
end

-- Does a change { operation, columns } fire a trigger with `events`?
-- columns is a set of lower-case names, or nil when not known.
local function fires(events, change)
  if change.operation == "any" then return true end
  if change.operation ~= "update" then
    return events[change.operation] == true
  end
  if events.update == true then return true end
  if not events.update then return false end
  if not change.columns then return true end
  for column in pairs(change.columns) do
    if events.update[column] then return true end
  end
  return false
end

local function triggers_by_table(db)
  local result = {}
  for _, row in ipairs(db:rows("SELECT tbl_name, sql FROM sqlite_schema "
      .. "WHERE type = 'trigger' AND sql IS NOT NULL")) do
    local name = row.tbl_name:lower()
    result[name] = result[name] or {}
    local sql = row.sql:lower()
    table.insert(result[name], { events = trigger_events(sql),
      body = sql:match("%f[%w_]begin%f[^%w_](.*)$") or sql })
  end
  return result
end

-- The foreign keys of the schema's tables: { child, parent, column,
-- on_delete, on_update }, names in lower case.
local function foreign_keys(db, tables)
  local keys = {}
  for _, child in ipairs(tables) do
    for _, key in ipairs(db:rows("SELECT \"table\" AS parent, \"from\" AS "
        .. "column, on_delete, on_update FROM pragma_foreign_key_list(?1)",
        { child })) do
      keys[#keys + 1] = { child = child:lower(), parent = key.parent:lower(),
        column = key.column:lower(), on_delete = key.on_delete,
        on_update = key.on_update }
    end
  end
  return keys
end

-- Queue the changes that foreign-key actions make when `change` hits
-- `parent`: deleting a parent row deletes or updates the children
-- (CASCADE, SET NULL, SET DEFAULT), and updating one may update them.
local function foreign_key_changes(keys, parent, change, add)
  if change.operation == "insert" then return end
  for _, key in ipairs(keys) do
    if key.parent == parent then
      local action = change.operation == "delete" and key.on_delete
        or key.on_update
      if change.operation == "any" then action = "CASCADE" end
      if action ~= "NO ACTION" and action ~= "RESTRICT" then
        add(key.child, { operation = action == "CASCADE"
          and change.operation or "update",
          columns = { [key.column] = true } })
      end
    end
  end
end

-- Follow `changes` through triggers and foreign-key actions. Returns the
-- set of FTS5 index names that they reach and the set of the lower-case
-- names of the tables that they can change. Each change is { table,
-- operation = "delete" | "update" | "insert", columns = list or nil when
-- not known }.
local function follow(db, changes)
  local indexes = fts_tables(db)
  local triggers = triggers_by_table(db)
  local tables = {}
  for _, row in ipairs(db:rows("SELECT name FROM sqlite_schema WHERE type = "
      .. "'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'")) do
    tables[#tables + 1] = row.name
  end
  local keys = foreign_keys(db, tables)
  local reached, queue, seen = {}, {}, {}
  local function add(name, change)
    local key = name .. "\0" .. change.operation .. "\0"
      .. table.concat(util.sorted_keys(change.columns or { ["*"] = true }),
        ",")
    if seen[key] then return end
    seen[key] = true
    queue[#queue + 1] = { table = name, change = change }
  end
  for _, change in ipairs(changes) do
    local columns
    if change.columns then
      columns = {}
      for _, column in ipairs(change.columns) do
        columns[column:lower()] = true
      end
    end
    add(change.table:lower(), { operation = change.operation,
                                columns = columns })
  end
  while #queue > 0 do
    local item = table.remove(queue)
    for _, index in ipairs(indexes) do
      if index.content == item.table and item.change.operation ~= "insert"
          then
        reached[index.name] = true
      end
    end
    for _, trigger in ipairs(triggers[item.table] or {}) do
      if fires(trigger.events, item.change) then
        for _, index in ipairs(indexes) do
          if mentions(trigger.body, index.lower_name) then
            reached[index.name] = true
          end
        end
        for _, name in ipairs(tables) do
          if mentions(trigger.body, name:lower()) then
            add(name:lower(), { operation = "any" })
          end
        end
      end
    end
    foreign_key_changes(keys, item.table, item.change, add)
  end
  local changed = {}
  for key in pairs(seen) do changed[key:match("^([^\0]*)")] = true end
  return reached, changed
end

-- The names of the FTS5 indexes that `changes` (as for follow) reach,
-- sorted.
function fts_sources.reached(db, changes)
  local reached = follow(db, changes)
  return util.sorted_keys(reached)
end

-- The set of the lower-case names of the tables that `changes` (as for
-- follow) can change: their own tables and those that triggers and
-- foreign-key actions change in turn.
function fts_sources.tables_reached(db, changes)
  local _, changed = follow(db, changes)
  return changed
end

-- The table changes of `plan` for fts_sources.reached.
function fts_sources.plan_changes(plan)
  local changes = {}
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      local change = { table = effect.entity.table,
                       operation = effect.operation }
      if effect.operation == "clear" then
        change.operation, change.columns = "update", { effect.column }
      elseif effect.operation == "update" and effect.assignments then
        change.columns = {}
        for i, assignment in ipairs(effect.assignments) do
          change.columns[i] = assignment.field.column
        end
      end
      changes[#changes + 1] = change
    end
  end
  return changes
end

return fts_sources
