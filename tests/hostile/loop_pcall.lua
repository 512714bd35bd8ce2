-- An endless loop that catches the limit's error with pcall.
-- expect: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

while true do
  pcall(function() while true do end end)
end
