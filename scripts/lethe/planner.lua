-- The planner: evaluates every rule of a policy against the database at
-- a fixed reference time and works out, table by table, what applying it
-- would do: rows deleted (with cascades), links cleared, fields updated,
-- and the records that guards vetoed, with reasons. It only reads.

local criteria = require "lethe.criteria"
local dates = require "lethe.dates"
local idset = require "lethe.idset"
local predicates = require "lethe.criteria.predicates"
local update_planner = require "lethe.update_planner"
local native = require "lethe.native"
local plugins = require "lethe.plugins"
local util = require "lethe.util"

local planner = {}

local quote = util.quote

local function key_column(entity, alias)
  return alias .. "." .. quote(entity.key)
end

-- Selections ------------------------------------------------------------------

local evaluate

local function evaluate_related(db, selection)
  local from = evaluate(db, selection.from)
  local link, target = selection.link, selection.entity
  local sql
  if selection.direction == "parent" then
    -- link belongs to the source entity: source.column -> target.references
    sql = string.format(
      "SELECT %s FROM %s p WHERE %s IN (SELECT c.%s FROM %s c WHERE %s IN "
      .. "lethe_ids(?1))", key_column(target, "p"), quote(target.table),
      "p." .. quote(link.references), quote(link.column),
      quote(selection.from.entity.table),
      key_column(selection.from.entity, "c"))
  else
    -- relation from the source (parent) to target (child)
    sql = string.format(
      "SELECT %s FROM %s c WHERE c.%s IN (SELECT p.%s FROM %s p WHERE %s IN "
      .. "lethe_ids(?1))", key_column(target, "c"), quote(target.table),
      quote(link.column), quote(link.references),
      quote(selection.from.entity.table),
      key_column(selection.from.entity, "p"))
  end
  return db:ids(sql, { from }, target.name, target.table)
end

-- Return the id set a selection stands for.
function evaluate(db, selection)
  local entity = selection.entity
  if selection.kind == "all" then
    return db:ids(string.format("SELECT %s FROM %s t0",
      key_column(entity, "t0"), quote(entity.table)), {}, entity.name,
      entity.table)
  elseif selection.kind == "where" and predicates.reads_table(selection) then
    return predicates.select_from_table(db, selection)
  elseif selection.kind == "where" then
    return predicates.apply(db, selection, db:ids(string.format(
      "SELECT %s FROM %s t0 WHERE %s", key_column(entity, "t0"),
      quote(entity.table), selection.sql), selection.params, entity.name,
      entity.table))
  elseif selection.kind == "related" then
    return evaluate_related(db, selection)
  elseif selection.kind == "ids" then
    return selection.ids
  end
  local left = evaluate(db, selection.left)
  local right = evaluate(db, selection.right)
  if selection.kind == "union" then return left | right end
  if selection.kind == "intersection" then return left & right end
  if selection.kind == "difference" then return left - right end
  return left ~ right
end

planner.evaluate = evaluate

-- Collect the criteria descriptions (resolved date ranges) of a selection.
local function descriptions(selection, into)
  into = into or {}
  for _, text in ipairs(selection.descriptions or {}) do
    into[#into + 1] = text
  end
  if selection.left then descriptions(selection.left, into) end
  if selection.right then descriptions(selection.right, into) end
  if selection.from then descriptions(selection.from, into) end
  return into
end

-- Cascades --------------------------------------------------------------------

-- SQL for "the values of link.references of the parent rows in ?N".
local function parent_values(link, parameter)
  local parent = link.parent
  if link.references == parent.key then
    return "lethe_ids(" .. parameter .. ")"
  end
  return string.format("(SELECT p.%s FROM %s p WHERE %s IN lethe_ids(%s))",
    quote(link.references), quote(parent.table), key_column(parent, "p"),
    parameter)
end

-- Ids of child rows that reference the parent rows in `parents`.
local function children_of(db, link, parents)
  local child = link.child
  return db:ids(string.format("SELECT %s FROM %s c WHERE c.%s IN %s",
    key_column(child, "c"), quote(child.table), quote(link.column),
    parent_values(link, "?1")), { parents }, child.name, child.table)
end

-- Ids among `parents` that have a child row through `link` in `children`
-- (or, when `exclude` is set, a child row that is not in `children`).
local function parents_with_children(db, link, parents, children, exclude)
  local parent, child = link.parent, link.child
  return db:ids(string.format(
    "SELECT %s FROM %s p WHERE %s IN lethe_ids(?1) AND EXISTS (SELECT 1 "
    .. "FROM %s c WHERE c.%s = p.%s AND %s %sIN lethe_ids(?2))",
    key_column(parent, "p"), quote(parent.table), key_column(parent, "p"),
    quote(child.table), quote(link.column), quote(link.references),
    key_column(child, "c"), exclude and "NOT " or ""),
    { parents, children }, parent.name, parent.table)
end

local function empty_set(entity)
  return idset.new(entity.name)
end

-- Every row that deleting `ids` of `root` deletes through cascade links,
-- as a map from entity name to id set, and the entities in an order where
-- every child comes before its parent (the order to delete in).
local function closure(db, root, ids, gone)
  local deletes = { [root.name] = ids }
  local entities = { [root.name] = root }
  local queue = { { entity = root, ids = ids } }
  while #queue > 0 do
    local item = table.remove(queue, 1)
    for _, name in ipairs(util.sorted_keys(item.entity.relations)) do
      local link = item.entity.relations[name]
      if link.on_delete == "cascade" then
        local child = link.child
        local found = children_of(db, link, item.ids)
        local known = deletes[child.name] or empty_set(child)
        local new = found - known - (gone[child.name] or empty_set(child))
        if #new > 0 then
          deletes[child.name] = known | new
          entities[child.name] = child
          queue[#queue + 1] = { entity = child, ids = new }
        end
      end
    end
  end
  -- Depth-first post-order puts children first: every entity that is
  -- being deleted and links to another one goes before it, whatever the
  -- link's rule, so that no delete makes SQLite clear or delete rows of
  -- a later step (which a batched run would otherwise show half-done).
  local order, visited = {}, {}
  local function visit(entity)
    if visited[entity.name] then return end
    visited[entity.name] = true
    for _, name in ipairs(util.sorted_keys(entity.relations)) do
      local link = entity.relations[name]
      if entities[link.child.name] then visit(link.child) end
    end
    order[#order + 1] = entity
  end
  visit(root)
  for _, name in ipairs(util.sorted_keys(entities)) do visit(entities[name]) end
  return deletes, order
end

local function add_block(blocked, entity, reason, ids)
  if #ids == 0 then return false end
  local reasons = blocked[entity.name]
  if not reasons then
    reasons = {}
    blocked[entity.name] = reasons
  end
  local known = reasons[reason] or empty_set(entity)
  local grown = known | ids
  if #grown == #known then return false end
  reasons[reason] = grown
  return true
end

-- Rows of `entity` in `ids` that satisfy `where` (a criteria group).
local function rows_where(db, context_factory, entity, ids, where)
  local context = context_factory()
  local sql = criteria.compile(context, entity, "t0", { where })
  local params = context.params
  params[#params + 1] = ids
  return db:ids(string.format(
    "SELECT %s FROM %s t0 WHERE %s IN lethe_ids(?%d) AND (%s)",
    key_column(entity, "t0"), quote(entity.table), key_column(entity, "t0"),
    #params, sql), params, entity.name, entity.table)
end

-- Rows of `entity` in `ids` that a policy guard's selection vetoes.
local function rows_selected(db, selection, ids)
  local entity = selection.entity
  local params = { table.unpack(selection.params) }
  params[#params + 1] = ids
  return db:ids(string.format(
    "SELECT %s FROM %s t0 WHERE %s IN lethe_ids(?%d) AND (%s)",
    key_column(entity, "t0"), quote(entity.table), key_column(entity, "t0"),
    #params, selection.sql), params, entity.name, entity.table)
end

-- Rows of `entity` in `ids` for which guard.check(row) returns true. The
-- row is a fresh table of the entity's fields by field name.
local function rows_checked(db, guard, entity, ids)
  local columns = { key_column(entity, "t0") .. " AS lethe_key" }
  local names = util.sorted_keys(entity.fields)
  for i, name in ipairs(names) do
    columns[i + 1] = "t0." .. quote(entity.fields[name].column)
  end
  local rows = db:rows(string.format(
    "SELECT %s FROM %s t0 WHERE %s IN lethe_ids(?1) ORDER BY 1",
    table.concat(columns, ", "), quote(entity.table), key_column(entity,
    "t0")), { ids })
  local vetoed = {}
  local strict = { __index = function(_, name)
    error(string.format("unknown field '%s' of entity %s%s", tostring(name),
      entity.name, util.suggestion(tostring(name), names)), 2)
  end }
  for _, raw in ipairs(rows) do
    local row = setmetatable({}, strict)
    for _, name in ipairs(names) do
      rawset(row, name, raw[entity.fields[name].column])
    end
    local ok, result = pcall(guard.check, row)
    if not ok then
      util.fail("guard \"%s\" failed on %s %s: %s", guard.name, entity.name,
        tostring(raw.lethe_key), tostring(result))
    end
    if result then vetoed[#vetoed + 1] = raw.lethe_key end
  end
  return idset.from_array(entity.name, vetoed)
end

local function has_table(db, name)
  return db:scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
    .. " AND name = ?1", { name }) > 0
end

-- Rows of `entity` in `ids` under a legal hold that has not ended.
local function apply_holds(run, entity, ids, blocked)
  if not run.has_holds then return end
  local rows = run.db:rows("SELECT reason, until, record_id FROM lethe_hold "
    .. "WHERE entity = ?1 AND record_id IN lethe_ids(?2) AND (until IS NULL "
    .. "OR julianday(until) > julianday(?3)) ORDER BY reason, until",
    { entity.name, ids, dates.format(run.now) })
  local by_reason = {}
  for _, row in ipairs(rows) do
    local reason = "legal hold: " .. row.reason
      .. (row["until"] and (" (until " .. row["until"] .. ")") or "")
    by_reason[reason] = by_reason[reason] or {}
    table.insert(by_reason[reason], row.record_id)
  end
  for reason, list in pairs(by_reason) do
    add_block(blocked, entity, reason, idset.from_array(entity.name, list))
  end
end

-- Rows of `entity` in `ids` that a guard vetoes: the model's guards, the
-- policy's guards, legal holds and the guards of the run's plugins.
local function apply_guards(run, entity, ids, blocked)
  for _, guard in ipairs(entity.guards) do
    add_block(blocked, entity, guard.reason, rows_where(run.db,
      run.context_factory, entity, ids, guard.where))
  end
  for _, guard in ipairs(run.policy.guards or {}) do
    if guard.entity == entity then
      if guard.selection then
        add_block(blocked, entity, guard.reason,
          rows_selected(run.db, guard.selection, ids))
      end
      if guard.check then
        add_block(blocked, entity, guard.reason,
          rows_checked(run.db, guard, entity, ids))
      end
    end
  end
  apply_holds(run, entity, ids, blocked)
  plugins.apply_guards(run, entity, ids, function(reason, vetoed)
    add_block(blocked, entity, reason, vetoed)
  end)
end

-- Rows that a restrict link keeps: parents with children that stay.
local function apply_restrictions(db, entity, ids, deletes, gone, blocked)
  for _, name in ipairs(util.sorted_keys(entity.relations)) do
    local link = entity.relations[name]
    if link.on_delete == "restrict" then
      local child = link.child
      local leaving = (deletes[child.name] or empty_set(child))
        | (gone[child.name] or empty_set(child))
      local vetoed = parents_with_children(db, link, ids, leaving, true)
      add_block(blocked, entity, link.reason or string.format(
        "has %s rows, which restrict deletion", link.child.name), vetoed)
    end
  end
end

-- Parents whose cascade would reach a vetoed child are vetoed too, until
-- nothing changes.
local function propagate_blocks(db, deletes, order, blocked)
  local changed = true
  while changed do
    changed = false
    for _, entity in ipairs(order) do
      for _, name in ipairs(util.sorted_keys(entity.relations)) do
        local link = entity.relations[name]
        local child_blocks = blocked[link.child.name]
        if link.on_delete == "cascade" and child_blocks then
          for _, reason in ipairs(util.sorted_keys(child_blocks)) do
            local parents = parents_with_children(db, link,
              deletes[entity.name], child_blocks[reason], false)
            local text = string.format("would delete a %s that is vetoed "
              .. "(%s)", link.child.name, reason)
            if add_block(blocked, entity, text, parents) then
              changed = true
            end
          end
        end
      end
    end
  end
end

-- Plan deleting `ids` of `root`, given the rows that earlier rules delete
-- (`gone`, entity name -> id set): returns the ids that can go, the vetoes
-- of root rows (reason -> id set), the effects in execution order and the
-- rows deleted per entity. Removing vetoed roots shrinks the cascade, so
-- the closure is computed again until no root is vetoed.
local function plan_delete(run, root, ids, gone)
  local db = run.db
  local vetoes = {}
  local deletes, order
  local rounds = 0
  while true do
    rounds = rounds + 1
    assert(rounds <= 16, "vetoes did not settle after 16 rounds")
    deletes, order = closure(db, root, ids, gone)
    local blocked = {}
    for _, entity in ipairs(order) do
      local rows = deletes[entity.name]
      apply_guards(run, entity, rows, blocked)
      apply_restrictions(db, entity, rows, deletes, gone, blocked)
    end
    propagate_blocks(db, deletes, order, blocked)
    local root_blocks = blocked[root.name]
    if not root_blocks then break end
    for reason, vetoed in pairs(root_blocks) do
      vetoes[reason] = (vetoes[reason] or empty_set(root)) | vetoed
      ids = ids - vetoed
    end
  end
  local effects = {}
  for _, entity in ipairs(order) do
    for _, name in ipairs(util.sorted_keys(entity.relations)) do
      local link = entity.relations[name]
      if link.on_delete == "set_null" then
        local child = link.child
        local staying = children_of(db, link, deletes[entity.name])
          - (deletes[child.name] or empty_set(child))
          - (gone[child.name] or empty_set(child))
        if #staying > 0 then
          effects[#effects + 1] = { operation = "clear",
            entity = link.child, column = link.column, ids = staying }
        end
      end
    end
  end
  for _, entity in ipairs(order) do
    local rows = deletes[entity.name]
    if #rows > 0 then
      effects[#effects + 1] = { operation = "delete", entity = entity,
                                ids = rows }
    end
  end
  return ids, vetoes, effects, deletes
end

-- Samples ---------------------------------------------------------------------

local function label_of(entity, row)
  local parts = {}
  for _, column in ipairs(entity.label) do
    if row[column] ~= nil and row[column] ~= "" then
      parts[#parts + 1] = tostring(row[column])
    end
  end
  return table.concat(parts, " ")
end

-- Up to `count` rows of `ids` (lowest ids first) as { id, label, row }.
function planner.sample(db, entity, ids, count, columns)
  if count <= 0 or #ids == 0 then return {} end
  local wanted = { key_column(entity, "t0") .. " AS lethe_key" }
  for _, column in ipairs(entity.label) do
    wanted[#wanted + 1] = "t0." .. quote(column)
  end
  for _, column in ipairs(columns or {}) do
    wanted[#wanted + 1] = "t0." .. quote(column)
  end
  local rows = db:rows(string.format(
    "SELECT %s FROM %s t0 WHERE %s IN lethe_ids(?1) ORDER BY 1 LIMIT %d",
    table.concat(wanted, ", "), quote(entity.table), key_column(entity, "t0"),
    count), { ids })
  local samples = {}
  for i, row in ipairs(rows) do
    samples[i] = { id = row.lethe_key, label = label_of(entity, row),
                   row = row }
  end
  return samples
end

-- Digest ----------------------------------------------------------------------

local function effect_line(effect)
  local parts = { effect.operation, effect.entity.name, effect.entity.table,
                  effect.column or "", native.set_digest(effect.ids) }
  for _, item in ipairs(effect.assignments or {}) do
    parts[#parts + 1] = item.description
  end
  parts[#parts + 1] = effect.description
  return table.concat(parts, "\t")
end

local function plan_digest(rules)
  local lines = { "lethe plan 1" }
  for _, rule in ipairs(rules) do
    lines[#lines + 1] = table.concat({ "rule", rule.name, rule.action,
      rule.entity.name }, "\t")
    for _, effect in ipairs(rule.effects) do
      lines[#lines + 1] = effect_line(effect)
    end
  end
  return native.sha256(table.concat(lines, "\n"))
end

-- Caps ----------------------------------------------------------------------------

-- Without caps in the policy, one rule and one run may delete at most half
-- of a table's rows.
planner.default_cap = { share = 0.5 }

local function table_rows(db, entity)
  return db:scalar("SELECT count(*) FROM " .. quote(entity.table))
end

-- Problems with deleting `count` of `total` rows of `entity` under `cap`;
-- `what` names the rule or the run in messages.
local function cap_problems(what, entity, count, total, cap, problems)
  if cap.rows and count > cap.rows then
    problems[#problems + 1] = string.format("%s would delete %d %s rows; "
      .. "its cap is %d rows, exceeded by %d", what, count, entity.name,
      cap.rows, count - cap.rows)
  end
  if cap.share and total > 0 then
    local allowed = math.floor(cap.share * total)
    if count > allowed then
      problems[#problems + 1] = string.format("%s would delete %d of %d %s "
        .. "rows (%.1f%%); its cap is %g%% (%d rows), exceeded by %d", what,
        count, total, entity.name, 100 * count / total, 100 * cap.share,
        allowed, count - allowed)
    end
  end
end

-- Check a planned delete rule against its cap and the whole-table rule.
local function check_rule_caps(db, policy, rule, planned)
  local entity, count = rule.entity, #planned.acting
  local total = table_rows(db, entity)
  planned.table_rows = total
  local what = string.format("rule \"%s\"", rule.name)
  if rule.all_rows then
    if count ~= total then
      planned.problems[#planned.problems + 1] = string.format("%s uses "
        .. "delete_all() but would delete %d of %d %s rows; use delete() "
        .. "for part of a table", what, count, total, entity.name)
    end
    return
  end
  if count > 0 and count == total then
    planned.problems[#planned.problems + 1] = string.format("%s would "
      .. "delete every row of %s; if that is meant, use delete_all()", what,
      entity.table)
    return
  end
  cap_problems(what, entity, count, total,
    rule.max or policy.max_per_rule or planner.default_cap, planned.problems)
end

-- Check the rows each entity loses over all delete rules against the
-- policy's run cap, and stop rules that together empty a table without
-- saying so. Rules using delete_all() are left out.
local function check_run_caps(db, policy, rules, problems)
  local counts, entities, names = {}, {}, {}
  for _, rule in ipairs(rules) do
    if rule.action == "delete" and not rule.all_rows then
      local name = rule.entity.name
      counts[name] = (counts[name] or 0) + #rule.acting
      entities[name] = rule.entity
      names[name] = names[name] or {}
      table.insert(names[name], string.format("\"%s\"", rule.name))
    end
  end
  for _, name in ipairs(util.sorted_keys(counts)) do
    local total = table_rows(db, entities[name])
    if #names[name] > 1 and counts[name] > 0 and counts[name] == total then
      problems[#problems + 1] = string.format("rules %s together would "
        .. "delete every row of %s; if that is meant, use delete_all()",
        table.concat(names[name], ", "), entities[name].table)
    else
      cap_problems("the run", entities[name], counts[name], total,
        policy.max_per_run or planner.default_cap, problems)
    end
  end
end

-- Foreign keys the model does not describe ----------------------------------------

-- Problems for rows of the database that point at rows the plan deletes
-- through a foreign key that no link of the model describes: SQLite would
-- delete them, clear them or refuse the delete, and the plan would not
-- show it.
local function check_unmodelled(db, plan_rules, problems)
  for _, rule in ipairs(plan_rules) do
    for _, effect in ipairs(rule.effects) do
      local entity = effect.entity
      if effect.operation == "delete" then
        for _, reference in ipairs(entity.unmodelled or {}) do
          local count = db:scalar(string.format(
            "SELECT count(*) FROM %s c WHERE c.%s IN (SELECT p.%s FROM %s p "
            .. "WHERE p.%s IN lethe_ids(?1))", quote(reference.table),
            quote(reference.column), quote(reference.references),
            quote(entity.table), quote(entity.key)), { effect.ids })
          if count > 0 then
            problems[#problems + 1] = string.format("%d rows of table %s "
              .. "point at %s rows that rule \"%s\" deletes (column %s, ON "
              .. "DELETE %s), but the model has no link for them; add one "
              .. "with its delete rule so that the plan shows them", count,
              reference.table, entity.table, rule.name, reference.column,
              reference.on_delete)
          end
        end
      end
    end
  end
end

-- Planning a policy -------------------------------------------------------------

-- Plan every rule of `policy` in order. `run` has db, now, samples (rows
-- per rule to show), context_factory() for compiling guard criteria, and
-- optionally restrict: a map from rule name to the only ids that rule may
-- act on (a rule missing from the map acts on none).
-- Returns { rules = {...}, digest = hex, totals = {...} }.
function planner.plan(run, policy)
  local db = run.db
  run.has_holds = has_table(db, "lethe_hold")
  run.unreadable_dates = {}
  local claimed, deleted = {}, {}
  local rules = {}
  for index, rule in ipairs(policy.rules) do
    local entity = rule.entity
    local selected = evaluate(db, rule.selection)
    local earlier = (claimed[entity.name] or empty_set(entity))
      | (deleted[entity.name] or empty_set(entity))
    local ids = selected - earlier
    -- A rule claims what it selects in the whole policy, also in a run
    -- restricted to another rule, so that the restricted rule never takes
    -- a record that an earlier rule (a keep() above all) decides.
    claimed[entity.name] = (claimed[entity.name] or empty_set(entity)) | ids
    local excluded, outside, only_missing = #selected - #ids, 0, nil
    if run.only_rule == rule.name then
      -- The --only ids that this rule does not take in the whole policy.
      only_missing = run.restrict[rule.name] - ids
    end
    if run.restrict then
      local allowed = ids & (run.restrict[rule.name] or empty_set(entity))
      outside = #ids - #allowed
      ids = allowed
    end
    local planned = {
      index = index, name = rule.name, action = rule.action,
      entity = entity, reason = rule.reason, line = rule.line,
      selected = #selected, excluded = excluded, outside = outside,
      only_missing = only_missing,
      criteria = descriptions(rule.selection), vetoes = {}, effects = {},
      unreadable_dates = criteria.unreadable_dates(db, rule.selection,
        run.unreadable_dates),
      ids = ids, all_rows = rule.all_rows, problems = {}, skips = {},
    }
    if rule.action == "delete" then
      local acting, vetoes, effects, deletes = plan_delete(run, entity, ids,
        deleted)
      planned.acting, planned.effects = acting, effects
      for name, rows in pairs(deletes) do
        deleted[name] = (deleted[name] or idset.new(name)) | rows
      end
      for _, reason in ipairs(util.sorted_keys(vetoes)) do
        planned.vetoes[#planned.vetoes + 1] = { reason = reason,
          ids = vetoes[reason],
          samples = planner.sample(db, entity, vetoes[reason], 3) }
      end
      check_rule_caps(db, policy, rule, planned)
    elseif rule.action == "update" then
      local held = {}
      apply_holds(run, entity, ids, held)
      for _, reason in ipairs(util.sorted_keys(held[entity.name] or {})) do
        local vetoed = held[entity.name][reason]
        ids = ids - vetoed
        planned.vetoes[#planned.vetoes + 1] = { reason = reason,
          ids = vetoed, samples = planner.sample(db, entity, vetoed, 3) }
      end
      planned.acting = ids
      planned.effects, planned.skips = update_planner.plan(run, rule, ids)
    else
      planned.acting = ids
    end
    planned.samples = planner.sample(db, entity, planned.acting,
      run.samples or 5)
    rules[index] = planned
  end
  local problems = {}
  for _, planned in ipairs(rules) do
    table.move(planned.problems, 1, #planned.problems, #problems + 1,
      problems)
  end
  check_run_caps(db, policy, rules, problems)
  check_unmodelled(db, rules, problems)
  return { rules = rules, digest = plan_digest(rules), problems = problems }
end

return planner
