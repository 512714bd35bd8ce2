-- lethe grant: give a user a right (delete, update).

local rights = require "lethe.rights"

return {
  summary = "give a user a right (delete, update)",
  help = rights.help,
  run = function(arguments)
    return rights.change_command("grant", arguments, true)
  end,
}
