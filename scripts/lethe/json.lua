-- A JSON encoder for plans and reports. Objects are written with their
-- keys sorted, so the same value always gives the same text. Tables with
-- a positive length are arrays; `json.array()` marks an empty array.

local json = {}

-- A value that encodes as null inside tables, where nil cannot stand.
json.null = setmetatable({}, { __tostring = function() return "null" end })

local array_marker = setmetatable({}, { __mode = "k" })

-- Return an empty table that encodes as [] rather than {}.
function json.array(items)
  local array = items or {}
  array_marker[array] = true
  return array
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function encode_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local encode

local function encode_table(value, indent, depth)
  local pad = indent and "\n" .. string.rep("  ", depth + 1) or ""
  local close = indent and "\n" .. string.rep("  ", depth) or ""
  local separator = indent and ": " or ":"
  local parts = {}
  if #value > 0 or array_marker[value] then
    for i, item in ipairs(value) do
      parts[i] = pad .. encode(item, indent, depth + 1)
    end
    if #parts == 0 then return "[]" end
    return "[" .. table.concat(parts, ",") .. close .. "]"
  end
  local keys = {}
  for key in pairs(value) do
    if type(key) ~= "string" then
      error("JSON object keys must be strings, not " .. type(key))
    end
    keys[#keys + 1] = key
  end
  table.sort(keys)
  for i, key in ipairs(keys) do
    parts[i] = pad .. encode_string(key) .. separator
      .. encode(value[key], indent, depth + 1)
  end
  if #parts == 0 then return "{}" end
  return "{" .. table.concat(parts, ",") .. close .. "}"
end

function encode(value, indent, depth)
  local kind = type(value)
  if kind == "nil" or value == json.null then return "null" end
  if kind == "boolean" then return tostring(value) end
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      return "null"
    end
    if math.type(value) == "integer" then return tostring(value) end
    return string.format("%.17g", value)
  end
  if kind == "string" then return encode_string(value) end
  if kind == "table" then return encode_table(value, indent, depth) end
  error("cannot encode a " .. kind .. " as JSON")
end

-- Encode `value`; `pretty` indents with two spaces.
function json.encode(value, pretty)
  return encode(value, pretty or nil, 0)
end

return json
