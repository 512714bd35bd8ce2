-- The command line: parsing arguments and running the commands. Exit
-- status 0 is success, 1 a failed run, 2 bad usage.

local dates = require "lethe.dates"
local executor = require "lethe.executor"
local model = require "lethe.model"
local native = require "lethe.native"
local planner = require "lethe.planner"
local policy = require "lethe.policy"
local report = require "lethe.report"
local rights = require "lethe.rights"
local criteria = require "lethe.criteria"
local json = require "lethe.json"

local cli = {}

-- A usage error carries its command so the message can point at --help.
local function usage_error(command, format, ...)
  error({ usage = true, command = command,
          message = string.format(format, ...) }, 0)
end

local function out(line)
  io.stdout:write(line, "\n")
end

local commands = {}

-- Option specifications: name -> "value" or "flag".
local function parse(command, arguments, spec, positional_names)
  local options, positional = {}, {}
  local i = 1
  while i <= #arguments do
    local argument = arguments[i]
    if argument == "--help" or argument == "-h" then
      options.help = true
    elseif argument:sub(1, 2) == "--" then
      local name, inline = argument:match("^%-%-([^=]+)=(.*)$")
      name = name or argument:sub(3)
      local kind = spec[name]
      if not kind then
        usage_error(command, "unknown option --%s", name)
      end
      if kind == "flag" then
        if inline then usage_error(command, "--%s takes no value", name) end
        options[name] = true
      else
        local value = inline
        if not value then
          i = i + 1
          value = arguments[i]
        end
        if value == nil then
          usage_error(command, "--%s needs a value", name)
        end
        options[name] = value
      end
    else
      positional[#positional + 1] = argument
    end
    i = i + 1
  end
  if options.help then return options, positional end
  if #positional > #positional_names then
    usage_error(command, "unexpected argument '%s'",
      positional[#positional_names + 1])
  end
  for index, name in ipairs(positional_names) do
    if positional[index] == nil then
      usage_error(command, "missing %s", name)
    end
  end
  return options, positional
end

local function parse_integer(command, option, text, minimum)
  local value = math.tointeger(tonumber(text))
  if not value or value < minimum then
    usage_error(command, "--%s must be a whole number of at least %d, not "
      .. "'%s'", option, minimum, tostring(text))
  end
  return value
end

local function parse_now(command, text)
  if text == nil then return native.time() end
  local instant, reason = dates.parse(text)
  if not instant then
    usage_error(command, "invalid --now '%s': %s (example: --now "
      .. "2024-06-30 or --now 2024-06-30T12:00:00Z)", text, reason)
  end
  return instant
end

local function open_database(path)
  local db, message = native.open(path, "existing")
  if not db then error(message, 0) end
  return db
end

-- Load the policy `reference` (a path, or the name of a bundled policy)
-- for a run on `db`.
local function load_policy(reference, db, db_path, now, model_option)
  local text, source
  if reference:find("/") or reference:find("%.lua$") then
    local message
    text, message = native.read_file(reference)
    if not text then error("cannot read policy: " .. message, 0) end
    source = reference
  else
    source = "scripts/policies/" .. reference .. ".lua"
    text = native.embedded(source)
    if not text then
      error(string.format("unknown policy '%s'; the bundled policies are "
        .. "retention, sakila and northwind, or give a file path",
        reference), 0)
    end
  end
  local loaded_model
  local function resolve_model(declared)
    local name = model_option or declared
    if not name then
      local has_meta = db:scalar("SELECT count(*) FROM sqlite_schema "
        .. "WHERE type = 'table' AND name = 'lethe_meta'") > 0
      if has_meta then
        name = db:scalar("SELECT value FROM lethe_meta WHERE key = "
          .. "'schema'")
      end
    end
    if not name then
      error(string.format("no model for %s: the policy names none and %s "
        .. "is not a Lethe CRM database; add model = \"...\" to policy "
        .. "{ } or pass --model FILE", source, db_path), 0)
    end
    loaded_model = model.load(name)
    model.check_database(loaded_model, db, db_path)
    return loaded_model
  end
  return policy.load(text, source, { db = db, now = now,
                                     resolve_model = resolve_model })
end

local function new_run(db, db_path, loaded, now, samples)
  return {
    db = db, db_path = db_path, policy = loaded, now = now,
    samples = samples,
    context_factory = function()
      return criteria.context(loaded.model, db, now)
    end,
  }
end

local plan_help = [[
Usage: lethe plan POLICY --db FILE [options]

Evaluate every rule of POLICY against the database and print what applying
it would do, without changing anything. POLICY is a file, or the name of a
bundled policy (retention, sakila, northwind).

Options:
  --db FILE       the SQLite database (required)
  --model MODEL   model file or bundled model name (default: the one the
                  policy names, else the database's own)
  --now TIME      reference time, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ
                  (default: the current time)
  --samples N     sample rows shown per rule (default 5)
  --json          print the plan as a JSON document
]]

local function prepare_run(command, options, positional)
  if not options.db then usage_error(command, "missing --db FILE") end
  local now = parse_now(command, options.now)
  local samples = options.samples
    and parse_integer(command, "samples", options.samples, 0) or 5
  local db = open_database(options.db)
  local loaded = load_policy(positional[1], db, options.db, now,
    options.model)
  return new_run(db, options.db, loaded, now, samples)
end

local function print_plan(plan, run, as_json)
  if as_json then
    out(report.json(plan, run))
  else
    report.text(plan, run, out)
  end
end

function commands.plan(arguments)
  local options, positional = parse("plan", arguments, {
    db = "value", model = "value", now = "value", json = "flag",
    samples = "value" }, { "POLICY" })
  if options.help then io.stdout:write(plan_help) return 0 end
  local run = prepare_run("plan", options, positional)
  local plan = planner.plan(run, run.policy)
  print_plan(plan, run, options.json)
  run.db:close()
  return 0
end

local apply_help = [[
Usage: lethe apply POLICY --db FILE [options]

Plan POLICY as `lethe plan` does, then carry it out in one transaction. The
acting user needs the delete right (for delete rules) and the update right
(for update rules), and the run must be confirmed with the plan's digest:
typed at the prompt, or given with --yes. Nothing changes if the database
moved since the plan, or if anything fails.

Options:
  --db FILE       the SQLite database (required)
  --model MODEL   model file or bundled model name
  --now TIME      reference time, UTC (default: the current time)
  --as USER       the acting user (default: the login name)
  --yes DIGEST    confirm without a prompt; DIGEST is the plan digest
  --samples N     sample rows shown per rule (default 5)
  --json          print the plan as a JSON document
]]

local function confirm(plan, options)
  local expected = report.short_digest(plan.digest)
  local given = options.yes
  if not given then
    if not native.isatty(0) then
      error("apply needs confirmation: rerun with --yes " .. expected
        .. " after checking the plan above; nothing was changed", 0)
    end
    given = native.read_line("Type the plan digest (" .. expected
      .. ") to apply it, or press Enter to cancel: ")
    if not given or given == "" then
      error("cancelled; nothing was changed", 0)
    end
  end
  if given ~= expected and given ~= plan.digest then
    error(string.format("confirmation '%s' does not match the plan digest "
      .. "%s; nothing was changed", given, expected), 0)
  end
end

function commands.apply(arguments)
  local options, positional = parse("apply", arguments, {
    db = "value", model = "value", now = "value", json = "flag",
    samples = "value", as = "value", yes = "value" }, { "POLICY" })
  if options.help then io.stdout:write(apply_help) return 0 end
  local user = options.as or native.username()
  if not user or user == "" then
    usage_error("apply", "cannot tell who is acting; pass --as USER")
  end
  local run = prepare_run("apply", options, positional)
  local plan = planner.plan(run, run.policy)
  print_plan(plan, run, options.json)
  executor.check_rights(run.db, user, plan, run.db_path)
  confirm(plan, options)
  executor.apply(run, plan.digest, user)
  io.stderr:write(string.format("Applied plan %s as %s.\n",
    report.short_digest(plan.digest), user))
  run.db:close()
  return 0
end

local init_help = [[
Usage: lethe init FILE [--sample] [--persons N] [--seed S] [--now TIME]

Create a new database with the default CRM schema. With --sample, fill it
with synthetic CRM data: N persons (default 2000), deterministic for a seed
(default 1) and a reference day (--now, default today), with registrations
spread over the twelve years before that day.
]]

local function sample_options(command, options)
  local now = parse_now(command, options.now)
  return {
    persons = parse_integer(command, "persons", options.persons or "2000", 1),
    seed = parse_integer(command, "seed", options.seed or "1", 0),
    anchor = now - now % 86400,
    progress = native.isatty(2),
  }
end

function commands.init(arguments)
  local options, positional = parse("init", arguments, {
    sample = "flag", persons = "value", seed = "value", now = "value" },
    { "FILE" })
  if options.help then io.stdout:write(init_help) return 0 end
  local sample = nil
  if options.sample then
    sample = sample_options("init", options)
  elseif options.persons or options.seed or options.now then
    usage_error("init", "--persons, --seed and --now need --sample")
  end
  local ok, message = native.create_database(positional[1], sample)
  if not ok then error(message, 0) end
  io.stderr:write(string.format("Created %s%s.\n", positional[1],
    sample and string.format(" with %d sample persons", sample.persons)
      or ""))
  return 0
end

local demo_help = [[
Usage: lethe demo [--db FILE] [--persons N] [--seed S] [--now TIME] [--json]

Create a sample CRM database (lethe-demo.db unless --db says otherwise; an
existing file is reused) and plan the bundled retention policy on it. Only
plans: nothing is deleted.
]]

function commands.demo(arguments)
  local options = parse("demo", arguments, { db = "value",
    persons = "value", seed = "value", now = "value", json = "flag" }, {})
  if options.help then io.stdout:write(demo_help) return 0 end
  local path = options.db or "lethe-demo.db"
  local sample = sample_options("demo", options)
  local db = native.open(path, "existing")
  if db then
    db:close()
    io.stderr:write("Using the existing " .. path .. ".\n")
  else
    local ok, message = native.create_database(path, sample)
    if not ok then error(message, 0) end
    io.stderr:write(string.format("Created %s with %d sample persons.\n",
      path, sample.persons))
  end
  local plan_arguments = { "retention", "--db", path }
  if options.now then
    plan_arguments[#plan_arguments + 1] = "--now"
    plan_arguments[#plan_arguments + 1] = options.now
  end
  if options.json then plan_arguments[#plan_arguments + 1] = "--json" end
  return commands.plan(plan_arguments)
end

local rights_help = [[
Usage: lethe grant USER RIGHT --db FILE
       lethe revoke USER RIGHT --db FILE
       lethe rights --db FILE

Give, take back or list rights. RIGHT is delete (needed to apply delete
rules) or update (needed to apply update rules).
]]

local function change_right(command, arguments, grant)
  local options, positional = parse(command, arguments, { db = "value" },
    { "USER", "RIGHT" })
  if options.help then io.stdout:write(rights_help) return 0 end
  if not options.db then usage_error(command, "missing --db FILE") end
  local user, right = positional[1], positional[2]
  if not rights.known[right] then
    usage_error(command, "unknown right '%s'; the rights are delete and "
      .. "update", right)
  end
  local db = open_database(options.db)
  db:ensure_lethe_tables()
  local changed
  if grant then
    changed = db:exec("INSERT INTO lethe_right (user, right, granted) "
      .. "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
      { user, right, dates.format(native.time()) })
  else
    changed = db:exec("DELETE FROM lethe_right WHERE user = ?1 AND "
      .. "right = ?2", { user, right })
  end
  db:close()
  local verb = grant and "granted" or "revoked"
  if changed == 0 then
    io.stderr:write(string.format("%s %s the %s right already.\n", user,
      grant and "holds" or "does not hold", right))
  else
    io.stderr:write(string.format("%s the %s right %s %s.\n",
      grant and "Gave" or "Took", right, grant and "to" or "from", user))
  end
  local _ = verb
  return 0
end

commands.grant = function(arguments)
  return change_right("grant", arguments, true)
end

commands.revoke = function(arguments)
  return change_right("revoke", arguments, false)
end

function commands.rights(arguments)
  local options = parse("rights", arguments, { db = "value" }, {})
  if options.help then io.stdout:write(rights_help) return 0 end
  if not options.db then usage_error("rights", "missing --db FILE") end
  local db = open_database(options.db)
  for _, row in ipairs(rights.list(db)) do
    out(string.format("%s\t%s\t%s", row.user, row.right, row.granted))
  end
  db:close()
  return 0
end

local audit_help = [[
Usage: lethe audit --db FILE [--json]

List the audit records of applied rules, oldest first, and check the hash
chain that links them. Exits with 1 if a record was changed or removed.
]]

function commands.audit(arguments)
  local options = parse("audit", arguments, { db = "value", json = "flag" },
    {})
  if options.help then io.stdout:write(audit_help) return 0 end
  if not options.db then usage_error("audit", "missing --db FILE") end
  local db = open_database(options.db)
  local rows = rights.audit_rows(db)
  db:close()
  local broken = 0
  for _, row in ipairs(rows) do
    if not row.intact then broken = broken + 1 end
  end
  if options.json then
    out(json.encode(json.array(rows), true))
  else
    for _, row in ipairs(rows) do
      out(string.format("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", row.audit_id,
        row.at, row.user, row.policy, row.rule, row.action, row.counts,
        row.intact and "ok" or "BROKEN CHAIN"))
    end
  end
  if broken > 0 then
    io.stderr:write(string.format("lethe: %d audit records fail the hash "
      .. "check; the audit trail was changed\n", broken))
    return 1
  end
  return 0
end

local main_help = [[
Usage: lethe COMMAND [options]

Lethe applies GDPR retention policies, written in Lua, to a CRM database.

Commands:
  demo      create a sample CRM database and plan the bundled policy on it
  init      create a database with the default CRM schema (and sample data)
  plan      show what a policy would do, changing nothing
  apply     carry out a policy after confirmation
  grant     give a user a right (delete, update)
  revoke    take a right back
  rights    list rights
  audit     list audit records and check their hash chain

Run `lethe COMMAND --help` for the options of a command.
  --version   print the version
]]

-- Run the command line `arguments` (argv without the program name) and
-- return the exit status.
function cli.main(arguments)
  local name = arguments[1]
  if name == nil or name == "--help" or name == "-h" or name == "help" then
    io.stdout:write(main_help)
    return name == nil and 2 or 0
  end
  if name == "--version" or name == "version" then
    out("lethe " .. native.version)
    return 0
  end
  local command = commands[name]
  if not command then
    io.stderr:write(string.format("lethe: unknown command '%s'; run "
      .. "`lethe --help` for the list\n", name))
    return 2
  end
  local rest = table.move(arguments, 2, #arguments, 1, {})
  local ok, result = pcall(command, rest)
  if ok then return result end
  if type(result) == "table" and result.usage then
    io.stderr:write(string.format("lethe %s: %s; see `lethe %s --help`\n",
      result.command, result.message, result.command))
    return 2
  end
  io.stderr:write("lethe: " .. tostring(result) .. "\n")
  return 1
end

return cli
