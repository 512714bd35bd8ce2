-- An endless loop inside a coroutine, caught by resume.
-- expect: instruction limit of 10000000 reached
-- options: --instruction-limit 10000000

while true do
  coroutine.resume(coroutine.create(function() while true do end end))
end
