"""Fault injection: an apply whose database writes start failing at any
point leaves the database either exactly as it was or exactly fully
applied, never in between.

The test hook LETHE_TEST_FAIL_WRITE=N (host/faultvfs.h) makes the N-th
xWrite call of the process fail with SQLITE_IOERR_WRITE, and every later
one; with N = 0 lethe only counts the calls. The test counts the writes of
one apply of a small mixed policy on the guard fixture: a company delete
with cascades and a cleared link, a person delete, an update, and the
ledger. Then it runs the same apply once for every N from 1 to that
count, in rollback-journal mode and in WAL mode.
"""

import concurrent.futures
import os
import re
import shutil
import unittest

import guard_helpers as gh
import lethe_testing as lt

POLICY = """\
policy { name = "faults", model = "crm" }
local person = entity "person"
local company = entity "company"

rule "delete Lost Alpha" {
  select = company:where { { "name", "=", "Lost Alpha" } },
  action = delete(),
}

rule "delete two prospects" {
  select = person:where {
    { "lastname", "one of", { "Prospect11", "Prospect12" } },
  },
  action = delete(),
}

rule "no mailing for Gamma" {
  select = person:where { { "lastname", "=", "Gamma" } },
  action = update { nomailing = true },
}
"""

KEY = "5f0c3a9e4b7d21c8e6a1f3b09d4c7e2a"

# Columns that differ between two applies of the same plan: the time of
# the audit record and the hashes that cover it.
VOLATILE = {"lethe_audit": ("at", "previous_hash", "hash")}

WORKERS = 4


def snapshot(db):
    return gh.contents(db, include_lethe=True, include_shadow=True,
                       leave_out=VOLATILE)


def ledger_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as file:
        return len(file.read().splitlines())


class FaultCase(lt.LetheTestCase):
    """Subclasses set journal_mode."""

    journal_mode = None

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        cls.original = os.path.join(cls.folder, "original.db")
        gh.make_guard_fixture(cls.original)
        if cls.journal_mode == "wal":
            lt.query(cls.original, "PRAGMA journal_mode = WAL")
        cls.original_digest = lt.file_digest(cls.original)
        cls.unchanged = snapshot(cls.original)
        cls.policy = lt.write_file(cls.folder, "faults.lua", POLICY)
        cls.key_file = lt.write_file(cls.folder, "key", KEY + "\n")
        cls.digest = gh.plan_json(cls.policy, cls.original)["short_digest"]
        counted = cls.attempt("count", 0)
        match = re.search(r"test hook: (\d+) xWrite calls", counted["stderr"])
        cls.count_result = counted
        cls.writes = int(match.group(1)) if match else 0
        cls.applied = counted["contents"]
        cls.applied_ledger = counted["ledger"]
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            cls.outcomes = list(pool.map(
                lambda n: cls.attempt(f"fail-{n}", n),
                range(1, cls.writes + 1)))

    @classmethod
    def attempt(cls, name, fail_at):
        """Apply on a fresh copy with LETHE_TEST_FAIL_WRITE=fail_at and
        describe the outcome. Opening the copy afterwards rolls back a
        journal that the failed run left behind."""
        db = os.path.join(cls.folder, name + ".db")
        shutil.copyfile(cls.original, db)
        ledger = os.path.join(cls.folder, name + ".ledger")
        result = gh.run("apply", cls.policy, "--db", db, "--now",
                        gh.GUARD_NOW, "--as", gh.USER, "--yes", cls.digest,
                        "--ledger", ledger, "--key-file", cls.key_file,
                        env={"LETHE_TEST_FAIL_WRITE": str(fail_at)})
        outcome = {
            "fail_at": fail_at, "status": result.returncode,
            "stderr": result.stderr, "integrity": gh.integrity(db),
            "foreign_keys": lt.foreign_key_problems(db),
            "contents": snapshot(db), "ledger": ledger_lines(ledger),
        }
        outcome["digest"] = lt.file_digest(db)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        return outcome

    def kind(self, outcome):
        if outcome["contents"] == self.unchanged:
            return "unchanged"
        if outcome["contents"] == self.applied:
            return "applied"
        return "in between"

    def test_writes_counted(self):
        self.assertEqual(self.count_result["status"], 0,
                         "the counting run failed:\n"
                         + self.count_result["stderr"])
        self.assertGreater(self.writes, 10,
                           "no 'test hook: N xWrite calls' line; is the "
                           "test hook built in?\n"
                           + self.count_result["stderr"])

    def test_counting_run_applies(self):
        self.assertNotEqual(self.applied, self.unchanged,
                            "the counting run changed nothing")
        self.assertGreater(self.applied_ledger, 0,
                           "the counting run wrote no ledger lines")

    def test_first_write_failure_stops(self):
        first = self.outcomes[0]
        self.assertEqual(first["status"], 1,
                         f"exit status with the first write failing: "
                         f"{first['status']}\n{first['stderr']}")
        self.assertEqual(self.kind(first), "unchanged")

    def failing(self, condition):
        """The values of N whose outcome meets `condition`."""
        return [outcome["fail_at"] for outcome in self.outcomes
                if condition(outcome)]

    def test_all_or_nothing(self):
        between = self.failing(lambda outcome: self.kind(outcome)
                               == "in between")
        self.assertEqual(between, [],
                         "failing these writes left the database neither "
                         "unchanged nor fully applied")

    def test_integrity(self):
        damaged = self.failing(lambda outcome: outcome["integrity"] != "ok")
        self.assertEqual(damaged, [],
                         "integrity_check fails after these writes failed")

    def test_foreign_keys(self):
        broken = self.failing(lambda outcome: outcome["foreign_keys"])
        self.assertEqual(broken, [],
                         "foreign_key_check fails after these writes failed")

    def test_unchanged_file_identical(self):
        differing = self.failing(
            lambda outcome: self.kind(outcome) == "unchanged"
            and outcome["digest"] != self.original_digest)
        self.assertEqual(differing, [],
                         "after these writes failed the tables are "
                         "unchanged but the file differs")

    def test_unchanged_exit_status(self):
        wrong = self.failing(lambda outcome: self.kind(outcome) == "unchanged"
                             and outcome["status"] != 1)
        self.assertEqual(wrong, [],
                         "these writes failed and nothing was applied, but "
                         "lethe did not exit with status 1")

    def test_applied_not_denied(self):
        denied = self.failing(
            lambda outcome: self.kind(outcome) == "applied"
            and "nothing was changed" in outcome["stderr"])
        self.assertEqual(denied, [],
                         "these writes failed after the commit, but the "
                         "message says nothing was changed")

    def test_committed_run_reported(self):
        # The user guide promises that a failure rolls the whole run back,
        # so a failure after the commit must say that the plan was applied.
        silent = self.failing(
            lambda outcome: self.kind(outcome) == "applied"
            and "Applied plan" not in outcome["stderr"])
        example = next((outcome["stderr"] for outcome in self.outcomes
                        if outcome["fail_at"] in silent), "")
        self.assertEqual(silent, [],
                         "these writes failed after the commit; the plan was "
                         "applied, but lethe reported only an error such "
                         f"as:\n{example}")

    def test_ledger_matches_outcome(self):
        def wrong(outcome):
            expected = 0 if self.kind(outcome) == "unchanged" \
                else self.applied_ledger
            return outcome["ledger"] != expected
        self.assertEqual(self.failing(wrong), [],
                         "after these writes failed the ledger does not "
                         "match the database (no lines when unchanged, all "
                         f"{self.applied_ledger} when applied)")

    def test_both_outcomes_occur(self):
        kinds = {self.kind(outcome) for outcome in self.outcomes}
        self.assertIn("unchanged", kinds)


class RollbackJournalFaultTest(FaultCase):
    journal_mode = "delete"


class WalFaultTest(FaultCase):
    journal_mode = "wal"


del FaultCase

if __name__ == "__main__":
    unittest.main()
