-- lua_points.lua: a Lua test plugin with every extension point a Lua
-- plugin has: a criterion compiled to SQL, a per-row criterion, a guard,
-- a field action, a strategy and hooks.

return {
  version = "0.1.0",
  description = "every Lua extension point, for the tests",
  init = function(lethe)
    local minimum = tonumber(lethe.option("minimum_amount") or "1000")
    lethe.criterion {
      name = "big_spender", entity = "person",
      description = "a sold sale of at least minimum_amount",
      sql = function(call)
        return string.format("EXISTS (SELECT 1 FROM sale s WHERE "
          .. "s.person_id = %s.person_id AND s.status = 2 AND s.amount >= %s)",
          call.alias, call:bind(minimum))
      end,
    }
    lethe.criterion {
      name = "name_longer_than", entity = "person", min_args = 1,
      max_args = 1, fields = { "firstname", "lastname" },
      match = function(row, id, length)
        local name = (row.firstname or "") .. (row.lastname or "")
        return utf8.len(name) > length
      end,
    }
    lethe.guard {
      name = "even_persons", entity = "person", reason = "has an even id",
      check = function(entity, ids)
        local vetoed = lethe.ids(entity)
        local rows = lethe.query("SELECT person_id FROM person WHERE "
          .. "person_id IN lethe_ids(?1) AND person_id % 2 = 0", { ids })
        for _, row in ipairs(rows) do vetoed:add(row.person_id) end
        return vetoed
      end,
    }
    lethe.field_action {
      name = "reverse", field_types = { "text" },
      value = function(value)
        local characters = {}
        for _, code in utf8.codes(value) do
          table.insert(characters, 1, utf8.char(code))
        end
        return table.concat(characters)
      end,
    }
    lethe.strategy {
      name = "stars", field_types = { "text" },
      value = function(value) return string.rep("*", #value) end,
    }
    for _, event in ipairs { "before_plan", "after_plan", "before_apply",
        "after_apply", "before_erasure", "after_erasure" } do
      lethe.hook(event, function(data)
        local names = {}
        for name in pairs(data.counts) do names[#names + 1] = name end
        table.sort(names)
        lethe.log(string.format("%s %s %s", event,
          data.plan_digest and data.plan_digest:sub(1, 16) or "-",
          table.concat(names, ",")))
        if lethe.option("fail_at") == event then
          error("stopped by the test at " .. event)
        end
      end)
    end
  end,
}
