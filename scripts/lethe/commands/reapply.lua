-- lethe reapply: erase again what a restored backup brought back, from
-- the keyed hashes in an erasure ledger, through the same plan, rights,
-- caps, vetoes and confirmation as apply.

local apply_command = require "lethe.commands.apply"
local args = require "lethe.args"
local idset = require "lethe.idset"
local keys = require "lethe.keys"
local ledger = require "lethe.ledger"
local native = require "lethe.native"
local planner = require "lethe.planner"
local session = require "lethe.session"
local util = require "lethe.util"

local command = {
  summary = "erase again what a restored backup brought back",
  help = [[
Usage: lethe reapply --ledger FILE --db FILE --key-file KEY [options]

Find the rows of the database whose ids, e-mail addresses or phone numbers
match the keyed hashes in the erasure ledger written by `lethe apply
--ledger`, and delete them, with their cascades, exactly as apply would:
the plan is shown, vetoes and caps apply, and the plan digest must be
confirmed. Use it after restoring a backup taken before an erasure.

Options:
  --ledger FILE   the ledger written by `lethe apply --ledger` (required)
  --db FILE       the restored database (required)
  --key-file FILE the key the ledger was written with (default: the
                  LETHE_KEY_FILE environment variable)
  --model MODEL   model file or bundled model name (default: the
                  database's own)
  --as USER       the acting user (default: the login name)
  --yes DIGEST    confirm without a prompt
  --json          print the plan as a JSON document
]],
}

-- A policy, as policy.load returns it, with one delete rule per entity of
-- the ledger that has matching rows.
local function ledger_policy(db, loaded_model, path, key)
  local order, entries = ledger.read(path)
  local rules = {}
  for _, name in ipairs(order) do
    local entity = loaded_model.entities[name]
    if not entity then
      util.fail("the ledger names entity '%s', which model %s does not "
        .. "have; pass the model the ledger was written with", name,
        loaded_model.name)
    end
    local found = ledger.match(db, entity, entries[name], key)
    rules[#rules + 1] = {
      name = "reapply " .. name, entity = entity, action = "delete",
      reason = "erased before; restored from a backup",
      selection = { kind = "ids", entity = entity,
                    ids = idset.from_array(name, found) },
    }
  end
  if #rules == 0 then util.fail("the ledger %s is empty", path) end
  return { name = "reapply " .. path, source = path,
           digest = native.sha256(native.read_file(path)),
           model = loaded_model, rules = rules, guards = {} }
end

function command.run(arguments)
  local spec = { ledger = "value" }
  for name, kind in pairs(apply_command.options) do spec[name] = kind end
  local options = args.parse("reapply", arguments, spec, {})
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.ledger then
    args.usage_error("reapply", "missing --ledger FILE")
  end
  if not options.db then args.usage_error("reapply", "missing --db FILE") end
  local user = apply_command.user(options, "reapply")
  local key = keys.read(options["key-file"], options.db)
  if not key then
    args.usage_error("reapply", "missing --key-file FILE (or "
      .. "LETHE_KEY_FILE): the key the ledger was written with")
  end
  local db = session.open_database(options.db)
  local ok, result = pcall(function()
    local reference = options.model or session.database_model(db)
    if not reference then
      args.usage_error("reapply", "%s is not a Lethe CRM database; name "
        .. "its model with --model", options.db)
    end
    local loaded_model = session.load_model(reference, db, options.db)
    local loaded = ledger_policy(db, loaded_model, options.ledger, key)
    local run = session.new_run(db, options.db, loaded, native.time(), 5,
      nil)
    return { run = run, plan = planner.plan(run, loaded) }
  end)
  if not ok then
    db:close()
    error(result, 0)
  end
  options.ledger = nil -- reapplying does not add to the ledger again
  return apply_command.carry_out(result.run, result.plan, options, user)
end

return command
