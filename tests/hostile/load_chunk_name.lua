-- Loaded code named like Lethe's own modules.
-- expect: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

load("while true do end", "=[lethe]/scripts/lethe/cli.lua")()
