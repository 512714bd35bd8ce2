-- Adding a field to strings.
-- expect: attempt to index a string value

("").x = 1
