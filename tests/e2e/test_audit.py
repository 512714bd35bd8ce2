"""The audit trail: one record per rule that is not keep(), with the rows
changed per table, chained by hash so that `lethe audit` exits with
status 1 when a record was edited, removed or moved.

Counts by hand on the guard fixture:

- "delete Lost Alpha" deletes company 1 with persons 1 and 2, sale 1,
  activity 1 and its document 1, e-mail 1 of person 1 and phone 1 of
  person 2. Activity 2 of company 3 points at sale 1 and loses that link.
- "delete two prospects" deletes persons 11 and 12, with activity 3 and
  e-mail 2 of person 12.
- "no mailing for Gamma" updates persons 5 and 6.
- "keep the rest" leaves no record.
"""

import json
import os
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


POLICY = """\
policy { name = "audited", model = "crm" }
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

rule "keep the rest" {
  select = person:all(),
  action = keep(),
}
"""

EXPECTED = [
    ("delete Lost Alpha", "delete", {
        "contact:delete": 1, "person:delete": 2, "sale:delete": 1,
        "appointment:delete": 1, "appointment:clear": 1,
        "document:delete": 1, "email:delete": 1, "phone:delete": 1}),
    ("delete two prospects", "delete", {
        "person:delete": 2, "appointment:delete": 1, "email:delete": 1}),
    ("no mailing for Gamma", "update", {"person:update": 2}),
]


class EmptyAuditTest(lt.LetheTestCase):

    def test_no_records_says_so(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        result = gh.run("audit", "--db", db)
        self.assert_exit(result, 0)
        self.assertEqual(result.stdout, "")
        self.assert_stderr_contains(result, "No audit records")


class AuditTest(lt.LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        cls.db = templates.copy("guard", cls.folder)
        policy = lt.write_file(cls.folder, "audited.lua", POLICY)
        cls.applied = gh.apply_policy(
            policy, cls.db, gh.plan_json(policy, cls.db)["short_digest"])
        cls.audit = gh.run("audit", "--db", cls.db, "--json")
        cls.records = cls.audit.json() if cls.audit.returncode == 0 else []

    def setUp(self):
        self.assert_exit(self.applied, 0)

    def test_audit_intact(self):
        self.assert_exit(self.audit, 0)

    def test_one_record_per_rule(self):
        actual = [(record["rule"], record["action"]) for record in
                  self.records]
        expected = [(rule, action) for rule, action, _ in EXPECTED]
        self.assertEqual(actual, expected,
                         f"audit records: expected {expected}, got {actual}")

    def test_counts(self):
        for record, (rule, _, counts) in zip(self.records, EXPECTED):
            with self.subTest(rule=rule):
                self.assertEqual(json.loads(record["counts"]), counts)

    def test_user_and_policy(self):
        for record in self.records:
            with self.subTest(rule=record["rule"]):
                self.assertEqual((record["user"], record["policy"]),
                                 (gh.USER, "audited"))

    def test_no_personal_data(self):
        text = self.audit.stdout
        for name in ("Alpha", "Amy", "Prospect11", "amy@alpha.example"):
            with self.subTest(value=name):
                self.assertNotIn(name, text.replace("Lost Alpha", ""))

    def tampered(self, *statements):
        """Run `lethe audit` on a copy of the database changed by
        `statements`, each SQL text or (SQL, parameters)."""
        folder = lt.temporary_folder(self)
        db = gh.copy_database(self.db, os.path.join(folder, "copy.db"))
        connection = lt.connect(db)
        try:
            for statement in statements:
                if isinstance(statement, str):
                    statement = (statement, ())
                connection.execute(*statement)
        finally:
            connection.close()
        return gh.run("audit", "--db", db)

    def test_edited_counts_detected(self):
        result = self.tampered(
            "UPDATE lethe_audit SET counts = '{}' WHERE rule = "
            "'delete two prospects'")
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "audit trail was changed")

    def test_edited_user_detected(self):
        result = self.tampered(
            "UPDATE lethe_audit SET user = 'someone' WHERE rule = "
            "'delete Lost Alpha'")
        self.assert_exit(result, 1)

    def test_deleted_middle_detected(self):
        result = self.tampered(
            "DELETE FROM lethe_audit WHERE rule = 'delete two prospects'")
        self.assert_exit(result, 1)

    def test_deleted_last_detected(self):
        result = self.tampered(
            "DELETE FROM lethe_audit WHERE rule = 'no mailing for Gamma'")
        self.assert_exit(result, 1)

    def test_swapped_rows_detected(self):
        columns = ("at", "user", "policy", "policy_digest", "plan_digest",
                   "rule", "action", "entity", "selected", "vetoed",
                   "counts", "ids_digest", "previous_hash", "hash")
        listing = ", ".join(columns)
        rows = lt.query(self.db, f"SELECT audit_id, {listing} FROM "
                        "lethe_audit ORDER BY audit_id LIMIT 2")
        assignments = ", ".join(f"{column} = ?" for column in columns)
        update = f"UPDATE lethe_audit SET {assignments} WHERE audit_id = ?"
        result = self.tampered((update, (*rows[1][1:], rows[0][0])),
                               (update, (*rows[0][1:], rows[1][0])))
        self.assert_exit(result, 1)

    def test_moved_row_detected(self):
        first = lt.query_ids(self.db, "SELECT audit_id FROM lethe_audit")[0]
        result = self.tampered(f"UPDATE lethe_audit SET audit_id = 1000 "
                               f"WHERE audit_id = {first}")
        self.assert_exit(result, 1)

    def test_second_run_extends_chain(self):
        folder = lt.temporary_folder(self)
        db = gh.copy_database(self.db, os.path.join(folder, "copy.db"))
        policy = lt.write_file(folder, "more.lua", """\
policy { name = "more", model = "crm" }
local person = entity "person"
rule "delete Prospect13" {
  select = person:where { { "lastname", "=", "Prospect13" } },
  action = delete(),
}
""")
        applied = gh.apply_policy(policy, db,
                                  gh.plan_json(policy, db)["short_digest"])
        self.assert_exit(applied, 0)
        result = gh.run("audit", "--db", db, "--json")
        self.assert_exit(result, 0)
        rules = [record["rule"] for record in result.json()]
        self.assertEqual(len(rules), 4, f"audit records: {rules}")


if __name__ == "__main__":
    unittest.main()
