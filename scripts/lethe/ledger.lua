-- The erasure ledger: a file outside the database that remembers whom
-- Lethe erased, as keyed hashes only, so that a restored backup can be
-- cleaned again (`lethe reapply`). Each line is a JSON object:
--   {"entity":"person","hash":"<HMAC of the id>","kind":"id",
--    "plan":"<plan digest>","at":"<time>"}
-- and, for fields a model marks identity = true (e-mail addresses, phone
-- numbers), kind "value" with the HMAC of the normalised value. Without
-- the key, the hashes say nothing about who was erased.

local dates = require "lethe.dates"
local json = require "lethe.json"
local native = require "lethe.native"
local util = require "lethe.util"

local ledger = {}

local quote = util.quote

-- The hash of a row's identity: its id together with its label (for a
-- person, the name), so that a new row that only reuses an erased row's
-- id does not match.
function ledger.id_hash(key, entity_name, id, label)
  return native.hmac_sha256(key, "id\0" .. entity_name .. "\0"
    .. tostring(id) .. "\0" .. (label or ""))
end

-- The label of a row (its label columns, normalised), from a row read
-- with those columns.
local function label_of(entity, row)
  local parts = {}
  for i, column in ipairs(entity.label) do
    local value = row[column]
    parts[i] = value == nil and "" or tostring(value):gsub("^%s+", "")
      :gsub("%s+$", ""):lower()
  end
  return table.concat(parts, "\0")
end

local function label_columns(entity)
  local columns = { quote(entity.key) .. " AS lethe_key" }
  for _, column in ipairs(entity.label) do
    columns[#columns + 1] = quote(column)
  end
  return table.concat(columns, ", ")
end

-- Values compare without case and surrounding space.
function ledger.value_hash(key, entity_name, field_name, value)
  local normal = tostring(value):gsub("^%s+", ""):gsub("%s+$", ""):lower()
  return native.hmac_sha256(key, "value\0" .. entity_name .. "\0"
    .. field_name .. "\0" .. normal)
end

local function identity_fields(entity)
  local fields = {}
  for _, name in ipairs(util.sorted_keys(entity.fields)) do
    if entity.fields[name].identity then
      fields[#fields + 1] = entity.fields[name]
    end
  end
  return fields
end

-- Ledger lines for the rows that `plan` deletes: the root entity of each
-- rule first, then the cascades. Call before the deletes.
function ledger.lines(db, plan, key)
  local lines, at = {}, dates.format(native.time())
  local function add(entity, kind, hash)
    lines[#lines + 1] = json.encode({ entity = entity.name, kind = kind,
      hash = hash, plan = plan.digest, at = at })
  end
  for _, rule in ipairs(plan.rules) do
    local effects = {}
    for _, effect in ipairs(rule.effects) do
      if effect.operation == "delete" then
        table.insert(effects, effect.entity == rule.entity and 1
          or #effects + 1, effect)
      end
    end
    for _, effect in ipairs(effects) do
      local entity = effect.entity
      local rows = db:rows(string.format("SELECT %s FROM %s WHERE %s IN "
        .. "lethe_ids(?1)", label_columns(entity), quote(entity.table),
        quote(entity.key)), { effect.ids })
      for _, row in ipairs(rows) do
        add(entity, "id", ledger.id_hash(key, entity.name, row.lethe_key,
          label_of(entity, row)))
      end
      for _, field in ipairs(identity_fields(entity)) do
        local rows = db:rows(string.format("SELECT DISTINCT %s AS value FROM "
          .. "%s WHERE %s IN lethe_ids(?1) AND %s IS NOT NULL",
          quote(field.column), quote(entity.table), quote(entity.key),
          quote(field.column)), { effect.ids })
        for _, row in ipairs(rows) do
          add(entity, "value", ledger.value_hash(key, entity.name, field.name,
            row.value))
        end
      end
    end
  end
  return lines
end

-- Append `lines` to the ledger file at `path`.
function ledger.append(path, lines)
  if #lines == 0 then return end
  local ok, message = native.write_file(path, table.concat(lines, "\n")
    .. "\n", "append")
  if not ok then error(message, 0) end
end

-- Read a ledger: a list of entity names in first-seen order and, per
-- entity, the sets of id hashes and value hashes.
function ledger.read(path)
  local text, message = native.read_file(path)
  if not text then error(message, 0) end
  local order, entries = {}, {}
  local number = 0
  for line in text:gmatch("[^\n]+") do
    number = number + 1
    local ok, entry = pcall(json.decode, line)
    if not ok or type(entry) ~= "table" or type(entry.entity) ~= "string"
        or type(entry.hash) ~= "string"
        or (entry.kind ~= "id" and entry.kind ~= "value") then
      util.fail("%s:%d: not a ledger line", path, number)
    end
    local hashes = entries[entry.entity]
    if not hashes then
      hashes = { id = {}, value = {} }
      entries[entry.entity] = hashes
      order[#order + 1] = entry.entity
    end
    hashes[entry.kind][entry.hash] = true
  end
  return order, entries
end

-- Ids of `entity` rows in `db` whose id or identity value is in `hashes`.
function ledger.match(db, entity, hashes, key)
  local columns = { label_columns(entity) }
  local fields = identity_fields(entity)
  for i, field in ipairs(fields) do
    columns[i + 1] = quote(field.column) .. " AS lethe_f" .. i
  end
  local rows = db:rows(string.format("SELECT %s FROM %s",
    table.concat(columns, ", "), quote(entity.table)))
  local found = {}
  for _, row in ipairs(rows) do
    local hit = hashes.id[ledger.id_hash(key, entity.name, row.lethe_key,
      label_of(entity, row))]
    for i, field in ipairs(fields) do
      local value = row["lethe_f" .. i]
      if not hit and value ~= nil and hashes.value[ledger.value_hash(key,
          entity.name, field.name, value)] then
        hit = true
      end
    end
    if hit then found[#found + 1] = row.lethe_key end
  end
  return found
end

return ledger
