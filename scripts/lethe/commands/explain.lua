-- lethe explain: which criteria of a rule held for one record.

local args = require "lethe.args"
local explain = require "lethe.explain"
local json = require "lethe.json"
local plugins = require "lethe.plugins"
local session = require "lethe.session"
local util = require "lethe.util"

local command = {
  summary = "show which criteria of a rule hold for one record",
  help = [[
Usage: lethe explain POLICY --db FILE --rule NAME --id N [options]

For record N of the rule's entity, list every criterion of the rule's
selection with its resolved values (date ranges), the record's own value
where the criterion tests one, and whether it held. Each criterion is
tested on its own. Set algebra is shown part by part. The last line says
whether the rule selects the record, or whether an earlier rule on the
same entity takes it first.

Options:
  --db FILE       the SQLite database (required)
  --rule NAME     the rule to explain (required)
  --id N          the record id (required)
  --model MODEL   model file or bundled model name
  --now TIME      reference time, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ
                  (default: the current time)
  --json          print the explanation as a JSON document
]] .. args.limits_help .. plugins.help,
}

-- Return the rule of `loaded` named `name`, or raise with a suggestion.
function command.find_rule(name, loaded, command_name)
  local names = {}
  for _, rule in ipairs(loaded.rules) do
    if rule.name == name then return rule end
    names[#names + 1] = rule.name
  end
  args.usage_error(command_name, "policy %s has no rule \"%s\"%s",
    loaded.source, name, util.suggestion(name, names))
end

function command.run(arguments)
  local options, positional = args.parse("explain", arguments,
    plugins.with_options(args.with_limits { db = "value", model = "value",
      now = "value", rule = "value", id = "value", json = "flag" }),
    { "POLICY" })
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.rule then
    args.usage_error("explain", "missing --rule NAME")
  end
  if not options.id then args.usage_error("explain", "missing --id N") end
  local id = args.integer("explain", "id", options.id, 0, 0xffffffff)
  local run = session.prepare_run("explain", options, positional)
  local rule = command.find_rule(options.rule, run.policy, "explain")
  local result = explain.rule(run, rule, id)
  if options.json then
    args.out(json.encode(explain.document(result), true))
  else
    explain.text(result, args.out)
  end
  run.db:close()
  return result.exists and 0 or 1
end

return command
