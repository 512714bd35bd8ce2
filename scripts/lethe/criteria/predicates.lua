-- Lua predicates: criteria written as a Lua function of the row, for what
-- SQL cannot express. `{ function(row, id) return ... end }` in a group keeps
-- the rows, among those the group's SQL criteria select, for which the
-- function returns a true value. `row` is a read-only row object of the
-- entity's fields by model field name, which returns the stored values (a
-- lookup field's key, a date's text, nil for NULL). Reading a
-- name that is not a field is an error. A row can be read only during the
-- call that received it: reading a kept row later is an error. `id` is the
-- record id.
--
-- The functions are called once per row, in id order. All calls of one
-- function in one evaluation run inside one limited call
-- (sandbox.call), so the script limits cover the whole pass, including the
-- time SQLite takes to read the rows. A group with several functions
-- applies them one after another: each function runs on the rows that the
-- functions before it kept.
-- An error in one stops the evaluation with the policy line where the
-- function was written, the record id and the error.

local util = require "lethe.util"
local sandbox = require "lethe.sandbox"

local predicates = {}

-- Where the function was written, as "policy.lua:12".
local function origin(check)
  local info = debug.getinfo(check, "S")
  return string.format("%s:%d", info.short_src, info.linedefined)
end

-- The select list for db:filter: the key, then the fields in `selected`
-- (model field names).
local function select_list(entity, selected)
  local columns = { "t0." .. util.quote(entity.key) }
  for i, name in ipairs(selected) do
    columns[i + 1] = "t0." .. util.quote(entity.fields[name].column)
  end
  return table.concat(columns, ", ")
end

-- Return a spec.query function for db:filter that reads the rows of
-- `entity` whose ids are in `ids`, in id order. lethe_ids drives the join
-- and returns its ids in ascending order, so each row is found by its key.
local function rows_of_set(entity, ids)
  return function(selected, after)
    return string.format("SELECT %s FROM lethe_ids(?1) AS i CROSS JOIN %s "
      .. "AS t0 ON t0.%s = i.id WHERE i.id > ?2 ORDER BY i.id",
      select_list(entity, selected), util.quote(entity.table),
      util.quote(entity.key)), { ids, after }
  end
end

-- Return a spec.query function for db:filter that reads every row of
-- `entity`, in id order.
local function rows_of_table(entity)
  return function(selected, after)
    return string.format("SELECT %s FROM %s AS t0 WHERE t0.%s > ?1 "
      .. "ORDER BY t0.%s", select_list(entity, selected),
      util.quote(entity.table), util.quote(entity.key),
      util.quote(entity.key)), { after }
  end
end

-- Return a spec.lookup function for db:filter: SQL reading one field of
-- the row of `entity` whose id is bound to ?1.
local function field_lookup(entity)
  return function(name)
    return string.format("SELECT t0.%s FROM %s AS t0 WHERE t0.%s = ?1",
      util.quote(entity.fields[name].column), util.quote(entity.table),
      util.quote(entity.key))
  end
end

-- Return the message for reading `name`, which is not a field of
-- `entity`, with the closest field name, so that a misspelled field never
-- reads nil.
local function unknown_field_message(entity, name)
  return string.format("%s has no field '%s'%s", entity.name,
    tostring(name), util.suggestion(tostring(name),
      util.sorted_keys(entity.fields)))
end

-- Run `predicate` on every row that `query` (a spec.query function for
-- db:filter) reads and return the set of ids it keeps. Raises, naming the
-- function's line and the record, when the function fails or a script
-- limit stops it.
local function run(db, entity, predicate, query)
  local where = origin(predicate.check)
  -- db:filter sets failed_id when the function fails; it is set here
  -- first, so that storing it needs no allocation after a memory kill.
  local spec = {
    entity = entity.name, table = entity.table,
    fields = util.sorted_keys(entity.fields), check = predicate.check,
    query = query, lookup = field_lookup(entity), failed_id = false,
    unknown_field = function(name)
      return unknown_field_message(entity, name)
    end,
  }
  local function scan()
    local kept, failure = db:filter(spec)
    if not kept then error(failure, 0) end
    return kept
  end
  local ok, result = pcall(sandbox.call, where, scan)
  if ok then return result end
  if not spec.failed_id then error(result, 0) end
  -- sandbox.call starts a limit's message with `where`, which this
  -- message already starts with.
  local text = tostring(result)
  if text:sub(1, #where + 2) == where .. ": " then
    text = text:sub(#where + 3)
  end
  util.fail("%s: the Lua criterion failed on %s %s: %s", where, entity.name,
    tostring(spec.failed_id), text)
end

-- Apply the predicates after the first one to `kept`, each to the ids
-- that the ones before it kept.
local function run_rest(db, entity, list, kept)
  for i = 2, #list do
    kept = run(db, entity, list[i], rows_of_set(entity, kept))
  end
  return kept
end

-- Return the ids among `ids` for which every predicate in `list` holds.
function predicates.filter(db, entity, list, ids)
  local kept = run(db, entity, list[1], rows_of_set(entity, ids))
  return run_rest(db, entity, list, kept)
end

-- Apply the predicates of a "where" selection node to the `ids` its SQL
-- selected; a node without predicates keeps them all.
function predicates.apply(db, selection, ids)
  if not selection.predicates or #selection.predicates == 0 then
    return ids
  end
  return predicates.filter(db, selection.entity, selection.predicates, ids)
end

-- Return whether `selection` is a "where" node whose only criteria are
-- predicates, so that they run on every row of the table.
-- criteria.selection gives such a node the SQL condition "1".
function predicates.reads_table(selection)
  return selection.predicates ~= nil and #selection.predicates > 0
    and selection.sql == "1"
end

-- Evaluate a node for which predicates.reads_table returns true: the
-- first predicate runs on the rows of a scan of the table, so the table's
-- ids are never collected first. A node with SQL criteria goes through
-- predicates.apply instead, so that its SQL runs outside the script
-- limits and each step of the scan under the limits reads one row by id.
function predicates.select_from_table(db, selection)
  local entity = selection.entity
  local kept = run(db, entity, selection.predicates[1],
    rows_of_table(entity))
  return run_rest(db, entity, selection.predicates, kept)
end

return predicates
