-- utf8.codes on a stray continuation byte.
-- expect: (invalid UTF-8 code|declares no rules)

for _, code in utf8.codes("\x80") do print(code) end
