-- The command line: dispatching to the command modules in
-- scripts/lethe/commands/. Exit status 0 is success, 1 a failed run, 2 bad
-- usage.

local native = require "lethe.native"

local cli = {}

-- Commands in the order `lethe --help` lists them; each is the module
-- lethe.commands.NAME with fields summary, help and run(arguments).
cli.commands = { "demo", "init", "plan", "apply", "grant", "revoke",
  "rights", "hold", "audit", "reapply", "test", "repl", "selection",
  "explain", "export", "plugins" }

local function main_help()
  local lines = {
    "Usage: lethe COMMAND [options]",
    "",
    "Lethe applies GDPR retention policies, written in Lua, to a CRM "
      .. "database.",
    "",
    "Commands:",
  }
  for _, name in ipairs(cli.commands) do
    local command = require("lethe.commands." .. name)
    lines[#lines + 1] = string.format("  %-9s %s", name, command.summary)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Run `lethe COMMAND --help` for the options of a "
    .. "command; `lethe --version` prints the version."
  return table.concat(lines, "\n") .. "\n"
end

local function find_command(name)
  for _, known in ipairs(cli.commands) do
    if known == name then return require("lethe.commands." .. name) end
  end
  return nil
end

-- Run the command line `arguments` (argv without the program name) and
-- return the exit status.
function cli.main(arguments)
  local name = arguments[1]
  if name == nil or name == "--help" or name == "-h" or name == "help" then
    io.stdout:write(main_help())
    return name == nil and 2 or 0
  end
  if name == "--version" or name == "version" then
    io.stdout:write("lethe ", native.version, "\n")
    return 0
  end
  local command = find_command(name)
  if not command then
    io.stderr:write(string.format("lethe: unknown command '%s'; run "
      .. "`lethe --help` for the list\n", name))
    return 2
  end
  local rest = table.move(arguments, 2, #arguments, 1, {})
  local ok, result = pcall(command.run, rest)
  if ok then return result end
  if type(result) == "table" and result.usage then
    io.stderr:write(string.format("lethe %s: %s; see `lethe %s --help`\n",
      result.command, result.message, result.command))
    return 2
  end
  io.stderr:write("lethe: " .. tostring(result) .. "\n")
  return 1
end

return cli
