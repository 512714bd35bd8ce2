-- Small helpers shared by Lethe's Lua modules.

local util = {}

-- Quote an SQL identifier ("Order Details" stays one name).
function util.quote(name)
  return '"' .. tostring(name):gsub('"', '""') .. '"'
end

-- Return the keys of a table in sorted order.
function util.sorted_keys(map)
  local keys = {}
  for key in pairs(map) do keys[#keys + 1] = key end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- Levenshtein distance, for "did you mean" suggestions.
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local previous = {}
  for j = 0, #b do previous[j] = j end
  for i = 1, #a do
    local current = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      current[j] = math.min(previous[j] + 1, current[j - 1] + 1,
        previous[j - 1] + cost)
    end
    previous = current
  end
  return previous[#b]
end

-- Return the candidate closest to `name`, or nil when none is close.
function util.closest(name, candidates)
  local best, best_distance
  for _, candidate in ipairs(candidates) do
    local d = distance(name, candidate)
    if not best_distance or d < best_distance then
      best, best_distance = candidate, d
    end
  end
  if best and best_distance <= math.max(2, #name // 3) then return best end
  return nil
end

-- Return " (did you mean 'x'?)" or a list of the known names.
function util.suggestion(name, candidates)
  local closest = util.closest(name, candidates)
  if closest then return "; did you mean '" .. closest .. "'?" end
  table.sort(candidates)
  if #candidates <= 12 then
    return "; known: " .. table.concat(candidates, ", ")
  end
  return ""
end

-- Return `text` with control characters escaped: C0 and DEL as \xNN, C1
-- as \u{NN}. Text from a database then cannot move the cursor, retitle
-- or clear a terminal when it is printed, nor break a table's alignment.
function util.printable(text)
  text = text:gsub("[\0-\31\127]", function(c)
    return string.format("\\x%02x", c:byte())
  end)
  return (text:gsub("\194([\128-\159])", function(c)
    return string.format("\\u{%x}", c:byte())
  end))
end

-- Raise an error whose message carries no position: the caller adds the
-- script line where the mistake was made.
function util.fail(format, ...)
  error(string.format(format, ...), 0)
end

local base64_alphabet =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Encode bytes as base64 (RFC 4648, with padding).
function util.base64_encode(data)
  local parts = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chunk = {}
    for j = 1, 4 do
      local index = (n >> (6 * (4 - j))) & 63
      chunk[j] = base64_alphabet:sub(index + 1, index + 1)
    end
    if not b then chunk[3] = "=" end
    if not c then chunk[4] = "=" end
    parts[#parts + 1] = table.concat(chunk)
  end
  return table.concat(parts)
end

-- Decode base64; returns nil and a reason for malformed input.
function util.base64_decode(text)
  if #text % 4 ~= 0 or text:find("[^%w+/=]") or text:find("=[^=]") then
    return nil, "not valid base64"
  end
  local parts = {}
  for i = 1, #text, 4 do
    local n, padding = 0, 0
    for j = 0, 3 do
      local c = text:sub(i + j, i + j)
      local index = 0
      if c == "=" then
        padding = padding + 1
      else
        index = base64_alphabet:find(c, 1, true) - 1
      end
      n = n * 64 + index
    end
    local bytes = string.char(n >> 16, (n >> 8) & 255, n & 255)
    parts[#parts + 1] = bytes:sub(1, 3 - padding)
  end
  return table.concat(parts)
end

return util
