-- The REPL: a Lua prompt on one database, in the same sandbox and with the
-- same policy API as policy files, for building selections ad hoc. A line
-- is first tried as an expression (as Lua's own interpreter does), then
-- as a statement; an incomplete chunk continues on the next line.

local csv = require "lethe.csv"
local dates = require "lethe.dates"
local idset = require "lethe.idset"
local native = require "lethe.native"
local planner = require "lethe.planner"
local policy = require "lethe.policy"
local report = require "lethe.report"
local sandbox = require "lethe.sandbox"
local terminal = require "lethe.terminal"
local util = require "lethe.util"

local repl = {}

local quote = util.quote

-- Rows a set shows, and items a table shows, before the output is cut.
repl.shown_rows = 10
repl.shown_items = 40

-- Output -----------------------------------------------------------------------

local function display_width(text)
  return utf8.len(text) or #text
end

local function fit(text, width)
  if display_width(text) <= width then
    return text .. string.rep(" ", width - display_width(text))
  end
  local cut = {}
  for _, code in utf8.codes(text) do
    if #cut == width - 1 then break end
    cut[#cut + 1] = utf8.char(code)
  end
  return table.concat(cut) .. "…"
end

-- Lines of an aligned table of `rows` (lists of text) under `header`,
-- no wider than `width`.
function repl.table_lines(header, rows, width)
  local widths = {}
  for i, name in ipairs(header) do widths[i] = display_width(name) end
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do
      widths[i] = math.max(widths[i] or 0, display_width(cell))
    end
  end
  local total = #widths * 2
  for _, w in ipairs(widths) do total = total + w end
  while total > width and #widths > 0 do
    local widest = 1
    for i, w in ipairs(widths) do if w > widths[widest] then widest = i end end
    if widths[widest] <= 6 then break end
    widths[widest] = widths[widest] - 1
    total = total - 1
  end
  local function line(cells)
    local parts = {}
    for i = 1, #widths do parts[i] = fit(cells[i] or "", widths[i]) end
    return (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  local lines = { line(header) }
  local rule = {}
  for i, w in ipairs(widths) do rule[i] = string.rep("-", w) end
  lines[#lines + 1] = table.concat(rule, "  ")
  for _, row in ipairs(rows) do lines[#lines + 1] = line(row) end
  return lines
end

local function cell_text(value)
  if value == nil then return "" end
  return util.printable(tostring(value))
end

-- Print a set: its entity, count, memory and its first rows. `noun`
-- counts the set's members: "records" for a selection, whose ids all
-- have rows, or "ids" for a set built by hand.
local function show_set(session, set, noun)
  local entity = session.model.entities[set:entity()]
  local count = #set
  session.out(string.format("%s: %d %s (%d bytes)", set:entity(), count,
    noun, set:bytes()))
  if not entity or count == 0 then return end
  local columns = { entity.key }
  for _, column in ipairs(entity.label) do
    if column ~= entity.key then columns[#columns + 1] = column end
  end
  local quoted = {}
  for i, column in ipairs(columns) do quoted[i] = "t0." .. quote(column) end
  -- A set with more ids than the table has rows (a range built by hand)
  -- is looked up row by row in key order, because SQLite would read
  -- every id of the set to find the first rows.
  local condition = "t0.%s IN lethe_ids(?1)"
  if noun == "ids" and count > session.db:scalar(
      "SELECT count(*) FROM " .. quote(entity.table)) then
    condition = "EXISTS (SELECT 1 FROM lethe_ids(?1) AS s WHERE s.id = t0.%s)"
  end
  local rows = session.db:rows(string.format("SELECT %s FROM %s t0 WHERE "
    .. condition .. " ORDER BY t0.%s LIMIT %d",
    table.concat(quoted, ", "), quote(entity.table), quote(entity.key),
    quote(entity.key), repl.shown_rows), { set })
  local cells = {}
  for i, row in ipairs(rows) do
    cells[i] = {}
    for j, column in ipairs(columns) do cells[i][j] = cell_text(row[column]) end
  end
  for _, line in ipairs(repl.table_lines(columns, cells, terminal.width())) do
    session.out(line)
  end
  if #rows < repl.shown_rows and count > #rows then
    -- Every row was shown, so the other ids (of a set built by hand)
    -- have no row.
    local missing = count - #rows
    session.out(string.format("(%d %s no row in %s)", missing,
      missing == 1 and "id has" or "ids have", entity.table))
  elseif count > #rows then
    session.out(string.format("(%d more not shown)", count - #rows))
  end
end

local function value_text(value, depth, seen)
  if type(value) == "string" then return string.format("%q", value) end
  if type(value) ~= "table" or policy.is_selection(value) then
    return tostring(value)
  end
  if seen[value] or depth > 2 then return "{...}" end
  seen[value] = true
  local parts, count = {}, 0
  for key, item in pairs(value) do
    count = count + 1
    if count > repl.shown_items then
      parts[#parts + 1] = "..."
      break
    end
    local name = math.type(key) == "integer" and "" or (tostring(key) .. " = ")
    parts[#parts + 1] = name .. value_text(item, depth + 1, seen)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- Print one result value.
function repl.show(session, value)
  if policy.is_selection(value) then
    show_set(session, planner.evaluate(session.db, value), "records")
    return
  end
  if type(value) == "userdata"
      and pcall(function() return value:entity() end) then
    if pcall(function() return #value end) then
      show_set(session, value, "ids")
    else
      session.out(tostring(value)) -- a closed set has no ids to show
    end
    return
  end
  session.out(value_text(value, 0, {}))
end

-- Dot-commands -----------------------------------------------------------------

local dot = {}

dot.help = function(session)
  for _, line in ipairs {
    "Type Lua: expressions print their value, selections print as sets.",
    "  person:where { { \"category\", \"=\", \"Prospect\" } }",
    "  apply { select = SELECTION, action = delete() }   plan, confirm, apply",
    ".help                  this text",
    ".schema [ENTITY]       entities, or the fields and relations of one",
    ".plan POLICY           plan a policy file or bundled policy",
    ".explain ID EXPRESSION which criteria of a selection hold for a record",
    ".timer on|off          show how long each line takes",
    ".export FILE EXPRESSION write a selection's rows to FILE as CSV",
    ".quit                  leave (Ctrl-D on an empty line does too)",
  } do
    session.out(line)
  end
end

dot.schema = function(session, argument)
  local entities = session.model.entities
  if argument == "" then
    local rows = {}
    for _, name in ipairs(util.sorted_keys(entities)) do
      local entity = entities[name]
      rows[#rows + 1] = { name, entity.table, tostring(session.db:scalar(
        "SELECT count(*) FROM " .. quote(entity.table))) }
    end
    for _, line in ipairs(repl.table_lines({ "entity", "table", "rows" }, rows,
        terminal.width())) do
      session.out(line)
    end
    return
  end
  local entity = entities[argument]
  if not entity then
    util.fail("unknown entity '%s'%s", argument, util.suggestion(argument,
      util.sorted_keys(entities)))
  end
  local rows = {}
  for _, name in ipairs(util.sorted_keys(entity.fields)) do
    local field = entity.fields[name]
    rows[#rows + 1] = { name, field.type, field.column,
      field.personal and "personal" or "" }
  end
  for _, name in ipairs(util.sorted_keys(entity.links)) do
    local link = entity.links[name]
    rows[#rows + 1] = { name, "link to " .. link.parent.name, link.column,
      link.on_delete }
  end
  for _, name in ipairs(util.sorted_keys(entity.relations)) do
    local link = entity.relations[name]
    rows[#rows + 1] = { name, "relation to " .. link.child.name,
      link.child.table .. "." .. link.column, link.on_delete }
  end
  session.out(string.format("%s: table %s, key %s", entity.name,
    entity.table, entity.key))
  for _, line in ipairs(repl.table_lines({ "name", "type", "column", "" },
      rows, terminal.width())) do
    session.out(line)
  end
end

dot.plan = function(session, argument)
  if argument == "" then util.fail(".plan needs a policy file or name") end
  local session_module = require "lethe.session"
  local text, source = session_module.read_policy(argument)
  local loaded = session_module.load_policy(text, source, session.db,
    session.db_path, session.now, session.model_reference)
  local run = session_module.new_run(session.db, session.db_path, loaded,
    session.now, 5, text)
  report.text(planner.plan(run, loaded), run, session.out)
end

dot.timer = function(session, argument)
  if argument ~= "on" and argument ~= "off" then
    util.fail(".timer takes on or off")
  end
  session.timer = argument == "on"
end

local function evaluate_expression(session, text)
  local chunk, message = load("return " .. text, "@repl", "t", session.env)
  if not chunk then util.fail("%s", message) end
  local value = chunk()
  if policy.is_selection(value) then
    return value, planner.evaluate(session.db, value)
  end
  return value, value
end

dot.explain = function(session, argument)
  local id_text, expression = argument:match("^(%d+)%s+(.+)$")
  if not id_text then
    util.fail(".explain takes an id and a selection, such as .explain 12 "
      .. "person:where { ... }")
  end
  local selection = evaluate_expression(session, expression)
  if not policy.is_selection(selection) then
    util.fail(".explain needs a selection, such as person:where { ... }")
  end
  local testing = require "lethe.testing"
  local rule = { entity = selection.entity, selection = selection }
  local run = { db = session.db, now = session.now,
                policy = { model = session.model } }
  local id = math.tointeger(tonumber(id_text))
  local set = planner.evaluate(session.db, selection)
  session.out(string.format("%s %d is %sselected", selection.entity.name, id,
    set:contains(id) and "" or "not "))
  for _, line in ipairs(testing.explain(run, rule, id)) do
    session.out(line)
  end
end

dot.export = function(session, argument)
  local file, expression = argument:match("^(%S+)%s+(.+)$")
  if not file then
    util.fail(".export takes a file and a selection: .export out.csv "
      .. "person:where { ... }")
  end
  local _, set = evaluate_expression(session, expression)
  if type(set) ~= "userdata" then util.fail(".export needs a selection") end
  local entity = session.model.entities[set:entity()]
  local rows, columns = session.db:rows(string.format("SELECT * FROM %s "
    .. "WHERE %s IN lethe_ids(?1) ORDER BY %s", quote(entity.table),
    quote(entity.key), quote(entity.key)), { set })
  local ok, message = native.write_file(file, csv.document(columns, rows))
  if not ok then util.fail("%s", message) end
  session.out(string.format("Wrote %d rows to %s.", #rows, file))
end

-- Completion ---------------------------------------------------------------------

local set_methods = { "contains", "ids", "to_array", "min", "max", "sample",
  "serialize", "bytes", "entity", "complement", "copy" }
local selection_methods = { "where", "related", "all" }

local function matching(candidates, prefix, into)
  for _, candidate in ipairs(candidates) do
    if candidate:sub(1, #prefix) == prefix then into[#into + 1] = candidate end
  end
  return into
end

-- Candidates for `text` given the line before it.
function repl.complete(session, text, before)
  local found = {}
  if before:match("^%s*%.$") then
    -- "." breaks words, so a dot-command arrives without its dot.
    local names = util.sorted_keys(dot)
    names[#names + 1] = "quit"
    return matching(names, text, found)
  end
  -- Inside a criteria table: field names of the entity before :where.
  local entity_name = before:match("([%a_][%w_]*)%s*:%s*where%s*[%({][^}]*$")
  if entity_name and before:match("[\"']$") then
    local entity = session.model.entities[entity_name]
    if entity then
      local names = require("lethe.model").member_names(entity)
      table.sort(names)
      return matching(names, text, found)
    end
  end
  local receiver = before:match("([%a_][%w_]*)[:.]$")
  if receiver then
    if session.model.entities[receiver] then
      return matching(selection_methods, text, found)
    end
    local value = rawget(session.env, receiver)
    if type(value) == "userdata" then return matching(set_methods, text, found) end
    if policy.is_selection(value) then
      return matching(selection_methods, text, found)
    end
    if type(value) == "table" then
      return matching(util.sorted_keys(value), text, found)
    end
    return found
  end
  local names = {}
  for name in pairs(session.env) do names[#names + 1] = tostring(name) end
  table.sort(names)
  return matching(names, text, found)
end

-- Evaluation ---------------------------------------------------------------------

-- Compile `text` as an expression, else as a statement. Returns the
-- chunk, or nil and "incomplete" when more lines may finish it, or nil and
-- the syntax error.
local function compile(session, text)
  local chunk = load("return " .. text, "@repl", "t", session.env)
  if chunk then return chunk end
  local message
  chunk, message = load(text, "@repl", "t", session.env)
  if chunk then return chunk end
  if message:match("<eof>$") then return nil, "incomplete" end
  return nil, message
end

local function clock_ms()
  return os.clock() * 1000
end

-- Run one complete chunk and print its results.
local function run_chunk(session, chunk)
  local started = clock_ms()
  sandbox.reset() -- each evaluation has limits of its own
  local results = table.pack(terminal.run(session.db, sandbox.call, "repl",
    chunk))
  if not results[1] then
    session.errors = session.errors + 1
    session.err("error: " .. tostring(results[2]))
  else
    for i = 2, results.n do
      local ok, message = pcall(repl.show, session, results[i])
      if not ok then
        session.errors = session.errors + 1
        session.err("error: " .. tostring(message))
      end
    end
  end
  if session.timer then
    session.out(string.format("time: %.1f ms", clock_ms() - started))
  end
end

local function run_dot(session, line)
  local name, argument = line:match("^%.(%a+)%s*(.-)%s*$")
  if name == "quit" or name == "exit" then return "quit" end
  local handler = dot[name or ""]
  if not handler then
    session.errors = session.errors + 1
    session.err(string.format("error: unknown command %s; .help lists them",
      line:match("^%S+")))
    return
  end
  local ok, message = terminal.run(session.db, handler, session, argument)
  if not ok then
    session.errors = session.errors + 1
    session.err("error: " .. tostring(message))
  end
end

-- The global environment of the session: the policy API, every entity of
-- the model under its own name (where no API name is taken), apply and
-- the id-set constructors.
local function environment(session)
  local api = policy.session(session.db, session.model, session.now)
  local extra = {}
  for name, value in pairs(api) do extra[name] = value end
  for name in pairs(session.model.entities) do
    if extra[name] == nil then extra[name] = api.entity(name) end
  end
  -- The set constructors take only the model's entity names, so that a
  -- misspelt entity is an error, as it is everywhere else.
  local function checked(constructor)
    return function(entity, ...)
      if type(entity) ~= "string" or not session.model.entities[entity] then
        local names = util.sorted_keys(session.model.entities)
        if type(entity) ~= "string" then
          error(string.format("an entity name (%s) expected, got %s",
            table.concat(names, ", "), type(entity)), 2)
        end
        error(string.format("unknown entity '%s'%s", entity,
          util.suggestion(entity, names)), 2)
      end
      return constructor(entity, ...)
    end
  end
  extra.set = { new = checked(idset.new),
                from_array = checked(idset.from_array),
                range = checked(idset.range),
                deserialize = idset.deserialize }
  -- set.of(selection): the ids the selection contains now, as a set to keep
  -- and combine without querying the database again.
  extra.set.of = function(selection)
    if not policy.is_selection(selection) then
      error(string.format("set.of needs a selection, such as "
        .. "person:where { ... }, got %s", type(selection)), 2)
    end
    return planner.evaluate(session.db, selection)
  end
  extra.apply = function(body)
    return repl.apply(session, body)
  end
  extra.print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    session.out(table.concat(parts, "\t", 1, parts.n))
  end
  return sandbox.environment(extra)
end

-- apply { select = ..., action = ..., name = ... }: the same plan, rights
-- and confirmation as `lethe apply`.
function repl.apply(session, body)
  if type(body) ~= "table" then
    error("apply takes { select = SELECTION, action = delete() }", 2)
  end
  local name = body.name or "repl"
  body.name = nil
  local loaded = policy.session_policy(name, body, session.line or "")
  local session_module = require "lethe.session"
  local run = session_module.new_run(session.db, session.db_path, loaded,
    session.now, 5, nil)
  local apply_command = require "lethe.commands.apply"
  local plan = planner.plan(run, loaded)
  run.keep_open = true
  local status = apply_command.carry_out(run, plan, {}, session.user)
  return status == 0 and "applied" or "not applied"
end

local function history_path()
  local state = os.getenv("XDG_STATE_HOME")
  if not state or state == "" then
    local home = os.getenv("HOME")
    if not home or home == "" then return nil end
    state = home .. "/.local/state"
  end
  native.make_directories(state .. "/lethe")
  return state .. "/lethe/history"
end

-- Run the read-eval-print loop. `options`: db, db_path, model, now, user.
-- Returns the exit status: 0, or 1 when input from a pipe had errors.
function repl.run(options)
  local interactive = terminal.is_terminal()
  local session = {
    db = options.db, db_path = options.db_path, model = options.model,
    model_reference = options.model_reference, now = options.now,
    user = options.user, errors = 0, timer = false,
    out = function(line) io.stdout:write(line, "\n") io.stdout:flush() end,
    err = function(line) io.stderr:write(line, "\n") end,
  }
  session.env = environment(session)
  local history = interactive and history_path() or nil
  if interactive then
    if history then terminal.read_history(history) end
    terminal.set_completer(function(text, before)
      return repl.complete(session, text, before)
    end)
    session.out(string.format("Lethe %s on %s (model %s, reference time %s "
      .. "UTC). .help for help.", native.version, options.db_path,
      options.model.name, dates.format(options.now)))
  end
  local buffer = nil
  while true do
    local line, cancelled = terminal.readline(buffer and "  ...> "
      or "lethe> ")
    if line == nil then break end
    if interactive and line:match("%S") then terminal.add_history(line) end
    if cancelled then
      -- Ctrl-C at a prompt drops the line and an unfinished statement.
      buffer = nil
    elseif not buffer and line:match("^%s*%.") then
      if run_dot(session, line:match("^%s*(.-)%s*$")) == "quit" then break end
    elseif buffer or line:match("%S") then
      local text = buffer and (buffer .. "\n" .. line) or line
      session.line = text
      local chunk, message = compile(session, text)
      if chunk then
        buffer = nil
        run_chunk(session, chunk)
      elseif message == "incomplete" then
        buffer = text
      else
        buffer = nil
        session.errors = session.errors + 1
        session.err("error: " .. message)
      end
    end
  end
  if history then terminal.write_history(history) end
  if buffer then
    session.errors = session.errors + 1
    session.err("error: the input ended inside an unfinished statement")
  end
  if not interactive and session.errors > 0 then return 1 end
  return 0
end

return repl
