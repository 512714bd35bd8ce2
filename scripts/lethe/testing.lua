-- Policy tests: `lethe test` runs files named *_test.lua. Each declares
-- tests with a small fixture database, a policy, a reference time and the
-- expected outcome per rule, and optionally the rows left after applying.
--
--   test "stale prospect goes" {
--     policy = "retention.lua",          -- relative to the test file
--     now = "2024-06-30",
--     fixture = {
--       person = { { id = 1, category = "Prospect",
--                    registered = "2015-01-01" } },
--     },
--     expect = { ["delete stale prospects"] = { selected = { 1 } } },
--     after_apply = { person = {} },
--   }
--
-- Fixture rows name the model's fields, links (by the parent's id),
-- lookups (by label) or, failing those, the table's own columns; NOT NULL
-- columns a row leaves out get a valid default.

local criteria = require "lethe.criteria"
local dates = require "lethe.dates"
local executor = require "lethe.executor"
local idset = require "lethe.idset"
local model = require "lethe.model"
local native = require "lethe.native"
local planner = require "lethe.planner"
local policy = require "lethe.policy"
local sandbox = require "lethe.sandbox"
local session = require "lethe.session"
local util = require "lethe.util"

local testing = {}

local quote = util.quote

-- Loading test files ------------------------------------------------------------

local test_keys = {
  policy = true, now = true, fixture = true, expect = true,
  after_apply = true, schema = true, model = true,
}

-- Load the tests declared in `path`. Returns a list of { name, spec,
-- folder, line }.
function testing.load(path)
  local text, message = native.read_file(path)
  if not text then util.fail("%s", message) end
  local tests, names = {}, {}
  local api = {}
  function api.test(name)
    if type(name) ~= "string" or name == "" then
      error("test expects a name, such as test \"prospect goes\" { ... }", 2)
    end
    local line = debug.getinfo(2, "l").currentline
    return function(spec)
      if type(spec) ~= "table" then
        error("test \"" .. name .. "\" expects a table", 2)
      end
      for key in pairs(spec) do
        if not test_keys[key] then
          error(string.format("test \"%s\": unknown key '%s'", name,
            tostring(key)), 2)
        end
      end
      if names[name] then
        error("test \"" .. name .. "\" is declared twice", 2)
      end
      names[name] = true
      tests[#tests + 1] = { name = name, spec = spec, line = line,
        folder = path:match("^(.*)/[^/]*$") or "." }
    end
  end
  sandbox.run(text, path, sandbox.environment(api))
  return tests
end

-- Fixture databases ---------------------------------------------------------------

local function resolve_path(folder, name)
  if name:sub(1, 1) == "/" then return name end
  return folder .. "/" .. name
end

-- Column defaults for NOT NULL columns a fixture row leaves out: the
-- reference time for dates, 1 for integers (which satisfies the usual
-- CHECK ranges), "fixture" for text.
local function default_value(column, entity, now)
  for _, field in pairs(entity.fields) do
    if field.column == column.name then
      if field.type == "date" then return dates.format(now) end
      if field.type == "boolean" then return 0 end
    end
  end
  local declared = (column.type or ""):upper()
  if declared:find("INT") then return 1 end
  if declared:find("REAL") or declared:find("NUM")
      or declared:find("DEC") then
    return 0
  end
  if declared:find("DATE") or declared:find("TIME") then
    return dates.format(now)
  end
  return "fixture"
end

local function lookup_value(db, field, label, where)
  local lookup = field.lookup
  local key = db:scalar(string.format("SELECT %s FROM %s WHERE %s = ?1",
    quote(lookup.key), quote(lookup.table), quote(lookup.label)), { label })
  if key == nil then
    util.fail("%s: %s is not a value of %s", where, tostring(label),
      field.name)
  end
  return key
end

-- Insert one fixture row of `entity`; `where` names it in messages.
local function insert_row(db, entity, row, now, where)
  local values = {}
  for name, value in pairs(row) do
    if name == "id" then
      values[entity.key] = value
    elseif entity.fields[name] then
      local field = entity.fields[name]
      if field.type == "lookup" and type(value) == "string" then
        value = lookup_value(db, field, value, where)
      elseif field.type == "boolean" and type(value) == "boolean" then
        value = value and 1 or 0
      end
      values[field.column] = value
    elseif entity.links[name] then
      values[entity.links[name].column] = value
    elseif entity.columns and entity.columns[name] ~= nil then
      values[name] = value
    else
      util.fail("%s: unknown field '%s' of entity %s%s", where,
        tostring(name), entity.name,
        util.suggestion(tostring(name), model.member_names(entity)))
    end
  end
  local columns = db:rows("SELECT name, type, \"notnull\", dflt_value, pk "
    .. "FROM pragma_table_info(?1)", { entity.table })
  for _, column in ipairs(columns) do
    if values[column.name] == nil and column.notnull == 1
        and column.dflt_value == nil and column.pk == 0 then
      values[column.name] = default_value(column, entity, now)
    end
  end
  local names, placeholders, params = {}, {}, {}
  for _, name in ipairs(util.sorted_keys(values)) do
    if name ~= "rowid" then
      params[#params + 1] = values[name]
      names[#names + 1] = quote(name)
      placeholders[#placeholders + 1] = "?" .. #params
    end
  end
  local ok, message = db:try_exec(string.format("INSERT INTO %s (%s) VALUES "
    .. "(%s)", quote(entity.table), table.concat(names, ", "),
    table.concat(placeholders, ", ")), params)
  if not ok then util.fail("%s: %s", where, message) end
end

-- Create the fixture database at `path` for test `spec`.
local function build_fixture(test, path, loaded_model, now)
  local spec = test.spec
  local ok, message
  if spec.schema then
    ok, message = native.create_database(path, nil, native.read_file(
      resolve_path(test.folder, spec.schema)))
  else
    ok, message = native.create_database(path)
  end
  if not ok then util.fail("cannot create the fixture database: %s", message) end
  local db = session.open_database(path)
  model.check_database(loaded_model, db, path)
  db:script("BEGIN")
  local entities = util.sorted_keys(spec.fixture or {})
  -- Parents first: an entity goes after every entity it links to.
  local depths = {}
  local function depth(entity, seen)
    if depths[entity.name] then return depths[entity.name] end
    seen = seen or {}
    if seen[entity.name] then return 0 end
    seen[entity.name] = true
    local deepest = 0
    for _, link in pairs(entity.links) do
      if link.parent ~= entity then
        deepest = math.max(deepest, 1 + depth(link.parent, seen))
      end
    end
    seen[entity.name] = nil
    depths[entity.name] = deepest
    return deepest
  end
  table.sort(entities, function(a, b)
    local ea, eb = loaded_model.entities[a], loaded_model.entities[b]
    local da, db_ = ea and depth(ea) or 0, eb and depth(eb) or 0
    if da ~= db_ then return da < db_ end
    return a < b
  end)
  for _, name in ipairs(entities) do
    local entity = loaded_model.entities[name]
    if not entity then
      util.fail("fixture: unknown entity '%s'%s", name, util.suggestion(name,
        util.sorted_keys(loaded_model.entities)))
    end
    for index, row in ipairs(spec.fixture[name]) do
      insert_row(db, entity, row, now, string.format("fixture %s row %d",
        name, index))
    end
  end
  local problems = db:rows("PRAGMA foreign_key_check")
  if #problems > 0 then
    util.fail("fixture: a %s row (rowid %s) points at a missing %s row",
      problems[1].table, tostring(problems[1].rowid), problems[1].parent)
  end
  db:script("COMMIT")
  return db
end

-- Checks --------------------------------------------------------------------------

local function ids_text(set)
  local list = {}
  for id in set:ids() do
    list[#list + 1] = tostring(id)
    if #list == 20 then list[#list + 1] = "..." break end
  end
  return "{" .. table.concat(list, ", ") .. "}"
end

local function as_set(entity_name, value, what)
  if type(value) ~= "table" then
    util.fail("%s: expected a list of ids", what)
  end
  return idset.from_array(entity_name, value)
end

-- Criteria of a selection tree: { entity, criterion, sql, params }.
local function criteria_of(selection, list)
  list = list or {}
  if selection.kind == "where" then
    for _, group in ipairs(selection.groups) do
      local items = type(group[1]) == "string" and { group } or group
      for _, criterion in ipairs(items) do
        list[#list + 1] = { entity = selection.entity, criterion = criterion }
      end
    end
  end
  for _, child in ipairs { selection.left, selection.right, selection.from } do
    if child then criteria_of(child, list) end
  end
  return list
end

local function describe(criterion)
  local parts = {}
  for i, item in ipairs(criterion) do
    if type(item) ~= "table" then
      parts[i] = tostring(item)
    elseif type(item[1]) == "string" then
      parts[i] = "(" .. describe(item) .. ")"
    else
      local inner = {}
      for j, nested in ipairs(item) do
        inner[j] = type(nested) == "table" and describe(nested)
          or tostring(nested)
      end
      parts[i] = "(" .. table.concat(inner, ", ") .. ")"
    end
  end
  return table.concat(parts, " ")
end

-- Which criteria of `rule` hold for `id`, as text lines. `run` needs db,
-- now and policy.model.
function testing.explain(run, rule, id)
  local lines = {}
  for _, item in ipairs(criteria_of(rule.selection)) do
    local context = criteria.context(run.policy.model, run.db, run.now)
    local ok, sql = pcall(criteria.compile, context, item.entity, "t0",
      { { item.criterion } })
    if ok and item.entity == rule.entity then
      local params = context.params
      params[#params + 1] = id
      local held = run.db:scalar(string.format("SELECT count(*) FROM %s t0 "
        .. "WHERE t0.%s = ?%d AND (%s)", quote(item.entity.table),
        quote(item.entity.key), #params, sql), params)
      lines[#lines + 1] = string.format("      %s %s", held > 0 and "held  "
        or "failed", describe(item.criterion))
    end
  end
  return lines
end

local function compare(failures, what, expected, actual, run, rule)
  if expected == actual then return end
  local lines = { string.format("%s: expected %s, got %s", what,
    ids_text(expected), ids_text(actual)) }
  for id in ((expected - actual) | (actual - expected)):ids() do
    lines[#lines + 1] = string.format("    id %d (%s):", id,
      (expected:contains(id) and "missing" or "unexpected"))
    if rule and rule.entity.name == expected:entity() then
      for _, line in ipairs(testing.explain(run, rule, id)) do
        lines[#lines + 1] = line
      end
    end
    if #lines > 40 then break end
  end
  failures[#failures + 1] = table.concat(lines, "\n")
end

local expect_keys = { selected = true, vetoed = true, action = true,
  deleted = true, updated = true, reasons = true }

local function check_rule(failures, run, planned, expected, name)
  for key in pairs(expected) do
    if not expect_keys[key] then
      util.fail("expect[\"%s\"]: unknown key '%s'", name, tostring(key))
    end
  end
  local entity = planned.entity.name
  if expected.action and expected.action ~= planned.action then
    failures[#failures + 1] = string.format("rule \"%s\": action expected "
      .. "%s, got %s", name, expected.action, planned.action)
  end
  local rule
  for _, candidate in ipairs(run.policy.rules) do
    if candidate.name == name then rule = candidate end
  end
  if expected.selected then
    compare(failures, string.format("rule \"%s\": selected", name),
      as_set(entity, expected.selected, name), planned.ids, run, rule)
  end
  local vetoed = idset.new(entity)
  for _, veto in ipairs(planned.vetoes) do vetoed = vetoed | veto.ids end
  if expected.vetoed then
    compare(failures, string.format("rule \"%s\": vetoed", name),
      as_set(entity, expected.vetoed, name), vetoed, run, rule)
  end
  for _, reason in ipairs(expected.reasons or {}) do
    local found = false
    for _, veto in ipairs(planned.vetoes) do
      if veto.reason:find(reason, 1, true) then found = true end
    end
    if not found then
      failures[#failures + 1] = string.format("rule \"%s\": no veto reason "
        .. "contains %q", name, reason)
    end
  end
  for _, kind in ipairs { "deleted", "updated" } do
    for table_entity, ids in pairs(expected[kind] or {}) do
      local actual = idset.new(table_entity)
      for _, effect in ipairs(planned.effects) do
        if effect.entity.name == table_entity and effect.operation
            == (kind == "deleted" and "delete" or "update") then
          actual = actual | effect.ids
        end
      end
      compare(failures, string.format("rule \"%s\": %s %s", name, kind,
        table_entity), as_set(table_entity, ids, name), actual, run, nil)
    end
  end
end

local function check_remaining(failures, run, expected)
  for name, ids in pairs(expected) do
    local entity = run.policy.model.entities[name]
    if not entity then util.fail("after_apply: unknown entity '%s'", name) end
    local actual = run.db:ids(string.format("SELECT %s FROM %s",
      quote(entity.key), quote(entity.table)), {}, name, entity.table)
    compare(failures, "after apply, " .. name, as_set(name, ids,
      "after_apply"), actual, run, nil)
  end
end

-- Running ---------------------------------------------------------------------------

-- The model a policy names in policy { model = ... }, found by loading it
-- until it asks for its model.
local function declared_model(text, source, now)
  local declared
  pcall(policy.load, text, source, { now = now,
    resolve_model = function(name)
      declared = name
      error("the model is known", 0)
    end })
  return declared
end

-- Run one test and record its coverage in `coverage` (if given). Returns
-- { failures = {...}, plan = ... }; raises on errors in the test itself
-- (a bad fixture, an unknown rule key).
function testing.run(test, coverage)
  -- Each test gets the whole instruction and time budget.
  sandbox.reset()
  local spec = test.spec
  if type(spec.policy) ~= "string" then
    util.fail("test \"%s\" needs policy = \"file.lua\"", test.name)
  end
  local now, reason = dates.parse(spec.now or "")
  if not now then
    util.fail("test \"%s\": now must be a date such as \"2024-06-30\" (%s)",
      test.name, reason)
  end
  local policy_path = spec.policy:find("[/.]") and resolve_path(test.folder,
    spec.policy) or spec.policy
  local text, source = session.read_policy(policy_path)
  local path = os.tmpname()
  os.remove(path)
  local db
  local ok, result = pcall(function()
    local model_reference = spec.model or declared_model(text, source, now)
      or "crm"
    local loaded_model = model.load(model_reference)
    db = build_fixture(test, path, loaded_model, now)
    local loaded = session.load_policy(text, source, db, path, now,
      model_reference)
    local run = session.new_run(db, path, loaded, now, 0, text)
    local plan = planner.plan(run, loaded)
    local failures = {}
    local by_name = {}
    for _, planned in ipairs(plan.rules) do by_name[planned.name] = planned end
    for name, expected in pairs(spec.expect or {}) do
      if not by_name[name] then
        failures[#failures + 1] = string.format("the policy has no rule "
          .. "\"%s\"", name)
      else
        check_rule(failures, run, by_name[name], expected, name)
      end
    end
    if coverage then
      local tested = {}
      for name in pairs(spec.expect or {}) do tested[name] = true end
      testing.record_coverage(coverage, run, tested)
    end
    if spec.after_apply then
      db:ensure_lethe_tables()
      for _, right in ipairs { "delete", "update" } do
        db:exec("INSERT INTO lethe_right (user, right, granted) VALUES "
          .. "('lethe test', ?1, ?2) ON CONFLICT DO NOTHING",
          { right, dates.format(now) })
      end
      local problems_ok, problem = pcall(executor.check_problems, plan)
      if not problems_ok then
        failures[#failures + 1] = problem
      else
        run.skip_erasure = true
        executor.apply(run, plan.digest, "lethe test")
        check_remaining(failures, run, spec.after_apply)
      end
    end
    return { failures = failures, run = run, plan = plan }
  end)
  if db then db:close() end
  os.remove(path)
  if not ok then error(result, 0) end
  return result
end

-- Coverage: per rule, whether a test expected something of it, and per
-- criterion whether it held for at least one fixture row and failed for
-- at least one. Fills `coverage` (keyed by policy source).
function testing.record_coverage(coverage, run, tested)
  local source = run.policy.source
  local record = coverage[source]
  if not record then
    record = { source = source, rules = {} }
    for i, rule in ipairs(run.policy.rules) do
      record.rules[i] = { name = rule.name, tested = false, criteria = {} }
      for j, item in ipairs(criteria_of(rule.selection)) do
        record.rules[i].criteria[j] = { text = describe(item.criterion),
          held = false, failed = false }
      end
    end
    coverage[source] = record
  end
  for i, rule in ipairs(run.policy.rules) do
    local entry = record.rules[i]
    if entry and tested[rule.name] then entry.tested = true end
    for j, item in ipairs(criteria_of(rule.selection)) do
      local context = criteria.context(run.policy.model, run.db, run.now)
      local ok, sql = pcall(criteria.compile, context, item.entity, "t0",
        { { item.criterion } })
      if ok and entry and entry.criteria[j] then
        local total = run.db:scalar("SELECT count(*) FROM "
          .. quote(item.entity.table))
        local held = run.db:scalar(string.format("SELECT count(*) FROM %s t0 "
          .. "WHERE %s", quote(item.entity.table), sql), context.params)
        if held > 0 then entry.criteria[j].held = true end
        if held < total then entry.criteria[j].failed = true end
      end
    end
  end
end

return testing
