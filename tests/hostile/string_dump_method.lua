-- string.dump reached through the string metatable.
-- expect: attempt to call a nil value \(field 'dump'\)

("").dump(function() end)
