-- Reaching the methods of API objects through getmetatable.
-- expect: attempt to index a nil value \(field '__index'\)

local person = entity "person"
assert(getmetatable(person) == "entity")
getmetatable(person:all()).__index.where = nil
