-- lethe export: write the records of a rule or a saved selection as CSV.

local args = require "lethe.args"
local csv = require "lethe.csv"
local explain_command = require "lethe.commands.explain"
local native = require "lethe.native"
local planner = require "lethe.planner"
local plugins = require "lethe.plugins"
local selections = require "lethe.selections"
local session = require "lethe.session"
local util = require "lethe.util"

local command = {
  summary = "write the records of a rule or saved selection as CSV",
  help = [[
Usage: lethe export POLICY --db FILE --rule NAME [--fields LIST] [-o FILE]
       lethe export --selection NAME --db FILE [--fields LIST] [-o FILE]

Write one CSV record per selected record, in id order, after a header
record of the field names. With a rule, the records are those the plan
shows as the rule's selection (without those earlier rules take). With a
saved selection, they are its members at the reference time.

The CSV follows RFC 4180: fields are separated by commas, records end in
CRLF, and a field holding a comma, a double quote, CR or LF is quoted with
inner quotes doubled. The output may hold personal data: it goes to
standard output, or only to the file given with -o.

Options:
  --db FILE         the SQLite database (required)
  --rule NAME       the rule whose records to write
  --selection NAME  a saved selection (a name, or an id as #12) instead
  --fields LIST     comma-separated fields of the entity: model field
                    names, id for the record id, and link.field for a
                    field of a parent (company.name); lookup fields give
                    their label (default: id and the entity's label fields)
  -o, --output FILE write the CSV to FILE instead of standard output
  --model MODEL     model file or bundled model name
  --now TIME        reference time, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ
                    (default: the current time)
]] .. args.limits_help .. plugins.help,
}

local quote = util.quote
local BATCH_ROWS = 1000

-- SQL for a field of `entity` under alias t0 (`name` as given).
local function field_column(entity, name, path)
  local field = entity.fields[name]
  if not field then
    local names = util.sorted_keys(entity.fields)
    names[#names + 1] = "id"
    util.fail("unknown field '%s' of entity %s in --fields%s", path,
      entity.name, util.suggestion(name, names))
  end
  return field
end

local function value_sql(alias, field)
  local column = alias .. "." .. quote(field.column)
  if field.type ~= "lookup" then return column end
  local lookup = field.lookup
  return string.format("(SELECT l.%s FROM %s l WHERE l.%s = %s)",
    quote(lookup.label), quote(lookup.table), quote(lookup.key), column)
end

-- The SQL expression of one --fields entry.
local function column_sql(entity, name)
  if name == "id" and not entity.fields.id then
    return "t0." .. quote(entity.key)
  end
  local head, rest = name:match("^([^.]+)%.([^.]+)$")
  if not head then return value_sql("t0", field_column(entity, name, name)) end
  local link = entity.links[head]
  if not link then
    util.fail("'%s' in --fields: %s has no link '%s'%s", name, entity.name,
      head, util.suggestion(head, util.sorted_keys(entity.links)))
  end
  local parent = link.parent
  return string.format("(SELECT %s FROM %s p WHERE p.%s = t0.%s)",
    value_sql("p", field_column(parent, rest, name)), quote(parent.table),
    quote(link.references), quote(link.column))
end

-- The field names from --fields, or id and the label fields.
local function field_names(entity, text)
  if not text then
    local names = { "id" }
    for _, column in ipairs(entity.label) do
      for name, field in pairs(entity.fields) do
        if field.column == column then names[#names + 1] = name end
      end
    end
    return names
  end
  local names = {}
  for name in (text .. ","):gmatch("([^,]*),") do
    name = name:match("^%s*(.-)%s*$")
    if name == "" then
      args.usage_error("export", "--fields has an empty name; separate "
        .. "names with single commas, as in id,firstname,lastname")
    end
    names[#names + 1] = name
  end
  return names
end

-- Write the rows of `ids` of `entity` with `names` through `write(text)`.
function command.write(db, entity, ids, names, write)
  local columns = { "t0." .. quote(entity.key) .. " AS lethe_key" }
  for i, name in ipairs(names) do
    columns[i + 1] = column_sql(entity, name) .. " AS c" .. i
  end
  local sql = string.format("SELECT %s FROM %s t0 WHERE t0.%s IN "
    .. "lethe_ids(?1) AND t0.%s > ?2 ORDER BY t0.%s LIMIT %d",
    table.concat(columns, ", "), quote(entity.table), quote(entity.key),
    quote(entity.key), quote(entity.key), BATCH_ROWS)
  write(csv.record(names))
  local last = -1
  while true do
    local rows = db:rows(sql, { ids, last })
    local parts = {}
    for i, row in ipairs(rows) do
      local values = {}
      for j = 1, #names do values[j] = row["c" .. j] end
      parts[i] = csv.record(values, #names)
      last = row.lethe_key
    end
    write(table.concat(parts))
    if #rows < BATCH_ROWS then break end
  end
end

-- A writer to standard output or to the file `path`, which the first
-- write creates anew (so that a mistake in --fields leaves no file).
local function writer(path)
  if not path then
    return function(text) io.stdout:write(text) end
  end
  local mode = "replace"
  return function(text)
    local written, reason = native.write_file(path, text, mode)
    if not written then error(reason, 0) end
    mode = "append"
  end
end

-- The entity and ids of --selection NAME.
local function selection_ids(options)
  local db = session.open_database(options.db)
  local reference = options.model or session.database_model(db)
  if not reference then
    db:close()
    args.usage_error("export", "%s is not a Lethe CRM database; name its "
      .. "model with --model", options.db)
  end
  local definition = session.load_model(reference, db, options.db)
  local now = args.now("export", options.now)
  local selection = selections.resolve(db, definition, now,
    options.selection)
  return db, selection.entity, planner.evaluate(db, selection)
end

-- The entity and ids of --rule NAME of the policy.
local function rule_ids(options, positional)
  local run = session.prepare_run("export", options, positional)
  local rule = explain_command.find_rule(options.rule, run.policy, "export")
  local plan = planner.plan(run, run.policy)
  for _, planned in ipairs(plan.rules) do
    if planned.name == rule.name then
      return run.db, rule.entity, planned.ids
    end
  end
end

function command.run(arguments)
  local options, positional = args.parse("export", arguments,
    plugins.with_options(args.with_limits { db = "value", model = "value",
      now = "value", rule = "value", selection = "value", fields = "value",
      output = "value" }), { "POLICY?" })
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.db then args.usage_error("export", "missing --db FILE") end
  local db, entity, ids
  if options.selection then
    if positional[1] or options.rule then
      args.usage_error("export", "give either --selection NAME or POLICY "
        .. "with --rule NAME, not both")
    end
    db, entity, ids = selection_ids(options)
  else
    if not positional[1] or not options.rule then
      args.usage_error("export", "give POLICY with --rule NAME, or "
        .. "--selection NAME")
    end
    db, entity, ids = rule_ids(options, positional)
  end
  local names = field_names(entity, options.fields)
  command.write(db, entity, ids, names, writer(options.output))
  if options.output then
    io.stderr:write(string.format("Wrote %d %s records to %s.\n", #ids,
      entity.name, options.output))
  end
  db:close()
  return 0
end

return command
