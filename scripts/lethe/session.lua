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

-- The model a database records for itself (lethe_meta 'schema', which
-- `lethe init` sets to "crm"), or nil.
function session.database_model(db)
  local has_meta = db:scalar("SELECT count(*) FROM sqlite_schema WHERE "
    .. "type = 'table' AND name = 'lethe_meta'") > 0
  if not has_meta then return nil end
  return db:scalar("SELECT value FROM lethe_meta WHERE key = 'schema'")
end

-- Load the model `reference` and check it against the database.
function session.load_model(reference, db, db_path)
  local loaded = model.load(reference)
  model.check_database(loaded, db, db_path)
  return loaded
end

-- Read the policy `reference`: a path, or the name of a bundled policy.
-- Returns its text and its source name for messages.
function session.read_policy(reference)
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
  return text, source
end

-- Load the policy `text` (named `source` in messages) for a run on `db`
-- at reference time `now`, with the model `model_option` if given, else
-- the one the policy names, else the database's own.
function session.load_policy(text, source, db, db_path, now, model_option)
  local function resolve_model(declared)
    local name = model_option or declared or session.database_model(db)
    if not name then
      error(string.format("no model for %s: the policy names none and %s "
        .. "is not a Lethe CRM database; add model = \"...\" to policy "
        .. "{ } or pass --model FILE", source, db_path), 0)
    end
    return session.load_model(name, db, db_path)
  end
  return policy.load(text, source, { db = db, now = now,
                                     resolve_model = resolve_model })
end

-- A run: what the planner and executor need. `text` is the policy's text.
function session.new_run(db, db_path, loaded, now, samples, text)
  return {
    db = db, db_path = db_path, policy = loaded, now = now,
    samples = samples, text = text,
    context_factory = function()
      return criteria.context(loaded.model, db, now)
    end,
  }
end

-- Open the database and load the policy named on the command line
-- (options db, now, samples, model; positional[1] the policy).
function session.prepare_run(command, options, positional)
  if not options.db then args.usage_error(command, "missing --db FILE") end
  local now = args.now(command, options.now)
  local samples = options.samples
    and args.integer(command, "samples", options.samples, 0) or 5
  local text, source = session.read_policy(positional[1])
  local db = session.open_database(options.db)
  local ok, loaded = pcall(session.load_policy, text, source, db, options.db,
    now, options.model)
  if not ok then
    db:close()
    error(loaded, 0)
  end
  return session.new_run(db, options.db, loaded, now, samples, text)
end

return session
