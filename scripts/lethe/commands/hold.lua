-- lethe hold: manage legal holds. A record under a hold is never deleted
-- until the hold ends; the plan lists it as vetoed with the hold's reason.

local args = require "lethe.args"
local dates = require "lethe.dates"
local native = require "lethe.native"
local session = require "lethe.session"
local util = require "lethe.util"

local command = {
  summary = "put records under a legal hold, list or end holds",
  help = [[
Usage: lethe hold add ENTITY ID --reason TEXT [--until DATE] --db FILE
       lethe hold list --db FILE
       lethe hold remove HOLD_ID --db FILE

A record under a legal hold is kept: delete rules veto it, with the hold's
reason, until the hold's end date (or for good, without --until). ENTITY
is an entity of the database's model (for example person or company);
--model names the model for databases not created by `lethe init`.

Options:
  --db FILE       the SQLite database (required)
  --reason TEXT   why the record is held, shown in plans (required for add)
  --until DATE    the last day of the hold, YYYY-MM-DD (default: no end)
  --model MODEL   model file or bundled model name
]],
}

local function resolve_model(db, db_path, reference)
  reference = reference or session.database_model(db)
  if not reference then
    args.usage_error("hold", "%s is not a Lethe CRM database; name its "
      .. "model with --model", db_path)
  end
  return session.load_model(reference, db, db_path)
end

local function add(db, options, positional)
  local entity_name, id_text = positional[2], positional[3]
  if not entity_name or not id_text then
    args.usage_error("hold", "hold add needs ENTITY and ID")
  end
  if not options.reason or options.reason == "" then
    args.usage_error("hold", "hold add needs --reason TEXT")
  end
  local until_text = nil
  if options["until"] then
    local instant, reason = dates.parse(options["until"])
    if not instant then
      args.usage_error("hold", "invalid --until '%s': %s", options["until"],
        reason)
    end
    -- A date alone means the hold lasts through that day.
    if #options["until"] == 10 then instant = instant + 86400 - 1 end
    until_text = dates.format(instant)
  end
  local loaded = resolve_model(db, options.db, options.model)
  local entity = loaded.entities[entity_name]
  if not entity then
    util.fail("unknown entity '%s' in model %s%s", entity_name, loaded.name,
      util.suggestion(entity_name, util.sorted_keys(loaded.entities)))
  end
  local id = math.tointeger(tonumber(id_text))
  if not id or id < 0 or id > 0xffffffff then
    args.usage_error("hold", "invalid ID '%s': expected a record id",
      id_text)
  end
  local exists = db:scalar(string.format("SELECT count(*) FROM %s WHERE "
    .. "%s = ?1", util.quote(entity.table), util.quote(entity.key)), { id })
  if exists == 0 then
    util.fail("%s %d not found in %s", entity_name, id, options.db)
  end
  db:ensure_lethe_tables()
  db:exec("INSERT INTO lethe_hold (entity, record_id, reason, until, user, "
    .. "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", { entity_name, id,
    options.reason, until_text, native.username() or "unknown",
    dates.format(native.time()) })
  io.stderr:write(string.format("Put %s %d under hold %d.\n", entity_name,
    id, db:scalar("SELECT max(hold_id) FROM lethe_hold")))
end

local function list(db)
  local has_holds = db:scalar("SELECT count(*) FROM sqlite_schema WHERE "
    .. "type = 'table' AND name = 'lethe_hold'") > 0
  if not has_holds then return end
  local rows = db:rows("SELECT hold_id, entity, record_id, reason, until, "
    .. "user, created FROM lethe_hold ORDER BY hold_id")
  for _, row in ipairs(rows) do
    args.out(string.format("%d\t%s\t%d\t%s\t%s\t%s\t%s", row.hold_id,
      row.entity, row.record_id, row.reason, row["until"] or "no end",
      row.user, row.created))
  end
end

local function remove(db, options, positional)
  local id = math.tointeger(tonumber(positional[2] or ""))
  if not id then args.usage_error("hold", "hold remove needs a HOLD_ID") end
  db:ensure_lethe_tables()
  if db:exec("DELETE FROM lethe_hold WHERE hold_id = ?1", { id }) == 0 then
    util.fail("hold %d not found in %s", id, options.db)
  end
  io.stderr:write(string.format("Ended hold %d.\n", id))
end

function command.run(arguments)
  local options, positional = args.parse("hold", arguments, {
    db = "value", reason = "value", ["until"] = "value", model = "value" },
    { "ACTION", "ENTITY?", "ID?" })
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.db then args.usage_error("hold", "missing --db FILE") end
  local actions = { add = add, list = list, remove = remove }
  local action = actions[positional[1]]
  if not action then
    args.usage_error("hold", "unknown action '%s'; use add, list or remove",
      positional[1])
  end
  local db = session.open_database(options.db)
  local ok, message = pcall(action, db, options, positional)
  db:close()
  if not ok then error(message, 0) end
  return 0
end

return command
