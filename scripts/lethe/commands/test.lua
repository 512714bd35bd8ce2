-- lethe test: run policy tests (*_test.lua files).

local args = require "lethe.args"
local json = require "lethe.json"
local native = require "lethe.native"
local plugins = require "lethe.plugins"
local testing = require "lethe.testing"

local command = {
  summary = "run policy tests (*_test.lua) against fixture databases",
  help = [[
Usage: lethe test [PATH...] [--json] [--no-coverage]

Run the policy tests in each PATH: a *_test.lua file, or a folder searched
for them (default: the current folder). Each test builds a small database
from its fixture rows, plans its policy at a fixed reference time and
checks the ids each rule selects, vetoes, deletes and updates, and the
rows left after applying. Prints one line per test, what differed for a
failed test (with the criteria that held or failed for each differing
id), which rules and criteria no test exercised, and a summary line
"N passed, N failed". Exits with 1 when a test fails.

Options:
  --json          print the results as a JSON document
  --no-coverage   leave out the coverage report
]] .. plugins.help,
}

local function collect(path, files)
  path = path:gsub("(.)/+$", "%1")
  if native.is_directory(path) then
    local names, message = native.list_dir(path)
    if not names then error(message, 0) end
    for _, name in ipairs(names) do
      local child = path .. "/" .. name
      if native.is_directory(child) then
        collect(child, files)
      elseif name:match("_test%.lua$") then
        files[#files + 1] = child
      end
    end
  elseif native.read_file(path) then
    files[#files + 1] = path
  else
    error("test file or folder " .. path .. " not found", 0)
  end
end

local function coverage_lines(coverage)
  local lines = {}
  for _, source in ipairs(require("lethe.util").sorted_keys(coverage)) do
    local record = coverage[source]
    lines[#lines + 1] = "Coverage of " .. source .. ":"
    for _, rule in ipairs(record.rules) do
      local missing = {}
      for _, item in ipairs(rule.criteria) do
        if not (item.held and item.failed) then
          missing[#missing + 1] = string.format("%s (%s)", item.text,
            item.held and "never failed" or "never held")
        end
      end
      if not rule.tested then
        lines[#lines + 1] = string.format("  rule \"%s\": no test expects "
          .. "anything of it", rule.name)
      elseif #missing == 0 then
        lines[#lines + 1] = string.format("  rule \"%s\": tested, every "
          .. "criterion held and failed", rule.name)
      else
        lines[#lines + 1] = string.format("  rule \"%s\": tested; not "
          .. "exercised: %s", rule.name, table.concat(missing, "; "))
      end
    end
  end
  return lines
end

function command.run(arguments)
  local options, paths = args.parse("test", arguments,
    plugins.with_options { json = "flag", ["no-coverage"] = "flag" },
    { any = true })
  if options.help then io.stdout:write(command.help) return 0 end
  if #paths == 0 then paths = { "." } end
  local files = {}
  for _, path in ipairs(paths) do collect(path, files) end
  if #files == 0 then error("no *_test.lua files found", 0) end
  local results, coverage = {}, {}
  local passed, failed = 0, 0
  for _, file in ipairs(files) do
    local ok, tests = pcall(testing.load, file)
    if not ok then
      failed = failed + 1
      results[#results + 1] = { file = file, name = "(loading)",
        status = "error", messages = { tostring(tests) } }
      tests = {}
    end
    for _, test in ipairs(tests) do
      local run_ok, result = pcall(testing.run, test, coverage)
      local entry = { file = file, name = test.name, line = test.line }
      if not run_ok then
        entry.status, entry.messages = "error", { tostring(result) }
      elseif #result.failures > 0 then
        entry.status, entry.messages = "failed", result.failures
      else
        entry.status, entry.messages = "passed", {}
      end
      if entry.status == "passed" then passed = passed + 1
      else failed = failed + 1 end
      results[#results + 1] = entry
    end
  end
  if options.json then
    local list = json.array()
    for i, entry in ipairs(results) do
      list[i] = { file = entry.file, name = entry.name, line = entry.line,
                  status = entry.status, messages = json.array(entry.messages) }
    end
    args.out(json.encode({ tests = list, passed = passed, failed = failed },
      true))
  else
    for _, entry in ipairs(results) do
      local where = entry.line and (entry.file .. ":" .. entry.line)
        or entry.file
      args.out(string.format("%-6s %s %s", entry.status:upper(), where,
        entry.name))
      for _, message in ipairs(entry.messages) do
        args.out("    " .. message:gsub("\n", "\n    "))
      end
    end
    if not options["no-coverage"] then
      args.out("")
      for _, line in ipairs(coverage_lines(coverage)) do args.out(line) end
    end
    args.out("")
    args.out(string.format("%d passed, %d failed", passed, failed))
  end
  return failed > 0 and 1 or 0
end

return command
