-- Batched runs: for very large plans, apply in batches that each commit
-- on their own, so that a run stopped at any moment has committed whole
-- batches only, knows exactly how many rows it changed, and resumes on
-- the same frozen ids.
--
-- The run is first frozen in one transaction: the plan is checked as for
-- a single-transaction apply, and every effect's id set, the audit rows
-- and the ledger lines are stored in lethe_run and lethe_run_effect.
-- Each batch then changes up to batch_size rows of one effect and
-- records its progress in the same transaction. Effects run in the
-- plan's order (links cleared and children deleted before their parents),
-- so every committed state satisfies the foreign keys.

local erasure = require "lethe.erasure"
local executor = require "lethe.executor"
local export = require "lethe.export"
local idset = require "lethe.idset"
local json = require "lethe.json"
local ledger = require "lethe.ledger"
local native = require "lethe.native"
local dates = require "lethe.dates"
local rights = require "lethe.rights"
local updates = require "lethe.updates"
local util = require "lethe.util"

local batches = {}

-- The unfinished run of the database, or nil.
function batches.unfinished(db)
  local exists = db:scalar("SELECT count(*) FROM sqlite_schema WHERE type = "
    .. "'table' AND name = 'lethe_run'") > 0
  if not exists then return nil end
  local rows = db:rows("SELECT * FROM lethe_run WHERE state = 'running' "
    .. "ORDER BY run_id LIMIT 1")
  return rows[1]
end

-- Parameters as JSON: the id set (first) as false, the key's placeholder
-- as {"key": true}, nil as null. The key itself is never stored.
local function encode_params(params)
  local list = json.array()
  for i = 1, params.n or #params do
    local value = params[i]
    if i == 1 then
      value = false
    elseif value == updates.KEY then
      value = { key = true }
    elseif value == nil then
      value = json.null
    end
    list[i] = value
  end
  return json.encode(list)
end

local function decode_params(text, key)
  local params = json.decode(text)
  params.n = #params
  for i = 1, params.n do
    local value = params[i]
    if type(value) == "table" and value.key then
      if not key then
        util.fail("this run hashes with a key: pass --key-file FILE or set "
          .. "LETHE_KEY_FILE")
      end
      params[i] = key
    elseif value == json.null then
      params[i] = nil
    end
  end
  return params
end

local function store_effects(db, run_id, plan)
  local position = 0
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      position = position + 1
      local sql, params = executor.effect_sql(effect, updates.KEY)
      db:exec("INSERT INTO lethe_run_effect (run_id, position, rule, "
        .. "operation, entity, table_name, key_column, statement, params, "
        .. "ids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        { run_id, position, rule.name, effect.operation, effect.entity.name,
          effect.entity.table, effect.entity.key, sql, encode_params(params),
          { blob = effect.ids:serialize() } })
    end
  end
end

-- Freeze the confirmed plan of `run` as a batched run. Returns its id.
local function freeze(run, confirmed, user, batch_size)
  local db = run.db
  db:begin_exclusive(executor.lock_wait_ms)
  db:ensure_lethe_tables()
  local ok, result = pcall(function()
    local unfinished = batches.unfinished(db)
    if unfinished then
      util.fail("batched run %d on %s is unfinished; finish it with "
        .. "`lethe apply --resume --db %s` first", unfinished.run_id,
        run.db_path, run.db_path)
    end
    local plan = executor.plan_locked(run, confirmed, user)
    if run.export_path then
      run.exported = export.write(db, plan, run.export_path)
    end
    local lines = run.ledger_path and ledger.lines(db, plan, run.key) or {}
    local total = 0
    for _, rule in ipairs(plan.rules) do
      for _, effect in ipairs(rule.effects) do total = total + #effect.ids end
    end
    db:exec("INSERT INTO lethe_run (plan_digest, policy, user, batch_size, "
      .. "state, created, total_rows, audit, ledger) VALUES (?1, ?2, ?3, ?4, "
      .. "'running', ?5, ?6, ?7, ?8)", { plan.digest, run.policy.name, user,
      batch_size, dates.format(native.time()), total,
      json.encode(json.array(executor.audit_rows(run, plan, user))),
      #lines > 0 and table.concat(lines, "\n") or nil, n = 8 })
    local run_id = db:scalar("SELECT last_insert_rowid()")
    store_effects(db, run_id, plan)
    db:script("COMMIT")
    return run_id
  end)
  if not ok then
    if db:in_transaction() then db:script("ROLLBACK") end
    error(result, 0)
  end
  return result
end

local function load_effects(db, run_id, key)
  local rows = db:rows("SELECT * FROM lethe_run_effect WHERE run_id = ?1 "
    .. "ORDER BY position", { run_id })
  for _, row in ipairs(rows) do
    row.ids = idset.deserialize(row.ids)
    row.params = decode_params(row.params, key)
  end
  return rows
end

-- The next up to `size` ids of `ids` after `last_id`, as a set.
local function next_batch(ids, entity, last_id, size)
  local chosen = {}
  local remaining = last_id >= 0 and (ids - idset.range(entity, 0, last_id))
    or ids
  for id in remaining:ids() do
    chosen[#chosen + 1] = id
    if #chosen == size then break end
  end
  return idset.from_array(entity, chosen)
end

local function progress(done, total)
  if native.isatty(2) then
    native.stderr(string.format("\r%d of %d rows (%d%%)", done, total,
      total > 0 and done * 100 // total or 100))
  end
end

-- Rows of `chunk` that a legal hold placed after the run was frozen now
-- protects: they are left as they are, and reported.
local function newly_held(db, effect, chunk, now)
  local exists = db:scalar("SELECT count(*) FROM sqlite_schema WHERE type = "
    .. "'table' AND name = 'lethe_hold'") > 0
  if not exists or effect.operation ~= "delete" then
    return idset.new(effect.entity)
  end
  return db:ids("SELECT record_id FROM lethe_hold WHERE entity = ?1 AND "
    .. "record_id IN lethe_ids(?2) AND (until IS NULL OR julianday(until) > "
    .. "julianday(?3))", { effect.entity, chunk, now }, effect.entity,
    "lethe_hold")
end

-- Run one batch of `effect` in its own transaction. Returns the number of
-- rows changed, or nil when the effect is finished.
local function run_batch(db, state, effect, values, skip_erasure)
  local chunk = next_batch(effect.ids, effect.entity, state.last_id,
    state.batch_size)
  if #chunk == 0 then return nil end
  local last_id = chunk:max()
  local held = newly_held(db, effect, chunk, dates.format(native.time()))
  if #held > 0 then
    chunk = chunk - held
    state.held = (state.held or 0) + #held
    io.stderr:write(string.format("Kept %d %s rows under a legal hold placed "
      .. "after the run started.\n", #held, effect.entity))
  end
  local sql, params = effect.statement, effect.params
  params[1] = chunk
  db:begin_exclusive(executor.lock_wait_ms)
  local ok, message = pcall(function()
    if effect.operation == "delete" and not skip_erasure then
      local more = erasure.collect_rows(db, effect.entity_definition, chunk)
      table.move(more, 1, #more, #values + 1, values)
    end
    local changed = db:exec(sql, params)
    if changed ~= #chunk then
      util.fail("%s on %s changed %d rows where the frozen run holds %d; the "
        .. "database moved during the run. The batch was rolled back",
        effect.operation, effect.table_name, changed, #chunk)
    end
    db:exec("UPDATE lethe_run SET done_rows = done_rows + ?1, effect = ?2, "
      .. "last_id = ?3 WHERE run_id = ?4", { #chunk, effect.position,
      last_id, state.run_id })
    db:script("COMMIT")
  end)
  if not ok then
    if db:in_transaction() then db:script("ROLLBACK") end
    error(message, 0)
  end
  state.last_id = last_id
  state.done_rows = state.done_rows + #chunk
  return #chunk
end

-- The table changes of the stored `effects`, for erasure.purge_indexes.
-- The updated columns are not stored, so an update counts as changing
-- every column.
local function stored_changes(effects)
  local changes = {}
  for i, effect in ipairs(effects) do
    changes[i] = { table = effect.table_name, operation =
      effect.operation == "clear" and "update" or effect.operation }
  end
  return changes
end

-- Finish the run: merge the full-text indexes that `effects` reach, write
-- the audit rows and mark it done, in one transaction; then append the
-- ledger lines.
local function finish(run, state, ledger_path, effects)
  local db = run.db
  db:begin_exclusive(executor.lock_wait_ms)
  local ok, message = pcall(function()
    if not run.skip_erasure then
      erasure.purge_indexes(db, stored_changes(effects))
    end
    for _, row in ipairs(json.decode(state.audit)) do
      rights.audit(db, row)
    end
    db:exec("UPDATE lethe_run SET state = 'done', finished = ?1 WHERE "
      .. "run_id = ?2", { dates.format(native.time()), state.run_id })
    db:script("COMMIT")
  end)
  if not ok then
    if db:in_transaction() then db:script("ROLLBACK") end
    error(message, 0)
  end
  if ledger_path and state.ledger then
    ledger.append(ledger_path, { state.ledger })
  end
end

-- Process the unfinished run `state` (a lethe_run row) of `run` from where
-- it stopped. Stops early, with every finished batch committed, when
-- SIGINT arrives. Returns "done" or "stopped", and the erasure check.
function batches.process(run, state)
  local db = run.db
  local effects = load_effects(db, state.run_id, run.key)
  local values = {}
  -- The rows that an earlier process committed: their erased values went
  -- with that process's memory.
  local earlier_rows = state.done_rows
  native.catch_interrupts(true)
  local ok, result = pcall(function()
    for _, effect in ipairs(effects) do
      effect.entity_definition = run.model and run.model.entities[effect.entity]
      if effect.position > state.effect then state.last_id = -1 end
      if effect.position >= state.effect then
        state.effect = effect.position
        while run_batch(db, state, effect, values, run.skip_erasure) do
          progress(state.done_rows, state.total_rows)
          if native.interrupted() then return "stopped" end
        end
      end
    end
    return "done"
  end)
  if native.isatty(2) then native.stderr("\n") end
  if not ok or result == "stopped" then
    native.catch_interrupts(false)
    if not ok then error(result, 0) end
    return "stopped", nil
  end
  -- Once the last batch is in, SIGINT no longer stops anything: the run is
  -- marked done and the erasure check, which no command can repeat, runs
  -- to its end and reports.
  local finished, check = pcall(function()
    finish(run, state, run.ledger_path, effects)
    if run.skip_erasure then return nil end
    return erasure.finish(db, values, run.vacuum)
  end)
  native.catch_interrupts(false)
  if not finished then error(check, 0) end
  if check and earlier_rows > 0 then
    check.earlier_rows = earlier_rows
    check.verified = false
  end
  return "done", check
end

-- Freeze the confirmed plan of `run` and process it in batches of
-- `batch_size` rows. Returns as batches.process does, plus the run id.
function batches.apply(run, confirmed, user, batch_size)
  run.db:script(run.skip_erasure and "PRAGMA secure_delete = OFF"
    or "PRAGMA secure_delete = ON")
  local run_id = freeze(run, confirmed, user, batch_size)
  local state = run.db:rows("SELECT * FROM lethe_run WHERE run_id = ?1",
    { run_id })[1]
  local outcome, check = batches.process(run, state)
  return outcome, check, state
end

return batches
