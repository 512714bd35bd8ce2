-- Random criteria trees on a generated CRM database (10,000 persons from
-- the sample generator, then varied: other ISO date forms, dates that are
-- not dates, Greek and accented names, "%" and "_", empty text). Each
-- tree is evaluated twice: by the engine (SQL compiled by lethe.criteria)
-- and by a plain per-row evaluation written here from the documented
-- semantics, with its own case folding and date comparisons. The id sets
-- must be equal. Set LETHE_RANDOM_SEED to replay one seed; the seed is in
-- every failure message.

local criteria = require "lethe.criteria"
local dates = require "lethe.dates"
local model = require "lethe.model"
local native = require "lethe.native"
local planner = require "lethe.planner"

local TREES = 300
local PERSONS = 10000
local seed = math.tointeger(tonumber(os.getenv("LETHE_RANDOM_SEED") or ""))
  or 20191015
math.randomseed(seed)

local path = os.tmpname()
os.remove(path)
local anchor = assert(dates.parse("2025-01-01"))
assert(native.create_database(path, { persons = PERSONS, seed = 7,
  anchor = anchor, progress = false }))
local db = assert(native.open(path))
local crm = model.load("crm")
model.check_database(crm, db, path)

local function pick(list) return list[math.random(#list)] end

-- Variety the generator does not produce ---------------------------------

local function vary_data()
  local names = { "ΟΔΥΣΣΕΥΣ", "Οδυσσεύς", "οδυσσευς", "ΣΟΦΙΑ", "σοφια",
    "100% sure", "100 percent", "a_b", "axb", "", "Straße", "STRASSE",
    "Ærø", "ÆRØ", "Øster_gaard%" }
  local forms = {
    function(t) return t:sub(1, 10) .. "T" .. t:sub(12) .. "Z" end,
    function(t) return t:sub(1, 10) .. "T" .. t:sub(12, 16) end,
    function(t)
      local instant = dates.parse(t) + 7200
      local shifted = dates.format(instant)
      return shifted:sub(1, 10) .. "T" .. shifted:sub(12) .. "+02:00"
    end,
    function(t)
      local instant = dates.parse(t) - 5400
      local shifted = dates.format(instant)
      return shifted:sub(1, 10) .. " " .. shifted:sub(12) .. "-0130"
    end,
    function(t) return t:sub(1, 10) end,
    function(t) return t .. ".5" end,
    function() return pick { "n/a", "2019-02-30", "2019-13-01 10:00:00",
      "2019-10-15T25:00", "15/10/2019", "" } end,
  }
  local persons = db:rows("SELECT person_id, registered, updated FROM "
    .. "person")
  db:script("BEGIN")
  for _, row in ipairs(persons) do
    local id = row.person_id
    if math.random() < 0.08 then
      db:exec("UPDATE person SET registered = ?1 WHERE person_id = ?2",
        { pick(forms)(row.registered), id })
    end
    if row.updated and math.random() < 0.08 then
      db:exec("UPDATE person SET updated = ?1 WHERE person_id = ?2",
        { pick(forms)(row.updated), id })
    end
    if math.random() < 0.03 then
      db:exec("UPDATE person SET lastname = ?1 WHERE person_id = ?2",
        { pick(names), id })
    end
    if math.random() < 0.02 then
      db:exec("UPDATE person SET title = ?1 WHERE person_id = ?2",
        { pick(names), id })
    end
    if math.random() < 0.01 then
      db:exec("UPDATE person SET birthyear = '' WHERE person_id = ?1",
        { id })
    end
  end
  db:exec("UPDATE appointment SET direction = 1 + abs(random()) % 2 WHERE "
    .. "abs(random()) % 3 = 0")
  local activities = db:rows("SELECT appointment_id, activeDate FROM "
    .. "appointment WHERE abs(random()) % 25 = 0")
  for _, row in ipairs(activities) do
    db:exec("UPDATE appointment SET activeDate = ?1 WHERE appointment_id = "
      .. "?2", { pick(forms)(row.activeDate), row.appointment_id })
  end
  db:script("COMMIT")
end

vary_data()

-- The data, loaded once for the per-row evaluation -----------------------

local function by_key(rows, key)
  local map = {}
  for _, row in ipairs(rows) do map[row[key]] = row end
  return map
end

local function grouped(rows, key)
  local map = {}
  for _, row in ipairs(rows) do
    local owner = row[key]
    if owner ~= nil then
      map[owner] = map[owner] or {}
      table.insert(map[owner], row)
    end
  end
  return map
end

local data = {
  persons = db:rows("SELECT * FROM person ORDER BY person_id"),
  companies = by_key(db:rows("SELECT * FROM contact"), "contact_id"),
  categories = by_key(db:rows("SELECT * FROM category"), "category_id"),
  purposes = by_key(db:rows("SELECT * FROM consentpurpose"),
    "consentpurpose_id"),
  bases = by_key(db:rows("SELECT * FROM legalbase"), "legalbase_id"),
  activities = grouped(db:rows("SELECT * FROM appointment"), "person_id"),
  sales = grouped(db:rows("SELECT * FROM sale"), "person_id"),
  consents = grouped(db:rows("SELECT * FROM consentperson"), "person_id"),
}

-- The per-row evaluation ---------------------------------------------------

-- Case folding for the characters this data holds: ASCII and Latin-1
-- capitals, Greek capitals, final sigma and sharp s, as Unicode's
-- CaseFolding.txt maps them.
local folded = {}

local function fold_text(text)
  local parts = {}
  for _, code in utf8.codes(text) do
    if code >= 65 and code <= 90 then
      code = code + 32
    elseif code >= 0xC0 and code <= 0xDE and code ~= 0xD7 then
      code = code + 32
    elseif code >= 0x391 and code <= 0x3A9 and code ~= 0x3A2 then
      code = code + 32
    elseif code == 0x3C2 then
      code = 0x3C3
    end
    parts[#parts + 1] = code == 0xDF and "ss" or utf8.char(code)
  end
  return table.concat(parts)
end

local function fold(text)
  local result = folded[text]
  if not result then
    result = fold_text(text)
    folded[text] = result
  end
  return result
end

local function is_number(value) return math.type(value) ~= nil end

local instants = {}

local function instant(value)
  if type(value) ~= "string" then return nil end
  local result = instants[value]
  if result == nil then
    result = dates.parse(value) or false
    instants[value] = result
  end
  return result or nil
end

-- The index of the period of `unit` that the UTC day of `seconds` is in,
-- counted with os.date, independently of lethe.dates.
local function compute_period_index(seconds, unit)
  local day = os.date("!*t", math.floor(seconds))
  if unit == "day" or unit == "week" then
    local days = math.floor(seconds) // 86400
    if unit == "day" then return days end
    return (days + 3) // 7
  end
  if unit == "month" then return day.year * 12 + day.month - 1 end
  if unit == "quarter" then return day.year * 4 + (day.month - 1) // 3 end
  return day.year
end

local period_indexes = {}

local function period_index(seconds, unit)
  local key = unit .. seconds
  local result = period_indexes[key]
  if not result then
    result = compute_period_index(seconds, unit)
    period_indexes[key] = result
  end
  return result
end

local period_offsets = {
  ["this"] = function() return 0, 0 end,
  previous = function(n) return -n, -1 end,
  ["next"] = function(n) return 1, n end,
  ["this and previous"] = function(n) return -n, 0 end,
  ["this and next"] = function(n) return 0, n end,
  ["this, previous and next"] = function(n) return -n, n end,
}

local function date_holds(value, operator, args, now)
  if value == nil then return false end
  local function day(text) return dates.parse(text:sub(1, 10)) end
  if operator == "before" then
    local bound = #args[1] == 10 and day(args[1]) or dates.parse(args[1])
    return value < bound
  elseif operator == "after" then
    if #args[1] == 10 then return value >= day(args[1]) + 86400 end
    return value > dates.parse(args[1])
  elseif operator == "on" then
    return os.date("!%Y-%m-%d", math.floor(value)) == args[1]:sub(1, 10)
  elseif operator == "between" then
    local high = #args[2] == 10 and value < day(args[2]) + 86400
      or #args[2] ~= 10 and value <= dates.parse(args[2])
    return value >= dates.parse(args[1]) and high
  elseif operator == "before today" or operator == "today"
      or operator == "after today" then
    local difference = period_index(value, "day") - period_index(now, "day")
    if operator == "today" then return difference == 0 end
    return (operator == "before today") == (difference < 0)
      and difference ~= 0
  elseif operator == "older than" or operator == "newer than" then
    local boundary = dates.shift(now, -args[1], dates.unit(args[2]))
    if operator == "older than" then return value < boundary end
    return value >= boundary
  end
  local unit = dates.unit(operator == "this" and args[1] or args[2])
  local low, high = period_offsets[operator](args[1])
  local difference = period_index(value, unit) - period_index(now, unit)
  return difference >= low and difference <= high
end

local text_tests = {
  ["="] = function(v, n) return v == n end,
  ["<>"] = function(v, n) return v ~= n end,
  contains = function(v, n) return v:find(n, 1, true) ~= nil end,
  ["not contains"] = function(v, n) return v:find(n, 1, true) == nil end,
  ["begins with"] = function(v, n) return v:sub(1, #n) == n end,
  ["not begins with"] = function(v, n) return v:sub(1, #n) ~= n end,
  ["ends with"] = function(v, n) return #n <= #v and v:sub(-#n) == n end,
  ["not ends with"] = function(v, n)
    return not (#n <= #v and v:sub(-#n) == n)
  end,
}

text_tests.equals = text_tests["="]
text_tests["not equals"] = text_tests["<>"]

local number_tests = {
  ["="] = function(v, a) return v == a[1] end,
  ["<>"] = function(v, a) return v ~= a[1] end,
  ["<"] = function(v, a) return v < a[1] end,
  [">"] = function(v, a) return v > a[1] end,
  ["<="] = function(v, a) return v <= a[1] end,
  [">="] = function(v, a) return v >= a[1] end,
  between = function(v, a) return v >= a[1] and v <= a[2] end,
  ["one of"] = function(v, a)
    for _, item in ipairs(a[1]) do if v == item then return true end end
    return false
  end,
}
number_tests["not one of"] = function(v, a)
  return not number_tests["one of"](v, a)
end

-- The fields the generated criteria use, per entity: type, column and,
-- for lookups, the table of labels by key.
local fields = {
  person = {
    firstname = { "text" }, lastname = { "text" }, title = { "text" },
    birthyear = { "integer" }, nomailing = { "boolean" },
    blockEmarketing = { "boolean" }, registered = { "date" },
    updated = { "date" },
    category = { "lookup", "category_idx", data.categories, "name" },
  },
  activity = {
    type = { "integer" }, status = { "integer" }, direction = { "integer" },
    activeDate = { "date" }, do_by = { "date" },
  },
  sale = { status = { "integer" }, amount = { "number" },
           saledate = { "date" } },
  consent = {
    purpose = { "lookup", "consentpurpose_id", data.purposes, "key" },
    legal_basis = { "lookup", "legalbase_id", data.bases, "key" },
  },
  company = {
    name = { "text" }, registered = { "date" },
    category = { "lookup", "category_idx", data.categories, "name" },
  },
}

local relations = {
  activities = { entity = "activity", rows = data.activities },
  sales = { entity = "sale", rows = data.sales },
  consents = { entity = "consent", rows = data.consents },
}

-- Each criterion becomes a test: a function of one row that returns
-- whether the criterion holds for it. The criterion's own values are read once;
-- the row's values are read on every call.
local make_test

local function make_group_test(entity, group, now)
  local tests = {}
  for i, criterion in ipairs(group) do
    tests[i] = make_test(entity, criterion, now)
  end
  return function(row)
    for _, test in ipairs(tests) do
      if not test(row) then return false end
    end
    return true
  end
end

-- The values after a counter's comparison operator, and the nested
-- criteria after those.
local function counter_parts(criterion)
  local operator = criterion[2]
  local at = operator == "count" and 3 or 4
  local comparison = criterion[at]
  local arity
  if operator == "count" or operator == "sum" then
    arity = comparison == "between" and 2 or 1
  elseif comparison == "empty" or comparison == "not empty" then
    arity = 0
  else
    local counts = { before = 1, after = 1, on = 1, between = 2,
      ["before today"] = 0, today = 0, ["after today"] = 0, this = 1 }
    arity = counts[comparison] or 2
  end
  local args, nested = {}, {}
  for i = at + 1, at + arity do args[#args + 1] = criterion[i] end
  for i = at + arity + 1, #criterion do nested[#nested + 1] = criterion[i] end
  return comparison, args, nested
end

local function make_counter_test(relation, criterion, now)
  local operator, field = criterion[2], criterion[3]
  local comparison, args, nested = counter_parts(criterion)
  local counts = make_group_test(relation.entity, nested, now)
  return function(row)
    local count, total, best = 0, 0, nil
    for _, child in ipairs(relation.rows[row.person_id] or {}) do
      if counts(child) then
        count = count + 1
        if operator == "sum" and is_number(child[field]) then
          total = total + child[field]
        elseif operator == "last" or operator == "first" then
          local seconds = instant(child[field])
          if seconds and (best == nil or (operator == "last"
              and seconds > best) or (operator == "first"
              and seconds < best)) then
            best = seconds
          end
        end
      end
    end
    if operator == "count" then
      return number_tests[comparison](count, args)
    elseif operator == "sum" then
      return number_tests[comparison](total, args)
    elseif comparison == "empty" then
      return best == nil
    elseif comparison == "not empty" then
      return best ~= nil
    end
    return date_holds(best, comparison, args, now)
  end
end

local function make_relation_test(relation, criterion, now)
  local operator = criterion[2]
  if operator ~= "any" and operator ~= "none" then
    return make_counter_test(relation, criterion, now)
  end
  local nested = make_group_test(relation.entity,
    { table.unpack(criterion, 3) }, now)
  local wanted = operator == "any"
  return function(row)
    for _, child in ipairs(relation.rows[row.person_id] or {}) do
      if nested(child) then return wanted end
    end
    return not wanted
  end
end

local function make_text_test(name, operator, needle)
  if operator == "is exactly" then
    return function(row) return row[name] == needle end
  elseif operator == "is not exactly" then
    return function(row)
      return row[name] ~= nil and row[name] ~= needle
    end
  elseif operator == "one of" or operator == "not one of" then
    local wanted = {}
    for _, item in ipairs(needle) do wanted[fold(item)] = true end
    local inside = operator == "one of"
    return function(row)
      local value = row[name]
      if value == nil then return false end
      return (wanted[fold(value)] == true) == inside
    end
  end
  local compare, folded_needle = text_tests[operator], fold(needle)
  return function(row)
    local value = row[name]
    if value == nil then return false end
    return compare(fold(value), folded_needle)
  end
end

local function make_lookup_test(field, operator, value)
  local column, labels, label_column = field[2], field[3], field[4]
  local wanted = {}
  for _, item in ipairs(type(value) == "table" and value or { value }) do
    wanted[fold(item)] = true
  end
  local inside = operator == "=" or operator == "one of"
  return function(row)
    local key = row[column]
    if key == nil then return false end
    local label = labels[key] and labels[key][label_column]
    return (label ~= nil and wanted[fold(label)] == true) == inside
  end
end

function make_test(entity, criterion, now)
  local name, operator = criterion[1], criterion[2]
  local relation = entity == "person" and relations[name]
  if relation then return make_relation_test(relation, criterion, now) end
  if entity == "person" and name:sub(1, 8) == "company." then
    local inner = make_test("company", { name:sub(9),
      table.unpack(criterion, 2) }, now)
    return function(row)
      local company = row.contact_id and data.companies[row.contact_id]
      return company ~= nil and inner(company)
    end
  end
  if entity == "person" and name == "company" then
    return function(row)
      local company = row.contact_id and data.companies[row.contact_id]
      return (company == nil) == (operator == "empty")
    end
  end
  local field = fields[entity][name]
  local kind, column = field[1], field[2] or name
  if operator == "empty" or operator == "not empty" then
    local textual = kind == "text" or kind == "date"
    local wanted = operator == "empty"
    return function(row)
      local value = row[column]
      return (value == nil or (textual and value == "")) == wanted
    end
  end
  if kind == "text" then
    return make_text_test(name, operator, criterion[3])
  elseif kind == "integer" or kind == "number" then
    local compare, args = number_tests[operator],
      { criterion[3], criterion[4] }
    return function(row)
      local value = row[column]
      return is_number(value) and compare(value, args)
    end
  elseif kind == "boolean" then
    local wanted = operator == "is true"
      or (operator == "=" and criterion[3] == true)
    return function(row)
      local value = row[column]
      return is_number(value) and (value ~= 0) == wanted
    end
  elseif kind == "lookup" then
    return make_lookup_test(field, operator, criterion[3])
  end
  local args = { table.unpack(criterion, 3) }
  return function(row)
    return date_holds(instant(row[column]), operator, args, now)
  end
end

-- Random criteria --------------------------------------------------------

local function random_case(text)
  return (text:gsub("%a", function(letter)
    return math.random() < 0.5 and letter:upper() or letter:lower()
  end))
end

-- A non-empty piece of a value of `field` from the data, in random case.
local function text_needle(entity_rows, field)
  for _ = 1, 50 do
    local value = pick(entity_rows)[field]
    if type(value) == "string" and value ~= "" then
      local length = utf8.len(value)
      local first = math.random(length)
      local last = math.random(first, math.min(length, first + 5))
      local piece = value:sub(utf8.offset(value, first),
        (utf8.offset(value, last + 1) or #value + 1) - 1)
      if math.random() < 0.2 then piece = value end
      return random_case(piece)
    end
  end
  return "a"
end

local text_operators = { "=", "<>", "equals", "not equals", "contains",
  "not contains", "begins with", "not begins with", "ends with",
  "not ends with", "is exactly", "is not exactly", "one of", "not one of",
  "empty", "not empty" }
local number_operators = { "=", "<>", "<", ">", "<=", ">=", "between",
  "one of", "not one of", "empty", "not empty" }
local date_operators = { "before", "after", "on", "between", "before today",
  "today", "after today", "this", "previous", "next", "this and previous",
  "this and next", "this, previous and next", "older than", "newer than",
  "empty", "not empty" }
local units = { "days", "weeks", "months", "quarters", "years", "day",
  "week", "month" }

local function random_date()
  local seconds = math.random(dates.parse("2010-01-01"),
    dates.parse("2026-12-31"))
  local text = dates.format(seconds)
  return pick { text:sub(1, 10), text:sub(1, 10), text,
    text:sub(1, 10) .. "T" .. text:sub(12) .. "Z" }
end

local function date_criterion(name, operator)
  if operator == "before" or operator == "after" or operator == "on" then
    return { name, operator, random_date() }
  elseif operator == "between" then
    local a, b = random_date(), random_date()
    if dates.parse(a) > dates.parse(b) then a, b = b, a end
    if a:sub(1, 10) == b:sub(1, 10) and #b == 10 then b = a end
    return { name, operator, a, b }
  elseif operator == "this" then
    return { name, operator, pick(units) }
  elseif operator == "older than" or operator == "newer than" then
    return { name, operator, math.random(0, 8), pick(units) }
  elseif operator == "before today" or operator == "today"
      or operator == "after today" or operator == "empty"
      or operator == "not empty" then
    return { name, operator }
  end
  return { name, operator, math.random(1, 6), pick(units) }
end

local function number_criterion(name, operator, low, high, integer)
  local function value()
    local number = math.random(low, high)
    if not integer and math.random() < 0.3 then number = number + 0.5 end
    return number
  end
  if operator == "between" then
    local a, b = value(), value()
    if a > b then a, b = b, a end
    return { name, operator, a, b }
  elseif operator == "one of" or operator == "not one of" then
    return { name, operator, { value(), value(), value() } }
  elseif operator == "empty" or operator == "not empty" then
    return { name, operator }
  end
  return { name, operator, value() }
end

local function lookup_criterion(name, labels)
  local operator = pick { "=", "<>", "one of", "not one of", "empty",
    "not empty" }
  if operator == "empty" or operator == "not empty" then
    return { name, operator }
  end
  if operator == "one of" or operator == "not one of" then
    return { name, operator, { random_case(pick(labels)), pick(labels) } }
  end
  return { name, operator, random_case(pick(labels)) }
end

local category_labels = { "Prospect", "Customer", "Lost customer",
  "Partner", "Supplier", "Press" }

local function text_criterion(rows, name)
  local operator = pick(text_operators)
  if operator == "empty" or operator == "not empty" then
    return { name, operator }
  elseif operator == "one of" or operator == "not one of" then
    return { name, operator, { text_needle(rows, name),
      text_needle(rows, name) } }
  elseif operator == "is exactly" or operator == "is not exactly" then
    local value = pick(rows)[name]
    if type(value) ~= "string" or value == "" then value = "Smit" end
    return { name, operator, value }
  end
  return { name, operator, text_needle(rows, name) }
end

local function activity_criterion()
  local kind = math.random(4)
  if kind == 1 then
    return number_criterion("type", pick(number_operators), 1, 5, true)
  elseif kind == 2 then
    return number_criterion("status", pick(number_operators), 1, 3, true)
  elseif kind == 3 then
    return number_criterion("direction", pick(number_operators), 1, 2, true)
  end
  return date_criterion(pick { "activeDate", "do_by" }, pick(date_operators))
end

local function sale_criterion()
  local kind = math.random(3)
  if kind == 1 then
    return number_criterion("status", pick(number_operators), 1, 4, true)
  elseif kind == 2 then
    return number_criterion("amount", pick(number_operators), 0, 250000,
      false)
  end
  return date_criterion("saledate", pick(date_operators))
end

local function consent_criterion()
  if math.random() < 0.5 then
    return lookup_criterion("purpose", { "STORE", "EMARKETING" })
  end
  return lookup_criterion("legal_basis", { "CONSENT", "LEGITIMATE_INTEREST",
    "CONTRACT", "WITHDRAWN" })
end

local nested_makers = { activities = activity_criterion,
  sales = sale_criterion, consents = consent_criterion }

local function nested_list(maker)
  local list = {}
  for i = 1, math.random(0, 2) do list[i] = maker() end
  return list
end

local function relation_criterion()
  local name = pick { "activities", "activities", "sales", "consents" }
  local maker = nested_makers[name]
  local kind = math.random(4)
  local criterion
  if kind == 1 or name == "consents" then
    criterion = { name, pick { "any", "none" } }
  elseif kind == 2 then
    local comparison = number_criterion("", pick { "=", "<>", "<", ">",
      "<=", ">=", "between", "one of", "not one of" }, 0, 12, true)
    criterion = { name, "count", table.unpack(comparison, 2) }
  elseif name == "sales" and kind == 3 then
    local comparison = number_criterion("", pick { "<", ">", ">=",
      "between" }, 0, 300000, true)
    criterion = { name, "sum", "amount", table.unpack(comparison, 2) }
  else
    local field = name == "sales" and "saledate"
      or pick { "activeDate", "do_by" }
    local comparison = date_criterion(field, pick(date_operators))
    criterion = { name, pick { "last", "first" }, field,
      table.unpack(comparison, 2) }
  end
  for _, nested in ipairs(nested_list(maker)) do
    criterion[#criterion + 1] = nested
  end
  return criterion
end

local function person_criterion()
  local kind = math.random(10)
  local persons = data.persons
  if kind <= 2 then
    return text_criterion(persons, pick { "firstname", "lastname",
      "title" })
  elseif kind == 3 then
    return number_criterion("birthyear", pick(number_operators), 1950,
      2008, true)
  elseif kind == 4 then
    local operator = pick { "is true", "is false", "=" }
    local name = pick { "nomailing", "blockEmarketing" }
    if operator == "=" then return { name, "=", math.random() < 0.5 } end
    return { name, operator }
  elseif kind == 5 then
    return lookup_criterion("category", category_labels)
  elseif kind <= 7 then
    return date_criterion(pick { "registered", "updated" },
      pick(date_operators))
  elseif kind == 8 then
    local choice = math.random(3)
    if choice == 1 then
      return { "company", pick { "empty", "not empty" } }
    elseif choice == 2 then
      local criterion = lookup_criterion("category", category_labels)
      criterion[1] = "company.category"
      return criterion
    end
    local companies = {}
    for _, company in pairs(data.companies) do
      companies[#companies + 1] = company
    end
    local criterion = text_criterion(companies, "name")
    criterion[1] = "company.name"
    return criterion
  end
  return relation_criterion()
end

local function random_tree()
  local groups = {}
  for g = 1, math.random(1, 3) do
    local group = {}
    for c = 1, math.random(1, 3) do group[c] = person_criterion() end
    groups[g] = group
  end
  return groups
end

-- The comparison -----------------------------------------------------------

local nows = { "2024-06-15T13:45:00Z", "2025-01-01T00:00:00Z",
  "2023-03-31T23:59:59Z", "2024-02-29T12:00:00Z", "2024-12-30T08:00:00Z" }
local person = crm.entities.person

for tree = 1, TREES do
  local now = assert(dates.parse(pick(nows)))
  local groups = random_tree()
  local engine = planner.evaluate(db, criteria.selection(function()
    return criteria.context(crm, db, now)
  end, person, groups)):to_array()
  local tests = {}
  for i, group in ipairs(groups) do
    tests[i] = make_group_test("person", group, now)
  end
  local expected = {}
  for _, row in ipairs(data.persons) do
    for _, test in ipairs(tests) do
      if test(row) then
        expected[#expected + 1] = row.person_id
        break
      end
    end
  end
  local a, b = table.concat(engine, ","), table.concat(expected, ",")
  if a ~= b then
    local parts = {}
    for i, group in ipairs(groups) do parts[i] = criteria.describe(group) end
    local engine_set, expected_set = {}, {}
    for _, id in ipairs(engine) do engine_set[id] = true end
    for _, id in ipairs(expected) do expected_set[id] = true end
    local differing = {}
    for _, id in ipairs(engine) do
      if not expected_set[id] then differing[#differing + 1] = id end
    end
    for _, id in ipairs(expected) do
      if not engine_set[id] then differing[#differing + 1] = id end
    end
    error(string.format("seed %d, tree %d at %s: engine selects %d, per-row "
      .. "evaluation %d; they differ on ids %s\ncriteria: %s", seed, tree,
      dates.format(now), #engine, #expected,
      table.concat(differing, ",", 1, math.min(10, #differing)),
      table.concat(parts, " OR ")))
  end
end

db:close()
os.remove(path)
