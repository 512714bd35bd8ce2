-- lethe repl: a Lua prompt on one database for ad hoc selections.

local args = require "lethe.args"
local native = require "lethe.native"
local plugins = require "lethe.plugins"
local repl = require "lethe.repl"
local session = require "lethe.session"

local command = {
  summary = "a Lua prompt for ad hoc selections on a database",
  help = [[
Usage: lethe repl --db FILE [--model MODEL] [--now TIME] [--as USER]

Open a Lua prompt with the policy API and the model's entities, in the
same sandbox as policies. Expressions print their value; selections print
as their entity, count and first rows. Line editing, history (kept in
$XDG_STATE_HOME/lethe/history) and Tab completion of entities, fields,
methods and globals work at a terminal; Ctrl-C stops a running line and
Ctrl-D on an empty line leaves. `apply { select = ..., action = ... }` runs
the same plan, rights and confirmation as `lethe apply`.

Without a terminal it reads statements from standard input, prints no
prompt, and exits with 1 if any statement failed.

Options:
  --db FILE       the SQLite database (required)
  --model MODEL   model file or bundled model name (default: the database's
                  own)
  --now TIME      reference time, UTC (default: the current time)
  --as USER       the acting user for apply (default: the login name)
]] .. args.limits_help .. plugins.help,
}

function command.run(arguments)
  local options = args.parse("repl", arguments, plugins.with_options(
    args.with_limits { db = "value", model = "value", now = "value",
                       as = "value" }), {})
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.db then args.usage_error("repl", "missing --db FILE") end
  local now = args.now("repl", options.now)
  local db = session.open_database(options.db)
  local reference = options.model or session.database_model(db)
  if not reference then
    db:close()
    args.usage_error("repl", "%s is not a Lethe CRM database; name its "
      .. "model with --model", options.db)
  end
  local ok, loaded = pcall(session.load_model, reference, db, options.db)
  if not ok then
    db:close()
    error(loaded, 0)
  end
  local status = repl.run { db = db, db_path = options.db, model = loaded,
    model_reference = options.model, now = now,
    user = options.as or native.username() or "unknown" }
  db:close()
  return status
end

return command
