"""Measurement tools for the benchmark suite: running and timing
processes, driving `lethe repl` line by line, alternating a scenario with
its reference, the cached benchmark databases, and result rows.

Times are seconds. A process's CPU time is its user plus system time, as
wait4() reports it. In-process CPU times come from time.process_time()
(Python) and os.clock() (Lua), which both measure the CPU time of the
process that calls them.
"""

import hashlib
import json
import os
import select
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent

# Files whose content decides what `lethe init --sample` writes; their
# digest names the cached databases, so a changed generator or schema
# gets a new database.
GENERATOR_FILES = ("host/sample*.c", "host/sample*.h", "host/schema.sql")


class BenchError(Exception):
    """A scenario could not run, or its result and its reference's
    disagree."""


@dataclass
class Sample:
    """One timed run: wall-clock and CPU seconds, and what it produced."""
    wall: float
    cpu: float
    value: object = None


def median(values):
    return statistics.median(values) if values else None


@dataclass
class Row:
    """One line of the report: a measure of a scenario against its
    reference and its goal.

    goal is None for a row that only informs, else a tuple (kind, x):
      ("ratio_max", x)    Lethe's median / the reference's at most x
      ("speedup_min", x)  the reference's median / Lethe's at least x
      ("max", x)          Lethe's figure at most x, in `unit`
      ("scaling_max", x)  time growth at most x times linear
    """
    scenario: str
    measure: str
    unit: str = "s"
    lethe: list = field(default_factory=list)
    reference: list = field(default_factory=list)
    reference_name: str = ""
    goal: tuple = None
    note: str = ""
    lethe_value: float = None
    reference_value: float = None
    status: str = ""

    def lethe_median(self):
        if self.lethe_value is not None:
            return self.lethe_value
        return median([s.wall for s in self.lethe])

    def reference_median(self):
        if self.reference_value is not None:
            return self.reference_value
        return median([s.wall for s in self.reference])

    def lethe_cpu(self):
        return median([s.cpu for s in self.lethe])

    def reference_cpu(self):
        return median([s.cpu for s in self.reference])

    def ratio(self):
        ours, theirs = self.lethe_median(), self.reference_median()
        if ours is None or theirs is None or theirs == 0:
            return None
        return ours / theirs

    def cpu_ratio(self):
        ours, theirs = self.lethe_cpu(), self.reference_cpu()
        if ours is None or theirs is None or theirs == 0:
            return None
        return ours / theirs

    def verdict(self):
        """Return "met", "missed", or "" when the row has no goal or no
        figure."""
        if self.status:
            return self.status
        if not self.goal:
            return ""
        kind, limit = self.goal
        ours, ratio = self.lethe_median(), self.ratio()
        if kind == "ratio_max" and ratio is not None:
            return "met" if ratio <= limit else "missed"
        if kind == "speedup_min" and ratio:
            return "met" if 1 / ratio >= limit else "missed"
        if kind in ("max", "scaling_max") and ours is not None:
            return "met" if ours <= limit else "missed"
        return ""

    def goal_text(self):
        if not self.goal:
            return ""
        kind, limit = self.goal
        if kind == "ratio_max":
            return f"<= {limit:g}x"
        if kind == "speedup_min":
            return f">= {limit:g}x faster"
        if kind == "scaling_max":
            return f"<= {limit:g}x linear"
        return f"<= {limit:g} {self.unit}"

    def as_dict(self):
        return {
            "scenario": self.scenario, "measure": self.measure,
            "unit": self.unit, "reference": self.reference_name,
            "lethe_median": self.lethe_median(),
            "reference_median": self.reference_median(),
            "lethe_cpu_median": self.lethe_cpu(),
            "reference_cpu_median": self.reference_cpu(),
            "ratio": self.ratio(), "cpu_ratio": self.cpu_ratio(),
            "goal": self.goal_text(), "verdict": self.verdict(),
            "note": self.note,
            "lethe_samples": [s.wall for s in self.lethe],
            "reference_samples": [s.wall for s in self.reference],
        }


def alternate(repetitions, first, second, long_run=None):
    """Run `first` and `second` `repetitions` times each, alternating and
    swapping which goes first on every other round, so that a slow spell of
    the machine hits both. Once a sample of `first` has taken more than
    `long_run` seconds, `first` is not repeated and only `second` runs in
    the remaining rounds. Returns the two lists of samples."""
    ours, theirs = [], []
    for round_number in range(repetitions):
        if long_run is not None and ours and ours[-1].wall > long_run:
            theirs.append(second())
        elif round_number % 2 == 0:
            ours.append(first())
            theirs.append(second())
        else:
            theirs.append(second())
            ours.append(first())
    return ours, theirs


# Processes -------------------------------------------------------------------

@dataclass
class ProcessResult:
    wall: float
    cpu: float
    max_rss_kb: int
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_process(argv, timeout=None, env=None, stdin=subprocess.DEVNULL):
    """Run `argv` and return its wall time, CPU time (user + system, from
    wait4), peak resident set size and output. A process still running
    after `timeout` seconds is killed and reported with timed_out set."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env,
                                   stdin=stdin)
        # A blocking wait4() keeps this process off the CPU while the
        # child runs; a timer kills the child at the timeout.
        killed = threading.Event()

        def kill():
            killed.set()
            process.kill()
        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        if timer:
            timer.cancel()
        timed_out = killed.is_set()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ProcessResult(
            wall=wall, cpu=usage.ru_utime + usage.ru_stime,
            max_rss_kb=usage.ru_maxrss, returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=timed_out)


def peak_rss_kb(argv, env=None):
    """Run `argv` and return its peak resident set size in kilobytes and
    the ProcessResult. The figure comes from GNU time (/usr/bin/time) when
    it is installed, because wait4() here would also count the memory of
    this Python process, which the child keeps between fork and exec."""
    if not Path("/usr/bin/time").exists():
        result = run_process(argv, env=env)
        return result.max_rss_kb, result
    result = run_process(["/usr/bin/time", "-f", "%M", *argv], env=env)
    lines = result.stderr.strip().splitlines()
    if result.returncode != 0 or not lines:
        return None, result
    return int(lines[-1]), result


def checked(result, description):
    """Return `result`, or raise BenchError naming `description` when the
    process failed."""
    if result.timed_out:
        raise BenchError(f"{description} timed out after "
                         f"{result.wall:.0f} s")
    if result.returncode != 0:
        raise BenchError(f"{description} failed with status "
                         f"{result.returncode}: "
                         f"{result.stderr.strip()[-600:]}")
    return result


class Lethe:
    """The lethe binary under test, run with a private state folder (the
    REPL's history) and the default script limits."""

    def __init__(self, path, work_dir):
        self.path = str(Path(path).resolve())
        state = Path(work_dir) / "state"
        state.mkdir(parents=True, exist_ok=True)
        self.env = {name: value for name, value in os.environ.items()
                    if not name.startswith("LETHE_")}
        self.env["XDG_STATE_HOME"] = str(state)
        self.env["NO_COLOR"] = "1"

    def run(self, *arguments, timeout=None, stdin=subprocess.DEVNULL):
        return run_process([self.path, *map(str, arguments)],
                           timeout=timeout, env=self.env, stdin=stdin)

    def plan_json(self, policy, db, now):
        result = checked(self.run("plan", policy, "--db", db, "--now", now,
                                  "--json"), f"lethe plan {policy}")
        return json.loads(result.stdout)

    def repl(self, db, now, environment=None):
        """Start `lethe repl` on `db`; `environment` adds variables, such
        as LETHE_TIME_LIMIT."""
        return Repl(self, db, now, environment)


class Repl:
    """A `lethe repl` process fed through a pipe. Each call of run() sends
    one chunk of Lua and reads standard output up to the first line that
    starts with the marker "@@", so the wall time of a chunk is measured
    around its evaluation inside the running process."""

    MARKER = "@@"

    def __init__(self, lethe, db, now, environment=None):
        env = dict(lethe.env, **(environment or {}))
        self.process = subprocess.Popen(
            [lethe.path, "repl", "--db", str(db), "--now", now],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, bufsize=0)
        self.buffer = b""
        self.errors = b""

    def send(self, text):
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()

    def read_marker(self, timeout):
        """Return the first marker line's text after the marker, and the
        lines printed before it. Raises BenchError when the REPL reports
        an error on standard error instead."""
        lines = []
        deadline = time.perf_counter() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if text.startswith(self.MARKER):
                    return text[len(self.MARKER):].strip(), lines
                lines.append(text)
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchError(f"lethe repl gave no result in {timeout} s")
            streams = [self.process.stdout, self.process.stderr]
            ready, _, _ = select.select(streams, [], [], left)
            if self.process.stderr in ready:
                self.errors += os.read(self.process.stderr.fileno(), 65536)
                if b"\n" in self.errors:
                    message = self.errors.decode("utf-8", "replace")
                    self.errors = b""
                    raise BenchError("lethe repl: " + message.strip()[-600:])
            if self.process.stdout in ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    error = self.process.stderr.read().decode(
                        "utf-8", "replace")
                    raise BenchError("lethe repl ended early: "
                                     + error.strip()[-600:])
                self.buffer += chunk

    def run(self, text, timeout=600):
        """Send `text`, which must print one marker line last, and return
        a Sample with the wall time and the marker line's text as value."""
        started = time.perf_counter()
        self.send(text)
        value, _ = self.read_marker(timeout)
        return Sample(wall=time.perf_counter() - started, cpu=0.0,
                      value=value)

    def load(self, path, timeout=600):
        """Send the Lua file at `path`, then wait until it has run."""
        self.send(Path(path).read_text())
        self.run('print("@@ loaded")', timeout)

    def status(self, name):
        """Return field `name` of /proc/PID/status in kilobytes (VmRSS,
        VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text() \
                .splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        raise BenchError(f"/proc status has no {name}")

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *unused):
        self.close()


# Databases -------------------------------------------------------------------

def generator_digest():
    """A short digest of the sample generator's sources and the schema."""
    digest = hashlib.sha256()
    for pattern in GENERATOR_FILES:
        for path in sorted(SOURCE_DIR.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_database(lethe, cache_dir, persons, seed, now, log):
    """Return the path of the sample database for these options, creating
    it under `cache_dir` when it is missing. The name contains the options
    and the generator digest. A database is written under a temporary name and
    renamed when complete, so an interrupted run leaves no partial one."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = (f"crm-p{persons}-s{seed}-n{now}-g{generator_digest()}.db")
    path = cache_dir / name
    if path.exists():
        return path
    partial = cache_dir / (name + ".partial")
    for leftover in cache_dir.glob(name + ".partial*"):
        leftover.unlink()
    log(f"generating {name} ({persons} persons)")
    result = checked(lethe.run("init", partial, "--sample", "--persons",
                               persons, "--seed", seed, "--now", now),
                     "lethe init --sample")
    log(f"generated in {result.wall:.0f} s")
    partial.rename(path)
    return path


def fresh_copy(source, target):
    """Copy database `source` to `target` (removing an older copy and its
    journal) and flush it to disk, so the timed run that follows does not
    share the disk with the copy's write-back."""
    remove_database(target)
    shutil.copyfile(source, target)
    os.sync()
    return target


def remove_database(path):
    for suffix in ("", "-journal", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            candidate.unlink()


def connect(path):
    """An sqlite3 connection set up as Lethe sets up its own: foreign keys
    on, default cache size, autocommit so that transactions are explicit."""
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def timed_sql(db, sql, parameters=()):
    """Run one query and return a Sample whose value is its first row."""
    started, cpu = time.perf_counter(), time.process_time()
    row = db.execute(sql, parameters).fetchone()
    return Sample(wall=time.perf_counter() - started,
                  cpu=time.process_time() - cpu, value=row)
