"""Whole-process scenarios: S6 (peak memory of a plan), S7 (start-up),
S8 (how the plan's time grows with the database) and S9 (the retention
policy as a consultant's Python script)."""

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import (BENCH_DIR, BenchError, Row, Sample, alternate, checked,
                     median, peak_rss_kb, run_process)

POLICY = "retention"


def plan_sampler(ctx, path, json_output=False):
    arguments = ["plan", POLICY, "--db", path, "--now", ctx.now]
    if json_output:
        arguments.append("--json")

    def sample():
        result = checked(ctx.lethe.run(*arguments), "lethe plan")
        value = json.loads(result.stdout) if json_output else None
        return Sample(wall=result.wall, cpu=result.cpu, value=value)
    return sample


def run_s6_plan(ctx):
    path = ctx.database()
    peaks = []
    for _ in range(ctx.repetitions):
        peak, result = peak_rss_kb([ctx.lethe.path, "plan", POLICY, "--db",
                                    str(path), "--now", ctx.now],
                                   ctx.lethe.env)
        checked(result, "lethe plan")
        peaks.append(peak)
    return [Row("S6", f"peak resident set size of `lethe plan {POLICY}` on "
                f"{ctx.persons} persons", unit="MB",
                lethe_value=median(peaks) / 1024)]


# S7 ------------------------------------------------------------------------

def hyperfine_median(command, runs):
    """Median seconds of `command` (a list) by hyperfine, or None when
    hyperfine is not installed."""
    if not shutil.which("hyperfine"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        quoted = " ".join(f"'{part}'" for part in command)
        result = run_process(["hyperfine", "--shell=none", "--warmup", "20",
                              "--runs", str(runs), "--export-json",
                              export.name, quoted])
        if result.returncode != 0:
            raise BenchError("hyperfine failed: " + result.stderr[-400:])
        return json.loads(Path(export.name).read_text())["results"][0][
            "median"]


def repeated_median(command, runs, env):
    walls = [run_process(command, env=env).wall for _ in range(runs)]
    return median(walls)


def first_prompt_seconds(ctx, path):
    """Start `lethe repl` on a pseudo-terminal and return the seconds
    until its prompt appears; then end it with Ctrl-D."""
    master, slave = pty.openpty()
    started = time.perf_counter()
    process = subprocess.Popen(
        [ctx.lethe.path, "repl", "--db", str(path), "--now", ctx.now],
        stdin=slave, stdout=slave, stderr=slave, env=ctx.lethe.env,
        close_fds=True)
    os.close(slave)
    output = b""
    try:
        while b"lethe> " not in output:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                raise BenchError("lethe repl showed no prompt in 30 s")
            output += os.read(master, 4096)
        elapsed = time.perf_counter() - started
        # libedit may still be switching the terminal's mode when the
        # prompt shows, which can drop a Ctrl-D typed at once: repeat it.
        deadline = time.perf_counter() + 30
        while process.poll() is None:
            if time.perf_counter() > deadline:
                raise BenchError("lethe repl did not end on Ctrl-D")
            os.write(master, b"\x15\x04")
            try:
                process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return elapsed


def run_s7(ctx):
    runs = 20 if ctx.smoke else 200
    version = [ctx.lethe.path, "--version"]
    seconds = hyperfine_median(version, runs)
    tool = "hyperfine"
    if seconds is None:
        seconds = repeated_median(version, runs, ctx.lethe.env)
        tool = "repeated runs"
    path = ctx.database()
    first_prompt_seconds(ctx, path)
    prompts = [first_prompt_seconds(ctx, path) for _ in range(runs // 4)]
    piped = repeated_median([ctx.lethe.path, "repl", "--db", str(path),
                             "--now", ctx.now], runs // 4, ctx.lethe.env)
    return [
        Row("S7", f"`lethe --version` (median of {runs}, {tool})",
            unit="ms", lethe_value=seconds * 1000, goal=("max", 5)),
        Row("S7", f"REPL's first prompt on a terminal, model loaded "
            f"(median of {len(prompts)})", unit="ms",
            lethe_value=median(prompts) * 1000, goal=("max", 20)),
        Row("S7", "`lethe repl` with empty standard input, start to exit",
            unit="ms", lethe_value=piped * 1000),
    ]


# S8 ------------------------------------------------------------------------

def run_s8(ctx):
    sizes = ctx.scaling_sizes()
    samplers = {persons: plan_sampler(ctx, ctx.database(persons))
                for persons in sizes}
    for sampler in samplers.values():
        sampler()
    samples = {persons: [] for persons in sizes}
    for round_number in range(ctx.repetitions):
        order = sizes if round_number % 2 == 0 else list(reversed(sizes))
        for persons in order:
            samples[persons].append(samplers[persons]())
    rows = [Row("S8", f"`lethe plan {POLICY}` on {persons} persons",
                lethe=samples[persons]) for persons in sizes]
    times = {persons: median([s.wall for s in samples[persons]])
             for persons in sizes}
    largest = sizes[-1]
    for smaller in sizes[:-1]:
        growth = times[largest] / times[smaller]
        linear = largest / smaller
        rows.append(Row("S8", f"time growth from {smaller} to {largest} "
                        f"persons: {growth:.2f}x for {linear:.2f}x the "
                        "data", unit="x linear",
                        lethe_value=growth / linear,
                        goal=("scaling_max", 1.15)))
    return rows


# S9 ------------------------------------------------------------------------

def consultant_sampler(ctx, path):
    script = BENCH_DIR / "consultant_retention.py"

    def sample():
        result = checked(run_process([sys.executable, str(script),
                                      str(path), "--now", ctx.now]),
                         "the consultant's script")
        return Sample(wall=result.wall, cpu=result.cpu,
                      value=json.loads(result.stdout))
    return sample


def check_consultant(plan, counts):
    """Raise unless the script's counts are the plan's."""
    for rule in plan["rules"]:
        expected = counts[rule["name"]]
        vetoed = sum(veto["count"] for veto in rule["vetoes"])
        changed = sum(effect["rows"] for effect in rule["effects"]
                      if effect["operation"] == "update")
        actual = {"selected": rule["selected"],
                  "vetoed": vetoed, "changed": changed}
        for key, value in expected.items():
            if actual[key] != value:
                raise BenchError(f"S9: rule \"{rule['name']}\": the plan "
                                 f"has {key} {actual[key]}, the script "
                                 f"{value}")


def run_s9(ctx):
    path = ctx.database()
    plan = plan_sampler(ctx, path, json_output=True)
    script = consultant_sampler(ctx, path)
    check_consultant(plan().value, script().value)
    ours, theirs = alternate(ctx.repetitions, plan_sampler(ctx, path),
                             script)
    return [Row("S9", f"retention policy on {ctx.persons} persons: "
                "`lethe plan` against the consultant's script",
                lethe=ours, reference=theirs,
                reference_name="Python script, row by row, dry run")]
