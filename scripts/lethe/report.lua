-- Reports: a plan as text for people and as JSON for programs.

local dates = require "lethe.dates"
local json = require "lethe.json"
local util = require "lethe.util"

local report = {}

-- Sets of at least this many ids show their memory in the plan.
report.large_set = 100000

-- The digest that people type to confirm: the first 16 hex digits.
function report.short_digest(digest)
  return digest:sub(1, 16)
end

local operation_words = {
  delete = "deleted", clear = "link cleared", update = "updated",
  insert = "inserted",
}

local function effect_text(effect)
  local text = operation_words[effect.operation]
  if effect.operation == "clear" then
    text = effect.column .. " cleared"
  elseif effect.operation == "update" then
    local fields = {}
    for i, item in ipairs(effect.assignments) do
      fields[i] = item.description
    end
    text = "updated (" .. table.concat(fields, "; ") .. ")"
  elseif effect.operation == "insert" then
    text = "inserted (" .. effect.description .. ")"
  end
  return text
end

local function value_text(value, change, side)
  if side == "after" and change.random then return "(random text)" end
  if side == "after" and change.hashed then return "(keyed hash)" end
  if value == nil then return "null" end
  if type(value) == "number" then return tostring(value) end
  return string.format("%q", tostring(value))
end

local function write_preview(out, effect)
  for _, row in ipairs(effect.preview or {}) do
    local parts = {}
    for i, change in ipairs(row.changes) do
      parts[i] = string.format("%s %s -> %s", change.field,
        value_text(change.before, change, "before"),
        value_text(change.after, change, "after"))
    end
    out(string.format("      #%s: %s", tostring(row.id),
      table.concat(parts, ", ")))
  end
end

local function sample_text(sample)
  if sample.label ~= "" then
    return string.format("#%s %s", tostring(sample.id),
      util.printable(sample.label))
  end
  return "#" .. tostring(sample.id)
end

local function samples_line(samples)
  local parts = {}
  for i, sample in ipairs(samples) do parts[i] = sample_text(sample) end
  return table.concat(parts, "; ")
end

local function write_rule(out, rule)
  local entity = rule.entity.name
  out(string.format("Rule %d: %s (%s %s)", rule.index, rule.name,
    rule.action, entity))
  if rule.reason then out("  reason: " .. rule.reason) end
  for _, text in ipairs(rule.criteria) do out("  criterion: " .. text) end
  for _, item in ipairs(rule.unreadable_dates or {}) do
    out(string.format("  unreadable dates: %d rows of %s.%s hold text "
      .. "that is not a date; date criteria never select them", item.count,
      item.entity, item.field))
  end
  local selected = string.format("  selected: %d %s records", #rule.ids,
    entity)
  if rule.excluded > 0 then
    selected = selected .. string.format(
      " (%d more were taken by earlier rules)", rule.excluded)
  end
  if rule.outside > 0 then
    selected = selected .. string.format(
      " (%d more are left out by --rule or --only)", rule.outside)
  end
  if #rule.ids >= report.large_set then
    selected = selected .. string.format("; the id set takes %d bytes",
      rule.ids:bytes())
  end
  out(selected)
  if rule.only_missing and #rule.only_missing > 0 then
    local ids = {}
    for id in rule.only_missing:ids() do
      if #ids == 5 then ids[#ids + 1] = "..." break end
      ids[#ids + 1] = tostring(id)
    end
    out(string.format("  --only: %d of the given ids are not this rule's to "
      .. "act on, so nothing happens to them: %s", #rule.only_missing,
      table.concat(ids, ", ")))
  end
  if #rule.vetoes > 0 then
    out("  vetoed:")
    for _, veto in ipairs(rule.vetoes) do
      out(string.format("    %d %s: %s", #veto.ids, veto.reason,
        samples_line(veto.samples)))
    end
  end
  if rule.action == "keep" then
    out(string.format("  kept: %d %s records, nothing changes",
      #rule.acting, entity))
  elseif #rule.effects == 0 then
    out("  changes: none")
  else
    out("  changes:")
    for _, effect in ipairs(rule.effects) do
      out(string.format("    %-16s %8d %s", effect.entity.table, #effect.ids,
        effect_text(effect)))
      write_preview(out, effect)
    end
  end
  for _, skip in ipairs(rule.skips or {}) do
    out(string.format("  skipped: %d %s", #skip.ids, skip.reason))
  end
  if #rule.samples > 0 then
    out("  sample: " .. samples_line(rule.samples))
  end
  for _, problem in ipairs(rule.problems) do
    out("  STOP: " .. problem)
  end
  out("")
end

-- Rows per table and operation over all rules, sorted by table.
function report.totals(plan)
  local totals = {}
  for _, rule in ipairs(plan.rules) do
    for _, effect in ipairs(rule.effects) do
      local key = effect.entity.table .. "\0" .. effect.operation
      local total = totals[key] or { table = effect.entity.table,
        operation = effect.operation, rows = 0 }
      total.rows = total.rows + #effect.ids
      totals[key] = total
    end
  end
  local list = {}
  for _, key in ipairs(util.sorted_keys(totals)) do
    list[#list + 1] = totals[key]
  end
  return list
end

-- Write the plan as text through `out(line)`.
function report.text(plan, run, out)
  out(string.format("Plan for policy %s (%s)", run.policy.name,
    run.policy.source))
  out(string.format("Database %s, model %s, reference time %s UTC",
    run.db_path, run.policy.model.name, dates.format(run.now)))
  out("")
  for _, rule in ipairs(plan.rules) do write_rule(out, rule) end
  local totals = report.totals(plan)
  if #totals == 0 then
    out("Totals: nothing would change.")
  else
    out("Totals:")
    for _, total in ipairs(totals) do
      out(string.format("  %-16s %8d %s", total.table, total.rows,
        operation_words[total.operation]))
    end
  end
  out("")
  if #plan.problems > 0 then
    out("This plan cannot be applied:")
    for _, problem in ipairs(plan.problems) do out("  " .. problem) end
    out("")
  end
  out("Plan digest: " .. report.short_digest(plan.digest))
end

local function samples_json(samples)
  local list = json.array()
  for i, sample in ipairs(samples) do
    list[i] = { id = sample.id, label = sample.label }
  end
  return list
end

local function unreadable_json(rule)
  local list = json.array()
  for i, item in ipairs(rule.unreadable_dates or {}) do
    list[i] = { entity = item.entity, field = item.field,
                table = item.table, column = item.column, rows = item.count }
  end
  return list
end

local function rule_json(rule)
  local effects, vetoes = json.array(), json.array()
  for i, effect in ipairs(rule.effects) do
    effects[i] = { table = effect.entity.table, entity = effect.entity.name,
                   operation = effect.operation, column = effect.column,
                   rows = #effect.ids }
    if effect.assignments then
      local changes = json.array()
      for j, item in ipairs(effect.assignments) do
        changes[j] = item.description
      end
      effects[i].changes = changes
    end
    effects[i].description = effect.description
  end
  for i, veto in ipairs(rule.vetoes) do
    vetoes[i] = { reason = veto.reason, count = #veto.ids,
                  samples = samples_json(veto.samples) }
  end
  local skips = json.array()
  for i, skip in ipairs(rule.skips or {}) do
    skips[i] = { reason = skip.reason, count = #skip.ids }
  end
  return {
    index = rule.index, name = rule.name, action = rule.action,
    entity = rule.entity.name, reason = rule.reason, line = rule.line,
    selected = #rule.ids, excluded = rule.excluded, outside = rule.outside,
    only_missing = rule.only_missing and #rule.only_missing or 0,
    set_bytes = rule.ids:bytes(),
    acting = #rule.acting, criteria = json.array(rule.criteria),
    effects = effects, vetoes = vetoes, samples = samples_json(rule.samples),
    problems = json.array(rule.problems), all_rows = rule.all_rows or false,
    skips = skips, unreadable_dates = unreadable_json(rule),
  }
end

-- Return the plan as a JSON document.
function report.json(plan, run)
  local rules = json.array()
  for i, rule in ipairs(plan.rules) do rules[i] = rule_json(rule) end
  return json.encode({
    policy = { name = run.policy.name, source = run.policy.source,
               digest = run.policy.digest },
    database = run.db_path, model = run.policy.model.name,
    now = dates.format(run.now), rules = rules,
    totals = json.array(report.totals(plan)),
    digest = plan.digest, short_digest = report.short_digest(plan.digest),
    problems = json.array(plan.problems),
  }, true)
end

return report
