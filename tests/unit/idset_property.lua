-- idset_property.lua: property tests of the id-set module, opened as the
-- global `set`, against a reference implementation on plain Lua tables.
-- Sets are drawn from seeded generators: empty, one id, dense ranges,
-- sparse ids, ids near 2^32-1 and mixtures. test_idset.c runs this chunk;
-- it prints one line per failed check and returns the counts of passed
-- and failed checks.

local MAX_ID = 4294967295
local passed, failed = 0, 0

-- Record one check. `level` is the stack level whose line is reported
-- (2 when called from the test itself).
local function check_at(level, condition, message, ...)
  if condition then
    passed = passed + 1
    return true
  end
  failed = failed + 1
  local info = debug.getinfo(level + 1, "Sl")
  io.stderr:write(string.format("%s:%d: %s\n", info.short_src,
    info.currentline, string.format(message, ...)))
  return false
end

local function check(condition, message, ...)
  return check_at(2, condition, message, ...)
end

-- Check that calling `f` raises an error whose message contains every
-- string in `fragments` (plain search).
local function check_raises(fragments, f, ...)
  local ok, message = pcall(f, ...)
  if not check_at(2, not ok, "expected an error containing %q, got none",
      fragments[1]) then
    return
  end
  message = tostring(message)
  for _, fragment in ipairs(fragments) do
    check_at(2, message:find(fragment, 1, true) ~= nil,
      "error %q does not contain %q", message, fragment)
  end
end

------------------------------------------------------------------------
-- Reference implementation: a set is a table mapping each id to true.
------------------------------------------------------------------------

local reference = {}

function reference.of(list)
  local result = {}
  for _, id in ipairs(list) do result[id] = true end
  return result
end

function reference.sorted(ref)
  local list = {}
  for id in pairs(ref) do list[#list + 1] = id end
  table.sort(list)
  return list
end

function reference.count(ref)
  local count = 0
  for _ in pairs(ref) do count = count + 1 end
  return count
end

function reference.union(a, b)
  local result = {}
  for id in pairs(a) do result[id] = true end
  for id in pairs(b) do result[id] = true end
  return result
end

function reference.intersection(a, b)
  local result = {}
  for id in pairs(a) do
    if b[id] then result[id] = true end
  end
  return result
end

function reference.difference(a, b)
  local result = {}
  for id in pairs(a) do
    if not b[id] then result[id] = true end
  end
  return result
end

function reference.symmetric_difference(a, b)
  return reference.union(reference.difference(a, b),
    reference.difference(b, a))
end

------------------------------------------------------------------------
-- Generators of id lists (duplicates allowed, any order).
------------------------------------------------------------------------

local generators = {}

function generators.empty()
  return {}
end

function generators.one()
  return { math.random(0, MAX_ID) }
end

-- A dense range that crosses a 65536-id container boundary, plus a few
-- duplicates.
function generators.dense()
  local first = math.random(0, 3) * 65536 + math.random(60000, 65000)
  local list = {}
  for id = first, first + math.random(6000, 9000) do list[#list + 1] = id end
  for _ = 1, 10 do list[#list + 1] = list[math.random(#list)] end
  return list
end

-- More than 4096 ids in one container, so that CRoaring stores a bitset.
function generators.bitset()
  local base = math.random(0, 1000) * 65536
  local list = {}
  for _ = 1, 6000 do list[#list + 1] = base + math.random(0, 65535) end
  return list
end

function generators.sparse()
  local list = {}
  for _ = 1, 300 do list[#list + 1] = math.random(0, MAX_ID) end
  return list
end

function generators.near_max()
  local list = { MAX_ID }
  for _ = 1, 200 do list[#list + 1] = MAX_ID - math.random(0, 400) end
  return list
end

function generators.mixed()
  local list = { 0, MAX_ID }
  local parts = { generators.dense(), generators.sparse(),
    generators.near_max(), generators.one() }
  for _, part in ipairs(parts) do
    for _, id in ipairs(part) do list[#list + 1] = id end
  end
  for id = 1, 50 do list[#list + 1] = id end
  return list
end

local kinds = { "empty", "one", "dense", "bitset", "sparse", "near_max",
  "mixed" }

-- Shuffle in place, so that constructors see unsorted input.
local function shuffle(list)
  for i = #list, 2, -1 do
    local j = math.random(i)
    list[i], list[j] = list[j], list[i]
  end
  return list
end

-- Build the cases: for each seed and kind, a set and its reference.
local function make_cases(seed)
  math.randomseed(seed)
  local cases = {}
  for _, kind in ipairs(kinds) do
    local list = shuffle(generators[kind]())
    cases[#cases + 1] = {
      name = string.format("%s/%d", kind, seed),
      set = set.from_array("person", list),
      ref = reference.of(list),
    }
  end
  return cases
end

------------------------------------------------------------------------
-- Comparing a set with a reference
------------------------------------------------------------------------

-- Check count, ascending to_array(), ids() order and membership, and
-- return whether everything matched. Failures report the caller's line.
local function check_same(s, ref, context)
  local expected = reference.sorted(ref)
  local ok = check_at(2, #s == #expected, "%s: count %d, expected %d",
    context, #s, #expected)
  local array = s:to_array()
  local same_array = #array == #expected
  for i = 1, #expected do
    if array[i] ~= expected[i] then same_array = false break end
  end
  ok = check_at(2, same_array, "%s: to_array differs from the reference",
    context) and ok
  local index, same_order = 0, true
  for id in s:ids() do
    index = index + 1
    if expected[index] ~= id then same_order = false break end
  end
  ok = check_at(2, same_order and index == #expected,
    "%s: ids() order differs from the reference", context) and ok
  local members = true
  for id in pairs(ref) do
    if not s:contains(id) then members = false break end
  end
  return check_at(2, members, "%s: contains() misses an id", context) and ok
end

------------------------------------------------------------------------
-- Properties
------------------------------------------------------------------------

local function test_construction(cases)
  for _, case in ipairs(cases) do
    check_same(case.set, case.ref, case.name .. " from_array")
    local list = reference.sorted(case.ref)
    check(set.new("person", list) == case.set, "%s: new(entity, array)",
      case.name)
    check(case.set:entity() == "person", "%s: entity()", case.name)
  end
  check(#set.new("person") == 0, "new(entity) is empty")
end

local function test_min_max(cases)
  for _, case in ipairs(cases) do
    local list = reference.sorted(case.ref)
    check(case.set:min() == list[1], "%s: min %s, expected %s", case.name,
      tostring(case.set:min()), tostring(list[1]))
    check(case.set:max() == list[#list], "%s: max %s, expected %s",
      case.name, tostring(case.set:max()), tostring(list[#list]))
    check(case.set:is_empty() == (#list == 0), "%s: is_empty", case.name)
  end
end

local operations = {
  { "|", function(a, b) return a | b end, reference.union },
  { "&", function(a, b) return a & b end, reference.intersection },
  { "-", function(a, b) return a - b end, reference.difference },
  { "~", function(a, b) return a ~ b end, reference.symmetric_difference },
}

local function test_operations(cases)
  for _, a in ipairs(cases) do
    for _, b in ipairs(cases) do
      for _, operation in ipairs(operations) do
        local symbol, apply, expected = table.unpack(operation)
        local result = apply(a.set, b.set)
        check_same(result, expected(a.ref, b.ref),
          a.name .. " " .. symbol .. " " .. b.name)
        check(result:entity() == "person", "%s %s %s: entity", a.name,
          symbol, b.name)
      end
    end
  end
end

local function test_algebra(cases)
  local universe = set.new("person")
  for _, case in ipairs(cases) do universe = universe | case.set end
  for i, a in ipairs(cases) do
    local b = cases[i % #cases + 1]
    local c = cases[(i + 2) % #cases + 1]
    local name = a.name .. ", " .. b.name .. ", " .. c.name
    check(a.set | b.set == b.set | a.set, "%s: | commutes", name)
    check(a.set & b.set == b.set & a.set, "%s: & commutes", name)
    check(a.set ~ b.set == b.set ~ a.set, "%s: ~ commutes", name)
    check((a.set | b.set) | c.set == a.set | (b.set | c.set),
      "%s: | associates", name)
    check((a.set & b.set) & c.set == a.set & (b.set & c.set),
      "%s: & associates", name)
    check((a.set ~ b.set) ~ c.set == a.set ~ (b.set ~ c.set),
      "%s: ~ associates", name)
    check((a.set | b.set):complement(universe)
      == a.set:complement(universe) & b.set:complement(universe),
      "%s: De Morgan for |", name)
    check((a.set & b.set):complement(universe)
      == a.set:complement(universe) | b.set:complement(universe),
      "%s: De Morgan for &", name)
    check(a.set - b.set == a.set & b.set:complement(universe),
      "%s: a - b == a & complement(b)", name)
    check(a.set:complement(universe) == universe - a.set,
      "%s: complement is universe minus set", name)
    check(a.set & b.set <= a.set, "%s: a & b <= a", name)
    check(a.set <= a.set | b.set, "%s: a <= a | b", name)
    check(not (a.set < a.set), "%s: a < a is false", name)
    check(a.set ~ a.set == set.new("person"), "%s: a ~ a is empty", name)
  end
end

local function test_serialization(cases)
  for _, case in ipairs(cases) do
    local text = case.set:serialize()
    check(type(text) == "string", "%s: serialize returns a string",
      case.name)
    local ok, copy = pcall(set.deserialize, text)
    if check(ok, "%s: deserialize failed: %s", case.name, tostring(copy)) then
      check(copy == case.set, "%s: round trip keeps the ids", case.name)
      check(copy:entity() == "person", "%s: round trip keeps the entity",
        case.name)
      check_same(copy, case.ref, case.name .. " deserialized")
    end
  end
  local company = set.from_array("company", { 1, 2, 3 })
  check(set.deserialize(company:serialize()):entity() == "company",
    "round trip keeps another entity")
end

local function test_corrupt_strings()
  local text = set.from_array("person", { 1, 5, 70000, MAX_ID }):serialize()
  local truncated_rejected = true
  for length = 0, #text - 1 do
    if pcall(set.deserialize, text:sub(1, length)) then
      truncated_rejected = false
      io.stderr:write("accepted a prefix of length ", length, "\n")
    end
  end
  check(truncated_rejected, "every truncated string is rejected")
  local flipped_rejected = true
  for position = 1, #text do
    local byte = text:byte(position)
    for _, mask in ipairs({ 0x01, 0x80 }) do
      local changed = text:sub(1, position - 1)
        .. string.char(byte ~ mask) .. text:sub(position + 1)
      if pcall(set.deserialize, changed) then
        flipped_rejected = false
        io.stderr:write("accepted a change of byte ", position, "\n")
      end
    end
  end
  check(flipped_rejected, "every changed byte is rejected")
  check_raises({ "invalid serialized id set", "truncated" },
    set.deserialize, text:sub(1, #text - 1))
  check_raises({ "invalid serialized id set", "unexpected bytes" },
    set.deserialize, text .. "x")
  -- The last byte of the bitmap is the ninth from the end.
  local last = #text - 8
  check_raises({ "invalid serialized id set", "checksum" }, set.deserialize,
    text:sub(1, last - 1) .. string.char(text:byte(last) ~ 1)
      .. text:sub(last + 1))
  check_raises({ "not a serialized id set" }, set.deserialize,
    string.rep("x", 40))
  check_raises({ "string expected" }, set.deserialize, nil)
end

-- Iterating must survive a loop body that builds and collects other sets,
-- one that changes the set itself, and one that closes it.
local function test_iteration(cases)
  local mixed = cases[#cases]
  local expected = reference.sorted(mixed.ref)
  local index, same = 0, true
  for id in mixed.set:ids() do
    index = index + 1
    local other = mixed.set | set.from_array("person", { id })
    if expected[index] ~= id or #other ~= #expected then same = false end
    if index % 500 == 0 then collectgarbage() end
  end
  check(same, "iteration with other sets built in the loop")
  check(index == #expected, "iteration with other sets built: %d of %d ids",
    index, #expected)

  local changing = mixed.set:copy()
  local seen, previous, ascending = 0, -1, true
  for id in changing:ids() do
    seen = seen + 1
    if id <= previous then ascending = false end
    previous = id
    changing:remove(id)
    if id + 1 <= MAX_ID then changing:add(id + 1) end
    if seen > #expected + 10 then break end
  end
  check(ascending, "iteration stays ascending while the set changes")

  local closing = mixed.set:copy()
  check_raises({ "closed during iteration" }, function()
    for _ in closing:ids() do closing:close() end
  end)

  local first
  for id in mixed.set:ids() do
    first = id
    break
  end
  check(first == expected[1], "breaking out of ids() after the first id")
  local empty_loops = 0
  for _ in set.new("person"):ids() do empty_loops = empty_loops + 1 end
  check(empty_loops == 0, "ids() of an empty set yields nothing")
end

local function test_sample()
  local dense = set.range("person", 1000, 70999)
  local sparse = set.from_array("person", reference.sorted(reference.of(
    generators.sparse())))
  for _, source in ipairs({ dense, sparse }) do
    -- For the dense set, n = 1 and n = 10 take the roaring_bitmap_select()
    -- path and the larger n the walk over all ids.
    for _, n in ipairs({ 0, 1, 10, #source // 2, #source - 5 }) do
      local sample = source:sample(n, 42)
      check(#sample == n, "sample(%d) of %s has %d ids", n,
        tostring(source), #sample)
      check(sample <= source, "sample(%d) of %s is a subset", n,
        tostring(source))
      check(sample == source:sample(n, 42),
        "sample(%d) is the same for the same seed", n)
      check(sample:entity() == "person", "sample keeps the entity")
    end
    check(source:sample(#source) == source, "sample(#set) is the set")
    check(source:sample(#source + 100, 7) == source,
      "sample larger than the set is the set")
    check(source:sample(5) == source:sample(5, 0),
      "the default seed is 0")
  end
  local differs = false
  for seed = 1, 5 do
    if dense:sample(20, seed) ~= dense:sample(20, seed + 100) then
      differs = true
    end
  end
  check(differs, "different seeds give different samples")
  -- Spread: a uniform sample of 2000 of 70000 consecutive ids puts about
  -- 1000 below the middle, with a standard deviation near 22. A count
  -- outside 800 to 1200 means the sample is not spread.
  local below = 0
  for id in dense:sample(2000, 3):ids() do
    if id < 36000 then below = below + 1 end
  end
  check(below > 800 and below < 1200, "sample spread: %d of 2000 below "
    .. "the middle", below)
  check(#set.new("person"):sample(3) == 0, "sample of an empty set")
  check_raises({ "sample size must not be negative" }, dense.sample, dense,
    -1)
  check_raises({ "integer expected" }, dense.sample, dense, "3")
end

local function test_ranges()
  local r = set.range("person", 5, 10)
  check(r == set.from_array("person", { 5, 6, 7, 8, 9, 10 }), "range 5..10")
  check(#set.range("person", 10, 5) == 0, "range with first > last")
  check(#set.range("person", MAX_ID - 2, MAX_ID) == 3, "range near max")
  local all = set.range("person", 0, MAX_ID)
  check(#all == MAX_ID + 1, "full range has 2^32 ids")
  check(all:max() == MAX_ID, "full range max")
  check(all:min() == 0, "full range min")
  local some = set.from_array("person", { 0, 7, MAX_ID })
  check(#some:complement(all) == MAX_ID - 2, "complement in the full range")
  check_raises({ "too large" }, all.to_array, all)
  check_raises({ "bad argument #3", "outside 0 to 4294967295" }, set.range,
    "person", 0, MAX_ID + 1)
  check_raises({ "bad argument #2", "outside" }, set.range, "person", -1, 3)
end

local function test_membership_changes()
  local s = set.from_array("person", { 3, 4 })
  check(s:add(5) == true, "add of a new id returns true")
  check(s:add(5) == false, "add of a present id returns false")
  check(s:add(MAX_ID) == true, "add of 2^32-1")
  check(s:remove(3) == true, "remove of a present id returns true")
  check(s:remove(3) == false, "remove of an absent id returns false")
  check(s:remove(-1) == false, "remove of -1 returns false")
  check(s:remove(MAX_ID + 1) == false, "remove of 2^32 returns false")
  check(s == set.from_array("person", { 4, 5, MAX_ID }), "after changes")
  check(s:contains(4.0), "contains accepts an integral float")
  check(not s:contains(-1), "contains(-1) is false")
  check(not s:contains(MAX_ID + 1), "contains(2^32) is false")
  check_raises({ "bad argument #1 to 'add'", "outside 0 to 4294967295" },
    function() return s:add(-1) end)
  check_raises({ "outside 0 to 4294967295" }, s.add, s, MAX_ID + 1)
  check_raises({ "not an integer" }, s.add, s, 1.5)
  check_raises({ "integer id expected, got string" }, s.add, s, "7")
  check_raises({ "no integer representation" }, s.contains, s, 1.5)
  local copy = s:copy()
  copy:add(99)
  check(not s:contains(99), "copy is independent of the original")
  check(copy:contains(99), "copy receives the added id")
end

local function test_entities()
  local person = set.from_array("person", { 1, 2 })
  local company = set.from_array("company", { 1, 2 })
  for _, symbol in ipairs({ "|", "&", "-", "~", "<=", "<" }) do
    local apply = load("local a, b = ...; return a " .. symbol .. " b")
    check_raises({ "person", "company", "different entities" }, apply,
      person, company)
  end
  check_raises({ "person", "company" }, person.complement, person, company)
  check(person ~= company, "sets of different entities are not equal")
  check(person ~= 3, "a set is not equal to a number")
  check_raises({ "id set expected, got number" }, function()
    return person | 3
  end)
  check_raises({ "id set expected, got table" }, function()
    return {} & person
  end)
end

local function test_text_and_bytes()
  check(tostring(set.from_array("person", { 1, 2, 3 }))
    == "set of 3 person ids", "tostring of three ids")
  check(tostring(set.from_array("sale", { 9 })) == "set of 1 sale id",
    "tostring of one id")
  check(tostring(set.new("company")) == "set of 0 company ids",
    "tostring of an empty set")
  local dense = set.range("person", 0, 99999)
  local scattered = {}
  for i = 1, 100000 do scattered[i] = i * 40000 end
  local sparse = set.from_array("person", scattered)
  check(math.type(dense:bytes()) == "integer", "bytes() is an integer")
  check(dense:bytes() > 0, "bytes() is positive")
  check(dense:bytes() < sparse:bytes(),
    "a dense range takes fewer bytes than scattered ids")
end

local function test_arguments()
  check_raises({ "bad argument #1", "entity name" }, set.new, "")
  check_raises({ "bad argument #1", "entity name" }, set.new,
    string.rep("e", 256))
  check_raises({ "bad argument #1", "entity name" }, set.new, "a\0b")
  check_raises({ "bad argument #2", "element 2", "got string" },
    set.from_array, "person", { 1, "2" })
  check_raises({ "element 1", "id -1 is outside" }, set.from_array,
    "person", { -1 })
  check_raises({ "element 3", "4294967296 is outside" }, set.new, "person",
    { 1, 2, MAX_ID + 1 })
  check_raises({ "bad argument #2", "table expected" }, set.from_array,
    "person", nil)
  check(#set.from_array("person", { n = 3 }) == 0,
    "from_array reads only the sequence part")
  local s = set.new("person")
  check_raises({ "id set expected" }, s.contains, 42, 1)
  check(getmetatable(s) == false, "the metatable is protected")
end

local function test_closing()
  local closed_set
  do
    local s <close> = set.range("person", 1, 10)
    closed_set = s
    check(#s == 10, "a to-be-closed set works inside its block")
  end
  check(tostring(closed_set) == "closed set of person ids",
    "tostring when closed")
  check_raises({ "closed" }, function() return #closed_set end)
  check_raises({ "closed" }, function()
    return closed_set | closed_set
  end)
  check_raises({ "closed" }, closed_set.serialize, closed_set)
  check_raises({ "closed" }, closed_set.ids, closed_set)
  closed_set:close()
  check(closed_set:entity() == "person", "entity() works on a closed set")
end

------------------------------------------------------------------------

local all_cases = {}
for _, seed in ipairs({ 1, 2, 3 }) do
  local cases = make_cases(seed)
  test_construction(cases)
  test_min_max(cases)
  test_operations(cases)
  test_algebra(cases)
  test_serialization(cases)
  test_iteration(cases)
  for _, case in ipairs(cases) do all_cases[#all_cases + 1] = case end
end
test_algebra(all_cases)
test_corrupt_strings()
test_sample()
test_ranges()
test_membership_changes()
test_entities()
test_text_and_bytes()
test_arguments()
test_closing()

return passed, failed
