-- os.getenv.
-- expect: attempt to call a nil value \(field 'getenv'\)

os.getenv("HOME")
