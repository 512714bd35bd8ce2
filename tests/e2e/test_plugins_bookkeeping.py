"""The bundled bookkeeping_hold plugin: a guard that keeps companies,
persons and sales with a sold sale in the last N years (7 by default)."""

import unittest

from lethe_testing import plan_digest, query, rule_by_name
from plugin_testing import (FIXTURE_NOW, LetheTestCase, bundled_dir,
                            crm_database, run, temporary_folder, write_file)

# Reference time 2024-06-30: seven years before is 2017-06-30 00:00:00,
# two years before is 2022-06-30. Sale status 2 is sold, 3 lost.
FIXTURE_SQL = """
INSERT INTO contact (contact_id, name, registered) VALUES
  (1, 'Target Sold Recently', '2010-01-01'),
  (2, 'Target Sold Long Ago', '2010-01-01'),
  (3, 'Target Lost Recently', '2010-01-01'),
  (4, 'Target Sold On Boundary', '2010-01-01'),
  (5, 'Target Sold Day Before Boundary', '2010-01-01'),
  (6, 'Keeper One', '2010-01-01'), (7, 'Keeper Two', '2010-01-01'),
  (8, 'Keeper Three', '2010-01-01'), (9, 'Keeper Four', '2010-01-01'),
  (10, 'Keeper Five', '2010-01-01'), (11, 'Keeper Six', '2010-01-01');
INSERT INTO person (person_id, contact_id, firstname, lastname, registered)
VALUES
  (1, 1, 'Ann', 'Target', '2010-01-01'),
  (2, 2, 'Bob', 'Target', '2010-01-01'),
  (3, 3, 'Cas', 'Target', '2010-01-01'),
  (4, NULL, 'Dan', 'Target', '2010-01-01'),
  (5, NULL, 'Eve', 'Target', '2010-01-01'),
  (6, NULL, 'Fay', 'Target', '2010-01-01'),
  (7, NULL, 'Gus', 'Keeper', '2010-01-01'),
  (8, NULL, 'Hal', 'Keeper', '2010-01-01'),
  (9, NULL, 'Ida', 'Keeper', '2010-01-01'),
  (10, NULL, 'Jon', 'Keeper', '2010-01-01'),
  (11, NULL, 'Kim', 'Keeper', '2010-01-01'),
  (12, NULL, 'Lea', 'Keeper', '2010-01-01');
INSERT INTO sale (sale_id, contact_id, person_id, heading, saledate, amount,
                  status, registered) VALUES
  (1, 1, NULL, 'recent', '2023-03-01 10:00:00', 100, 2, '2010-01-01'),
  (2, 2, NULL, 'old', '2015-01-01', 100, 2, '2010-01-01'),
  (3, 3, NULL, 'lost', '2023-03-01', 100, 3, '2010-01-01'),
  (4, 4, NULL, 'boundary', '2017-06-30 00:00:00', 100, 2, '2010-01-01'),
  (5, 5, NULL, 'day before', '2017-06-29 23:59:59', 100, 2, '2010-01-01'),
  (6, NULL, 4, 'person recent', '2021-01-01', 100, 2, '2010-01-01'),
  (7, NULL, 5, 'person old', '2016-01-01', 100, 2, '2010-01-01'),
  (8, NULL, 6, 'person not a date', 'last spring', 100, 2, '2010-01-01');
"""

POLICY = """
policy { name = "bookkeeping", model = "crm",
         max_per_rule = { share = 1 }, max_per_run = { share = 1 } }
%s
local company = entity "company"
local person = entity "person"

rule "delete target companies" {
  select = company:where { { "name", "begins with", "Target" } },
  action = delete(),
}
rule "delete target persons" {
  select = person:where { { "lastname", "=", "Target" } },
  action = delete(),
}
"""

# By hand, with 7 years: companies 1 (2023) and 4 (on the boundary) are
# held, 2 (2015) and 5 (a second too early) are not, and 3's sale was
# lost. Persons: 4 (2021) is held, 5 (2016) is not, 6's sale date is not
# a date, and 1 has no sale of its own.
HELD_COMPANIES = [1, 4]
HELD_PERSONS = [4]


class BookkeepingHoldTest(LetheTestCase):

    def setUp(self):
        self.db = crm_database(self, FIXTURE_SQL)
        self.folder = temporary_folder(self)

    def plan(self, header="", *extra):
        policy = write_file(self.folder, "policy.lua", POLICY % header)
        return run("plan", policy, "--db", self.db, "--now", FIXTURE_NOW,
                   "--plugin-dir", bundled_dir(), "--json", "--samples",
                   "20", *extra)

    def assert_vetoed(self, plan, rule, expected):
        """Check the bookkeeping vetoes of `rule`: their count, and the
        sample ids, which a plan gives for the three lowest ids. A company
        is also listed under the veto of its cascade to a held sale, which
        is not counted here."""
        count, samples = 0, []
        for veto in rule_by_name(plan, rule)["vetoes"]:
            if veto["reason"].startswith("bookkeeping hold"):
                count += veto["count"]
                samples += [sample["id"] for sample in veto["samples"]]
        self.assertEqual(count, len(expected), f"{rule}: vetoed count")
        self.assertEqual(sorted(samples), sorted(expected)[:3],
                         f"{rule}: vetoed sample ids")

    def test_without_plugin_nothing_held(self):
        result = self.plan()
        self.assert_exit(result, 0)
        plan = result.json()
        self.assert_vetoed(plan, "delete target companies", [])
        self.assert_vetoed(plan, "delete target persons", [])

    def test_command_line_plugin_holds(self):
        result = self.plan("", "--plugin", "bookkeeping_hold")
        self.assert_exit(result, 0)
        plan = result.json()
        self.assert_vetoed(plan, "delete target companies", HELD_COMPANIES)
        self.assert_vetoed(plan, "delete target persons", HELD_PERSONS)
        reasons = [veto["reason"] for veto in rule_by_name(
            plan, "delete target persons")["vetoes"]]
        self.assertIn("bookkeeping hold: a sold sale within the last 7 "
                      "years", reasons)

    def test_policy_plugin_holds(self):
        result = self.plan('plugin "bookkeeping_hold"')
        self.assert_exit(result, 0)
        self.assert_vetoed(result.json(), "delete target companies",
                           HELD_COMPANIES)

    def test_years_option(self):
        # Two years back is 2022-06-30: only company 1's 2023 sale counts.
        result = self.plan("", "--plugin", "bookkeeping_hold",
                           "--plugin-option", "bookkeeping_hold.years=2")
        self.assert_exit(result, 0)
        plan = result.json()
        self.assert_vetoed(plan, "delete target companies", [1])
        self.assert_vetoed(plan, "delete target persons", [])

    def test_policy_option_overridden_by_command_line(self):
        header = 'plugin("bookkeeping_hold", { years = 10 })'
        result = self.plan(header)
        self.assert_exit(result, 0)
        # Ten years back is 2014-06-30: company 2's 2015 sale counts too,
        # and so does person 5's 2016 sale.
        plan = result.json()
        self.assert_vetoed(plan, "delete target companies", [1, 2, 4, 5])
        self.assert_vetoed(plan, "delete target persons", [4, 5])
        result = self.plan(header, "--plugin-option",
                           "bookkeeping_hold.years=2")
        self.assert_exit(result, 0)
        self.assert_vetoed(result.json(), "delete target companies", [1])

    def test_invalid_years_rejected(self):
        for value in ["0", "101", "seven", "7.5"]:
            with self.subTest(years=value):
                result = self.plan("", "--plugin", "bookkeeping_hold",
                                   "--plugin-option",
                                   f"bookkeeping_hold.years={value}")
                self.assert_exit(result, 0)
                self.assert_stderr_contains(result,
                                            f"invalid option years={value}",
                                            "goes on without it")

    def test_apply_keeps_held_and_deletes_others(self):
        arguments = ["--plugin", "bookkeeping_hold"]
        planned = run("plan", write_file(self.folder, "policy.lua",
                                         POLICY % ""), "--db", self.db,
                      "--now", FIXTURE_NOW, "--plugin-dir", bundled_dir(),
                      *arguments)
        self.assert_exit(planned, 0)
        self.assert_exit(run("grant", "tester", "delete", "--db", self.db),
                         0)
        applied = run("apply", write_file(self.folder, "policy.lua",
                                          POLICY % ""), "--db", self.db,
                      "--now", FIXTURE_NOW, "--plugin-dir", bundled_dir(),
                      *arguments, "--as", "tester", "--yes",
                      plan_digest(planned.stdout))
        self.assert_exit(applied, 0)
        companies = [row[0] for row in query(
            self.db, "SELECT contact_id FROM contact WHERE name LIKE "
            "'Target%' ORDER BY 1")]
        self.assertEqual(companies, HELD_COMPANIES)
        persons = [row[0] for row in query(
            self.db, "SELECT person_id FROM person WHERE lastname = 'Target' "
            "ORDER BY 1")]
        # Person 1 stays while the company rule runs, because deleting
        # company 1 is vetoed, but the person rule then deletes it: its
        # company's sale is not its own.
        self.assertEqual(persons, HELD_PERSONS)

    def test_held_records_can_be_anonymised(self):
        policy = write_file(self.folder, "anonymise.lua", """
plugin "bookkeeping_hold"
rule "anonymise targets" {
  select = entity "person":where { { "lastname", "=", "Target" } },
  action = anonymise { firstname = "null" },
}
""")
        result = run("plan", policy, "--db", self.db, "--now", FIXTURE_NOW,
                     "--plugin-dir", bundled_dir(), "--json")
        self.assert_exit(result, 0)
        rule = rule_by_name(result.json(), "anonymise targets")
        self.assertEqual(rule["vetoes"], [])
        self.assertIn(4, [sample["id"] for sample in rule["samples"]])


if __name__ == "__main__":
    unittest.main()
