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

-- Raise an error whose message carries no position: the caller adds the
-- script line where the mistake was made.
function util.fail(format, ...)
  error(string.format(format, ...), 0)
end

return util
