-- Replacing the metatable of a selection.
-- expect: cannot change a protected metatable

setmetatable((entity "person"):all(), {})
