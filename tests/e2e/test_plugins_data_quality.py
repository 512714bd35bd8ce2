"""The bundled data_quality plugin: a criterion compiled to SQL
(duplicate_email) and one tested per row in C (placeholder_name)."""

import unittest

from lethe_testing import rule_by_name
from plugin_testing import (FIXTURE_NOW, LetheTestCase, bundled_dir,
                            crm_database, run, temporary_folder, write_file)

FIXTURE_SQL = """
INSERT INTO contact (contact_id, name, registered) VALUES
  (1, 'Real Co', '2020-01-01'), (2, 'Test Co', '2020-01-01');
INSERT INTO person (person_id, contact_id, firstname, lastname, registered)
VALUES
  (1, 1, 'Ann', 'Real', '2020-01-01'),
  (2, 1, 'Test', 'Person', '2020-01-01'),
  (3, 2, 'Bob', 'XXX', '2020-01-01'),
  (4, 2, '  aaaa ', 'Smith', '2020-01-01'),
  (5, NULL, 'Zoë', 'Ünknown', '2020-01-01'),
  (6, NULL, 'Dummy', NULL, '2020-01-01'),
  (7, NULL, NULL, NULL, '2020-01-01'),
  (8, NULL, 'Aa', 'Testing', '2020-01-01'),
  (9, NULL, 'Testa', 'Bar-Foo', '2020-01-01');
INSERT INTO email (email_id, person_id, address) VALUES
  (1, 1, 'shared@example.org'), (2, 2, 'SHARED@example.org'),
  (3, 3, 'shared@example.org'), (4, 4, 'pair@example.org'),
  (5, 5, 'Pair@Example.org'), (6, 6, 'alone@example.org'),
  (7, 6, 'alone@example.org');
INSERT INTO email (email_id, contact_id, person_id, address) VALUES
  (8, 1, NULL, 'pair@example.org');
"""

# Persons by hand: placeholder names are 2 (Test), 3 (XXX), 4 ("  aaaa "),
# 6 (Dummy) and 8 (Testing). 5's "Ünknown" is not ASCII "unknown", and
# 9's "Testa" and "Bar-Foo" are not placeholders. Addresses that persons
# share, ignoring ASCII case, are shared@ (1, 2, 3) and pair@ (4, 5).
# Person 6 has the same address twice, and email 8 is a company's.
PLACEHOLDERS = [2, 3, 4, 6, 8]
SHARED_BY_TWO = [1, 2, 3, 4, 5]
SHARED_BY_THREE = [1, 2, 3]

POLICY = """
policy { name = "data quality", model = "crm" }
plugin "data_quality"
local person = entity "person"
local company = entity "company"

rule "placeholder names" {
  select = person:where { criterion("placeholder_name") },
  action = keep(),
}
rule "shared by three" {
  select = person:where(criterion("duplicate_email", 3)),
  action = keep(),
}
rule "shared by two" {
  select = person:where { criterion("duplicate_email") },
  action = keep(),
}
rule "companies with a placeholder person" {
  select = company:where { { "persons", "any", criterion("placeholder_name"),
                             { "lastname", "not empty" } } },
  action = keep(),
}
"""


class DataQualityTest(LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.db = crm_database(cls, FIXTURE_SQL)
        cls.folder = temporary_folder(cls)

    def plan_json(self, text, name="policy.lua"):
        policy = write_file(self.folder, name, text)
        return run("plan", policy, "--db", self.db, "--now", FIXTURE_NOW,
                   "--plugin-dir", bundled_dir(), "--json", "--samples",
                   "20")

    def selected(self, plan, rule):
        return sorted(sample["id"]
                      for sample in rule_by_name(plan, rule)["samples"])

    def test_criteria_select_by_hand_counts(self):
        result = self.plan_json(POLICY)
        self.assert_exit(result, 0)
        plan = result.json()
        self.assertEqual(self.selected(plan, "placeholder names"),
                         PLACEHOLDERS)
        self.assertEqual(self.selected(plan, "shared by three"),
                         [i for i in SHARED_BY_THREE
                          if i not in PLACEHOLDERS])
        self.assertEqual(self.selected(plan, "shared by two"),
                         [i for i in SHARED_BY_TWO
                          if i not in PLACEHOLDERS + SHARED_BY_THREE])
        # Company 1 has person 2 (Test Person); company 2 has 3 (Bob XXX)
        # and 4 ("  aaaa " Smith).
        self.assertEqual(self.selected(plan,
                                       "companies with a placeholder person"),
                         [1, 2])

    def test_criterion_in_set_algebra(self):
        result = self.plan_json("""
plugin "data_quality"
local person = entity "person"
rule "shared but real" {
  select = person:where { criterion("duplicate_email") }
    - person:where { criterion("placeholder_name") },
  action = keep(),
}
""", "algebra.lua")
        self.assert_exit(result, 0)
        self.assertEqual(self.selected(result.json(), "shared but real"),
                         [1, 5])

    def test_errors_name_the_criterion(self):
        cases = [
            ('entity "company":where { criterion("placeholder_name") }',
             "criterion placeholder_name applies to person, not to company"),
            ('entity "person":where { criterion("duplicate_email", 2, 3) }',
             "criterion duplicate_email takes 0 to 1 arguments, not 2"),
            ('entity "person":where { criterion("duplicate_email", 1) }',
             "plugin data_quality, criterion 'duplicate_email': "
             "duplicate_email takes a whole number of persons, 2 or more"),
            ('entity "person":where { criterion("duplicate_email", {}) }',
             "argument 1 is a table"),
            ('entity "person":where { criterion("no_such_criterion") }',
             "unknown plugin criterion 'no_such_criterion'"),
        ]
        for index, (selection, message) in enumerate(cases):
            with self.subTest(selection=selection):
                result = self.plan_json(
                    'plugin "data_quality"\n'
                    f'rule "r" {{ select = {selection}, action = keep() }}\n',
                    f"error{index}.lua")
                self.assert_exit(result, 1)
                self.assert_stderr_contains(result, f"error{index}.lua:2:",
                                            message)

    def test_criterion_needs_plugin_loaded(self):
        result = run("plan", write_file(self.folder, "unloaded.lua", """
rule "r" {
  select = entity "person":where { criterion("placeholder_name") },
  action = keep(),
}
"""), "--db", self.db, "--now", FIXTURE_NOW)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "unloaded.lua:3:",
                                    "unknown plugin criterion "
                                    "'placeholder_name'", "plugin \"NAME\"")


if __name__ == "__main__":
    unittest.main()
