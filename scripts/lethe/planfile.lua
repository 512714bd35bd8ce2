-- Saved plans: `lethe plan -o FILE` writes the exact id sets that each rule
-- acts on, the effects per table, the policy's text and digest, the model
-- and the database the plan was made on, as a JSON document.
-- `lethe apply --plan FILE` reads it back and acts on exactly those ids.
--
-- A saved plan holds record ids and counts but no personal data; it does
-- hold the policy's text, so that apply can evaluate the same rules again
-- and report how the database moved since.

local dates = require "lethe.dates"
local idset = require "lethe.idset"
local json = require "lethe.json"
local native = require "lethe.native"
local report = require "lethe.report"
local util = require "lethe.util"

local planfile = {}

local FORMAT, VERSION = "lethe-plan", 1

local function encode_set(set)
  return util.base64_encode(set:serialize())
end

local function decode_set(text, where)
  local bytes = type(text) == "string" and util.base64_decode(text)
  local ok, set = pcall(idset.deserialize, bytes or "")
  if not bytes or not ok then
    util.fail("saved plan: the id set of %s is damaged", where)
  end
  return set
end

local function database_id(db)
  local has_meta = db:scalar("SELECT count(*) FROM sqlite_schema WHERE "
    .. "type = 'table' AND name = 'lethe_meta'") > 0
  if not has_meta then return nil end
  return db:scalar("SELECT value FROM lethe_meta WHERE key = "
    .. "'database_id'")
end

planfile.database_id = database_id

local function rule_document(rule)
  local effects, vetoes = json.array(), json.array()
  for i, effect in ipairs(rule.effects) do
    effects[i] = { table = effect.entity.table, entity = effect.entity.name,
                   operation = effect.operation, column = effect.column,
                   rows = #effect.ids }
  end
  for i, veto in ipairs(rule.vetoes) do
    vetoes[i] = { reason = veto.reason, count = #veto.ids }
  end
  return { name = rule.name, action = rule.action, entity = rule.entity.name,
           selected = #rule.ids, acting = encode_set(rule.acting),
           effects = effects, vetoes = vetoes }
end

-- Write `plan` of `run` to `path`. `text` is the policy's source text and
-- `model_reference` the model as the user named it (nil: the default).
function planfile.save(path, plan, run, text, model_reference)
  local rules = json.array()
  for i, rule in ipairs(plan.rules) do rules[i] = rule_document(rule) end
  local document = {
    format = FORMAT, version = VERSION, digest = plan.digest,
    created = dates.format(native.time()), now = dates.format(run.now),
    database = { path = native.absolute_path(run.db_path) or run.db_path,
                 id = database_id(run.db) or json.null },
    policy = { name = run.policy.name, source = run.policy.source,
               digest = run.policy.digest, text = text },
    model = { reference = model_reference or json.null,
              name = run.policy.model.name },
    rules = rules, totals = json.array(report.totals(plan)),
  }
  local ok, message = native.write_file(path, json.encode(document, true)
    .. "\n")
  if not ok then error(message, 0) end
end

local function field(document, name, kind, path)
  local value = document[name]
  if type(value) ~= kind then
    util.fail("%s is not a Lethe plan: field %s is missing or not a %s",
      path, name, kind)
  end
  return value
end

-- Read a saved plan. Returns the document with each rule's `acting` as an
-- id set and `now` as an instant. Raises on a file that is not a plan.
function planfile.load(path)
  local text, message = native.read_file(path)
  if not text then error(message, 0) end
  local ok, document = pcall(json.decode, text)
  if not ok then util.fail("%s is not a Lethe plan: %s", path, document) end
  if type(document) ~= "table" or document.format ~= FORMAT then
    util.fail("%s is not a Lethe plan (no format \"%s\")", path, FORMAT)
  end
  if document.version ~= VERSION then
    util.fail("%s is a version %s plan; this lethe reads version %d",
      path, tostring(document.version), VERSION)
  end
  field(document, "digest", "string", path)
  field(document, "database", "table", path)
  local policy = field(document, "policy", "table", path)
  field(policy, "text", "string", path)
  field(policy, "source", "string", path)
  field(policy, "digest", "string", path)
  local now, reason = dates.parse(field(document, "now", "string", path))
  if not now then util.fail("%s: invalid time %s", path, reason) end
  document.now = now
  for index, rule in ipairs(field(document, "rules", "table", path)) do
    field(rule, "name", "string", path)
    rule.acting = decode_set(rule.acting, "rule " .. index)
  end
  if document.model.reference == json.null then
    document.model.reference = nil
  end
  return document
end

-- Drift ---------------------------------------------------------------------

local function existing_ids(db, entity, ids)
  return db:ids(string.format("SELECT %s FROM %s WHERE %s IN lethe_ids(?1)",
    util.quote(entity.key), util.quote(entity.table), util.quote(entity.key)),
    { ids }, entity.name, entity.table)
end

local function add_difference(differences, rule, kind, ids)
  if #ids == 0 then return end
  local sample = {}
  for id in ids:ids() do
    sample[#sample + 1] = id
    if #sample == 5 then break end
  end
  differences[#differences + 1] = { rule = rule, kind = kind, count = #ids,
                                    ids = ids, sample = sample }
end

-- Compare a saved plan with `current`, a fresh unrestricted plan of the
-- same policy. Returns a list of differences { rule, kind, count, ids,
-- sample } where kind is "gone" (planned ids no longer in the table),
-- "no longer selected", "now vetoed" or "new match", and a map from rule
-- name to the planned ids that still match.
function planfile.compare(db, saved, current)
  local by_name = {}
  for _, rule in ipairs(current.rules) do by_name[rule.name] = rule end
  local differences, still = {}, {}
  for _, planned in ipairs(saved.rules) do
    local rule = by_name[planned.name]
    if not rule then
      util.fail("saved plan: rule \"%s\" is not in the policy",
        planned.name)
    end
    if planned.acting:entity() ~= rule.entity.name then
      util.fail("saved plan: rule \"%s\" holds ids of entity %s, but the "
        .. "rule selects %s; the plan file was changed", planned.name,
        planned.acting:entity(), rule.entity.name)
    end
    local existing = existing_ids(db, rule.entity, planned.acting)
    add_difference(differences, planned.name, "gone",
      planned.acting - existing)
    add_difference(differences, planned.name, "no longer selected",
      existing - rule.ids)
    add_difference(differences, planned.name, "now vetoed",
      (existing & rule.ids) - rule.acting)
    add_difference(differences, planned.name, "new match",
      rule.acting - planned.acting)
    still[planned.name] = planned.acting & rule.acting
  end
  return differences, still
end

-- Differences in rows per table and operation between a saved plan and
-- a plan restricted to its ids: cascades that grew or shrank.
function planfile.compare_totals(saved, plan)
  local function index(totals)
    local map = {}
    for _, total in ipairs(totals) do
      map[total.table .. " " .. total.operation] = total.rows
    end
    return map
  end
  local before, after = index(saved.totals or {}), index(report.totals(plan))
  local keys, seen = {}, {}
  for key in pairs(before) do keys[#keys + 1] = key; seen[key] = true end
  for key in pairs(after) do
    if not seen[key] then keys[#keys + 1] = key end
  end
  table.sort(keys)
  local changes = {}
  for _, key in ipairs(keys) do
    if (before[key] or 0) ~= (after[key] or 0) then
      changes[#changes + 1] = { what = key, planned = before[key] or 0,
                                now = after[key] or 0 }
    end
  end
  return changes
end

return planfile
