"""Bad input: each case fails with the documented exit status and a message
that names the problem, and leaves the database file byte for byte as it
was. Exit status 1 is a failed run, 2 bad usage."""

import os
import unittest

import lethe_testing as lt

templates = lt.DatabaseTemplates()


def tearDownModule():
    templates.close()


# Deletes the old prospects of the fixture: persons 1, 4, 5 and 8 (person 9
# is a CRM user), within the default cap of half the table.
GOOD_POLICY = """\
local person = entity "person"
rule "old prospects" {
  select = person:where { { "registered", "older than", 3, "years" },
                          { "category", "=", "Prospect" } },
  action = delete(),
}
"""


def one_rule(criteria):
    """Return a policy whose only rule selects persons by `criteria`, a Lua
    table literal that starts on line 3."""
    return ('local person = entity "person"\n'
            'rule "r" {\n'
            f"  select = person:where {criteria},\n"
            "  action = delete(),\n"
            "}\n")


class BadInputTest(lt.LetheTestCase):
    """Each test gets its own copy of the CRM fixture, on which user alice
    has both rights."""

    def setUp(self):
        self.folder = lt.temporary_folder(self)
        self.db = templates.copy("crm", self.folder)
        for right in ("delete", "update"):
            lt.run_lethe("grant", "alice", right, "--db", self.db)
        self.digest = lt.file_digest(self.db)

    def policy(self, text, name="policy.lua"):
        return lt.write_file(self.folder, name, text)

    def apply_policy(self, text):
        """Apply `text` as alice, confirmed with a made-up digest."""
        return lt.run_lethe("apply", self.policy(text), "--db", self.db,
                            "--now", lt.FIXTURE_NOW, "--as", "alice",
                            "--yes", "0123456789abcdef")

    def assert_failed_unchanged(self, result, status, *parts):
        self.assert_exit(result, status)
        self.assert_stderr_contains(result, *parts)
        self.assert_unchanged(self.db, self.digest, result)

    # Policy errors ----------------------------------------------------------

    def test_table_error_object_named(self):
        result = self.apply_policy('local person = entity "person"\n'
                                   "error({})\n")
        self.assert_failed_unchanged(result, 1,
                                     "error object is a table value")
        self.assertNotIn("table: 0x", result.stderr)

    def test_syntax_error_names_line(self):
        result = self.apply_policy('local person = entity "person"\n'
                                   "\n"
                                   "local broken = = 1\n")
        self.assert_failed_unchanged(result, 1, "policy.lua:3:")

    def test_unknown_entity_suggests(self):
        result = self.apply_policy('local person = entity "persn"\n')
        self.assert_failed_unchanged(result, 1, "policy.lua:1:", "'persn'",
                                     "did you mean 'person'")

    def test_unknown_field_suggests(self):
        result = self.apply_policy(one_rule(
            '{ { "regstered", "older than", 3, "years" } }'))
        self.assert_failed_unchanged(result, 1, "policy.lua:3:",
                                     "'regstered'",
                                     "did you mean 'registered'")

    def test_unknown_lookup_value(self):
        result = self.apply_policy(one_rule(
            '{ { "category", "=", "Prospekt" } }'))
        self.assert_failed_unchanged(result, 1, "policy.lua:3:",
                                     '"Prospekt"', "category",
                                     "did you mean 'Prospect'")

    def test_empty_criteria(self):
        result = self.apply_policy(one_rule("{}"))
        self.assert_failed_unchanged(result, 1, "policy.lua:3:",
                                     "empty criteria")

    def test_mixed_entities(self):
        result = self.apply_policy(
            'local person = entity "person"\n'
            'local company = entity "company"\n'
            'rule "mixed" {\n'
            '  select = person:where { { "firstname", "=", "Ann" } }\n'
            '    + company:where { { "name", "=", "Acme" } },\n'
            "  action = delete(),\n"
            "}\n")
        self.assert_failed_unchanged(result, 1, "policy.lua:5:",
                                     "selection of person",
                                     "selection of company")

    def test_missing_policy_file(self):
        result = lt.run_lethe("plan", os.path.join(self.folder, "none.lua"),
                              "--db", self.db)
        self.assert_failed_unchanged(result, 1, "none.lua")

    # Command line ------------------------------------------------------------

    def test_invalid_now(self):
        result = lt.run_lethe("plan", "retention", "--db", self.db, "--now",
                              "2021-02-30")
        self.assert_failed_unchanged(result, 2, "'2021-02-30'", "no day 30")

    def test_unknown_command(self):
        result = lt.run_lethe("erase", "--db", self.db)
        self.assert_failed_unchanged(result, 2, "unknown command 'erase'")

    def test_unknown_option(self):
        result = lt.run_lethe("plan", "retention", "--db", self.db,
                              "--dry-run")
        self.assert_failed_unchanged(result, 2, "unknown option --dry-run")

    def test_option_without_value(self):
        result = lt.run_lethe("plan", "retention", "--db")
        self.assert_failed_unchanged(result, 2, "--db")

    # Databases ---------------------------------------------------------------

    def test_missing_database(self):
        missing = os.path.join(self.folder, "missing.db")
        result = lt.run_lethe("plan", "retention", "--db", missing)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "missing.db", "not found")
        self.assertFalse(os.path.exists(missing),
                         "lethe created the missing database file")

    def test_not_a_database(self):
        path = lt.write_file(self.folder, "notes.db",
                             "These are notes, not a database.\n" * 40)
        digest = lt.file_digest(path)
        result = lt.run_lethe("plan", "retention", "--db", path)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "notes.db",
                                    "not an SQLite database")
        self.assert_unchanged(path, digest, result)

    def test_damaged_database(self):
        # A copy cut after its first pages, and one with its later pages
        # overwritten: either way the message gives the next step.
        size = os.path.getsize(self.db)
        for name, damage in (("cut", "cut"), ("overwritten", "overwrite")):
            with self.subTest(damage=name):
                path = os.path.join(self.folder, f"{name}.db")
                with open(self.db, "rb") as source:
                    data = bytearray(source.read())
                if damage == "cut":
                    data = data[:8192]
                else:
                    data[8192:] = bytes([0x5A]) * (size - 8192)
                with open(path, "wb") as target:
                    target.write(data)
                digest = lt.file_digest(path)
                result = lt.run_lethe("plan", "retention", "--db", path)
                self.assert_exit(result, 1)
                self.assert_stderr_contains(result, "damaged",
                                            "restore it from a backup")
                self.assert_unchanged(path, digest, result)

    def test_wrong_schema(self):
        northwind = templates.copy("northwind", self.folder)
        digest = lt.file_digest(northwind)
        result = lt.run_lethe("plan", "sakila", "--db", northwind)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "has no table", "model sakila")
        self.assert_unchanged(northwind, digest, result)

    def test_id_beyond_32_bits(self):
        # Id sets store 32-bit ids, so a larger id must stop the run rather
        # than wrap around.
        lt.execute(self.db, "INSERT INTO person (person_id, firstname, "
                            "category_idx, registered) VALUES (4294967297, "
                            "'Huge', 1, '2015-01-01 00:00:00')")
        self.digest = lt.file_digest(self.db)
        result = self.apply_policy(GOOD_POLICY)
        self.assert_failed_unchanged(result, 1, "4294967297", "person")

    # Confirmation, rights and caps -------------------------------------------

    def test_apply_over_cap(self):
        # The fixture has 13 persons, and deleting 10 of them is over the
        # default cap of half a table.
        result = self.apply_policy(one_rule(
            '{ { "registered", "older than", 3, "years" } }'))
        self.assert_failed_unchanged(result, 1, "cap", "10 of 13 person")

    def test_delete_all_needs_all_rows(self):
        policy = self.policy('local email = entity "email"\n'
                             'rule "all e-mail" {\n'
                             "  select = email:all(), action = delete_all(),\n"
                             "}\n")
        plan = lt.run_lethe("plan", policy, "--db", self.db, "--now",
                            lt.FIXTURE_NOW)
        self.assert_exit(plan, 0)
        result = lt.run_lethe("apply", policy, "--db", self.db, "--now",
                              lt.FIXTURE_NOW, "--as", "alice", "--yes",
                              lt.plan_digest(plan.stdout))
        self.assert_failed_unchanged(result, 1, "--all-rows email")

    def test_apply_needs_confirmation(self):
        result = lt.run_lethe("apply", self.policy(GOOD_POLICY), "--db",
                              self.db, "--now", lt.FIXTURE_NOW, "--as",
                              "alice")
        self.assert_failed_unchanged(result, 1, "confirmation", "--yes")

    def test_apply_wrong_digest(self):
        result = self.apply_policy(GOOD_POLICY)
        self.assert_failed_unchanged(result, 1, "0123456789abcdef",
                                     "does not match")

    def test_apply_without_right(self):
        path = self.policy(GOOD_POLICY)
        plan = lt.run_lethe("plan", path, "--db", self.db, "--now",
                            lt.FIXTURE_NOW)
        result = lt.run_lethe("apply", path, "--db", self.db, "--now",
                              lt.FIXTURE_NOW, "--as", "mallory", "--yes",
                              lt.plan_digest(plan.stdout))
        self.assert_failed_unchanged(result, 1, "mallory", "delete right")

    def test_apply_unknown_rule(self):
        result = lt.run_lethe("apply", self.policy(GOOD_POLICY), "--db",
                              self.db, "--now", lt.FIXTURE_NOW, "--as",
                              "alice", "--rule", "old prospect", "--yes",
                              "0123456789abcdef")
        # A usage error (status 2) that names the closest rule.
        self.assert_failed_unchanged(result, 2, '"old prospect"',
                                     "did you mean")


if __name__ == "__main__":
    unittest.main()
