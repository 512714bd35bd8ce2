-- bad_lua_init.lua: a Lua plugin whose init registers a strategy and then
-- fails; none of its registrations may stay.
return {
  version = "0.0.1",
  init = function(lethe)
    lethe.strategy { name = "never", value = function() return "x" end }
    error("the configuration service is unreachable")
  end,
}
