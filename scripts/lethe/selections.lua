-- Saved selections, kept in the CRM schema's `selection` and
-- `selectionmember` tables:
--
--   static (kind 0)    a fixed list of members (companies or persons),
--                      one selectionmember row each
--   dynamic (kind 1)   criteria, stored as Lua text (the arguments of
--                      entity:where) and evaluated again on every use
--   combined (kind 2)  a left and a right selection and an operation:
--                      union, intersect, left_minus_right,
--                      right_minus_left or symmetric_difference
--
-- Combined selections nest; a selection that reaches itself through its
-- parts is rejected when saved and when used. A selection that others use
-- cannot be removed, and changing it lists those that use it.

local criteria = require "lethe.criteria"
local dates = require "lethe.dates"
local sandbox = require "lethe.sandbox"
local util = require "lethe.util"

local selections = {}

local quote = util.quote

selections.kinds = { [0] = "static", [1] = "dynamic", [2] = "combined" }
local kind_numbers = { static = 0, dynamic = 1, combined = 2 }

-- The operations of a combined selection and the set operation each is.
local operations = {
  union = "union",
  intersect = "intersection",
  left_minus_right = "difference",
  right_minus_left = "difference",
  symmetric_difference = "symmetric_difference",
}
selections.operations = { "union", "intersect", "left_minus_right",
  "right_minus_left", "symmetric_difference" }

-- Raise unless `db` has the saved-selection tables of the CRM schema.
local function check_tables(db)
  local count = db:scalar("SELECT count(*) FROM sqlite_schema WHERE type = "
    .. "'table' AND name IN ('selection', 'selectionmember')")
  if count < 2 then
    util.fail("this database has no selection and selectionmember tables; "
      .. "saved selections need the default CRM schema (lethe init)")
  end
end

-- Finding --------------------------------------------------------------------

local columns = "selection_id AS id, name, kind, entity, criteria, left_id, "
  .. "right_id, operation, registered"

-- Return the row of the selection named `reference` ("old prospects"), or
-- with the id that `reference` gives as "#12". Raises when there is no
-- such selection or when the name is ambiguous.
function selections.find(db, reference)
  check_tables(db)
  if type(reference) ~= "string" or reference == "" then
    util.fail("expected the name of a saved selection, such as \"old "
      .. "prospects\", or its id as \"#12\"")
  end
  local id = reference:match("^#(%d+)$")
  if id then
    local rows = db:rows("SELECT " .. columns .. " FROM selection WHERE "
      .. "selection_id = ?1", { math.tointeger(tonumber(id)) })
    if #rows == 0 then util.fail("no saved selection has id %s", id) end
    return rows[1]
  end
  local rows = db:rows("SELECT " .. columns .. " FROM selection WHERE name "
    .. "= ?1 ORDER BY selection_id", { reference })
  if #rows == 0 then
    local names = {}
    for i, row in ipairs(db:rows("SELECT name FROM selection")) do
      names[i] = row.name
    end
    util.fail("no saved selection is named \"%s\"%s", reference,
      util.suggestion(reference, names))
  end
  if #rows > 1 then
    local ids = {}
    for i, row in ipairs(rows) do ids[i] = "#" .. row.id end
    util.fail("%d saved selections are named \"%s\" (%s); name one by its "
      .. "id", #rows, reference, table.concat(ids, ", "))
  end
  return rows[1]
end

-- Return the row of selection `id`, or nil.
function selections.get(db, id)
  return db:rows("SELECT " .. columns .. " FROM selection WHERE "
    .. "selection_id = ?1", { id })[1]
end

-- Return every saved selection, in id order, with a member count for the
-- static ones.
function selections.list(db)
  check_tables(db)
  return db:rows("SELECT " .. columns .. ", (SELECT count(*) FROM "
    .. "selectionmember m WHERE m.selection_id = s.selection_id) AS members "
    .. "FROM selection s ORDER BY selection_id")
end

-- Return "name (#id)" for messages.
function selections.label(row)
  return string.format("\"%s\" (#%d)", row.name, row.id)
end

-- Criteria as text -----------------------------------------------------------

local function serialize_value(value, indent)
  local kind = type(value)
  if kind == "string" then return string.format("%q", value) end
  if kind == "boolean" then return tostring(value) end
  if math.type(value) == "integer" then return tostring(value) end
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      util.fail("criteria with %s cannot be saved", tostring(value))
    end
    return string.format("%.17g", value)
  end
  if kind ~= "table" then
    util.fail("criteria with a %s (such as a Lua function criterion) "
      .. "cannot be saved; only text, numbers, booleans and lists can",
      kind)
  end
  for key in pairs(value) do
    if math.type(key) ~= "integer" or key < 1 or key > #value then
      util.fail("criteria tables hold lists only; the key %s cannot be "
        .. "saved", util.quote(tostring(key)))
    end
  end
  -- A criterion (a list that starts with its field name) stays on one
  -- line; a list of criteria gets one line per criterion.
  local inline = indent == nil or type(value[1]) ~= "table"
  local parts = {}
  for i, item in ipairs(value) do
    parts[i] = serialize_value(item, not inline and indent .. "  " or nil)
  end
  if inline then return "{ " .. table.concat(parts, ", ") .. " }" end
  local pad = "\n" .. indent .. "  "
  return "{" .. pad .. table.concat(parts, "," .. pad) .. ",\n" .. indent
    .. "}"
end

-- Return criteria groups as the Lua text that a dynamic selection
-- stores: the arguments of entity:where, one group after another and one
-- criterion per line, such as
--   {
--     { "category", "=", "Prospect" },
--     { "registered", "older than", 3, "years" },
--   }
function selections.serialize(groups)
  local parts = {}
  for i, group in ipairs(groups) do
    parts[i] = serialize_value(criteria.as_list(group), "")
  end
  return table.concat(parts, ",\n") .. "\n"
end

-- Read criteria text back in the sandbox: the arguments of entity:where,
-- such as `{ { "category", "=", "Prospect" } }, { "nomailing", "is true"
-- }` (two groups, ORed). `source` names the text in messages. Returns the
-- list of groups.
function selections.parse(text, source)
  local ok, groups = pcall(sandbox.run, "return { " .. text .. "\n}",
    source, sandbox.environment())
  if not ok then util.fail("%s", groups) end
  if #groups == 0 then
    util.fail("%s: no criteria; give at least one, such as { \"category\", "
      .. "\"=\", \"Prospect\" }", source)
  end
  return groups
end

-- Building selections --------------------------------------------------------

-- The selectionmember column that stores members of `entity`: the column
-- of the member table's link to that entity, or nil.
local function member_column(definition, entity)
  local member = definition.entities.selection_member
  if not member then return nil end
  for _, link in pairs(member.links) do
    if link.parent == entity and link.parent.table ~= "selection" then
      return link.column
    end
  end
  return nil
end

local function entity_of(definition, row)
  local entity = definition.entities[row.entity]
  if not entity then
    util.fail("saved selection %s is a selection of %s, which model %s "
      .. "does not have", selections.label(row), tostring(row.entity),
      definition.name)
  end
  return entity
end

local build

local function build_static(definition, row, entity)
  local column = member_column(definition, entity)
  if not column then
    util.fail("saved selection %s is a static selection of %s, but only "
      .. "companies and persons can be members", selections.label(row),
      entity.name)
  end
  return { kind = "where", entity = entity, groups = {},
           sql = string.format("EXISTS (SELECT 1 FROM selectionmember m "
             .. "WHERE m.selection_id = ?1 AND m.%s = t0.%s)", quote(column),
             quote(entity.key)),
           params = { row.id }, descriptions = {},
           saved = row }
end

local function build_combined(db, definition, now, row, entity, stack)
  local operation = operations[row.operation]
  if not operation or not row.left_id or not row.right_id then
    util.fail("saved selection %s is combined but lacks a left or right "
      .. "selection or a known operation", selections.label(row))
  end
  local parts = {}
  for side, id in pairs { left = row.left_id, right = row.right_id } do
    local part = selections.get(db, id)
    if not part then
      util.fail("saved selection %s uses selection #%d, which does not "
        .. "exist", selections.label(row), id)
    end
    parts[side] = build(db, definition, now, part, stack)
    if parts[side].entity ~= entity then
      util.fail("saved selection %s combines a selection of %s with one of "
        .. "%s", selections.label(row), entity.name, parts[side].entity.name)
    end
  end
  local left, right = parts.left, parts.right
  if row.operation == "right_minus_left" then left, right = right, left end
  return { kind = operation, entity = entity, left = left, right = right,
           saved = row }
end

-- Return the selection that saved row `row` stands for, as a table that
-- lethe.planner evaluates. `stack` contains the ids being built, to find
-- cycles.
function build(db, definition, now, row, stack)
  stack = stack or {}
  if stack[row.id] then
    util.fail("saved selection %s uses itself through its parts; change "
      .. "one of them", selections.label(row))
  end
  stack[row.id] = true
  local entity = entity_of(definition, row)
  local kind = selections.kinds[row.kind]
  local result
  if kind == "static" then
    result = build_static(definition, row, entity)
  elseif kind == "dynamic" then
    local groups = selections.parse(row.criteria or "",
      "selection " .. row.name)
    local function new_context()
      return criteria.context(definition, db, now)
    end
    local ok, built = pcall(criteria.selection, new_context, entity, groups)
    if not ok then
      util.fail("saved selection %s: %s", selections.label(row), built)
    end
    result = built
    result.saved = row
  elseif kind == "combined" then
    result = build_combined(db, definition, now, row, entity, stack)
  else
    util.fail("saved selection %s has unknown kind %s",
      selections.label(row), tostring(row.kind))
  end
  stack[row.id] = nil
  return result
end

-- Return the selection that the saved selection `reference` (a name or
-- "#id") stands for, evaluated at reference time `now`.
function selections.resolve(db, definition, now, reference)
  return build(db, definition, now, selections.find(db, reference))
end

selections.build = build

-- Dependents -----------------------------------------------------------------

-- Return the saved selections that use selection `id`, directly or
-- through others, in id order.
function selections.dependents(db, id)
  local found, order = {}, {}
  local queue = { id }
  while #queue > 0 do
    local current = table.remove(queue, 1)
    for _, row in ipairs(db:rows("SELECT " .. columns .. " FROM selection "
        .. "WHERE left_id = ?1 OR right_id = ?1 ORDER BY selection_id",
        { current })) do
      if not found[row.id] and row.id ~= id then
        found[row.id] = true
        order[#order + 1] = row
        queue[#queue + 1] = row.id
      end
    end
  end
  table.sort(order, function(a, b) return a.id < b.id end)
  return order
end

-- Whether selection `id` is `target` or uses it through its parts.
local function reaches(db, id, target, seen)
  if id == target then return true end
  seen = seen or {}
  if seen[id] then return false end
  seen[id] = true
  local row = selections.get(db, id)
  if not row then return false end
  for _, part in ipairs { row.left_id, row.right_id } do
    if part and reaches(db, part, target, seen) then return true end
  end
  return false
end

-- Saving ---------------------------------------------------------------------

-- Insert or, for an existing row `existing`, rewrite the selection row
-- (keeping its id, name and registration date); returns its id. The
-- members of a rewritten selection are dropped.
local function write_row(db, existing, fields)
  if existing then
    db:exec("DELETE FROM selectionmember WHERE selection_id = ?1",
      { existing.id })
    db:exec("UPDATE selection SET kind = ?2, entity = ?3, criteria = ?4, "
      .. "left_id = ?5, right_id = ?6, operation = ?7 WHERE selection_id = "
      .. "?1", { existing.id, fields.kind, fields.entity, fields.criteria,
        fields.left_id, fields.right_id, fields.operation, n = 7 })
    return existing.id
  end
  db:exec("INSERT INTO selection (name, kind, entity, criteria, left_id, "
    .. "right_id, operation, registered) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
    .. "?7, ?8)", { fields.name, fields.kind, fields.entity, fields.criteria,
      fields.left_id, fields.right_id, fields.operation, fields.registered,
      n = 8 })
  return db:scalar("SELECT last_insert_rowid()")
end

-- Return the row named `name` to be replaced, or nil for a new name;
-- raises when the name exists and `replace` is not set.
function selections.existing(db, name, replace)
  check_tables(db)
  local rows = db:rows("SELECT " .. columns .. " FROM selection WHERE name "
    .. "= ?1", { name })
  if #rows == 0 then return nil end
  if #rows > 1 then
    util.fail("%d saved selections are named \"%s\"; remove all but one "
      .. "first", #rows, name)
  end
  if not replace then
    util.fail("a saved selection named \"%s\" exists (#%d); use --replace "
      .. "to change it or choose another name", name, rows[1].id)
  end
  return rows[1]
end

-- Save a static selection of `entity` with the members `ids` (an id
-- set). Returns the selection id.
function selections.save_static(db, definition, name, entity, ids, now,
                                existing)
  local column = member_column(definition, entity)
  if not column then
    util.fail("a static selection holds companies or persons, not %s; "
      .. "save a dynamic selection instead", entity.name)
  end
  local id = write_row(db, existing, { name = name, kind = 0,
    entity = entity.name, registered = dates.format(now) })
  db:exec(string.format("INSERT INTO selectionmember (selection_id, %s) "
    .. "SELECT ?1, t0.%s FROM %s t0 WHERE t0.%s IN lethe_ids(?2) ORDER BY "
    .. "1", quote(column), quote(entity.key), quote(entity.table),
    quote(entity.key)), { id, ids })
  return id
end

-- Save a dynamic selection of `entity` with criteria `groups`; they are
-- compiled first, so that a mistake is reported before anything is saved.
-- Returns the selection id.
function selections.save_dynamic(db, definition, name, entity, groups, now,
                                 existing)
  local text = selections.serialize(groups)
  local function new_context()
    return criteria.context(definition, db, now)
  end
  criteria.selection(new_context, entity, selections.parse(text,
    "selection " .. name))
  return write_row(db, existing, { name = name, kind = 1,
    entity = entity.name, criteria = text,
    registered = dates.format(now) })
end

-- Save a combined selection of the rows `left` and `right` and
-- `operation`. Returns the selection id.
function selections.save_combined(db, name, left, operation, right, now,
                                  existing)
  if not operations[operation] then
    util.fail("unknown operation '%s'; use %s", tostring(operation),
      table.concat(selections.operations, ", "))
  end
  if left.entity ~= right.entity then
    util.fail("cannot combine %s, a selection of %s, with %s, a selection "
      .. "of %s", selections.label(left), left.entity,
      selections.label(right), right.entity)
  end
  if existing then
    for _, part in ipairs { left, right } do
      if reaches(db, part.id, existing.id) then
        util.fail("%s would use itself: %s is or uses it", selections.label(
          existing), selections.label(part))
      end
    end
  end
  return write_row(db, existing, { name = name, kind = 2,
    entity = left.entity, left_id = left.id, right_id = right.id,
    operation = operation, registered = dates.format(now) })
end

-- Turn selection `row` into a static one with the members `ids`, its
-- records at this moment.
function selections.convert(db, definition, row, ids, now)
  local entity = entity_of(definition, row)
  selections.save_static(db, definition, row.name, entity, ids, now, row)
end

-- Remove selection `row`; raises, naming them, when others use it.
function selections.remove(db, row)
  local dependents = selections.dependents(db, row.id)
  if #dependents > 0 then
    local names = {}
    for i, dependent in ipairs(dependents) do
      names[i] = selections.label(dependent)
    end
    util.fail("%s is used by %s; remove or change those first",
      selections.label(row), table.concat(names, ", "))
  end
  db:exec("DELETE FROM selectionmember WHERE selection_id = ?1", { row.id })
  db:exec("DELETE FROM selection WHERE selection_id = ?1", { row.id })
end

-- The companies of a selection of persons, or the persons of a selection
-- of companies: the criteria of a dynamic selection `row` wrapped in the
-- relation or link named `name` from the target entity back to its
-- entity. Returns the target entity and the groups, or nil when `row` is
-- not dynamic.
function selections.related_groups(definition, row, name)
  local entity = entity_of(definition, row)
  local link, relation = entity.links[name], entity.relations[name]
  if not link and not relation then
    local names = util.sorted_keys(entity.links)
    for key in pairs(entity.relations) do names[#names + 1] = key end
    util.fail("%s has no link or relation '%s'%s", entity.name,
      tostring(name), util.suggestion(tostring(name), names))
  end
  local target = link and link.parent or relation.child
  if selections.kinds[row.kind] ~= "dynamic" then return target, nil end
  -- From the target back: a company reaches its persons by the link's
  -- reverse relation; a person reaches its company by the link itself.
  local back
  if link then
    for relation_name, item in pairs(target.relations) do
      if item == link then back = relation_name end
    end
  else
    back = relation.name
  end
  local groups = {}
  for i, group in ipairs(selections.parse(row.criteria or "",
      "selection " .. row.name)) do
    groups[i] = { { back, "any", criteria.as_list(group) } }
  end
  return target, groups
end

return selections
