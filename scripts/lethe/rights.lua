-- Rights and the audit trail. Rights live in the database (lethe_right):
-- a user may delete only with the "delete" right and update only with the
-- "update" right. Every applied rule leaves one audit row, chained to the
-- previous row by hash so that an edited or removed row shows.
--
-- NOTE: anyone who can write the database file can also grant rights;
-- rights guard against mistakes, not against the file's owner.

local args = require "lethe.args"
local dates = require "lethe.dates"
local native = require "lethe.native"
local session = require "lethe.session"
local util = require "lethe.util"

local rights = {}

rights.known = { delete = true, update = true }

local function has_table(db, name)
  return db:scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
    .. " AND name = ?1", { name }) > 0
end

-- Does `user` hold `right`?
function rights.holds(db, user, right)
  if not has_table(db, "lethe_right") then return false end
  return db:scalar("SELECT count(*) FROM lethe_right WHERE user = ?1 AND "
    .. "right = ?2", { user, right }) > 0
end

-- Rows of lethe_right ordered by user and right.
function rights.list(db)
  if not has_table(db, "lethe_right") then return {} end
  return (db:rows("SELECT user, right, granted FROM lethe_right "
    .. "ORDER BY user, right"))
end

local audit_columns = { "at", "user", "policy", "policy_digest",
  "plan_digest", "rule", "action", "entity", "selected", "vetoed", "counts",
  "ids_digest" }

local function audit_hash(previous, row)
  local parts = { previous }
  for _, column in ipairs(audit_columns) do
    parts[#parts + 1] = tostring(row[column])
  end
  return native.sha256(table.concat(parts, "\n"))
end

-- Append one audit row (a table with the audit_columns) in the current
-- transaction.
function rights.audit(db, row)
  local previous = db:scalar("SELECT hash FROM lethe_audit ORDER BY "
    .. "audit_id DESC LIMIT 1") or ""
  local values, placeholders = {}, {}
  for i, column in ipairs(audit_columns) do
    values[i] = row[column]
    placeholders[i] = "?" .. i
  end
  values[#values + 1] = previous
  values[#values + 1] = audit_hash(previous, row)
  db:exec(string.format("INSERT INTO lethe_audit (%s, previous_hash, hash) "
    .. "VALUES (%s, ?%d, ?%d)", table.concat(audit_columns, ", "),
    table.concat(placeholders, ", "), #values - 1, #values), values)
  -- The head of the chain, so that removing the newest records shows.
  local count = db:scalar("SELECT count(*) FROM lethe_audit")
  for name, value in pairs { audit_head = values[#values],
                             audit_count = tostring(count) } do
    db:exec("INSERT INTO lethe_meta (key, value) VALUES (?1, ?2) ON CONFLICT "
      .. "(key) DO UPDATE SET value = excluded.value", { name, value })
  end
end

-- Check the chain's head recorded in lethe_meta against the newest row:
-- nil when they agree, else a message.
function rights.audit_head_problem(db, rows)
  if not has_table(db, "lethe_meta") then return nil end
  local head = db:scalar("SELECT value FROM lethe_meta WHERE key = "
    .. "'audit_head'")
  local count = db:scalar("SELECT value FROM lethe_meta WHERE key = "
    .. "'audit_count'")
  if head == nil and #rows == 0 then return nil end
  local last = rows[#rows]
  if head == nil or not last or last.hash ~= head
      or tonumber(count) ~= #rows then
    return string.format("the audit trail holds %d records where %s were "
      .. "written; records were removed or the head was changed", #rows,
      count or "some")
  end
  return nil
end

-- Audit rows in order, each with `intact` telling whether its hash and
-- link to the previous row still hold.
function rights.audit_rows(db)
  if not has_table(db, "lethe_audit") then return {} end
  local rows = db:rows("SELECT * FROM lethe_audit ORDER BY audit_id")
  local previous = ""
  for _, row in ipairs(rows) do
    row.intact = row.previous_hash == previous
      and row.hash == audit_hash(previous, row)
    previous = row.hash
  end
  return rows
end

rights.help = [[
Usage: lethe grant USER RIGHT --db FILE
       lethe revoke USER RIGHT --db FILE
       lethe rights --db FILE

Give, take back or list rights. RIGHT is delete (needed to apply delete
rules) or update (needed to apply update rules).
]]

-- Run `lethe grant` (grant true) or `lethe revoke` with `arguments`.
function rights.change_command(command, arguments, grant)
  local options, positional = args.parse(command, arguments, { db = "value" },
    { "USER", "RIGHT" })
  if options.help then io.stdout:write(rights.help) return 0 end
  if not options.db then args.usage_error(command, "missing --db FILE") end
  local user, right = positional[1], positional[2]
  if not user:match("%S") then
    args.usage_error(command, "the user name is empty; give a login name, "
      .. "such as \"$(id -un)\"")
  end
  if not rights.known[right] then
    args.usage_error(command, "unknown right '%s'; the rights are delete and "
      .. "update", right)
  end
  local db = session.open_database(options.db)
  local function lethe_tables()
    local names = {}
    for _, row in ipairs(db:rows("SELECT name FROM sqlite_master WHERE "
        .. "type = 'table' AND name LIKE 'lethe\\_%' ESCAPE '\\' "
        .. "ORDER BY name")) do
      names[#names + 1] = row.name
    end
    return names
  end
  local before = lethe_tables()
  local changed = 0
  if grant then
    db:ensure_lethe_tables()
    changed = db:exec("INSERT INTO lethe_right (user, right, granted) "
      .. "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
      { user, right, dates.format(native.time()) })
  elseif db:scalar("SELECT count(*) FROM sqlite_master WHERE type = "
      .. "'table' AND name = 'lethe_right'") > 0 then
    changed = db:exec("DELETE FROM lethe_right WHERE user = ?1 AND "
      .. "right = ?2", { user, right })
  end
  local after = lethe_tables()
  db:close()
  if #after > #before then
    -- A database that `lethe init` did not make gets Lethe's own tables
    -- here. They change its schema, so the message names them.
    local existed, added = {}, {}
    for _, name in ipairs(before) do existed[name] = true end
    for _, name in ipairs(after) do
      if not existed[name] then added[#added + 1] = name end
    end
    io.stderr:write(string.format("Added Lethe's tables %s to %s.\n",
      table.concat(added, ", "), options.db))
  end
  if changed == 0 and grant then
    io.stderr:write(string.format("%s already holds the %s right.\n", user,
      right))
  elseif changed == 0 then
    io.stderr:write(string.format("%s did not hold the %s right.\n", user,
      right))
  else
    io.stderr:write(string.format("%s the %s right %s %s.\n",
      grant and "Gave" or "Took", right, grant and "to" or "from", user))
  end
  return 0
end

return rights
