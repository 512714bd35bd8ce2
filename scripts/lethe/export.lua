-- Export before delete: the rows a run is about to remove, written for
-- the owner's own review, only to the path the user gave. A path ending
-- in .json gets one document with every table; any other path is a CSV
-- stem: PATH-TABLE.csv per table (for example out.csv gives
-- out-person.csv and out-appointment.csv).

local csv = require "lethe.csv"
local json = require "lethe.json"
local native = require "lethe.native"
local util = require "lethe.util"

local export = {}

local function rows_of(db, effect)
  local entity = effect.entity
  return db:rows(string.format("SELECT * FROM %s WHERE %s IN lethe_ids(?1) "
    .. "ORDER BY %s", util.quote(entity.table), util.quote(entity.key),
    util.quote(entity.key)), { effect.ids })
end

local function write(path, text)
  local ok, message = native.write_file(path, text)
  if not ok then error(message, 0) end
end

-- Write the rows that the plan's delete effects remove. Call inside the
-- transaction, before the deletes. Returns the list of files written.
function export.write(db, plan, path)
  local tables, order = {}, {}
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      if effect.operation == "delete" then
        local name = effect.entity.table
        if not tables[name] then
          tables[name] = { columns = nil, rows = {} }
          order[#order + 1] = name
        end
        local rows, columns = rows_of(db, effect)
        tables[name].columns = columns
        table.move(rows, 1, #rows, #tables[name].rows + 1, tables[name].rows)
      end
    end
  end
  if path:match("%.json$") then
    local document = {}
    for _, name in ipairs(order) do
      document[name] = json.array(tables[name].rows)
    end
    write(path, json.encode(document, true) .. "\n")
    return { path }
  end
  local stem = path:gsub("%.csv$", "")
  local files = {}
  for _, name in ipairs(order) do
    local file = stem .. "-" .. name:gsub("[^%w_-]", "_") .. ".csv"
    write(file, csv.document(tables[name].columns, tables[name].rows))
    files[#files + 1] = file
  end
  return files
end

return export
