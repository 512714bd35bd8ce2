-- A forged selection in a rule.
-- expect: select must be a selection

rule "forged" {
  select = setmetatable({ kind = "all" }, { __metatable = "selection" }),
  action = delete(),
}
