-- Removing the environment's undefined-global check.
-- expect: cannot change a protected metatable

setmetatable(_G, nil)
