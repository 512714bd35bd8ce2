-- Models: what the entities of a database are, where they live and how
-- they relate. A model file is a Lua script that returns a table; this
-- module checks it, resolves its relations, and checks it against the
-- database it is used with.

local util = require "lethe.util"
local sandbox = require "lethe.sandbox"

local model = {}

local field_types = {
  text = true, integer = true, number = true, date = true, boolean = true,
  lookup = true,
}
local delete_rules = { cascade = true, set_null = true, restrict = true }

local function check_field(where, name, field)
  if type(field) ~= "table" then
    util.fail("%s field '%s': expected a table such as "
      .. "{ type = \"text\" }", where, name)
  end
  field.name = name
  field.column = field.column or name
  if not field_types[field.type] then
    util.fail("%s field '%s': type '%s' is invalid; use one of text, "
      .. "integer, number, date, boolean, lookup", where, name,
      tostring(field.type))
  end
  if field.type == "lookup" then
    local lookup = field.lookup
    if type(lookup) ~= "table" or type(lookup.table) ~= "string"
        or type(lookup.key) ~= "string"
        or type(lookup.label) ~= "string" then
      util.fail("%s field '%s': a lookup field needs lookup = { table = "
        .. "..., key = ..., label = ... }", where, name)
    end
  end
end

local function check_link(where, name, link, entities)
  if type(link) ~= "table" then
    util.fail("%s link '%s': expected a table", where, name)
  end
  link.name = name
  link.entity = link.entity or name
  if not entities[link.entity] then
    util.fail("%s link '%s': unknown entity '%s'%s", where, name,
      tostring(link.entity),
      util.suggestion(tostring(link.entity), util.sorted_keys(entities)))
  end
  if type(link.column) ~= "string" then
    util.fail("%s link '%s': missing column", where, name)
  end
  if not delete_rules[link.on_delete] then
    util.fail("%s link '%s': on_delete must be cascade, set_null or "
      .. "restrict, not '%s'", where, name, tostring(link.on_delete))
  end
end

-- Give every entity its reverse relations: for a link from child C to
-- parent P, P gets a relation named link.reverse (default: C's name).
local function resolve_relations(definition, where)
  for _, entity in pairs(definition.entities) do
    entity.relations = {}
  end
  for _, child_name in ipairs(util.sorted_keys(definition.entities)) do
    local child = definition.entities[child_name]
    for _, link_name in ipairs(util.sorted_keys(child.links)) do
      local link = child.links[link_name]
      link.child = child
      link.parent = definition.entities[link.entity]
      link.references = link.references or link.parent.key
      local reverse = link.reverse or child_name
      local parent = link.parent
      if parent.relations[reverse] or parent.fields[reverse]
          or parent.links[reverse] then
        util.fail("%s entity '%s': relation name '%s' is taken twice; "
          .. "give link '%s' of entity '%s' a reverse = \"...\" name",
          where, parent.name, reverse, link_name, child_name)
      end
      parent.relations[reverse] = link
    end
  end
end

local function check_entity(where, name, entity, entities)
  where = where .. " entity '" .. name .. "'"
  if type(entity) ~= "table" then
    util.fail("%s: expected a table", where)
  end
  entity.name = name
  if type(entity.table) ~= "string" then
    util.fail("%s: missing table", where)
  end
  if type(entity.key) ~= "string" then
    util.fail("%s: missing key (an integer column, or \"rowid\")", where)
  end
  entity.fields = entity.fields or {}
  entity.links = entity.links or {}
  entity.guards = entity.guards or {}
  if type(entity.label) == "string" then entity.label = { entity.label } end
  entity.label = entity.label or {}
  for field_name, field in pairs(entity.fields) do
    check_field(where, field_name, field)
  end
  for link_name, link in pairs(entity.links) do
    if entity.fields[link_name] then
      util.fail("%s: '%s' is both a field and a link", where, link_name)
    end
    check_link(where, link_name, link, entities)
  end
  for index, guard in ipairs(entity.guards) do
    if type(guard) ~= "table" or type(guard.reason) ~= "string"
        or type(guard.where) ~= "table" then
      util.fail("%s guard %d: expected { reason = \"...\", where = "
        .. "{ criteria } }", where, index)
    end
  end
end

-- Check a model table and resolve its relations. Raises with a message
-- naming `source` and the entity at fault.
function model.check(definition, source)
  local where = "model " .. source .. ":"
  if type(definition) ~= "table" then
    util.fail("%s the file must return a table", where)
  end
  if type(definition.name) ~= "string" then
    util.fail("%s missing name", where)
  end
  if type(definition.entities) ~= "table"
      or next(definition.entities) == nil then
    util.fail("%s missing entities", where)
  end
  definition.source = source
  for name, entity in pairs(definition.entities) do
    check_entity(where, name, entity, definition.entities)
  end
  resolve_relations(definition, where)
  return definition
end

-- Load a model: `reference` is a file path, or the name of a model that
-- ships with Lethe ("crm", "sakila", "northwind").
function model.load(reference)
  local text, source
  if reference:find("[/.]") then
    local message
    text, message = require("lethe.native").read_file(reference)
    if not text then util.fail("cannot read model: %s", message) end
    source = reference
  else
    text = require("lethe.native").embedded(
      "scripts/models/" .. reference .. ".lua")
    if not text then
      util.fail("unknown model '%s'; the models that ship with Lethe are "
        .. "crm, sakila and northwind, or give a file path", reference)
    end
    source = reference .. ".lua"
  end
  local definition = sandbox.copy_data(
    (sandbox.run(text, source, sandbox.environment())), source)
  return model.check(definition, source)
end

local function table_columns(db, table_name)
  local rows = db:rows("SELECT name, \"notnull\" FROM pragma_table_info(?)",
    { table_name })
  if #rows == 0 then return nil end
  local columns = {}
  for _, row in ipairs(rows) do columns[row.name] = row.notnull end
  return columns
end

local function require_column(columns, column, what, db_path)
  if column ~= "rowid" and columns[column] == nil then
    util.fail("database %s has no column %s that the model expects for %s",
      db_path, column, what)
  end
end

-- Check that every table and column the model names exists in `db`.
-- A database without the model's tables is the most common mistake: the
-- message says which model and file do not fit together.
function model.check_database(definition, db, db_path)
  model.find_unmodelled_references(definition, db)
  for _, name in ipairs(util.sorted_keys(definition.entities)) do
    local entity = definition.entities[name]
    local columns = table_columns(db, entity.table)
    if not columns then
      util.fail("database %s has no table '%s' (entity %s of model %s); "
        .. "check that the database and the model belong together",
        db_path, entity.table, name, definition.name)
    end
    entity.columns = columns
    local what = "entity " .. name
    require_column(columns, entity.key, what, db_path)
    for _, field in pairs(entity.fields) do
      require_column(columns, field.column, what .. " field " .. field.name,
        db_path)
      if field.type == "lookup" then
        local lookup_columns = table_columns(db, field.lookup.table)
        if not lookup_columns then
          util.fail("database %s has no table '%s' for lookup field %s.%s",
            db_path, field.lookup.table, name, field.name)
        end
        require_column(lookup_columns, field.lookup.key, "lookup "
          .. field.name, db_path)
        require_column(lookup_columns, field.lookup.label, "lookup "
          .. field.name, db_path)
      end
    end
    for _, link in pairs(entity.links) do
      require_column(columns, link.column, what .. " link " .. link.name,
        db_path)
      if link.on_delete == "set_null" and columns[link.column] == 1 then
        util.fail("model %s: link %s.%s is set_null but column %s.%s is "
          .. "NOT NULL; use cascade or restrict", definition.name, name,
          link.name, entity.table, link.column)
      end
    end
  end
end

-- Give each entity the foreign keys of the database that point at its
-- table but that no link of the model describes: entity.unmodelled is a
-- list of { table, column, references, on_delete }. Deleting rows that
-- such a key points at would change rows the plan does not show.
function model.find_unmodelled_references(definition, db)
  local by_table = {}
  for _, entity in pairs(definition.entities) do
    entity.unmodelled = {}
    by_table[entity.table:lower()] = entity
  end
  local covered = {}
  for _, entity in pairs(definition.entities) do
    for _, link in pairs(entity.links) do
      covered[entity.table:lower() .. "\0" .. link.column:lower()] = true
    end
  end
  local keys = db:rows([[
    SELECT m.name AS child, f."from" AS child_column, f."table" AS parent,
           f."to" AS parent_column, f.on_delete AS on_delete
    FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
    WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq]])
  for _, key in ipairs(keys) do
    local parent = by_table[key.parent:lower()]
    if parent and not covered[key.child:lower() .. "\0"
        .. key.child_column:lower()] then
      parent.unmodelled[#parent.unmodelled + 1] = {
        table = key.child, column = key.child_column,
        references = key.parent_column or parent.key,
        on_delete = key.on_delete,
      }
    end
  end
end

-- Return the field, link or relation called `name` of `entity`, as
-- kind ("field", "link" or "relation") and the definition.
function model.member(entity, name)
  if entity.fields[name] then return "field", entity.fields[name] end
  if entity.links[name] then return "link", entity.links[name] end
  if entity.relations[name] then return "relation", entity.relations[name] end
  return nil
end

-- Return all names that can follow an entity in a criterion.
function model.member_names(entity)
  local names = {}
  for _, map in ipairs { entity.fields, entity.links, entity.relations } do
    for name in pairs(map) do names[#names + 1] = name end
  end
  return names
end

return model
