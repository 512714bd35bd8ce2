-- text_masks.lua: an anonymisation strategy and a field action written in
-- Lua.
--
-- Example of a Lua plugin. It runs in the same sandbox as policies.
--
--   anonymise { firstname = "initial" }
--       keeps the first character (a whole UTF-8 character) and a dot:
--       "Måns" becomes "M."
--   update { title = field_action("truncate", 10) }
--       keeps the first n characters (n >= 0) of a text
--
-- SQLite calls both once per value; NULL stays NULL without a call.

local function first_characters(text, count)
  local result = {}
  for _, code in utf8.codes(text) do
    if #result == count then break end
    result[#result + 1] = utf8.char(code)
  end
  return table.concat(result)
end

-- Text that is not valid UTF-8 is cut by bytes instead.
local function prefix(text, count)
  if utf8.len(text) then return first_characters(text, count) end
  return text:sub(1, count)
end

return {
  version = "1.0.0",
  description = "the initial strategy and the truncate field action",
  init = function(lethe)
    lethe.strategy {
      name = "initial",
      description = "the first character and a dot",
      field_types = { "text" },
      value = function(value)
        local text = tostring(value)
        if text == "" then return text end
        return prefix(text, 1) .. "."
      end,
    }
    lethe.field_action {
      name = "truncate",
      description = "the first n characters",
      field_types = { "text" },
      min_args = 1, max_args = 1,
      value = function(value, count)
        if math.type(count) ~= "integer" or count < 0 then
          error("truncate needs a whole number of characters, 0 or more")
        end
        return prefix(tostring(value), count)
      end,
    }
  end,
}
