-- lethe plugins: list the plugins that load, where from, with versions.

local args = require "lethe.args"
local json = require "lethe.json"
local plugins = require "lethe.plugins"

local command = {
  summary = "list plugins: what loads, from where, with versions",
  help = [[
Usage: lethe plugins [--plugin-dir DIR...] [--plugin NAME...] [--json]

Load every plugin (NAME.so and NAME.lua) in the plugin directories, or
only the plugins named with --plugin, and list each: its name, version,
kind (C with its ABI version, or Lua), the file it was loaded from and
what it registers. Plugins that fail to load are listed with the reason.
Exits with 1 when one failed.

Options:
  --json          print the list as a JSON document
]] .. plugins.help,
}

-- One line per extension: "guard bookkeeping_persons (person): reason".
local function extension_line(extension)
  local parts = { "  ", extension.kind:gsub("_", " "), " ", extension.name }
  if extension.entity then
    parts[#parts + 1] = " (" .. extension.entity .. ")"
  end
  if extension.kind == "function" then
    parts[#parts + 1] = string.format("(%s) -> %s",
      table.concat(extension.parameters, ", "), extension.result)
  end
  local text = extension.description or extension.reason
  if text and text ~= "" then parts[#parts + 1] = ": " .. text end
  return table.concat(parts)
end

local function print_text(loaded, failures)
  args.out("Plugin directories:")
  if #plugins.directories() == 0 then args.out("  (none configured)") end
  for _, directory in ipairs(plugins.directories()) do
    args.out(string.format("  %s (%s)", directory.path, directory.origin))
  end
  for _, plugin in ipairs(loaded) do
    args.out("")
    args.out(string.format("%s %s (%s%s)", plugin.name, plugin.version,
      plugin.kind, plugin.abi and ", ABI " .. plugin.abi or ""))
    args.out("  from " .. plugin.path)
    if plugin.description ~= "" then args.out("  " .. plugin.description) end
    for _, extension in ipairs(plugin.extensions) do
      args.out(extension_line(extension))
    end
  end
  if #failures > 0 then
    args.out("")
    args.out("Not loaded:")
    for _, failure in ipairs(failures) do
      args.out("  " .. failure.message)
    end
  end
end

local function as_json(loaded, failures)
  local document = { directories = json.array(), plugins = json.array(),
                     failures = json.array() }
  for _, directory in ipairs(plugins.directories()) do
    table.insert(document.directories, { path = directory.path,
                                         origin = directory.origin })
  end
  for _, plugin in ipairs(loaded) do
    local entry = { name = plugin.name, version = plugin.version,
                    kind = plugin.kind, abi = plugin.abi, path = plugin.path,
                    description = plugin.description,
                    extensions = json.array() }
    for _, extension in ipairs(plugin.extensions) do
      table.insert(entry.extensions, { kind = extension.kind,
        name = extension.name, entity = extension.entity,
        description = extension.description, reason = extension.reason })
    end
    table.insert(document.plugins, entry)
  end
  for _, failure in ipairs(failures) do
    table.insert(document.failures, failure)
  end
  return json.encode(document, true)
end

function command.run(arguments)
  local options = args.parse("plugins", arguments,
    plugins.with_options { json = "flag" }, {})
  if options.help then io.stdout:write(command.help) return 0 end
  local loaded, failures
  if options.plugin then
    loaded, failures = plugins.loaded(), plugins.failures()
  else
    loaded, failures = plugins.load_all()
  end
  if options.json then
    args.out(as_json(loaded, failures))
  else
    print_text(loaded, failures)
  end
  return #failures == 0 and 0 or 1
end

return command
