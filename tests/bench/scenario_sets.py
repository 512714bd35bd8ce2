"""S2 (set algebra on sets of about a million ids) and the set half of S6
(the memory that ten such sets take).

The sets come in three shapes, which tests/bench/sets.lua (in Lethe's
REPL) and tests/bench/set_ops.c build id for id the same way:
  activities  a tenth of the ids 1 to 9.4 million, like a selection of a
              tenth of the activity table (CRoaring bitmap containers)
  sparse      a million ids spread over 0 to 2^26 (array containers)
  runs        alternating runs of 1 to 64 ids (run containers)
All three sides are timed in CPU seconds of their own process.
"""

import json
import sqlite3
import struct
import subprocess
import time

from harness import (BENCH_DIR, BenchError, Row, Sample, alternate,
                     checked, run_process)

SHAPES = ("activities", "sparse", "runs")
OPERATIONS = ("union", "intersection", "difference", "symmetric difference")
SQL_OPERATORS = {"union": "UNION", "intersection": "INTERSECT",
                 "difference": "EXCEPT"}
SEEDS = (1, 2)
MEMORY_SEEDS = range(11, 21)


def lethe_side(repl, iterations):
    """Time every operation in the REPL on the sets A and B; returns
    {operation: Sample} with the result's size as value."""
    def sample():
        repl.send(f"bench_sets.time(A, B, {iterations})")
        results = {}
        for _ in OPERATIONS:
            text, _ = repl.read_marker(600)
            name, seconds, count = text.split("|")
            results[name] = Sample(wall=float(seconds), cpu=float(seconds),
                                   value=int(count))
        return results
    return sample


def c_side(binary, shape, scale, iterations):
    def sample():
        result = checked(run_process([binary, "time", shape, str(scale),
                                      str(iterations)]), "set_ops")
        results = {}
        for line in result.stdout.splitlines()[1:]:
            item = json.loads(line)
            results[item["operation"]] = Sample(
                wall=item["seconds"], cpu=item["seconds"],
                value=item["count"])
        return results
    return sample


def sqlite_side(binary, shape, scale):
    """Load sets A and B into two tables of an in-memory SQLite database
    and return a sampler that runs UNION, INTERSECT and EXCEPT on them."""
    db = sqlite3.connect(":memory:")
    for name in ("a", "b"):
        result = run_process_bytes([binary, "dump", shape, str(scale),
                                    name])
        ids = struct.unpack(f"<{len(result) // 4}I", result)
        db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")
        db.executemany(f"INSERT INTO {name} VALUES (?)",
                       ((i,) for i in ids))
    db.commit()

    def sample():
        results = {}
        for operation, operator in SQL_OPERATORS.items():
            started = time.process_time()
            count = db.execute(f"SELECT count(*) FROM (SELECT id FROM a "
                               f"{operator} SELECT id FROM b)").fetchone()[0]
            seconds = time.process_time() - started
            results[operation] = Sample(wall=seconds, cpu=seconds,
                                        value=count)
        return results
    return sample


def run_process_bytes(argv):
    """Return the standard output of `argv` as bytes."""
    completed = subprocess.run(argv, stdout=subprocess.PIPE, check=False)
    if completed.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed")
    return completed.stdout


def split(samples, operation):
    return [round_samples[operation] for round_samples in samples]


def check_same(shape, operation, *sides):
    counts = {sample.value for side in sides for sample in side}
    if len(counts) != 1:
        raise BenchError(f"S2 {operation} on {shape}: the sides disagree on "
                         f"the result's size: {sorted(counts)}")
    return counts.pop()


def run_s2(ctx):
    binary = ctx.set_ops_binary()
    scale, iterations = ctx.set_scale, ctx.set_iterations
    rows = []
    with ctx.lethe.repl(ctx.database(ctx.scaling_sizes()[0]),
                        ctx.now) as repl:
        repl.load(BENCH_DIR / "sets.lua")
        for shape in SHAPES:
            sizes = repl.run(
                f"A = bench_sets.build('activity', '{shape}', {scale}, "
                f"{SEEDS[0]}); B = bench_sets.build('activity', '{shape}', "
                f"{scale}, {SEEDS[1]}); print('@@ ' .. #A .. ' and ' .. #B)"
            ).value
            ours = lethe_side(repl, iterations)
            ours()
            lethe_c, c_samples = alternate(
                ctx.repetitions, ours, c_side(binary, shape, scale,
                                              iterations))
            sql = sqlite_side(binary, shape, scale)
            lethe_sql, sql_samples = alternate(ctx.repetitions, ours, sql)
            for operation in OPERATIONS:
                ours_c = split(lethe_c, operation)
                theirs_c = split(c_samples, operation)
                count = check_same(shape, operation, ours_c, theirs_c)
                rows.append(Row(
                    "S2", f"{operation}, {shape} ({sizes} ids; result "
                    f"{count})", unit="s CPU", lethe=ours_c,
                    reference=theirs_c, reference_name="CRoaring from C",
                    goal=("ratio_max", 1.2)))
                if operation not in SQL_OPERATORS:
                    continue
                ours_sql = split(lethe_sql, operation)
                theirs_sql = split(sql_samples, operation)
                check_same(shape, operation, ours_sql, theirs_sql)
                rows.append(Row(
                    "S2", f"{operation}, {shape}, against SQLite "
                    f"{SQL_OPERATORS[operation]}", unit="s CPU",
                    lethe=ours_sql, reference=theirs_sql,
                    reference_name="SQLite compound SELECT on two "
                    "in-memory tables", goal=("speedup_min", 100)))
    return rows


# Ten selections of the benchmark database's activities, as a policy or
# the REPL makes them: by type, by status (1 and 2 are not completed), by
# both, and by the year of registration. On 1,000,000 persons each has
# 0.4 to 1.7 million ids, 10 million in all.
REAL_SELECTIONS = (
    '{ { "type", "=", 1 } }',
    '{ { "type", "=", 5 } }',
    '{ { "status", "=", 1 } }',
    '{ { "status", "<=", 2 } }',
    '{ { "type", "=", 1 }, { "status", "=", 3 } }',
    '{ { "type", "=", 5 }, { "status", "=", 3 } }',
    '{ { "type", "=", 3 }, { "status", "<=", 2 } }',
    '{ { "type", "=", 2 }, { "status", "<=", 2 } }',
    '{ { "registered", "after", "2022-12-31" }, '
    '{ "registered", "before", "2024-01-01" } }',
    '{ { "registered", "after", "2021-12-31" }, '
    '{ "registered", "before", "2023-01-01" } }',
)


def run_s6_sets(ctx):
    """For each shape, and for ten real selections, build ten sets in a
    fresh REPL and report the sum of set:bytes() and how much the resident
    set size grew. Both sizes are read while the REPL keeps the sets
    between lines: the REPL packs sets that a line did not use before it
    reads the next one, so the sizes are read after one more line, which
    proves that it has read it. Before, one set is built, packed, unpacked
    and closed, so that the code this runs (about 0.35 MB of the
    program's and the libraries' pages) is loaded before the first
    reading."""
    small = ctx.database(ctx.scaling_sizes()[0])
    cases = [(shape, small,
              [f"bench_sets.build('activity', '{shape}', {ctx.set_scale}, "
               f"{seed})" for seed in MEMORY_SEEDS])
             for shape in SHAPES]
    cases.append(("real selections of activities", ctx.database(),
                  [f"set.of(activity:where {criteria})"
                   for criteria in REAL_SELECTIONS]))
    rows = []
    for name, database, builders in cases:
        with ctx.lethe.repl(database, ctx.now) as repl:
            repl.load(BENCH_DIR / "sets.lua")
            settle = ("collectgarbage('collect') collectgarbage('collect') "
                      "print('@@ settled')")
            idle = "print('@@ idle')"
            repl.run(f"do local warm = {builders[0]} warm:compact() "
                     "warm:min() warm:close() end print('@@ warm')")
            repl.run("bench_keep = {} " + settle)
            repl.run(idle)
            before = repl.status("VmRSS")
            for builder in builders:
                repl.run(f"bench_keep[#bench_keep + 1] = {builder} "
                         "print('@@ built')")
            repl.run(settle)
            repl.run(idle)
            after = repl.status("VmRSS")
            summary = repl.run(
                "do local bytes, ids = 0, 0 for _, s in ipairs(bench_keep) "
                "do bytes = bytes + s:bytes() ids = ids + #s end "
                "print('@@ ' .. bytes .. '|' .. ids) end").value
            peak = repl.status("VmHWM")
        bytes_total, ids = (int(part) for part in summary.split("|"))
        rows.append(Row(
            "S6", f"ten sets, {name}, {ids} ids in all: sum of "
            "set:bytes()", unit="MB", lethe_value=bytes_total / 1e6,
            goal=("max", 10)))
        rows.append(Row(
            "S6", f"ten sets, {name}: resident set growth (peak of the "
            f"REPL {peak / 1024:.1f} MB)", unit="MB",
            lethe_value=(after - before) * 1024 / 1e6, goal=("max", 10)))
    return rows
