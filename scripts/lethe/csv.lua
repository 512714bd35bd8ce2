-- CSV as RFC 4180 describes it: fields separated by commas, records by
-- CRLF, and a field quoted when it holds a comma, a double quote, CR or
-- LF, with inner quotes doubled.

local csv = {}

-- Return one field as CSV text; nil becomes an empty field.
function csv.field(value)
  if value == nil then return "" end
  local text = tostring(value)
  if text:find('[,"\r\n]') then
    return '"' .. text:gsub('"', '""') .. '"'
  end
  return text
end

-- Return one record (a list of values, `count` long) as a CSV line with
-- its CRLF ending.
function csv.record(values, count)
  local fields = {}
  for i = 1, count or #values do fields[i] = csv.field(values[i]) end
  return table.concat(fields, ",") .. "\r\n"
end

-- Return a document: a header record of `columns`, then one record per
-- row (rows are tables keyed by column name).
function csv.document(columns, rows)
  local parts = { csv.record(columns) }
  for _, row in ipairs(rows) do
    local values = {}
    for i, column in ipairs(columns) do values[i] = row[column] end
    parts[#parts + 1] = csv.record(values, #columns)
  end
  return table.concat(parts)
end

return csv
