-- dofile and loadfile.
-- expect: undefined global 'dofile'

dofile("/etc/passwd")
