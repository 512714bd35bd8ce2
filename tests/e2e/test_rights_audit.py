"""Rights (grant, revoke, rights) and the audit trail of applied rules.

Applying the fixture policy (see test_crm_fixture for the hand count)
writes one audit row per rule that is not keep(): rules 1, 3, 4, 5 and 6.
"""

import json
import os
import sqlite3
import unittest

import lethe_testing as lt

templates = lt.DatabaseTemplates()


def tearDownModule():
    templates.close()


# Audit rows expected after applying the fixture policy, in order:
# (rule, action, selected, vetoed, counts per "table:operation").
EXPECTED_AUDIT = [
    ("delete lost companies", "delete", 2, 1, {
        "appointment:clear": 1, "appointment:delete": 1,
        "consentperson:delete": 1, "contact:delete": 1,
        "document:delete": 1, "email:delete": 1, "person:delete": 2,
        "sale:delete": 1}),
    ("delete old prospects", "delete", 3, 1, {
        "appointment:delete": 1, "consentperson:delete": 1,
        "person:delete": 2, "sale:clear": 1}),
    ("no mailing for non-prospects", "update", 3, 0, {"person:update": 3}),
    ("block persons of active companies", "update", 1, 0,
     {"person:update": 1}),
    ("clear titles other than CEO", "update", 1, 0, {"person:update": 1}),
]


class RightsTest(lt.LetheTestCase):

    def setUp(self):
        folder = lt.temporary_folder(self)
        self.db = templates.copy("crm", folder)

    def rights(self):
        result = lt.run_lethe("rights", "--db", self.db)
        self.assert_exit(result, 0)
        return [tuple(line.split("\t")[:2])
                for line in result.stdout.splitlines()]

    def test_grant_listed(self):
        self.assert_exit(lt.run_lethe("grant", "alice", "delete", "--db",
                                      self.db), 0)
        self.assert_exit(lt.run_lethe("grant", "bob", "update", "--db",
                                      self.db), 0)
        rights = self.rights()
        expected = [("alice", "delete"), ("bob", "update")]
        self.assertEqual(rights, expected,
                         f"rights: expected {expected}, got {rights}")

    def test_grant_on_plain_database_says_tables_added(self):
        # A database that `lethe init` did not make: revoke leaves it as
        # it is, and the first grant names the six tables it adds.
        path = os.path.join(lt.temporary_folder(self), "plain.db")
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
        connection.close()
        revoked = lt.run_lethe("revoke", "bob", "delete", "--db", path)
        self.assert_exit(revoked, 0)
        self.assertIn("bob did not hold the delete right.", revoked.stderr)
        first = lt.run_lethe("grant", "bob", "delete", "--db", path)
        self.assert_exit(first, 0)
        self.assertIn("Added Lethe's tables lethe_audit, lethe_hold, "
                      "lethe_meta, lethe_right, lethe_run, "
                      f"lethe_run_effect to {path}.", first.stderr)
        second = lt.run_lethe("grant", "bob", "update", "--db", path)
        self.assert_exit(second, 0)
        self.assertNotIn("Added", second.stderr)
        connection = sqlite3.connect(path)
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "ORDER BY name")]
        connection.close()
        self.assertEqual(tables, ["lethe_audit", "lethe_hold", "lethe_meta",
                                  "lethe_right", "lethe_run",
                                  "lethe_run_effect", "t"])

    def test_grant_on_crm_database_adds_nothing(self):
        result = lt.run_lethe("grant", "alice", "delete", "--db", self.db)
        self.assert_exit(result, 0)
        self.assertNotIn("Added", result.stderr)

    def test_grant_twice_once_listed(self):
        for _ in range(2):
            self.assert_exit(lt.run_lethe("grant", "alice", "delete", "--db",
                                          self.db), 0)
        rights = self.rights()
        self.assertEqual(rights, [("alice", "delete")],
                         f"rights: expected [('alice', 'delete')], got "
                         f"{rights}")

    def test_revoke_removes(self):
        lt.run_lethe("grant", "alice", "delete", "--db", self.db)
        lt.run_lethe("grant", "alice", "update", "--db", self.db)
        self.assert_exit(lt.run_lethe("revoke", "alice", "delete", "--db",
                                      self.db), 0)
        rights = self.rights()
        self.assertEqual(rights, [("alice", "update")],
                         f"rights: expected [('alice', 'update')], got "
                         f"{rights}")

    def test_unknown_right_usage(self):
        result = lt.run_lethe("grant", "alice", "erase", "--db", self.db)
        self.assert_exit(result, 2)
        self.assert_stderr_contains(result, "'erase'", "delete", "update")

    def test_revoked_right_blocks_apply(self):
        folder = lt.temporary_folder(self)
        policy = lt.write_file(folder, "fixture.lua", lt.FIXTURE_POLICY)
        lt.run_lethe("grant", "alice", "delete", "--db", self.db)
        lt.run_lethe("grant", "alice", "update", "--db", self.db)
        lt.run_lethe("revoke", "alice", "update", "--db", self.db)
        plan = lt.run_lethe("plan", policy, "--db", self.db, "--now",
                            lt.FIXTURE_NOW)
        digest_before = lt.file_digest(self.db)
        result = lt.run_lethe("apply", policy, "--db", self.db, "--now",
                              lt.FIXTURE_NOW, "--as", "alice", "--yes",
                              lt.plan_digest(plan.stdout))
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "alice", "update right")
        self.assert_unchanged(self.db, digest_before, result)


class AuditTest(lt.LetheTestCase):
    """The audit trail after one apply of the fixture policy as alice."""

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        cls.db = templates.copy("crm", cls.folder)
        policy = lt.write_file(cls.folder, "fixture.lua", lt.FIXTURE_POLICY)
        for right in ("delete", "update"):
            lt.run_lethe("grant", "alice", right, "--db", cls.db)
        plan = lt.run_lethe("plan", policy, "--db", cls.db, "--now",
                            lt.FIXTURE_NOW, "--json")
        cls.plan = plan.json()
        cls.apply = lt.run_lethe("apply", policy, "--db", cls.db, "--now",
                                 lt.FIXTURE_NOW, "--as", "alice", "--yes",
                                 cls.plan["short_digest"])
        cls.audit = lt.run_lethe("audit", "--db", cls.db, "--json")

    def setUp(self):
        self.assert_exit(self.apply, 0)
        self.assert_exit(self.audit, 0)
        self.rows = self.audit.json()

    def test_one_row_per_rule(self):
        rules = [row["rule"] for row in self.rows]
        expected = [item[0] for item in EXPECTED_AUDIT]
        self.assertEqual(rules, expected,
                         f"audited rules: expected {expected}, got {rules}")

    def test_actions(self):
        actions = [row["action"] for row in self.rows]
        expected = [item[1] for item in EXPECTED_AUDIT]
        self.assertEqual(actions, expected,
                         f"actions: expected {expected}, got {actions}")

    def test_selected_counts(self):
        selected = [row["selected"] for row in self.rows]
        expected = [item[2] for item in EXPECTED_AUDIT]
        self.assertEqual(selected, expected,
                         f"selected: expected {expected}, got {selected}")

    def test_vetoed_counts(self):
        vetoed = [row["vetoed"] for row in self.rows]
        expected = [item[3] for item in EXPECTED_AUDIT]
        self.assertEqual(vetoed, expected,
                         f"vetoed: expected {expected}, got {vetoed}")

    def test_counts_per_table(self):
        for row, item in zip(self.rows, EXPECTED_AUDIT):
            counts = json.loads(row["counts"])
            self.assertEqual(counts, item[4],
                             f"counts of rule {item[0]!r}: expected "
                             f"{item[4]}, got {counts}")

    def test_user_and_digest(self):
        for row in self.rows:
            self.assertEqual(row["user"], "alice",
                             f"user: expected 'alice', got {row['user']!r}")
            self.assertEqual(row["plan_digest"], self.plan["digest"],
                             f"plan digest: expected {self.plan['digest']},"
                             f" got {row['plan_digest']}")

    def test_rows_intact(self):
        broken = [row["audit_id"] for row in self.rows if not row["intact"]]
        self.assertEqual(broken, [], f"rows failing the hash check: {broken}")

    def test_no_personal_data(self):
        # Names and e-mail addresses of deleted persons must not be audited.
        text = self.audit.stdout
        for value in ("Ann", "Dan", "Eve", "ann@old.example"):
            self.assertNotIn(value, text,
                             f"the audit trail contains {value!r}")

    def tampered(self, sql):
        """Run `sql` on a copy of the audited database, then `lethe audit`."""
        folder = lt.temporary_folder(self)
        path = lt.copy_file(self.db, folder)
        lt.execute(path, sql)
        return lt.run_lethe("audit", "--db", path)

    def test_edited_row_detected(self):
        result = self.tampered("UPDATE lethe_audit SET counts = "
                               "'{\"person:delete\":1}' WHERE audit_id = "
                               "(SELECT min(audit_id) FROM lethe_audit)")
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "audit")

    def test_edited_user_detected(self):
        result = self.tampered("UPDATE lethe_audit SET user = 'mallory' "
                               "WHERE audit_id = (SELECT max(audit_id) "
                               "FROM lethe_audit)")
        self.assert_exit(result, 1)

    def test_removed_row_detected(self):
        result = self.tampered("DELETE FROM lethe_audit WHERE audit_id = "
                               "(SELECT min(audit_id) FROM lethe_audit)")
        self.assert_exit(result, 1)


if __name__ == "__main__":
    unittest.main()
