-- lethe demo: create a sample CRM database and plan the bundled policy.

local args = require "lethe.args"
local init_command = require "lethe.commands.init"
local native = require "lethe.native"
local plan_command = require "lethe.commands.plan"

local command = {
  summary = "create a sample CRM database and plan the bundled policy on it",
  help = [[
Usage: lethe demo [--db FILE] [--persons N] [--seed S] [--now TIME] [--json]

Create a sample CRM database (lethe-demo.db unless --db says otherwise; an
existing file is reused) and plan the bundled retention policy on it. Only
plans: nothing is deleted.
]] .. args.limits_help,
}

function command.run(arguments)
  local options = args.parse("demo", arguments, args.with_limits {
    db = "value", persons = "value", seed = "value", now = "value",
    json = "flag" }, {})
  if options.help then io.stdout:write(command.help) return 0 end
  local path = options.db or "lethe-demo.db"
  local sample = init_command.sample_options("demo", options)
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
  for name in pairs(args.limit_options) do
    if options[name] then
      plan_arguments[#plan_arguments + 1] = "--" .. name
      plan_arguments[#plan_arguments + 1] = options[name]
    end
  end
  return plan_command.run(plan_arguments)
end


return command
