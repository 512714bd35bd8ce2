-- load asked for binary mode.
-- expect: only text chunks can be loaded \(mode "t"\)

load("return 1", "x", "b")
