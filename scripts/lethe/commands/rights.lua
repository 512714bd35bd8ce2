-- lethe rights: list the rights held in a database.

local args = require "lethe.args"
local rights = require "lethe.rights"
local session = require "lethe.session"

local command = {
  summary = "list rights",
  help = rights.help,
}

function command.run(arguments)
  local options = args.parse("rights", arguments, { db = "value" }, {})
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.db then args.usage_error("rights", "missing --db FILE") end
  local db = session.open_database(options.db)
  for _, row in ipairs(rights.list(db)) do
    args.out(string.format("%s\t%s\t%s", row.user, row.right, row.granted))
  end
  db:close()
  return 0
end


return command
