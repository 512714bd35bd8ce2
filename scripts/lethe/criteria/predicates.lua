-- Lua predicates: criteria written as a Lua function of the row, for what
-- SQL cannot express. `{ function(row, id) return ... end }` in a group keeps
-- the rows, among those the group's SQL criteria select, for which the
-- function returns a true value. `row` is a read-only table of the
-- entity's fields by model field name, holding the stored values (a
-- lookup field holds its key, a date its text); reading a name that is
-- not a field is an error. `id` is the record id.
--
-- The functions run under the script limits (sandbox.call), one call per
-- row, in id order.
-- An error in one stops the evaluation with the policy line where the
-- function was written, the record id and the error.

local util = require "lethe.util"
local idset = require "lethe.idset"
local sandbox = require "lethe.sandbox"

local predicates = {}

local BATCH_ROWS = 1000

-- Return a read-only row of `entity` over `values` (field name ->
-- stored value). Reading a name that is not a field of the entity raises
-- with the closest field name, so that a misspelled field never reads nil.
function predicates.row(entity, values)
  return setmetatable({}, {
    __index = function(_, name)
      if entity.fields[name] == nil then
        error(string.format("%s has no field '%s'%s", entity.name,
          tostring(name), util.suggestion(tostring(name),
            util.sorted_keys(entity.fields))), 2)
      end
      return values[name]
    end,
    __newindex = function(_, name)
      error(string.format("the row is read-only; cannot set '%s'",
        tostring(name)), 2)
    end,
    __pairs = function() return next, values, nil end,
  })
end

-- Where the function was written, as "policy.lua:12".
local function origin(check)
  local info = debug.getinfo(check, "S")
  return string.format("%s:%d", info.short_src, info.linedefined)
end

-- Call every predicate on one row; returns whether all of them hold.
local function holds(list, row, id, entity)
  for _, predicate in ipairs(list) do
    local ok, result = pcall(sandbox.call, origin(predicate.check),
      predicate.check, row, id)
    if not ok then
      util.fail("%s: the Lua criterion failed on %s %s: %s",
        origin(predicate.check), entity.name, tostring(id), tostring(result))
    end
    if not result then return false end
  end
  return true
end

-- SQL selecting the key and every field of `entity` for the ids in ?1
-- above ?2, in id order, one batch at a time.
local function batch_sql(entity, names)
  local columns = { "t0." .. util.quote(entity.key) .. " AS lethe_key" }
  for i, name in ipairs(names) do
    columns[i + 1] = string.format("t0.%s AS %s",
      util.quote(entity.fields[name].column), util.quote(name))
  end
  return string.format("SELECT %s FROM %s t0 WHERE t0.%s IN lethe_ids(?1) "
    .. "AND t0.%s > ?2 ORDER BY t0.%s LIMIT %d", table.concat(columns, ", "),
    util.quote(entity.table), util.quote(entity.key), util.quote(entity.key),
    util.quote(entity.key), BATCH_ROWS)
end

-- Return the ids among `ids` for which every predicate in `list` holds.
function predicates.filter(db, entity, list, ids)
  local names = util.sorted_keys(entity.fields)
  local sql = batch_sql(entity, names)
  local kept = {}
  local last = -1
  while true do
    local rows = db:rows(sql, { ids, last })
    for _, raw in ipairs(rows) do
      local id = raw.lethe_key
      raw.lethe_key = nil
      if holds(list, predicates.row(entity, raw), id, entity) then
        kept[#kept + 1] = id
      end
      last = id
    end
    if #rows < BATCH_ROWS then break end
  end
  return idset.from_array(entity.name, kept)
end

-- Apply the predicates of a "where" selection node to the `ids` its SQL
-- selected; a node without predicates keeps them all.
function predicates.apply(db, selection, ids)
  if not selection.predicates or #selection.predicates == 0 then
    return ids
  end
  return predicates.filter(db, selection.entity, selection.predicates, ids)
end

return predicates
