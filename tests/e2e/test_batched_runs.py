"""Batched runs (`apply --batch-size`) killed at random moments, stopped
with Ctrl-C, and resumed.

The database is a generated CRM database (`lethe init --sample`, fixed
seed and day) and the policy is the bundled retention policy. It has two
delete rules with cascades and cleared links and one update rule, which
change about 220 rows, so that a batch size of 5 makes about 50 batches.

After every kill the database must pass integrity_check and
foreign_key_check, lethe_run.done_rows must equal the rows that the
frozen effects really changed (counted against a copy of the database
taken before the run), and no row outside the frozen ids may have
changed. `apply --resume` must then end in exactly the state of an
unbatched apply of the same plan.
"""

import os
import pty
import random
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

import guard_helpers as gh
import lethe_testing as lt

NOW = "2024-06-30"
PERSONS = "200"
SEED = "5"
BATCH_SIZE = "5"

# Each chain starts from a fresh copy, is killed up to KILLS_PER_CHAIN
# times and ends with a resume that runs to the end.
KILLS_PER_CHAIN = 5
CHAINS = 3
RANDOM_SEED = 20240630

folder = None
template = None


def setUpModule():
    global folder, template
    folder = gh.scratch_folder()
    template = os.path.join(folder, "sample.db")
    result = lt.run_lethe("init", template, "--sample", "--persons", PERSONS,
                          "--seed", SEED, "--now", NOW)
    if result.returncode != 0:
        raise AssertionError("lethe init --sample failed:\n"
                             + result.describe())
    for right in ("delete", "update"):
        lt.run_lethe("grant", gh.USER, right, "--db", template)


def tearDownModule():
    shutil.rmtree(folder, ignore_errors=True)


def fresh_copy(name):
    return gh.copy_database(template, os.path.join(folder, name))


def apply_arguments(db, digest, *extra):
    return [lt.lethe_binary(), "apply", "retention", "--db", db, "--now",
            NOW, "--as", gh.USER, "--yes", digest, *extra]


def resume_arguments(db):
    return [lt.lethe_binary(), "apply", "--resume", "--db", db, "--as",
            gh.USER]


def run_state(db):
    """Return the row of lethe_run as a dict, or None before the run
    froze."""
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute("SELECT * FROM lethe_run").fetchall()
    finally:
        connection.close()
    return dict(rows[0]) if rows else None


def frozen_effects(db):
    """Return the frozen effects of the run as a list of (position,
    operation, table, key column, ids)."""
    rows = lt.query(db, "SELECT position, operation, table_name, "
                    "key_column, CAST(ids AS BLOB) FROM lethe_run_effect "
                    "ORDER BY position")
    return [(position, operation, table, key, gh.decode_id_set(ids)[1])
            for position, operation, table, key, ids in rows]


def rows_by_key(db, table, key):
    connection = sqlite3.connect(db)
    try:
        return {row[0]: row[1:] for row in connection.execute(
            f'SELECT "{key}", * FROM "{table}"')}
    finally:
        connection.close()


class Progress:
    """What a run changed so far, counted against the original copy.

    done: the rows that the frozen effects changed by their own operation
    (a deleted row is gone, a cleared or updated row differs).
    touched: the frozen rows that differ from the original in any way.
    pending_changed: rows that a delete effect has still to delete but
    that differ from the original already.
    strays: rows outside every frozen id set that differ.
    """

    def __init__(self, original, db):
        effects = frozen_effects(db)
        self.counts = [(table, operation, len(ids))
                       for _, operation, table, _, ids in effects]
        self.done = 0
        self.pending_changed = []
        frozen, tables = {}, {}
        for _, operation, table, key, ids in effects:
            if (table, key) not in tables:
                tables[(table, key)] = (rows_by_key(original, table, key),
                                        rows_by_key(db, table, key))
            before, now = tables[(table, key)]
            frozen.setdefault((table, key), set()).update(ids)
            for id_ in ids:
                if operation == "delete" and id_ not in now:
                    self.done += 1
                elif operation == "delete" and now[id_] != before.get(id_):
                    self.pending_changed.append((table, id_))
                elif operation != "delete" and now.get(id_) != before.get(id_):
                    self.done += 1
        self.touched = 0
        self.strays = []
        for (table, key), ids in frozen.items():
            before, now = tables[(table, key)]
            for id_ in set(before) | set(now):
                differs = now.get(id_) != before.get(id_)
                if differs and id_ in ids:
                    self.touched += 1
                elif differs:
                    self.strays.append((table, id_))


def comparable(db):
    return gh.contents(db)


def fts_problems(db):
    """The errors of the full-text indexes' own integrity checks."""
    problems = []
    for table in ("appointment_fts", "document_fts"):
        try:
            lt.execute(db, f"INSERT INTO {table} ({table}) VALUES "
                       "('integrity-check')")
        except sqlite3.DatabaseError as error:
            problems.append(f"{table}: {error}")
    return problems


def read_progress(master, timeout):
    """Read what lethe wrote to the terminal `master` within `timeout`
    seconds. Returns None after the timeout and b"" when lethe ended."""
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        return None
    try:
        return os.read(master, 4096)
    except OSError:
        return b""  # the terminal closed: lethe has ended


BATCH_LINE = re.compile(rb"\r(\d+) of (\d+) rows")


def kill_at_random(arguments, rng, batches_left, in_batch=False):
    """Run lethe with standard error on a pseudo-terminal, where it prints
    its progress after every batch, and SIGKILL it at a random moment.

    One time in six the moment is in start-up or the freeze, one time in
    six after the last batch while the run finishes, and otherwise (or
    always, with `in_batch`, then in the first half of the batches) a
    random time into a random batch. Returns the exit status and the
    moment chosen.
    """
    draw = 0.5 if in_batch else rng.random()
    if draw < 1 / 6:
        moment, after = "start-up", 0
    elif draw > 5 / 6:
        moment, after = "finish", batches_left
    else:
        # A forced kill picks a batch in the first half, so that enough
        # batches follow for it to land before the run ends on its own.
        last = batches_left // 2 if in_batch else batches_left - 1
        after = rng.randint(1, max(1, last))
        moment = f"batch {after + 1}"
    delay = rng.uniform(0.0, 0.06 if moment == "start-up" else 0.02)

    master, slave = pty.openpty()
    process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=slave,
                               env={**os.environ, "NO_COLOR": "1"})
    os.close(slave)
    try:
        output = b""
        while len(BATCH_LINE.findall(output)) < after:
            chunk = read_progress(master, 60)
            if not chunk:
                break
            output += chunk
        time.sleep(delay)
        process.kill()
        process.wait(timeout=60)
    finally:
        os.close(master)
    return process.returncode, moment


class KillTest(lt.LetheTestCase):
    """SIGKILL at random moments, then resume, in several chains."""

    @classmethod
    def setUpClass(cls):
        cls.plan = lt.run_lethe("plan", "retention", "--db", template,
                                "--now", NOW, "--json").json()
        cls.digest = cls.plan["short_digest"]
        cls.planned = [(effect["table"], effect["operation"], effect["rows"])
                       for rule in cls.plan["rules"]
                       for effect in rule["effects"]]
        size = int(BATCH_SIZE)
        cls.batches = sum((rows + size - 1) // size
                          for _, _, rows in cls.planned)
        cls.reference = fresh_copy("reference.db")
        result = lt.run_lethe(*apply_arguments(cls.reference, cls.digest)[1:])
        if result.returncode != 0:
            raise AssertionError("unbatched apply failed:\n"
                                 + result.describe())
        cls.expected = comparable(cls.reference)
        timed = fresh_copy("uninterrupted.db")
        cls.uninterrupted = lt.run_lethe(*apply_arguments(
            timed, cls.digest, "--batch-size", BATCH_SIZE)[1:])
        cls.uninterrupted_contents = comparable(timed)

    def test_uninterrupted_matches_unbatched(self):
        self.assert_exit(self.uninterrupted, 0)
        self.assertTrue(self.uninterrupted_contents == self.expected,
                        "an uninterrupted batched run differs from the "
                        "unbatched apply")

    def check_after_kill(self, original, db, label, last_done):
        """Check the database after a kill. Returns lethe_run.done_rows
        (0 before the run froze) and the run's state."""
        result = gh.integrity(db)
        self.assertEqual(result, "ok",
                         f"{label}: integrity_check: expected ok, got "
                         f"{result}")
        problems = lt.foreign_key_problems(db)
        self.assertEqual(problems, [],
                         f"{label}: foreign_key_check: expected none, got "
                         f"{problems[:5]}")

        state = run_state(db)
        if state is None:
            self.assertTrue(comparable(db) == comparable(original),
                            f"{label}: killed before the run froze, but the "
                            "tables changed")
            return 0, None

        progress = Progress(original, db)
        self.assertEqual(progress.counts, self.planned,
                         f"{label}: frozen effects: expected "
                         f"{self.planned}, got {progress.counts}")
        self.assertEqual(state["done_rows"], progress.done,
                         f"{label}: lethe_run.done_rows is "
                         f"{state['done_rows']}, but the frozen effects "
                         f"changed {progress.done} rows")
        self.assertEqual(progress.strays, [],
                         f"{label}: rows outside the frozen ids changed: "
                         f"{progress.strays[:5]}")
        self.assertGreaterEqual(state["done_rows"], last_done,
                                f"{label}: done_rows went back")
        frozen_tables = {table for table, _, _ in progress.counts}
        before, now = comparable(original), comparable(db)
        changed = [table for table in before if table not in frozen_tables
                   and before[table] != now.get(table)]
        self.assertEqual(changed, [],
                         f"{label}: tables without frozen effects changed")
        return state["done_rows"], state["state"]

    def finish_chain(self, db, state, done, chain):
        """Resume (or start) the run without a kill and compare the end
        state with the unbatched apply. A resume after `done` committed
        rows cannot search for their erased values, so it exits with 1."""
        if state is None:
            arguments = apply_arguments(db, self.digest, "--batch-size",
                                        BATCH_SIZE)
        else:
            arguments = resume_arguments(db)
        if state != "done":
            result = gh.run(*arguments[1:], timeout=300)
            self.assert_exit(result, 1 if done > 0 else 0)
        final = run_state(db)
        self.assertEqual(final["state"], "done",
                         f"chain {chain}: run state after resume")
        self.assertEqual(final["done_rows"], final["total_rows"],
                         f"chain {chain}: done_rows {final['done_rows']} of "
                         f"{final['total_rows']}")
        self.assertTrue(comparable(db) == self.expected,
                        f"chain {chain}: the resumed run differs from the "
                        "unbatched apply")
        self.assertEqual(fts_problems(db), [],
                         f"chain {chain}: full-text index problems")
        audits = lt.scalar(db, "SELECT count(*) FROM lethe_audit")
        self.assertEqual(audits, 3, f"chain {chain}: audit records: expected "
                         f"3 (one per delete or update rule), got {audits}")

    def test_random_kills_then_resume(self):
        rng = random.Random(RANDOM_SEED)
        moments = []
        for chain in range(CHAINS):
            original = fresh_copy(f"original-{chain}.db")
            db = fresh_copy(f"chain-{chain}.db")
            done, state = 0, None
            for attempt in range(KILLS_PER_CHAIN):
                if state is None:
                    arguments = apply_arguments(db, self.digest,
                                                "--batch-size", BATCH_SIZE)
                else:
                    arguments = resume_arguments(db)
                left = self.batches * (1 - done / sum(
                    rows for _, _, rows in self.planned))
                # The first kill of a chain lands inside a batch, so that
                # every chain resumes a run that stopped part way.
                status, moment = kill_at_random(arguments, rng,
                                                max(1, round(left)),
                                                in_batch=attempt == 0)
                label = f"chain {chain}, kill {attempt + 1} at {moment}"
                done, state = self.check_after_kill(original, db, label, done)
                moments.append((moment, status, done))
                if state == "done":
                    break
            self.finish_chain(db, state, done, chain)
        mid_run = [m for m in moments
                   if m[1] == -signal.SIGKILL and m[2] > 0]
        self.assertGreaterEqual(len(mid_run), CHAINS,
                                f"too few kills landed in a running batch "
                                f"run: {moments}")


def interrupt_at(arguments, rows):
    """Run lethe with standard error on a pseudo-terminal, where it prints
    its progress after every batch, and send SIGINT once the progress
    reaches `rows` rows. Returns the exit status and what lethe wrote."""
    master, slave = pty.openpty()
    process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=slave,
                               env={**os.environ, "NO_COLOR": "1"})
    os.close(slave)
    output, signalled = b"", False
    try:
        while True:
            chunk = read_progress(master, 60)
            if not chunk:
                break
            output += chunk
            counts = [int(done) for done, _ in BATCH_LINE.findall(output)]
            if not signalled and counts and counts[-1] >= rows:
                process.send_signal(signal.SIGINT)
                signalled = True
    finally:
        os.close(master)
    status = process.wait(timeout=60)
    return status, output.decode("utf-8", "replace")


class Utf16BatchedTest(lt.LetheTestCase):
    """A batched run on a database that stores text in UTF-16 freezes its
    id sets as BLOBs, which SQLite stores unconverted, and ends as the
    unbatched apply does."""

    def test_batched_run_on_utf16(self):
        reference = fresh_copy("utf16-reference.db")
        lt.recode_database(reference, "UTF-16le")
        batched = gh.copy_database(reference,
                                   os.path.join(folder, "utf16-batched.db"))
        digest = lt.run_lethe("plan", "retention", "--db", reference, "--now",
                              NOW, "--json").json()["short_digest"]
        unbatched = lt.run_lethe(*apply_arguments(reference, digest)[1:])
        self.assert_exit(unbatched, 0)
        result = gh.run(*apply_arguments(batched, digest, "--batch-size",
                                         BATCH_SIZE)[1:], timeout=300)
        self.assert_exit(result, 0)
        self.assert_stderr_contains(result, "Erasure verified")
        self.assertEqual(run_state(batched)["state"], "done")
        types = lt.query(batched, "SELECT DISTINCT typeof(ids) FROM "
                         "lethe_run_effect")
        self.assertEqual(types, [("blob",)])
        self.assertTrue(comparable(batched) == comparable(reference),
                        "the batched run on UTF-16 differs from the "
                        "unbatched apply")


class InterruptCase(lt.LetheTestCase):
    """A batched run stopped with SIGINT after its third batch of two rows,
    once per class."""

    @classmethod
    def setUpClass(cls):
        cls.original = fresh_copy(f"{cls.__name__}-original.db")
        cls.db = fresh_copy(f"{cls.__name__}.db")
        plan = lt.run_lethe("plan", "retention", "--db", cls.db, "--now",
                            NOW, "--json").json()
        cls.status, cls.stderr = interrupt_at(
            apply_arguments(cls.db, plan["short_digest"], "--batch-size",
                            "2"), 6)
        cls.state = run_state(cls.db)


class InterruptTest(InterruptCase):

    def test_exit_status(self):
        self.assertEqual(self.status, 1,
                         f"exit status: expected 1, got {self.status}\n"
                         f"{self.stderr}")

    def test_message_count_matches(self):
        match = re.search(r"Stopped after (\d+) of (\d+) rows", self.stderr)
        self.assertIsNotNone(match, f"no 'Stopped after' line:\n{self.stderr}")
        progress = Progress(self.original, self.db)
        self.assertEqual(int(match.group(1)), progress.done,
                         f"message says {match.group(1)} rows, "
                         f"{progress.done} changed")
        self.assertEqual(int(match.group(1)), self.state["done_rows"],
                         f"message says {match.group(1)} rows, lethe_run "
                         f"says {self.state['done_rows']}")
        self.assertLess(int(match.group(1)), int(match.group(2)),
                        "the run finished before the signal came")

    def test_stopped_run_sound(self):
        result = gh.integrity(self.db)
        self.assertEqual(result, "ok", f"integrity_check: {result}")
        problems = lt.foreign_key_problems(self.db)
        self.assertEqual(problems, [], f"foreign_key_check: {problems[:5]}")
        self.assertEqual(self.state["state"], "running",
                         f"run state: expected running, got "
                         f"{self.state['state']}")


class InterruptedGuardTest(InterruptCase):
    """Guards that still apply to the rest of a stopped run. Each test
    works on its own copy of the stopped database."""

    def copy(self, name):
        path = os.path.join(lt.temporary_folder(self), name)
        return gh.copy_database(self.db, path)

    def test_second_run_rejected(self):
        db = self.copy("second.db")
        before = lt.file_digest(db)
        plan = lt.run_lethe("plan", "retention", "--db", db, "--now", NOW,
                            "--json").json()
        result = gh.run(*apply_arguments(db, plan["short_digest"],
                                         "--batch-size", "10")[1:])
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "is unfinished")
        self.assert_unchanged(db, before, result)

    def test_resume_needs_right(self):
        db = self.copy("revoked.db")
        lt.run_lethe("revoke", gh.USER, "delete", "--db", db)
        before = lt.file_digest(db)
        result = gh.run(*resume_arguments(db)[1:])
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "does not hold the delete right")
        self.assert_unchanged(db, before, result)

    def test_resume_check_names_earlier_rows(self):
        # The erased values of the batches before the stop were kept in
        # the stopped process's memory only.
        db = self.copy("resumed.db")
        done = run_state(db)["done_rows"]
        self.assertGreater(done, 0, "the fixture needs committed batches")
        result = gh.run(*resume_arguments(db)[1:], timeout=300)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(
            result, f"Erasure NOT verified: {done} rows were done before "
            "the run resumed")

    def test_resume_keeps_new_hold(self):
        # A legal hold placed on a frozen person that the stopped run has
        # not deleted yet must keep that person.
        db = self.copy("held.db")
        persons = [ids for _, operation, table, _, ids in frozen_effects(db)
                   if table == "person" and operation == "delete"][0]
        remaining = set(lt.query_ids(db, "SELECT person_id FROM person"))
        waiting = sorted(set(persons) & remaining)
        self.assertTrue(waiting, "every frozen person is already deleted")
        held = waiting[-1]
        added = gh.run("hold", "add", "person", held, "--reason",
                       "court order", "--db", db)
        self.assert_exit(added, 0)
        gh.run(*resume_arguments(db)[1:], timeout=300)
        still = lt.query_ids(db, "SELECT person_id FROM person WHERE "
                             "person_id = ?", (held,))
        self.assertEqual(still, [held],
                         f"person {held} was put under a legal hold before "
                         "the resume, but the resumed run deleted it")


class InterruptAfterLastBatchTest(lt.LetheTestCase):
    """SIGINT once the run is marked done, while the erasure check runs:
    the check, which no command can repeat, still runs to its end and
    reports."""

    def test_check_reports(self):
        db = fresh_copy("after-last-batch.db")
        plan = lt.run_lethe("plan", "retention", "--db", db, "--now", NOW,
                            "--json").json()
        process = subprocess.Popen(
            apply_arguments(db, plan["short_digest"], "--batch-size",
                            BATCH_SIZE), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        signalled = False
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            try:
                states = lt.query(db, "SELECT state FROM lethe_run")
            except sqlite3.Error:
                states = []
            if states == [("done",)]:
                process.send_signal(signal.SIGINT)
                signalled = True
                break
            time.sleep(0.001)
        stderr = process.communicate(timeout=120)[1].decode()
        if not signalled:
            self.skipTest("the run ended before the signal could be sent")
        # The signal may also land after the report, while the process
        # exits; then it ends the process, which is harmless.
        self.assertIn(process.returncode, (0, 1, -signal.SIGINT),
                      f"exit status {process.returncode}:\n{stderr}")
        self.assertIn("Erasure verified", stderr)


# Twenty more sales of company 1 in the guard fixture, each with a person
# of the company. Deleting the company deletes its persons and its sales.
# If the persons went first, the foreign key sale.person_id (ON DELETE
# SET NULL) would clear the links of sales still to be deleted.
EXTRA_SALES = "".join(
    f"INSERT INTO sale (sale_id, contact_id, person_id, heading, saledate, "
    f"status, registered) VALUES ({100 + n}, 1, {1 + n % 2}, 'Deal {n}', "
    f"'2012-01-01 00:00:00', 3, '2012-01-01 00:00:00');\n"
    for n in range(20))

COMPANY_POLICY = """\
policy { name = "lost company", model = "crm" }
local company = entity "company"
rule "delete Lost Alpha" {
  select = company:where { { "name", "=", "Lost Alpha" } },
  action = delete(),
}
"""


class PendingRowsTest(lt.LetheTestCase):
    """A run stopped right after it deleted a company's persons has
    changed exactly what lethe_run counts: rows still to be deleted keep
    their original values until their own batch deletes them, whatever
    order the plan chose."""

    @classmethod
    def setUpClass(cls):
        work = lt.temporary_folder(cls)
        cls.db = gh.make_guard_fixture(os.path.join(work, "guard.db"))
        connection = lt.connect(cls.db)
        try:
            connection.executescript(EXTRA_SALES)
        finally:
            connection.close()
        cls.original = gh.copy_database(cls.db,
                                        os.path.join(work, "original.db"))
        policy = lt.write_file(work, "company.lua", COMPANY_POLICY)
        plan = gh.plan_json(policy, cls.db)
        effects = [((effect["table"], effect["operation"]), effect["rows"])
                   for effect in plan["rules"][0]["effects"]]
        kinds = [kind for kind, _ in effects]
        cls.scenario_ok = ("person", "delete") in kinds \
            and ("sale", "delete") in kinds
        through_persons = 0
        for kind, rows in effects:
            through_persons += rows
            if kind == ("person", "delete"):
                break
        cls.status, cls.stderr = interrupt_at(
            [lt.lethe_binary(), "apply", policy, "--db", cls.db, "--now",
             gh.GUARD_NOW, "--as", gh.USER, "--yes", plan["short_digest"],
             "--batch-size", "1"], through_persons)
        cls.state = run_state(cls.db)
        cls.progress = Progress(cls.original, cls.db)

    def setUp(self):
        self.assertTrue(self.scenario_ok, "the plan no longer deletes both "
                        "persons and sales; this test needs another scenario")
        self.assertEqual(self.status, 1, f"exit status: expected 1, got "
                         f"{self.status}\n{self.stderr}")

    def test_pending_rows_unchanged(self):
        self.assertEqual(self.progress.pending_changed, [],
                         "rows that the run has still to delete were "
                         "changed already, by a foreign key action of a "
                         "row deleted before them")

    def test_done_rows_count_every_change(self):
        self.assertEqual(self.state["done_rows"], self.progress.touched,
                         f"lethe_run.done_rows is {self.state['done_rows']}, "
                         f"but {self.progress.touched} frozen rows differ "
                         "from the original")


if __name__ == "__main__":
    unittest.main()
