-- An endless loop with the instruction limit off.
-- expect: time limit of 1 s reached
-- options: --instruction-limit 0 --time-limit 1

while true do end
