"""End-to-end tests of saved selections: `lethe selection` and
`selection "name"` in policies.

The database is a generated sample CRM (lethe init --sample). Expected
ids come from SQL written here and from Python set operations, never from
lethe's own output.
"""

import os
import re
import unittest

import lethe_testing as lt

NOW = "2025-01-01"
# Three years before NOW, for the generator's "Stale prospects".
THREE_YEARS_BEFORE = "2022-01-01 00:00:00"


class SelectionCase(lt.LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.template_folder = lt.temporary_folder(cls)
        cls.template = os.path.join(cls.template_folder, "sample.db")
        result = lt.run_lethe("init", cls.template, "--sample", "--persons",
                              1500, "--seed", 3, "--now", NOW)
        if result.returncode != 0:
            raise AssertionError(result.describe())

    def setUp(self):
        self.folder = lt.temporary_folder(self)
        self.db = lt.copy_file(self.template, self.folder)

    def lethe(self, *arguments, status=0):
        result = lt.run_lethe("selection", *arguments, "--db", self.db,
                              "--now", NOW)
        self.assert_exit(result, status)
        return result

    def ids(self, name):
        """The ids `selection show NAME --ids` prints."""
        result = self.lethe("show", name, "--ids")
        return [int(line) for line in result.stdout.split()]

    def sql_ids(self, sql, parameters=()):
        return lt.query_ids(self.db, sql, parameters)


class GeneratedSelectionsTest(SelectionCase):
    """The generator saves a few selections; lethe evaluates them as SQL
    written here does."""

    def test_dates_are_canonical(self):
        # The SQL below compares dates as text, which is right only for
        # the canonical form the generator writes.
        odd = self.sql_ids(
            "SELECT person_id FROM person WHERE registered NOT GLOB "
            "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] "
            "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'")
        self.assertEqual(odd, [])

    def test_dynamic_selection(self):
        expected = self.sql_ids(
            "SELECT p.person_id FROM person p JOIN category c "
            "ON c.category_id = p.category_idx WHERE c.name = 'Prospect' "
            "AND p.registered < ?1 AND NOT EXISTS (SELECT 1 FROM "
            "appointment a WHERE a.person_id = p.person_id AND "
            "a.activeDate >= ?1)", (THREE_YEARS_BEFORE,))
        self.assertGreater(len(expected), 0)
        self.assertEqual(self.ids("Stale prospects"), expected)

    def test_consent_selection(self):
        expected = self.sql_ids(
            "SELECT DISTINCT k.person_id FROM consentperson k "
            "JOIN consentpurpose u USING (consentpurpose_id) "
            "JOIN legalbase b USING (legalbase_id) "
            "WHERE u.key = 'EMARKETING' AND b.key = 'CONSENT'")
        self.assertEqual(self.ids("Newsletter audience"), expected)

    def test_combined_selection(self):
        visitors = set(self.sql_ids(
            "SELECT m.person_id FROM selectionmember m JOIN selection s "
            "USING (selection_id) WHERE s.name = 'Trade fair visitors 2024'"))
        stale = set(self.ids("Stale prospects"))
        self.assertEqual(self.ids("Visitors to follow up"),
                         sorted(visitors - stale))


class SaveTest(SelectionCase):

    def test_save_dynamic_and_show(self):
        self.lethe("save", "quiet", "--entity", "person", "--where",
                   '{ { "nomailing", "is true" }, { "birthyear", "<", 1970 } }')
        expected = self.sql_ids("SELECT person_id FROM person WHERE "
                                "nomailing = 1 AND birthyear < 1970")
        self.assertEqual(self.ids("quiet"), expected)
        stored = lt.scalar(self.db, "SELECT criteria FROM selection WHERE "
                           "name = 'quiet'")
        self.assertEqual(stored, '{\n  { "nomailing", "is true" },\n'
                         '  { "birthyear", "<", 1970 },\n}\n')
        shown = self.lethe("show", "quiet").stdout
        self.assertIn(f"Records: {len(expected)} at", shown)
        self.assertIn("Used by: no other selection", shown)

    def test_groups_are_alternatives(self):
        self.lethe("save", "either", "--entity", "person", "--where",
                   '{ { "nomailing", "is true" } }, '
                   '{ { "blockEmarketing", "is true" } }')
        self.assertEqual(self.ids("either"), self.sql_ids(
            "SELECT person_id FROM person WHERE nomailing = 1 OR "
            "blockEmarketing = 1"))

    def test_bad_criteria_save_nothing(self):
        before = lt.scalar(self.db, "SELECT count(*) FROM selection")
        result = self.lethe("save", "typo", "--entity", "person", "--where",
                            '{ "regstered", "before", "2020-01-01" }',
                            status=1)
        self.assert_stderr_contains(result, "did you mean 'registered'")
        self.assertEqual(lt.scalar(self.db, "SELECT count(*) FROM selection"),
                         before)

    def test_static_members(self):
        self.lethe("save", "three", "--entity", "person", "--members",
                   "5,3,9")
        self.assertEqual(self.ids("three"), [3, 5, 9])
        missing = self.lethe("save", "ghost", "--entity", "person",
                             "--members", "3,999999", status=1)
        self.assert_stderr_contains(missing, "no person has id 999999")
        self.assertEqual(self.sql_ids(
            "SELECT selection_id FROM selection WHERE name = 'ghost'"), [])

    def test_every_operation(self):
        self.lethe("save", "a", "--entity", "person", "--where",
                   '{ "birthyear", "<", 1975 }')
        self.lethe("save", "b", "--entity", "person", "--where",
                   '{ "nomailing", "is true" }')
        a = set(self.ids("a"))
        b = set(self.ids("b"))
        expected = {
            "union": a | b, "intersect": a & b, "left_minus_right": a - b,
            "right_minus_left": b - a, "symmetric_difference": a ^ b,
        }
        for operation, ids in expected.items():
            with self.subTest(operation=operation):
                self.lethe("save", operation, "--left", "a", "--operation",
                           operation, "--right", "b")
                self.assertEqual(self.ids(operation), sorted(ids))
        self.lethe("save", "nested", "--left", "union", "--operation",
                   "left_minus_right", "--right", "intersect")
        self.assertEqual(self.ids("nested"), sorted(a ^ b))

    def test_companies_of_persons_and_back(self):
        self.lethe("save", "prospects", "--entity", "person", "--where",
                   '{ "category", "=", "Prospect" }')
        self.lethe("save", "prospect companies", "--from", "prospects",
                   "--related", "company")
        self.assertEqual(self.ids("prospect companies"), self.sql_ids(
            "SELECT DISTINCT contact_id FROM person WHERE category_idx = 1 "
            "AND contact_id IS NOT NULL"))
        kind = lt.scalar(self.db, "SELECT kind FROM selection WHERE name = "
                         "'prospect companies'")
        self.assertEqual(kind, 1, "a dynamic source gives a dynamic result")
        self.lethe("save", "their persons", "--from", "Key accounts",
                   "--related", "persons")
        self.assertEqual(self.ids("their persons"), self.sql_ids(
            "SELECT p.person_id FROM person p JOIN selectionmember m ON "
            "m.contact_id = p.contact_id JOIN selection s USING "
            "(selection_id) WHERE s.name = 'Key accounts'"))


class ChangeTest(SelectionCase):

    def setUp(self):
        super().setUp()
        self.lethe("save", "old", "--entity", "person", "--where",
                   '{ "birthyear", "<", 1960 }')
        self.lethe("save", "young", "--entity", "person", "--where",
                   '{ "birthyear", ">", 1990 }')
        self.lethe("save", "ends", "--left", "old", "--operation", "union",
                   "--right", "young")

    def test_remove_refused_while_used(self):
        result = self.lethe("remove", "old", status=1)
        self.assert_stderr_contains(result, '"ends"', "remove or change")
        self.assertEqual(len(self.sql_ids(
            "SELECT selection_id FROM selection WHERE name = 'old'")), 1)
        self.lethe("remove", "ends")
        self.lethe("remove", "old")
        self.assertEqual(self.sql_ids(
            "SELECT selection_id FROM selection WHERE name IN "
            "('old', 'ends')"), [])

    def test_cycle_refused(self):
        result = self.lethe("save", "old", "--replace", "--left", "ends",
                            "--operation", "union", "--right", "young",
                            status=1)
        self.assert_stderr_contains(result, "would use itself")
        self.assertEqual(self.ids("old"), self.sql_ids(
            "SELECT person_id FROM person WHERE birthyear < 1960"))

    def test_replace_lists_dependents(self):
        result = self.lethe("save", "old", "--replace", "--entity",
                            "person", "--where", '{ "birthyear", "<", 1955 }')
        self.assert_stderr_contains(result, '"old"', 'is used by "ends"')
        self.assertEqual(self.ids("ends"), self.sql_ids(
            "SELECT person_id FROM person WHERE birthyear < 1955 OR "
            "birthyear > 1990"))
        taken = self.lethe("save", "old", "--entity", "person", "--where",
                           '{ "birthyear", "<", 1950 }', status=1)
        self.assert_stderr_contains(taken, "--replace")

    def test_convert_freezes_members(self):
        before = self.ids("ends")
        result = self.lethe("convert", "ends")
        self.assert_stderr_contains(result, f"{len(before)} records")
        self.assertEqual(lt.scalar(self.db, "SELECT kind FROM selection "
                                   "WHERE name = 'ends'"), 0)
        lt.execute(self.db, "UPDATE person SET birthyear = 1940 WHERE "
                   "birthyear IS NULL")
        self.assertEqual(self.ids("ends"), before)
        self.assertGreater(len(self.ids("old")), 0)

    def test_policy_uses_saved_selections(self):
        policy = lt.write_file(self.folder, "saved.lua", """\
policy { name = "saved", model = "crm" }
rule "ends without mailing" {
  select = selection "ends" - selection "old":where {
    { "nomailing", "is true" } },
  action = keep(),
}
""")
        result = lt.run_lethe("plan", policy, "--db", self.db, "--now", NOW,
                              "--json")
        self.assert_exit(result, 0)
        expected = self.sql_ids(
            "SELECT person_id FROM person WHERE (birthyear < 1960 OR "
            "birthyear > 1990) AND NOT (birthyear < 1960 AND nomailing = 1)")
        rule = lt.rule_by_name(result.json(), "ends without mailing")
        self.assertEqual(rule["selected"], len(expected))


class CommandTest(SelectionCase):

    def test_list(self):
        result = self.lethe("list")
        self.assertRegex(result.stdout, r"\n\s+3\s+dynamic\s+person\s+"
                         r"Stale prospects: criteria\n")
        listed = lt.run_lethe("selection", "list", "--db", self.db,
                              "--json").json()
        names = [item["name"] for item in listed]
        self.assertEqual(names, [row[0] for row in lt.query(
            self.db, "SELECT name FROM selection ORDER BY selection_id")])

    def test_usage(self):
        self.assert_exit(lt.run_lethe("selection", "--help"), 0)
        wrong = lt.run_lethe("selection", "rename", "x", "--db", self.db)
        self.assert_exit(wrong, 2)
        self.assert_stderr_contains(wrong, "unknown action 'rename'")
        unknown = self.lethe("show", "Stale prospect", status=1)
        self.assert_stderr_contains(unknown, "did you mean 'Stale prospects'")
        both = self.lethe("save", "x", "--entity", "person", "--members",
                          "1", "--where", '{ "nomailing", "is true" }',
                          status=2)
        self.assert_stderr_contains(both, "exactly one of")

    def test_show_by_id(self):
        shown = self.lethe("show", "#3").stdout
        self.assertTrue(re.search(r'^Selection "Stale prospects" \(#3\)',
                                  shown, re.MULTILINE), shown)


if __name__ == "__main__":
    unittest.main()
