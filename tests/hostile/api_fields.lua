-- Reaching the model through a selection's fields.
-- expect: attempt to index a nil value

local definition = (entity "person"):all().entity
definition.table = "associate"
