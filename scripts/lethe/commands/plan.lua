-- lethe plan: show what a policy would do, changing nothing.

local args = require "lethe.args"
local keys = require "lethe.keys"
local planfile = require "lethe.planfile"
local planner = require "lethe.planner"
local plugins = require "lethe.plugins"
local report = require "lethe.report"
local session = require "lethe.session"

local command = {
  summary = "show what a policy would do, changing nothing",
  help = [[
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
  --key-file FILE the key for anonymisation by keyed hash, so that the
                  preview shows the real hashes (default: LETHE_KEY_FILE;
                  without one the preview hashes under a stand-in key)
  -o, --output FILE
                  also save the plan to FILE, for `lethe apply --plan FILE`
]] .. args.limits_help .. plugins.help,
}

-- Print `plan` as text or, with `as_json`, as a JSON document.
function command.print(plan, run, as_json)
  if as_json then
    args.out(report.json(plan, run))
  else
    report.text(plan, run, args.out)
  end
end

function command.run(arguments)
  local options, positional = args.parse("plan", arguments,
    plugins.with_options(args.with_limits { db = "value", model = "value",
      now = "value", json = "flag", samples = "value", output = "value",
      ["key-file"] = "value" }),
    { "POLICY" })
  if options.help then io.stdout:write(command.help) return 0 end
  local run = session.prepare_run("plan", options, positional)
  run.key = keys.read(options["key-file"], run.db_path)
  plugins.before("before_plan", run, { command = "plan" })
  local plan = planner.plan(run, run.policy)
  command.print(plan, run, options.json)
  if options.output then
    planfile.save(options.output, plan, run, run.text, options.model)
    io.stderr:write("Saved the plan to " .. options.output .. ".\n")
  end
  local hooks_ok = plugins.after("after_plan", run, { command = "plan",
    plan = plan })
  run.db:close()
  return hooks_ok and 0 or 1
end

return command
