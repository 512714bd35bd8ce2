-- Changing the SQL of a selection.
-- expect: selection objects cannot be changed

local everyone = (entity "person"):where { { "lastname", "=", "nobody" } }
everyone.sql = "1 = 1"
