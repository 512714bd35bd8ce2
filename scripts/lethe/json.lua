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

-- Decoding -------------------------------------------------------------------

local decode_value

local function decode_error(text, position, what)
  local line = select(2, text:sub(1, position):gsub("\n", "")) + 1
  error(string.format("invalid JSON at line %d: %s", line, what), 0)
end

local function skip_space(text, position)
  return text:find("[^ \t\r\n]", position) or #text + 1
end

local string_escapes = {
  ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
  r = "\r", t = "\t",
}

local function decode_string(text, position)
  local parts, start = {}, position + 1
  while true do
    local stop = text:find('["\\]', start)
    if not stop then decode_error(text, position, "unterminated string") end
    parts[#parts + 1] = text:sub(start, stop - 1)
    if text:sub(stop, stop) == '"' then
      return table.concat(parts), stop + 1
    end
    local escape = text:sub(stop + 1, stop + 1)
    if escape == "u" then
      local hex = text:sub(stop + 2, stop + 5)
      if not hex:match("^%x%x%x%x$") then
        decode_error(text, stop, "invalid \\u escape")
      end
      local code = tonumber(hex, 16)
      if code >= 0xD800 and code <= 0xDBFF then
        local low = text:sub(stop + 6, stop + 11):match("^\\u(%x%x%x%x)$")
        if not low then decode_error(text, stop, "unpaired surrogate") end
        code = 0x10000 + (code - 0xD800) * 0x400 + (tonumber(low, 16) - 0xDC00)
        stop = stop + 6
      end
      parts[#parts + 1] = utf8.char(code)
      start = stop + 6
    elseif string_escapes[escape] then
      parts[#parts + 1] = string_escapes[escape]
      start = stop + 2
    else
      decode_error(text, stop, "invalid escape")
    end
  end
end

local function decode_number(text, position)
  local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", position)
  local value = number and math.tointeger(tonumber(number))
    or tonumber(number or "")
  if not value then decode_error(text, position, "invalid number") end
  return value, position + #number
end

local function decode_array(text, position)
  local array = json.array()
  position = skip_space(text, position + 1)
  if text:sub(position, position) == "]" then return array, position + 1 end
  while true do
    array[#array + 1], position = decode_value(text, position)
    position = skip_space(text, position)
    local c = text:sub(position, position)
    if c == "]" then return array, position + 1 end
    if c ~= "," then decode_error(text, position, "expected , or ]") end
    position = skip_space(text, position + 1)
  end
end

local function decode_object(text, position)
  local object = {}
  position = skip_space(text, position + 1)
  if text:sub(position, position) == "}" then return object, position + 1 end
  while true do
    if text:sub(position, position) ~= '"' then
      decode_error(text, position, "expected a string key")
    end
    local key
    key, position = decode_string(text, position)
    position = skip_space(text, position)
    if text:sub(position, position) ~= ":" then
      decode_error(text, position, "expected :")
    end
    object[key], position = decode_value(text, skip_space(text, position + 1))
    position = skip_space(text, position)
    local c = text:sub(position, position)
    if c == "}" then return object, position + 1 end
    if c ~= "," then decode_error(text, position, "expected , or }") end
    position = skip_space(text, position + 1)
  end
end

function decode_value(text, position)
  local c = text:sub(position, position)
  if c == "{" then return decode_object(text, position) end
  if c == "[" then return decode_array(text, position) end
  if c == '"' then return decode_string(text, position) end
  if c == "-" or c:match("%d") then return decode_number(text, position) end
  for word, value in pairs { ["true"] = true, ["false"] = false,
                             ["null"] = json.null } do
    if text:sub(position, position + #word - 1) == word then
      return value, position + #word
    end
  end
  decode_error(text, position, "unexpected character")
end

-- Decode a JSON document. null becomes json.null. Raises "invalid JSON at
-- line N: ..." on malformed input.
function json.decode(text)
  local value, position = decode_value(text, skip_space(text, 1))
  position = skip_space(text, position)
  if position <= #text then
    decode_error(text, position, "unexpected text after the document")
  end
  return value
end

return json
