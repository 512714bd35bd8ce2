-- lethe selection: list, show, save, convert and remove saved selections.

local args = require "lethe.args"
local dates = require "lethe.dates"
local idset = require "lethe.idset"
local json = require "lethe.json"
local planner = require "lethe.planner"
local selections = require "lethe.selections"
local session = require "lethe.session"
local util = require "lethe.util"

local command = {
  summary = "list, show, save, convert or remove saved selections",
  help = [[
Usage: lethe selection list --db FILE [--json]
       lethe selection show NAME --db FILE [--ids] [--now TIME] [--json]
       lethe selection save NAME --db FILE --entity ENTITY --where CRITERIA
       lethe selection save NAME --db FILE --entity ENTITY --members 1,2,3
       lethe selection save NAME --db FILE --left A --operation OP --right B
       lethe selection save NAME --db FILE --from SELECTION --related NAME
       lethe selection convert NAME --db FILE [--now TIME]
       lethe selection remove NAME --db FILE

Saved selections live in the database (tables selection and
selectionmember) and can be used in policies with selection "NAME". NAME
is a selection's name, or its id written as #12.

  list     every saved selection with its kind and entity
  show     its definition, resolved criteria, record count, a sample, and
           the selections that use it; --ids prints only the record ids
  save     a dynamic selection (--where: criteria as in entity:where,
           evaluated again on every use), a static one (--members: a fixed
           list of companies or persons), a combined one (--left,
           --operation, --right), or the companies of a selection of
           persons and back (--from with --related company or persons:
           dynamic when the source is dynamic, else a static snapshot)
  convert  freeze a dynamic or combined selection into a static one
           holding its records now
  remove   delete a selection; refused while others use it

--where takes the arguments of entity:where, written in Lua: a group of
criteria that must all hold,
  --where '{ { "category", "=", "Prospect" },
             { "registered", "older than", 3, "years" } }'
or several groups, separated by commas, of which one must hold:
  --where '{ "nomailing", "is true" }, { "blockEmarketing", "is true" }'

Options:
  --db FILE        the SQLite database (required)
  --entity ENTITY  the entity of a new selection (person, company, ...)
  --where CRITERIA the criteria of a dynamic selection
  --members LIST   comma-separated record ids of a static selection
  --left NAME, --right NAME
                   the two selections of a combined one
  --operation OP   union, intersect, left_minus_right, right_minus_left or
                   symmetric_difference
  --from NAME      the selection whose related records to save
  --related NAME   the link or relation to follow (company, persons, ...)
  --replace        change an existing selection of that name (the
                   selections that use it are listed first)
  --model MODEL    model file or bundled model name (default: the
                   database's own)
  --now TIME       reference time for evaluating, UTC (default: now)
  --json           print list or show as a JSON document
]],
}

local NAME = "selection"

local function fail_usage(format, ...)
  args.usage_error(NAME, format, ...)
end

local function load_model(db, options)
  local reference = options.model or session.database_model(db)
  if not reference then
    fail_usage("%s is not a Lethe CRM database; name its model with --model",
      options.db)
  end
  return session.load_model(reference, db, options.db)
end

-- Return "dynamic", "left union right" or "12 members" for a row.
local function definition_text(db, row)
  local kind = selections.kinds[row.kind] or "unknown"
  if kind == "combined" then
    local left, right = selections.get(db, row.left_id or -1),
      selections.get(db, row.right_id or -1)
    return string.format("%s %s %s", left and left.name or "?",
      tostring(row.operation), right and right.name or "?")
  elseif kind == "static" then
    return string.format("%d members", db:scalar("SELECT count(*) FROM "
      .. "selectionmember WHERE selection_id = ?1", { row.id }))
  end
  return "criteria"
end

local function list(db, options)
  local rows = selections.list(db)
  if options.json then
    local items = json.array()
    for i, row in ipairs(rows) do
      items[i] = { id = row.id, name = row.name, entity = row.entity,
                   kind = selections.kinds[row.kind],
                   definition = definition_text(db, row) }
    end
    args.out(json.encode(items, true))
    return
  end
  if #rows == 0 then
    args.out("No saved selections.")
    return
  end
  args.out(string.format("%5s  %-9s %-10s %s", "id", "kind", "entity",
    "name: definition"))
  for _, row in ipairs(rows) do
    args.out(string.format("%5d  %-9s %-10s %s: %s", row.id,
      selections.kinds[row.kind] or "?", row.entity, row.name,
      definition_text(db, row)))
  end
end

local function dependent_labels(db, row)
  local labels = {}
  for i, dependent in ipairs(selections.dependents(db, row.id)) do
    labels[i] = selections.label(dependent)
  end
  return labels
end

local function collect_descriptions(selection, into)
  for _, text in ipairs(selection.descriptions or {}) do
    into[#into + 1] = text
  end
  for _, child in ipairs { selection.left, selection.right, selection.from } do
    collect_descriptions(child, into)
  end
  return into
end

local function all_ids(db, ids)
  local list = {}
  for i, row in ipairs(db:rows("SELECT id FROM lethe_ids(?1) ORDER BY id",
      { ids })) do
    list[i] = row.id
  end
  return list
end

local function show(db, options, name)
  local definition = load_model(db, options)
  local now = args.now(NAME, options.now)
  local row = selections.find(db, name)
  local selection = selections.build(db, definition, now, row)
  local ids = planner.evaluate(db, selection)
  if options.ids then
    for _, id in ipairs(all_ids(db, ids)) do args.out(tostring(id)) end
    return
  end
  local dependents = dependent_labels(db, row)
  local resolved = collect_descriptions(selection, {})
  local samples = planner.sample(db, selection.entity, ids, 5)
  if options.json then
    local sample_list = json.array()
    for i, sample in ipairs(samples) do
      sample_list[i] = { id = sample.id, label = sample.label }
    end
    args.out(json.encode({ id = row.id, name = row.name,
      kind = selections.kinds[row.kind], entity = row.entity,
      criteria = row.criteria, operation = row.operation,
      left = row.left_id, right = row.right_id, registered = row.registered,
      now = dates.format(now), count = #ids, samples = sample_list,
      resolved = json.array(resolved), used_by = json.array(dependents) },
      true))
    return
  end
  args.out(string.format("Selection \"%s\" (#%d): %s selection of %s, "
    .. "saved %s", row.name, row.id, selections.kinds[row.kind] or "?",
    row.entity, tostring(row.registered)))
  if row.criteria then
    args.out("Criteria:")
    for line in row.criteria:gmatch("[^\n]+") do args.out("  " .. line) end
  else
    args.out("Definition: " .. definition_text(db, row))
  end
  for _, text in ipairs(resolved) do args.out("  resolved: " .. text) end
  args.out(string.format("Records: %d at %s UTC", #ids, dates.format(now)))
  if #samples > 0 then
    local parts = {}
    for i, sample in ipairs(samples) do
      parts[i] = "#" .. sample.id .. (sample.label ~= ""
        and (" " .. sample.label) or "")
    end
    args.out("Sample: " .. table.concat(parts, "; "))
  end
  args.out("Used by: " .. (#dependents > 0 and table.concat(dependents, ", ")
    or "no other selection"))
end

-- Tell, before a change, which selections use the one being changed.
local function warn_dependents(db, row, version)
  local labels = dependent_labels(db, row)
  if #labels > 0 then
    io.stderr:write(string.format("%s is used by %s; they will use the %s "
      .. "version.\n", selections.label(row), table.concat(labels, ", "),
      version))
  end
end

local function parse_ids(text)
  local ids = {}
  for item in (text .. ","):gmatch("([^,]*),") do
    local id = math.tointeger(tonumber(item))
    if not id or id < 0 or id > 0xffffffff then
      fail_usage("invalid id '%s' in --members; give record ids separated "
        .. "by commas, as in 12,15,19", item)
    end
    ids[#ids + 1] = id
  end
  return ids
end

local function entity_named(definition, name)
  if not name then fail_usage("save needs --entity ENTITY") end
  local entity = definition.entities[name]
  if not entity then
    util.fail("unknown entity '%s' in model %s%s", name, definition.name,
      util.suggestion(name, util.sorted_keys(definition.entities)))
  end
  return entity
end

-- Save the static selection of --members, after checking that each
-- exists.
local function save_ids(db, definition, options, name, now, existing)
  local entity = entity_named(definition, options.entity)
  local wanted = idset.from_array(entity.name, parse_ids(options.members))
  local found = db:ids(string.format("SELECT %s FROM %s WHERE %s IN "
    .. "lethe_ids(?1)", util.quote(entity.key), util.quote(entity.table),
    util.quote(entity.key)), { wanted }, entity.name, entity.table)
  local missing = all_ids(db, wanted - found)
  if #missing > 0 then
    util.fail("no %s has id %s; nothing was saved", entity.name,
      table.concat(missing, ", "))
  end
  return selections.save_static(db, definition, name, entity, wanted, now,
    existing)
end

-- Save the records related to --from through --related.
local function save_related(db, definition, options, name, now, existing)
  if not options.related then fail_usage("--from needs --related NAME") end
  local source = selections.find(db, options.from)
  local target, groups = selections.related_groups(definition, source,
    options.related)
  if groups then
    return selections.save_dynamic(db, definition, name, target, groups,
      now, existing)
  end
  local selection = selections.build(db, definition, now, source)
  local ids = planner.evaluate(db, {
    kind = "related", entity = target, from = selection,
    link = selection.entity.links[options.related]
      or selection.entity.relations[options.related],
    direction = selection.entity.links[options.related] and "parent"
      or "child" })
  return selections.save_static(db, definition, name, target, ids, now,
    existing)
end

local function save(db, options, name)
  local definition = load_model(db, options)
  local now = args.now(NAME, options.now)
  local forms = (options.where and 1 or 0) + (options.members and 1 or 0)
    + (options.left and 1 or 0) + (options.from and 1 or 0)
  if forms ~= 1 then
    fail_usage("save needs exactly one of --where, --members, --left with "
      .. "--operation and --right, or --from with --related")
  end
  local existing = selections.existing(db, name, options.replace)
  if existing then warn_dependents(db, existing, "new") end
  local id
  if options.where then
    local entity = entity_named(definition, options.entity)
    local groups = selections.parse(options.where, "--where")
    id = selections.save_dynamic(db, definition, name, entity, groups, now,
      existing)
  elseif options.members then
    id = save_ids(db, definition, options, name, now, existing)
  elseif options.left then
    if not options.operation or not options.right then
      fail_usage("--left needs --operation OP and --right NAME")
    end
    id = selections.save_combined(db, name, selections.find(db,
      options.left), options.operation, selections.find(db, options.right),
      now, existing)
  else
    id = save_related(db, definition, options, name, now, existing)
  end
  local row = selections.get(db, id)
  -- Using the saved selection once proves that it can be evaluated.
  planner.evaluate(db, selections.build(db, definition, now, row))
  io.stderr:write(string.format("Saved %s selection %s.\n",
    selections.kinds[row.kind], selections.label(row)))
end

local function convert(db, options, name)
  local definition = load_model(db, options)
  local now = args.now(NAME, options.now)
  local row = selections.find(db, name)
  if selections.kinds[row.kind] == "static" then
    io.stderr:write(selections.label(row) .. " is already static.\n")
    return
  end
  warn_dependents(db, row, "static")
  local ids = planner.evaluate(db, selections.build(db, definition, now, row))
  selections.convert(db, definition, row, ids, now)
  io.stderr:write(string.format("Converted %s into a static selection of "
    .. "%d records.\n", selections.label(row), #ids))
end

local function remove(db, _, name)
  local row = selections.find(db, name)
  selections.remove(db, row)
  io.stderr:write("Removed " .. selections.label(row) .. ".\n")
end

local writers = { save = save, convert = convert, remove = remove }

-- Run `action` in one write transaction: all of it or nothing.
local function in_transaction(db, action, options, name)
  db:begin_exclusive()
  local ok, message = pcall(action, db, options, name)
  if not ok then
    db:script("ROLLBACK")
    error(message, 0)
  end
  db:script("COMMIT")
end

function command.run(arguments)
  local options, positional = args.parse(NAME, arguments, {
    db = "value", model = "value", now = "value", json = "flag",
    ids = "flag", members = "value", entity = "value", where = "value",
    left = "value", right = "value", operation = "value", from = "value",
    related = "value", replace = "flag" }, { "ACTION", "NAME?" })
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.db then fail_usage("missing --db FILE") end
  local action, name = positional[1], positional[2]
  if action ~= "list" and not writers[action] and action ~= "show" then
    fail_usage("unknown action '%s'; use list, show, save, convert or "
      .. "remove", action)
  end
  if action ~= "list" and not name then
    fail_usage("%s needs the NAME of a selection", action)
  end
  local db = session.open_database(options.db)
  local ok, message = pcall(function()
    if action == "list" then
      list(db, options)
    elseif action == "show" then
      show(db, options, name)
    else
      in_transaction(db, writers[action], options, name)
    end
  end)
  db:close()
  if not ok then error(message, 0) end
  return 0
end

return command
