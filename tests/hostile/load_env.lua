-- load with an environment of the script's choosing.
-- expect: a loaded chunk always runs in the script's own environment

load("return 1", "x", "t", {})
