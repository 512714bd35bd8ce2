-- Helpers for benchmarks S2 and S6, sent to `lethe repl` before the
-- timed lines. They build the same sets as tests/bench/set_ops.c, id for
-- id (same SplitMix64 generator, same shapes and seeds), and time set
-- algebra through the Lua API with os.clock(), the CPU time of the REPL
-- process. The REPL keeps globals between lines, so everything lives in
-- the global table bench_sets.

bench_sets = {}

-- SplitMix64 on Lua's wrapping 64-bit integers; returns the new state and
-- the next value.
function bench_sets.next_random(state)
  state = state + 0x9E3779B97F4A7C15
  local z = state
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return state, z ~ (z >> 31)
end

-- `value` modulo `m` with `value` read as an unsigned 64-bit integer.
function bench_sets.unsigned_mod(value, m)
  return (2 * ((value >> 1) % m) + (value & 1)) % m
end

-- Ids gathered before one set.from_array() call, so that no Lua table
-- with a million entries exists while sets are measured.
bench_sets.chunk = 65536

-- Return a set of `entity` with the ids of `shape` (activities, sparse
-- or runs) at `scale` for `seed`; see set_ops.c for the shapes.
function bench_sets.build(entity, shape, scale, seed)
  local next_random, unsigned_mod = bench_sets.next_random,
    bench_sets.unsigned_mod
  local state, value = seed, 0
  local result = set.new(entity)
  local pending, count = {}, 0
  local function flush()
    if count == 0 then return end
    local part = set.from_array(entity, pending)
    local grown = result | part
    part:close()
    result:close()
    result, pending, count = grown, {}, 0
  end
  local function push(id)
    count = count + 1
    pending[count] = id
    if count == bench_sets.chunk then flush() end
  end
  if shape == "activities" then
    for id = 1, math.floor(9400000 * scale) do
      state, value = next_random(state)
      if unsigned_mod(value, 94) < 10 then push(id) end
    end
  elseif shape == "sparse" then
    for _ = 1, math.floor(1000000 * scale) do
      state, value = next_random(state)
      push(value & ((1 << 26) - 1))
    end
  elseif shape == "runs" then
    local id, last, keep = 0, math.floor(2000000 * scale), true
    while id < last do
      state, value = next_random(state)
      local length = 1 + (value & 63)
      for _ = 1, length do
        if id >= last then break end
        if keep then push(id) end
        id = id + 1
      end
      keep = not keep
    end
  else
    error("unknown shape " .. tostring(shape))
  end
  flush()
  return result
end

bench_sets.operations = {
  { "union", function(a, b) return a | b end },
  { "intersection", function(a, b) return a & b end },
  { "difference", function(a, b) return a - b end },
  { "symmetric difference", function(a, b) return a ~ b end },
}

-- Time every operation on a and b, `iterations` times each, and print
-- "@@ name seconds count" lines: the mean CPU seconds per operation and
-- the result's size.
function bench_sets.time(a, b, iterations)
  for _, entry in ipairs(bench_sets.operations) do
    local name, operation = entry[1], entry[2]
    local count = 0
    local started = os.clock()
    for _ = 1, iterations do
      local result = operation(a, b)
      count = #result
      result:close()
    end
    local seconds = (os.clock() - started) / iterations
    print(string.format("@@ %s|%.9f|%d", name, seconds, count))
  end
end
