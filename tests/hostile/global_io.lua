-- io.open.
-- expect: undefined global 'io'

io.open("/etc/passwd")
