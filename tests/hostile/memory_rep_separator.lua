-- string.rep with a huge separator.
-- expect: memory limit of 64 MB reached
-- options: --memory-limit 64

local s = ("x"):rep(1e4, ("y"):rep(1e5))
