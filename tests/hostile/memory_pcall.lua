-- Memory errors caught with pcall, again and again.
-- expect: memory limit of 64 MB reached
-- options: --memory-limit 64

local kept = {}
while true do
  local ok, piece = pcall(string.rep, "x", 1e7)
  kept[#kept + 1] = piece
end
