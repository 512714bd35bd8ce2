-- The executor: applies a plan inside one transaction. It plans again
-- after taking the write lock, and stops unless the new plan has the
-- digest that the user confirmed. It checks every statement's row count
-- against the plan. It also compares, before and after, the row count of
-- every table that the plan's changes can reach through triggers and
-- foreign-key actions. It rolls everything back on any difference.

local dates = require "lethe.dates"
local erasure = require "lethe.erasure"
local idset = require "lethe.idset"
local export = require "lethe.export"
local fts_sources = require "lethe.fts_sources"
local keys = require "lethe.keys"
local ledger = require "lethe.ledger"
local json = require "lethe.json"
local native = require "lethe.native"
local planner = require "lethe.planner"
local plugins = require "lethe.plugins"
local report = require "lethe.report"
local rights = require "lethe.rights"
local sandbox = require "lethe.sandbox"
local util = require "lethe.util"

local executor = {}

local quote = util.quote

local function key_column(entity)
  return quote(entity.key)
end

-- The SQL and parameters of one effect; params[1] is its id set. `key`
-- is bound for keyed hashes (updates.KEY keeps the placeholder).
local function effect_sql(effect, key)
  local entity = effect.entity
  if effect.statement then
    local sql, params = effect.statement(key)
    params[1] = effect.ids
    return sql, params
  elseif effect.operation == "delete" then
    return string.format("DELETE FROM %s WHERE %s IN lethe_ids(?1)",
      quote(entity.table), key_column(entity)), { effect.ids }
  end
  return string.format("UPDATE %s SET %s = NULL WHERE %s IN lethe_ids(?1)",
    quote(entity.table), quote(effect.column), key_column(entity)),
    { effect.ids }
end

-- Row counts of the database's own tables (not SQLite's, not Lethe's, not
-- the shadow tables of virtual tables such as full-text indexes) whose
-- lower-case names are in the set `reached`. Other tables cannot change.
local function table_counts(db, reached)
  local rows = db:rows([[
    SELECT name FROM sqlite_schema s
    WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'
      AND name NOT LIKE 'lethe!_%' ESCAPE '!'
      AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'
      AND NOT EXISTS (
        SELECT 1 FROM sqlite_schema v
        WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
          AND substr(s.name, 1, length(v.name) + 1) = v.name || '_')
    ORDER BY name]])
  local counts = {}
  for _, row in ipairs(rows) do
    if reached[row.name:lower()] then
      counts[row.name] = db:scalar("SELECT count(*) FROM "
        .. quote(row.name))
    end
  end
  return counts
end

local function check_counts(before, after, plan)
  local expected = {}
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      local name = effect.entity.table
      if effect.operation == "delete" then
        expected[name] = (expected[name] or 0) - #effect.ids
      elseif effect.operation == "insert" then
        expected[name] = (expected[name] or 0) + #effect.ids
      end
    end
  end
  for _, name in ipairs(util.sorted_keys(before)) do
    local change = (after[name] or 0) - before[name]
    if change ~= (expected[name] or 0) then
      util.fail("table %s changed by %d rows where the plan said %d; a "
        .. "foreign key or trigger that the model does not describe changed "
        .. "it. Nothing was changed; describe the relation in the model",
        name, change, expected[name] or 0)
    end
  end
end

local function required_rights(plan)
  local needed = {}
  for _, rule in ipairs(plan.rules) do
    if #rule.effects > 0 then
      needed[rule.action == "delete" and "delete" or "update"] = true
    end
  end
  return needed
end

-- Fail when the plan breaks a cap or empties a table without saying so.
function executor.check_problems(plan)
  if #plan.problems > 0 then
    util.fail("the plan cannot be applied, nothing was changed:\n  %s",
      table.concat(plan.problems, "\n  "))
  end
end

-- Fail unless every rule that empties a table was confirmed with
-- --all-rows naming its entity (`confirmed` is that option's value).
function executor.check_all_rows(plan, confirmed)
  for _, rule in ipairs(plan.rules) do
    if rule.all_rows and #rule.effects > 0
        and confirmed ~= rule.entity.name then
      util.fail("rule \"%s\" deletes every row of %s; confirm that with "
        .. "--all-rows %s as well as the digest; nothing was changed",
        rule.name, rule.entity.table, rule.entity.name)
    end
  end
end

-- Fail unless `user` holds every right that `plan` needs.
function executor.check_rights(db, user, plan, db_path)
  for _, right in ipairs(util.sorted_keys(required_rights(plan))) do
    if not rights.holds(db, user, right) then
      util.fail("user %s does not hold the %s right on %s; an "
        .. "administrator grants it with `lethe grant %s %s --db %s`",
        user, right, db_path, user, right, db_path)
    end
  end
end

local function counts_json(rule)
  local counts = {}
  for _, effect in ipairs(rule.effects) do
    local key = effect.entity.table .. ":" .. effect.operation
    local skipped = #(effect.skipped or {})
    counts[key] = (counts[key] or 0) + #effect.ids - skipped
    if skipped > 0 then
      counts[key .. ":skipped"] = (counts[key .. ":skipped"] or 0) + skipped
    end
  end
  return json.encode(counts)
end

-- The audit rows for applying `plan`: one per rule that is not keep().
function executor.audit_rows(run, plan, user)
  local at, rows = dates.format(native.time()), {}
  for _, rule in ipairs(plan.rules) do
    if rule.action ~= "keep" then
      local vetoed = 0
      for _, veto in ipairs(rule.vetoes) do vetoed = vetoed + #veto.ids end
      rows[#rows + 1] = {
        at = at, user = user, policy = run.policy.name,
        policy_digest = run.policy.digest, plan_digest = plan.digest,
        rule = rule.name, action = rule.action, entity = rule.entity.name,
        selected = #rule.ids, vetoed = vetoed, counts = counts_json(rule),
        ids_digest = keys.set_digest(rule.acting, run.key),
      }
    end
  end
  return rows
end

local function write_audit(db, run, plan, user)
  for _, row in ipairs(executor.audit_rows(run, plan, user)) do
    rights.audit(db, row)
  end
end

-- Update the rows of `effect` one by one, each under a savepoint, and
-- return the number changed and the skipped rows { id, reason }. Used
-- when the update as a whole fails on a constraint or a trigger.
local function update_row_by_row(db, effect, key)
  local changed, skipped = 0, {}
  local sql, params = effect_sql(effect, key)
  for id in effect.ids:ids() do
    params[1] = idset.from_array(effect.entity.name, { id })
    db:script("SAVEPOINT lethe_row")
    local count, message = db:try_exec(sql, params)
    if count then
      changed = changed + count
      db:script("RELEASE lethe_row")
    else
      db:script("ROLLBACK TO lethe_row")
      db:script("RELEASE lethe_row")
      skipped[#skipped + 1] = { id = id, reason = message }
    end
  end
  return changed, skipped
end

-- Run one effect. With `erased`, a plain delete also adds the personal
-- data it removes to that set (see erasure.returning).
local function execute_effect(db, rule, effect, key, erased)
  local sql, params = effect_sql(effect, key)
  local returning = erased and not effect.statement
    and erasure.returning(effect)
  if returning then sql = sql .. returning end
  local changed, message, kind = db:try_exec(sql, params,
    returning and erased or nil)
  local skipped = {}
  if not changed and kind == "constraint" and effect.operation == "update" then
    changed, skipped = update_row_by_row(db, effect, key)
  elseif not changed then
    util.fail("rule \"%s\": %s on %s failed: %s; nothing was changed",
      rule.name, effect.operation, effect.entity.table, message)
  end
  if changed + #skipped ~= #effect.ids then
    util.fail("rule \"%s\": %s on %s changed %d rows where the plan said "
      .. "%d; nothing was changed", rule.name, effect.operation,
      effect.entity.table, changed, #effect.ids)
  end
  effect.skipped = skipped
end

-- Progress on standard error, when it is a terminal: rows done of the
-- plan's total, after each statement.
local function show_progress(done, total)
  if total > 0 and native.isatty(2) then
    native.stderr(string.format("\r%d of %d rows (%d%%)", done, total,
      done * 100 // total))
  end
end

local function execute_effects(db, plan, key, erased)
  local total, done = 0, 0
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do total = total + #effect.ids end
  end
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      execute_effect(db, rule, effect, key, erased)
      done = done + #effect.ids
      show_progress(done, total)
    end
  end
  if total > 0 and native.isatty(2) then native.stderr("\n") end
end

-- Does `plan` delete any row?
function executor.deletes(plan)
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      if effect.operation == "delete" then return true end
    end
  end
  return false
end

-- How long apply waits for another writer before it gives up.
executor.lock_wait_ms = 8000

-- The database's version for this connection (PRAGMA data_version
-- changes when another connection commits, total_changes() when this
-- connection changes rows) and the number of script calls so far. Take
-- it before planning.
function executor.snapshot(db)
  return { version = db:scalar("PRAGMA data_version"),
           changes = db:scalar("SELECT total_changes()"),
           calls = sandbox.calls }
end

-- Would planning again return run.confirmed_plan, the plan with digest
-- `confirmed`? Only when nothing changed the database since run.snapshot
-- was taken before that plan was made, and no script or plugin code ran
-- since, because a guard or predicate written in Lua may return a
-- different result when called again. Call under the write lock, before
-- writing anything.
function executor.unmoved(run, confirmed)
  local plan, before = run.confirmed_plan, run.snapshot
  if not plan or plan.digest ~= confirmed or not before then return false end
  if next(plugins.active(run.policy)) ~= nil then return false end
  local now = executor.snapshot(run.db)
  return now.version == before.version and now.changes == before.changes
    and now.calls == before.calls
end

-- Check, inside the write transaction, that the plan is the one confirmed,
-- that `user` may apply it and that it breaks no cap. When `unmoved` (see
-- executor.unmoved), planning again would return the confirmed plan, so
-- that plan is used. Otherwise the policy is planned again.
function executor.plan_locked(run, confirmed, user, unmoved)
  local plan = unmoved and run.confirmed_plan or planner.plan(run, run.policy)
  if plan.digest ~= confirmed then
    util.fail("the database changed since the plan was shown (plan digest "
      .. "now %s); nothing was changed. Review the new plan and confirm "
      .. "its digest", report.short_digest(plan.digest))
  end
  executor.check_rights(run.db, user, plan, run.db_path)
  executor.check_problems(plan)
  return plan
end

executor.effect_sql = effect_sql

-- Apply the policy of `run` if its plan still has digest `confirmed`.
-- Optional fields of `run`: key (bytes for keyed hashes), ledger_path
-- (append keyed hashes of the erased identities there), export_path
-- (write the rows about to go there first), vacuum.
-- Runs in one transaction; on any failure it rolls back and raises.
-- Returns the plan that was applied and the erasure check's result (nil
-- when run.skip_erasure is set, which is for tests that must show what
-- the erasure steps prevent).
function executor.apply(run, confirmed, user)
  local db = run.db
  db:script(run.skip_erasure and "PRAGMA secure_delete = OFF"
    or "PRAGMA secure_delete = ON")
  db:begin_exclusive(executor.lock_wait_ms)
  local unmoved = executor.unmoved(run, confirmed)
  db:ensure_lethe_tables()
  local ok, result = pcall(function()
    local plan = executor.plan_locked(run, confirmed, user, unmoved)
    -- The erased values of plain deletes are gathered as they run, those
    -- of deletes by other statements before.
    local erased = not run.skip_erasure and erasure.collect(db, plan,
      function(effect) return effect.statement ~= nil end) or nil
    local lines = run.ledger_path and ledger.lines(db, plan, run.key) or {}
    if run.export_path then
      run.exported = export.write(db, plan, run.export_path)
    end
    local changes = fts_sources.plan_changes(plan)
    local reached = fts_sources.tables_reached(db, changes)
    local before = table_counts(db, reached)
    execute_effects(db, plan, run.key, erased)
    check_counts(before, table_counts(db, reached), plan)
    if not run.skip_erasure then erasure.purge_indexes(db, changes) end
    write_audit(db, run, plan, user)
    db:script("COMMIT")
    return { plan = plan, values = erasure.list(erased), lines = lines }
  end)
  if not ok then
    if db:in_transaction() then db:script("ROLLBACK") end
    error(result, 0)
  end
  -- NOTE: the ledger is written after the commit, so that it never names
  -- rows that stayed; a crash between the two loses these lines.
  if run.ledger_path then ledger.append(run.ledger_path, result.lines) end
  -- --vacuum rebuilds the file even when nothing is deleted, so that it
  -- removes what an earlier run's check found.
  if run.skip_erasure or not (executor.deletes(result.plan) or run.vacuum)
  then
    return result.plan, nil
  end
  return result.plan, erasure.finish(db, result.values, run.vacuum)
end

return executor
