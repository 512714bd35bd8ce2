-- lethe audit: list audit records and check their hash chain.

local args = require "lethe.args"
local json = require "lethe.json"
local rights = require "lethe.rights"
local session = require "lethe.session"

local command = {
  summary = "list audit records and check their hash chain",
  help = [[
Usage: lethe audit --db FILE [--json] [--verify]

List the audit records of applied rules, oldest first, and check the hash
chain that links them and the chain's head. Exits with 1 if a record was
changed, removed or moved. With --verify, print only the verdict.
]],
}

function command.run(arguments)
  local options = args.parse("audit", arguments, { db = "value",
    json = "flag", verify = "flag" }, {})
  if options.help then io.stdout:write(command.help) return 0 end
  if not options.db then args.usage_error("audit", "missing --db FILE") end
  local db = session.open_database(options.db)
  local rows = rights.audit_rows(db)
  local head_problem = rights.audit_head_problem(db, rows)
  db:close()
  local broken = 0
  for _, row in ipairs(rows) do
    if not row.intact then broken = broken + 1 end
  end
  if options.verify then
    if broken == 0 and not head_problem then
      args.out(string.format("Audit trail verified: %d records, chain "
        .. "intact.", #rows))
    end
  elseif options.json then
    args.out(json.encode(json.array(rows), true))
  elseif #rows == 0 then
    -- Standard error, so that standard output stays one line a record.
    io.stderr:write("No audit records: no rule has been applied to this "
      .. "database.\n")
  else
    for _, row in ipairs(rows) do
      args.out(string.format("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", row.audit_id,
        row.at, row.user, row.policy, row.rule, row.action, row.counts,
        row.intact and "ok" or "BROKEN CHAIN"))
    end
  end
  if broken > 0 then
    io.stderr:write(string.format("lethe: %d audit records fail the hash "
      .. "check; the audit trail was changed\n", broken))
    return 1
  end
  if head_problem then
    io.stderr:write("lethe: " .. head_problem .. "\n")
    return 1
  end
  return 0
end


return command
