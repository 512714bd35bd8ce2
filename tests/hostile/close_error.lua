-- An error thrown from __close.
-- expect: h.*: from __close

do
  local closer <close> = setmetatable({}, { __close = function()
    error("from __close")
  end })
end
