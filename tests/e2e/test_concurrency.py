"""Apply against a database that another connection writes, or that
changed after the plan was made: the run stops and changes nothing."""

import os
import unittest

import lethe_testing as lt

templates = lt.DatabaseTemplates()


def tearDownModule():
    templates.close()


# Every lethe connection waits this long for a lock (DB_BUSY_TIMEOUT_MS in
# host/db.h). Apply may take a little longer for planning and retries.
BUSY_TIMEOUT_SECONDS = 5
MAX_LOCKED_SECONDS = 2 * BUSY_TIMEOUT_SECONDS
KILL_AFTER_SECONDS = 15

# A Prospect registered in 2015 without consent: "delete old prospects" in
# the fixture policy selects it.
NEW_PROSPECT_SQL = """
INSERT INTO person (person_id, firstname, lastname, category_idx, registered)
VALUES (14, 'Nia', 'Late', 1, '2015-01-01 00:00:00')
"""


def prepare(test_case):
    """Copy the fixture and its policy into a temporary folder, grant alice
    both rights and plan. Return (db, policy, short digest)."""
    folder = lt.temporary_folder(test_case)
    db = templates.copy("crm", folder)
    policy = lt.write_file(folder, "fixture.lua", lt.FIXTURE_POLICY)
    for right in ("delete", "update"):
        lt.run_lethe("grant", "alice", right, "--db", db)
    plan = lt.run_lethe("plan", policy, "--db", db, "--now", lt.FIXTURE_NOW)
    return db, policy, lt.plan_digest(plan.stdout)


class LockedDatabaseTest(lt.LetheTestCase):
    """Apply while a Python connection has a write transaction open
    (BEGIN IMMEDIATE)."""

    @classmethod
    def setUpClass(cls):
        cls.db, cls.policy, cls.digest = prepare(cls)
        cls.digest_before = lt.file_digest(cls.db)
        holder = lt.connect(cls.db)
        try:
            holder.execute("BEGIN IMMEDIATE")
            cls.result = lt.run_lethe(
                "apply", cls.policy, "--db", cls.db, "--now", lt.FIXTURE_NOW,
                "--as", "alice", "--yes", cls.digest,
                timeout=KILL_AFTER_SECONDS)
            holder.execute("ROLLBACK")
        finally:
            holder.close()

    def test_gives_up_in_time(self):
        self.assertFalse(self.result.timed_out,
                         f"apply was still waiting after "
                         f"{KILL_AFTER_SECONDS} s\n" + self.result.describe())
        self.assertLess(self.result.elapsed, MAX_LOCKED_SECONDS,
                        f"apply took {self.result.elapsed:.1f} s to give up; "
                        f"expected under {MAX_LOCKED_SECONDS} s\n"
                        + self.result.describe())

    def test_exit_status(self):
        self.assert_exit(self.result, 1)

    def test_message_names_lock(self):
        self.assert_stderr_contains(self.result, "locked")

    def test_message_names_no_script(self):
        self.assertNotIn(".lua:", self.result.stderr, self.result.describe())

    def test_database_unchanged(self):
        self.assert_unchanged(self.db, self.digest_before, self.result)

    def test_no_journal_left(self):
        journal = self.db + "-journal"
        self.assertFalse(os.path.exists(journal)
                         and os.path.getsize(journal) > 0,
                         "a non-empty rollback journal was left behind")


class ReaderHoldsDatabaseTest(lt.LetheTestCase):
    """Apply while a Python connection keeps a read transaction open on a
    database with a rollback journal, and the run dirties more pages than
    SQLite's page cache holds: it must give up in time, not wait once per
    cache spill."""

    def test_gives_up_in_time(self):
        folder = lt.temporary_folder(self)
        db = os.path.join(folder, "large.db")
        created = lt.run_lethe("init", db, "--sample", "--persons", "3000",
                               "--seed", "1", "--now", lt.FIXTURE_NOW)
        self.assert_exit(created, 0)
        lt.run_lethe("grant", "alice", "delete", "--db", db)
        lt.run_lethe("grant", "alice", "update", "--db", db)
        plan = lt.run_lethe("plan", "retention", "--db", db, "--now",
                            lt.FIXTURE_NOW)
        digest_before = lt.file_digest(db)
        reader = lt.connect(db)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM person").fetchall()
            result = lt.run_lethe(
                "apply", "retention", "--db", db, "--now", lt.FIXTURE_NOW,
                "--as", "alice", "--yes", lt.plan_digest(plan.stdout),
                timeout=3 * KILL_AFTER_SECONDS)
        finally:
            reader.close()
        self.assertFalse(result.timed_out, "apply was still waiting after "
                         f"{3 * KILL_AFTER_SECONDS} s\n" + result.describe())
        self.assertLess(result.elapsed, MAX_LOCKED_SECONDS,
                        f"apply took {result.elapsed:.1f} s to give up\n"
                        + result.describe())
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "locked by another connection")
        self.assert_unchanged(db, digest_before, result)


class LockReleasedTest(lt.LetheTestCase):

    def test_apply_after_release(self):
        db, policy, digest = prepare(self)
        holder = lt.connect(db)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("ROLLBACK")
        holder.close()
        result = lt.run_lethe("apply", policy, "--db", db, "--now",
                              lt.FIXTURE_NOW, "--as", "alice", "--yes",
                              digest)
        self.assert_exit(result, 0)


class ChangedDatabaseTest(lt.LetheTestCase):
    """The database changes between plan and apply."""

    def setUp(self):
        self.db, self.policy, self.digest = prepare(self)

    def test_old_digest_refused(self):
        lt.execute(self.db, NEW_PROSPECT_SQL)
        digest_before = lt.file_digest(self.db)
        result = lt.run_lethe("apply", self.policy, "--db", self.db, "--now",
                              lt.FIXTURE_NOW, "--as", "alice", "--yes",
                              self.digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, self.digest, "does not match")
        self.assert_unchanged(self.db, digest_before, result)

    def save_plan(self):
        path = os.path.join(os.path.dirname(self.db), "saved.plan")
        result = lt.run_lethe("plan", self.policy, "--db", self.db, "--now",
                              lt.FIXTURE_NOW, "-o", path)
        self.assert_exit(result, 0)
        return path

    def test_saved_plan_new_match(self):
        path = self.save_plan()
        lt.execute(self.db, NEW_PROSPECT_SQL)
        digest_before = lt.file_digest(self.db)
        result = lt.run_lethe("apply", "--plan", path, "--db", self.db,
                              "--as", "alice", "--yes", self.digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "changed since the plan",
                                    "delete old prospects", "ids 14")
        self.assert_unchanged(self.db, digest_before, result)

    def test_saved_plan_ids_gone(self):
        path = self.save_plan()
        # Person 4 is one that "delete old prospects" planned to delete.
        lt.execute(self.db, "DELETE FROM person WHERE person_id = 4")
        digest_before = lt.file_digest(self.db)
        result = lt.run_lethe("apply", "--plan", path, "--db", self.db,
                              "--as", "alice", "--yes", self.digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "changed since the plan",
                                    "delete old prospects", "ids 4")
        self.assert_unchanged(self.db, digest_before, result)


if __name__ == "__main__":
    unittest.main()
