-- lethe apply: carry out a policy after confirmation.

local args = require "lethe.args"
local executor = require "lethe.executor"
local native = require "lethe.native"
local plan_command = require "lethe.commands.plan"
local planner = require "lethe.planner"
local report = require "lethe.report"
local session = require "lethe.session"

local command = {
  summary = "carry out a policy after confirmation",
  help = [[
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
]],
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
  if given ~= expected and given ~= plan.digest then
    error(string.format("confirmation '%s' does not match the plan digest "
      .. "%s; nothing was changed", given, expected), 0)
  end
end

function command.run(arguments)
  local options, positional = args.parse("apply", arguments, {
    db = "value", model = "value", now = "value", json = "flag",
    samples = "value", as = "value", yes = "value" }, { "POLICY" })
  if options.help then io.stdout:write(command.help) return 0 end
  local user = options.as or native.username()
  if not user or user == "" then
    args.usage_error("apply", "cannot tell who is acting; pass --as USER")
  end
  local run = session.prepare_run("apply", options, positional)
  local plan = planner.plan(run, run.policy)
  plan_command.print(plan, run, options.json)
  executor.check_rights(run.db, user, plan, run.db_path)
  confirm(plan, options)
  executor.apply(run, plan.digest, user)
  io.stderr:write(string.format("Applied plan %s as %s.\n",
    report.short_digest(plan.digest), user))
  run.db:close()
  return 0
end


return command
