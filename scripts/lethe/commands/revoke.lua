-- lethe revoke: take a right back.

local rights = require "lethe.rights"

return {
  summary = "take a right back",
  help = rights.help,
  run = function(arguments)
    return rights.change_command("revoke", arguments, false)
  end,
}
