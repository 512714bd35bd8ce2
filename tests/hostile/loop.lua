-- An endless loop.
-- expect: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

while true do end
