-- A model file that never returns.
-- expect: model_loop.lua: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000
-- run: model

while true do end
