-- Sessions: what plan, apply and the other policy commands share. A
-- session opens the database, loads the policy and its model, and holds
-- the run: the connection, the reference time and the loaded policy.

local args = require "lethe.args"
local criteria = require "lethe.criteria"
local model = require "lethe.model"
local native = require "lethe.native"
local policy = require "lethe.policy"

local session = {}

-- Open an existing database or raise with the reason.
function session.open_database(path)
  local db, message = native.open(path, "existing")
  if not db then error(message, 0) end
  return db
end

-- Load the policy `reference` (a path, or the name of a bundled policy)
-- for a run on `db`.
function session.load_policy(reference, db, db_path, now, model_option)
  local text, source
  if reference:find("/") or reference:find("%.lua$") then
    local message
    text, message = native.read_file(reference)
    if not text then error("cannot read policy: " .. message, 0) end
    source = reference
  else
    source = "scripts/policies/" .. reference .. ".lua"
    text = native.embedded(source)
    if not text then
      error(string.format("unknown policy '%s'; the bundled policies are "
        .. "retention, sakila and northwind, or give a file path",
        reference), 0)
    end
  end
  local loaded_model
  local function resolve_model(declared)
    local name = model_option or declared
    if not name then
      local has_meta = db:scalar("SELECT count(*) FROM sqlite_schema "
        .. "WHERE type = 'table' AND name = 'lethe_meta'") > 0
      if has_meta then
        name = db:scalar("SELECT value FROM lethe_meta WHERE key = "
          .. "'schema'")
      end
    end
    if not name then
      error(string.format("no model for %s: the policy names none and %s "
        .. "is not a Lethe CRM database; add model = \"...\" to policy "
        .. "{ } or pass --model FILE", source, db_path), 0)
    end
    loaded_model = model.load(name)
    model.check_database(loaded_model, db, db_path)
    return loaded_model
  end
  return policy.load(text, source, { db = db, now = now,
                                     resolve_model = resolve_model })
end

function session.new_run(db, db_path, loaded, now, samples)
  return {
    db = db, db_path = db_path, policy = loaded, now = now,
    samples = samples,
    context_factory = function()
      return criteria.context(loaded.model, db, now)
    end,
  }
end

function session.prepare_run(command, options, positional)
  if not options.db then args.usage_error(command, "missing --db FILE") end
  local now = args.now(command, options.now)
  local samples = options.samples
    and args.integer(command, "samples", options.samples, 0) or 5
  local db = session.open_database(options.db)
  local loaded = session.load_policy(positional[1], db, options.db, now,
    options.model)
  return session.new_run(db, options.db, loaded, now, samples)
end


return session
