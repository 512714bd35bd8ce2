-- A pattern that backtracks for years inside string.find.
-- expect: time limit of 1 s reached while the script was inside a library call
-- options: --time-limit 1

string.find(string.rep("a", 40) .. "b", string.rep("a*", 30) .. "c")
