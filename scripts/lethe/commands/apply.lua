-- lethe apply: carry out a policy, or a saved plan, after confirmation.

local args = require "lethe.args"
local batches = require "lethe.batches"
local erasure = require "lethe.erasure"
local executor = require "lethe.executor"
local explain_command = require "lethe.commands.explain"
local keys = require "lethe.keys"
local idset = require "lethe.idset"
local native = require "lethe.native"
local plan_command = require "lethe.commands.plan"
local planfile = require "lethe.planfile"
local planner = require "lethe.planner"
local plugins = require "lethe.plugins"
local report = require "lethe.report"
local rights = require "lethe.rights"
local session = require "lethe.session"

local command = {
  summary = "carry out a policy after confirmation",
  help = [[
Usage: lethe apply POLICY --db FILE [options]
       lethe apply --plan PLAN [--db FILE] [options]

Plan POLICY as `lethe plan` does, then carry it out in one transaction. The
acting user needs the delete right (for delete rules) and the update right
(for update rules), and the run must be confirmed with the plan's digest:
typed at the prompt, or given with --yes. Nothing changes if the database
moved since the plan, or if anything fails.

With --plan, apply acts on exactly the ids saved by `lethe plan -o PLAN`.
If the database moved since (planned ids gone, planned ids that no longer
match or are now vetoed, new matches, cascades that changed), it lists
every difference and stops, unless --only-still-matching says to act on
the planned ids that still match; that smaller plan then has a digest of
its own to confirm.

Options:
  --db FILE       the SQLite database (required unless --plan names it)
  --plan PLAN     apply a plan saved with `lethe plan -o PLAN`
  --only-still-matching
                  with --plan: act on the planned ids that still match
  --rule NAME     act on this rule only (the others change nothing)
  --only IDS      with --rule: act only on these ids, comma-separated
  --model MODEL   model file or bundled model name
  --now TIME      reference time, UTC (default: the current time)
  --as USER       the acting user (default: the login name)
  --all-rows ENTITY
                  confirm a delete_all() rule that empties ENTITY's table
  --yes DIGEST    confirm without a prompt; DIGEST is the plan digest
  --export PATH   before deleting, write the rows about to go to PATH:
                  one JSON document if PATH ends in .json, else one CSV
                  file per table named PATH-TABLE.csv
  --ledger FILE   append keyed hashes of the erased ids, e-mail addresses
                  and phone numbers to FILE, for `lethe reapply`
  --key-file FILE the secret key for the ledger and the audit digests
                  (default: the LETHE_KEY_FILE environment variable)
  --batch-size N  apply in batches of N rows, each committed on its own,
                  for very large runs; an interrupted run (Ctrl-C, a
                  crash) has committed whole batches only
  --resume        finish the interrupted batched run of --db, on the ids
                  it froze when it started
  --vacuum        rebuild the database file after the run (slower; frees
                  space and leaves no old page behind)
  --skip-erasure-steps
                  leave out secure_delete, the full-text index purge and
                  the file check; for testing what they prevent
  --samples N     sample rows shown per rule (default 5)
  --json          print the plan as a JSON document
]] .. args.limits_help .. plugins.help,
}

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
  -- A digest pasted from a terminal may carry spaces around it.
  given = given:match("^%s*(.-)%s*$")
  if given ~= expected and given ~= plan.digest then
    error(string.format("confirmation '%s' does not match the plan digest "
      .. "%s; nothing was changed", given, expected), 0)
  end
end

-- Parse --only: positive integer ids separated by commas.
local function parse_ids(text)
  local ids = {}
  for item in (text .. ","):gmatch("([^,]*),") do
    local id = math.tointeger(tonumber(item))
    if not id or id < 0 or id > 0xffffffff then
      args.usage_error("apply", "--only takes record ids separated by "
        .. "commas, such as --only 12,15; '%s' is not one", item)
    end
    ids[#ids + 1] = id
  end
  return ids
end

-- Restrict the run to one rule (and optionally some of its ids).
local function restrict_to_rule(run, options)
  if options.only and not options.rule then
    args.usage_error("apply", "--only needs --rule NAME")
  end
  if not options.rule then return end
  local restrict = {}
  local found = explain_command.find_rule(options.rule, run.policy, "apply")
  if options.only then
    restrict[found.name] = idset.from_array(found.entity.name,
      parse_ids(options.only))
    run.only_rule = found.name
  else
    restrict[found.name] = planner.evaluate(run.db, found.selection)
  end
  run.restrict = restrict
end

local function print_differences(differences, changes)
  io.stderr:write("The database changed since the plan was made:\n")
  for _, difference in ipairs(differences) do
    local sample = {}
    for i, id in ipairs(difference.sample) do sample[i] = tostring(id) end
    io.stderr:write(string.format("  rule \"%s\": %d %s (ids %s%s)\n",
      difference.rule, difference.count, difference.kind,
      table.concat(sample, ", "), difference.count > #sample and ", ..."
        or ""))
  end
  for _, change in ipairs(changes) do
    io.stderr:write(string.format("  %s: the plan said %d rows, now %d\n",
      change.what, change.planned, change.now))
  end
end

-- Open the saved plan's database and policy and restrict the run to the
-- planned ids. Returns the run and the digest to confirm.
local function prepare_saved_run(options)
  local saved = planfile.load(options.plan)
  local db_path = options.db or saved.database.path
  local db = session.open_database(db_path)
  local id = planfile.database_id(db)
  if saved.database.id ~= nil and type(saved.database.id) == "string"
      and saved.database.id ~= id then
    db:close()
    error(string.format("the plan %s was made on another database than %s; "
      .. "nothing was changed", options.plan, db_path), 0)
  end
  local policy_text = saved.policy.text
  local ok, loaded = pcall(session.load_policy, policy_text,
    saved.policy.source, db, db_path, saved.now,
    options.model or saved.model.reference)
  if not ok then
    db:close()
    error(loaded, 0)
  end
  local samples = options.samples
    and args.integer("apply", "samples", options.samples, 0) or 5
  local run = session.new_run(db, db_path, loaded, saved.now, samples,
    policy_text)
  run.snapshot = executor.snapshot(db)
  local current = planner.plan(run, loaded)
  local differences, still = planfile.compare(db, saved, current)
  local restrict = {}
  for _, rule in ipairs(saved.rules) do restrict[rule.name] = rule.acting end
  run.restrict = restrict
  local plan = planner.plan(run, loaded)
  local changes = plan.digest == saved.digest and {}
    or planfile.compare_totals(saved, plan)
  if #differences == 0 and plan.digest == saved.digest then
    return run, plan
  end
  print_differences(differences, changes)
  if not options["only-still-matching"] then
    db:close()
    error("nothing was changed; make a new plan, or rerun with "
      .. "--only-still-matching to act on the planned ids that still match",
      0)
  end
  run.restrict = still
  return run, planner.plan(run, loaded)
end

local function prepare_policy_run(options, positional)
  local run = session.prepare_run("apply", options, positional)
  restrict_to_rule(run, options)
  plugins.before("before_plan", run, { command = "apply" })
  run.snapshot = executor.snapshot(run.db)
  local plan = planner.plan(run, run.policy)
  run.hooks_failed = not plugins.after("after_plan", run,
    { command = "apply", plan = plan })
  return run, plan
end

function command.run(arguments)
  local spec = { now = "value", plan = "value",
    ["only-still-matching"] = "flag", rule = "value", only = "value",
    resume = "flag" }
  for name, kind in pairs(command.options) do spec[name] = kind end
  local options, positional = args.parse("apply", arguments, spec,
    { "POLICY?" })
  if options.help then io.stdout:write(command.help) return 0 end
  local user = command.user(options, "apply")
  if options.resume then return command.resume(options, user) end
  local run, plan
  if options.plan then
    if #positional > 0 then
      args.usage_error("apply", "give a POLICY or --plan PLAN, not both")
    end
    if options.now then
      args.usage_error("apply", "--now cannot change a saved plan's time")
    end
    run, plan = prepare_saved_run(options)
  else
    if options["only-still-matching"] then
      args.usage_error("apply", "--only-still-matching needs --plan PLAN")
    end
    if #positional == 0 then args.usage_error("apply", "missing POLICY") end
    run, plan = prepare_policy_run(options, positional)
  end
  return command.carry_out(run, plan, options, user)
end

-- Print the plan, check it, ask for confirmation and apply it; the part
-- of the run that apply and reapply share. Options used: json, yes,
-- all-rows, vacuum, skip-erasure-steps, key-file, ledger, export.
function command.carry_out(run, plan, options, user)
  plan_command.print(plan, run, options.json)
  executor.check_problems(plan)
  executor.check_rights(run.db, user, plan, run.db_path)
  executor.check_all_rows(plan, options["all-rows"])
  run.vacuum = options.vacuum
  run.key = keys.read(options["key-file"], run.db_path)
  run.ledger_path = options.ledger
  run.export_path = options.export
  if run.ledger_path and not run.key then
    error("--ledger needs a key: pass --key-file FILE or set LETHE_KEY_FILE",
      0)
  end
  local batch_size = options["batch-size"]
    and args.integer("apply", "batch-size",
      options["batch-size"], 1)
  confirm(plan, options)
  run.confirmed_plan = plan
  plugins.before_apply(run, plan, "apply")
  run.skip_erasure = options["skip-erasure-steps"]
  run.model = run.policy.model
  local check, outcome, state
  if batch_size then
    outcome, check, state = batches.apply(run, plan.digest, user, batch_size)
  else
    local applied
    applied, check = executor.apply(run, plan.digest, user)
    command.report_skips(applied)
  end
  for _, file in ipairs(run.exported or {}) do
    io.stderr:write("Exported the deleted rows to " .. file .. ".\n")
  end
  if outcome ~= "stopped" and not plugins.after_apply(run, plan, check,
      "apply") then
    run.hooks_failed = true
  end
  local status = command.report_outcome(run, check, outcome, state,
    string.format("Applied plan %s as %s.", report.short_digest(plan.digest),
      user))
  return run.hooks_failed and 1 or status
end

-- Print the rows that updates skipped, with SQLite's reason, and the
-- summary of updated and skipped rows.
function command.report_skips(plan)
  local updated, skipped = 0, 0
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      if effect.operation == "update" then
        local rows = effect.skipped or {}
        updated = updated + #effect.ids - #rows
        skipped = skipped + #rows
        for _, row in ipairs(rows) do
          io.stderr:write(string.format("Skipped %s #%s in rule \"%s\": "
            .. "%s\n", effect.entity.name, tostring(row.id), rule.name,
            row.reason))
        end
      end
    end
  end
  if updated + skipped > 0 then
    io.stderr:write(string.format("Updated %d rows, skipped %d.\n", updated,
      skipped))
  end
end

-- Print how a run ended and return the exit status: 1 when a batched run
-- stopped early or the erasure check found copies.
function command.report_outcome(run, check, outcome, state, done_message)
  if outcome == "stopped" then
    io.stderr:write(string.format("Stopped after %d of %d rows, every "
      .. "finished batch committed; resume with `lethe apply --resume --db "
      .. "%s`.\n", state.done_rows, state.total_rows, run.db_path))
    if not run.keep_open then run.db:close() end
    return 1
  end
  io.stderr:write(done_message, "\n")
  if check then io.stderr:write(erasure.describe(check), "\n") end
  if not run.keep_open then run.db:close() end
  if check and not check.verified then return 1 end
  return 0
end

local function rights_for_effects(db)
  local needed = {}
  for _, row in ipairs(db:rows("SELECT DISTINCT operation FROM "
      .. "lethe_run_effect e JOIN lethe_run r USING (run_id) WHERE "
      .. "r.state = 'running'")) do
    needed[row.operation == "update" and "update" or "delete"] = true
  end
  return needed
end

-- lethe apply --resume: finish the unfinished batched run of --db.
function command.resume(options, user)
  if not options.db then args.usage_error("apply", "--resume needs --db FILE") end
  local db = session.open_database(options.db)
  local state = batches.unfinished(db)
  if not state then
    db:close()
    error(string.format("%s has no unfinished batched run to resume",
      options.db), 0)
  end
  for right in pairs(rights_for_effects(db)) do
    if not rights.holds(db, user, right) then
      db:close()
      error(string.format("user %s does not hold the %s right on %s; an "
        .. "administrator grants it with `lethe grant %s %s --db %s`", user,
        right, options.db, user, right, options.db), 0)
    end
  end
  local reference = options.model or session.database_model(db)
  local run = { db = db, db_path = options.db, vacuum = options.vacuum,
                skip_erasure = options["skip-erasure-steps"],
                ledger_path = options.ledger,
                key = keys.read(options["key-file"], options.db),
                model = reference and session.load_model(reference, db,
                  options.db) or nil }
  db:script(run.skip_erasure and "PRAGMA secure_delete = OFF"
    or "PRAGMA secure_delete = ON")
  io.stderr:write(string.format("Resuming batched run %d of plan %s: %d of "
    .. "%d rows were done.\n", state.run_id,
    report.short_digest(state.plan_digest), state.done_rows,
    state.total_rows))
  local outcome, check = batches.process(run, state)
  return command.report_outcome(run, check, outcome, state, string.format(
    "Finished batched run %d as %s.", state.run_id, user))
end

-- The options that apply and reapply share, for args.parse.
command.options = plugins.with_options(args.with_limits {
  db = "value", model = "value", json = "flag", samples = "value",
  as = "value", yes = "value", ["all-rows"] = "value", vacuum = "flag",
  ["skip-erasure-steps"] = "flag", ["key-file"] = "value", ledger = "value",
  export = "value", ["batch-size"] = "value",
})

-- The acting user: --as, else the login name.
function command.user(options, name)
  local user = options.as or native.username()
  if not user or user == "" then
    args.usage_error(name, "cannot tell who is acting; pass --as USER")
  end
  return user
end

return command
