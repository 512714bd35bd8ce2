-- lethe init: create a database with the default CRM schema.

local args = require "lethe.args"
local native = require "lethe.native"

local command = {
  summary = "create a database with the default CRM schema (and sample data)",
  help = [[
Usage: lethe init FILE [--sample] [--persons N] [--seed S] [--now TIME]

Create a new database with the default CRM schema. With --sample, fill it
with synthetic CRM data: N persons (default 2000), deterministic for a seed
(default 1) and a reference day (--now, default today), with registrations
spread over the twelve years before that day.
]],
}

-- Sample data options from --persons, --seed and --now. The anchor is the
-- start of the reference day, so that one day's runs give the same data.
function command.sample_options(name, options)
  local now = args.now(name, options.now)
  return {
    persons = args.integer(name, "persons", options.persons or "2000", 1),
    seed = args.integer(name, "seed", options.seed or "1", 0),
    anchor = now - now % 86400,
    progress = native.isatty(2),
  }
end

function command.run(arguments)
  local options, positional = args.parse("init", arguments, {
    sample = "flag", persons = "value", seed = "value", now = "value" },
    { "FILE" })
  if options.help then io.stdout:write(command.help) return 0 end
  local sample = nil
  if options.sample then
    sample = command.sample_options("init", options)
  elseif options.persons or options.seed or options.now then
    args.usage_error("init", "--persons, --seed and --now need --sample")
  end
  local ok, message = native.create_database(positional[1], sample)
  if not ok then error(message, 0) end
  io.stderr:write(string.format("Created %s%s.\n", positional[1],
    sample and string.format(" with %d sample persons", sample.persons)
      or ""))
  return 0
end


return command
