-- A model whose tables have metatables: Lethe would run their
-- metamethods later, outside the limits.
-- expect: model_metatable.lua: tables that a script returns cannot have a metatable
-- run: model

local crm = {
  name = "crm",
  entities = setmetatable({}, { __index = function() while true do end end }),
}
return crm
