"""Lua plugins: the bundled text_masks (a strategy and a field action run
by SQLite through Lua) and the test plugin lua_points (every extension
point of a Lua plugin: criteria, a guard, hooks)."""

import os
import unittest

from lethe_testing import file_digest, plan_digest, query, rule_by_name
from plugin_testing import (FIXTURE_NOW, LetheTestCase, bundled_dir,
                            crm_database, run, temporary_folder,
                            test_plugin_dir, write_file)

FIXTURE_SQL = """
INSERT INTO person (person_id, firstname, lastname, title, registered) VALUES
  (1, 'Måns', 'Bergström', 'Head of customer service', '2010-01-01'),
  (2, 'Ann', 'Lee', 'CEO', '2010-01-01'),
  (3, 'Christopher', 'Montgomery-Smith', NULL, '2010-01-01'),
  (4, 'Zoë', 'Ö', 'Dr', '2010-01-01'),
  (5, '', 'Empty', 'Intern', '2010-01-01'),
  (6, 'Bo', 'Ng', 'Clerk', '2010-01-01');
INSERT INTO sale (sale_id, person_id, heading, saledate, amount, status,
                  registered) VALUES
  (1, 1, 'big', '2023-01-01', 5000, 2, '2023-01-01'),
  (2, 2, 'small', '2023-01-01', 500, 2, '2023-01-01'),
  (3, 3, 'big but lost', '2023-01-01', 9000, 3, '2023-01-01');
"""

MASKS_POLICY = """
policy { name = "masks", model = "crm" }
plugin "text_masks"
rule "mask" {
  select = entity "person":where { { "lastname", "<>", "Ng" } },
  action = anonymise { firstname = "initial", lastname = strategy("initial"),
                       title = fixed("x") },
}
rule "shorten" {
  select = entity "person":all(),
  action = update { title = field_action("truncate", 3) },
}
"""

POINTS_POLICY = """
policy { name = "points", model = "crm",
         max_per_rule = { share = 1 }, max_per_run = { share = 1 } }
plugin("lua_points", { minimum_amount = 1000 })
local person = entity "person"
rule "big spenders" {
  select = person:where { criterion("big_spender") },
  action = update { firstname = field_action("reverse") },
}
rule "long names" {
  select = person:where { criterion("name_longer_than", 8) },
  action = anonymise { lastname = "stars" },
}
rule "the rest" {
  select = person:all(),
  action = delete(),
}
"""


class LuaPluginTest(LetheTestCase):

    def setUp(self):
        self.db = crm_database(self, FIXTURE_SQL)
        self.folder = temporary_folder(self)
        for right in ["delete", "update"]:
            self.assert_exit(run("grant", "tester", right, "--db", self.db),
                             0)

    def arguments(self, text, *extra):
        return [write_file(self.folder, "policy.lua", text), "--db", self.db,
                "--now", FIXTURE_NOW, "--plugin-dir", bundled_dir(),
                "--plugin-dir", test_plugin_dir(), *extra]

    def apply(self, text, *extra):
        planned = run("plan", *self.arguments(text, *extra))
        self.assert_exit(planned, 0)
        applied = run("apply", *self.arguments(text, *extra), "--as",
                      "tester", "--yes", plan_digest(planned.stdout))
        return planned, applied

    def persons(self):
        return {row[0]: row[1:] for row in query(
            self.db, "SELECT person_id, firstname, lastname, title FROM "
            "person ORDER BY 1")}

    def test_text_masks_applied(self):
        _, applied = self.apply(MASKS_POLICY)
        self.assert_exit(applied, 0)
        persons = self.persons()
        self.assertEqual(persons[1], ("M.", "B.", "x"))
        self.assertEqual(persons[2], ("A.", "L.", "x"))
        self.assertEqual(persons[4], ("Z.", "Ö.", "x"))
        self.assertEqual(persons[5], ("", "E.", "x"))
        self.assertEqual(persons[6], ("Bo", "Ng", "Cle"))

    def test_field_action_error_stops_apply(self):
        text = MASKS_POLICY.replace('field_action("truncate", 3)',
                                    'field_action("truncate", -1)')
        digest = file_digest(self.db)
        result = run("plan", *self.arguments(text))
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "plugin text_masks, field action "
                                    "'truncate'", "truncate needs a whole "
                                    "number of characters")
        self.assertEqual(file_digest(self.db), digest)

    def test_wrong_argument_count(self):
        text = MASKS_POLICY.replace('field_action("truncate", 3)',
                                    'field_action("truncate")')
        result = run("plan", *self.arguments(text))
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "policy.lua:", "field action "
                                    "truncate takes 1 argument, not 0")

    def test_lua_extension_points(self):
        result = run("plan", *self.arguments(POINTS_POLICY), "--json")
        self.assert_exit(result, 0)
        plan = result.json()
        big = rule_by_name(plan, "big spenders")
        self.assertEqual([s["id"] for s in big["samples"]], [1])
        self.assertEqual(big["selected"], 1)
        long_names = rule_by_name(plan, "long names")
        # "ChristopherMontgomery-Smith" and "MånsBergström" are longer
        # than 8 characters, but person 1 was taken by the first rule.
        self.assertEqual([s["id"] for s in long_names["samples"]], [3])
        rest = rule_by_name(plan, "the rest")
        vetoes = {veto["reason"]: sorted(s["id"] for s in veto["samples"])
                  for veto in rest["vetoes"]}
        self.assertEqual(vetoes.get("has an even id"), [2, 4, 6])

    def test_lua_extension_points_applied(self):
        _, applied = self.apply(POINTS_POLICY)
        self.assert_exit(applied, 0)
        persons = self.persons()
        self.assertEqual(persons[1][0], "snåM")
        self.assertEqual(persons[3][1], "*" * len("Montgomery-Smith"))
        self.assertEqual(sorted(persons), [1, 2, 3, 4, 6])

    def test_hooks_receive_events_in_order(self):
        _, applied = self.apply(POINTS_POLICY)
        self.assert_exit(applied, 0)
        events = [line.split()[3] for line in applied.stderr.splitlines()
                  if line.startswith("lethe: plugin lua_points: ")]
        self.assertEqual(events, ["before_plan", "after_plan",
                                  "before_apply", "before_erasure",
                                  "after_apply", "after_erasure"])
        self.assertIn("person.delete", applied.stderr)

    def test_before_hook_error_stops_apply(self):
        digest = file_digest(self.db)
        _, applied = self.apply(POINTS_POLICY, "--plugin-option",
                                "lua_points.fail_at=before_apply")
        self.assert_exit(applied, 1)
        self.assert_stderr_contains(applied, "plugin lua_points stopped the "
                                    "run at before_apply", "stopped by the "
                                    "test at before_apply",
                                    "nothing was changed")
        self.assertEqual(file_digest(self.db), digest)

    def test_after_hook_error_keeps_change_exit_1(self):
        _, applied = self.apply(POINTS_POLICY, "--plugin-option",
                                "lua_points.fail_at=after_erasure")
        self.assert_exit(applied, 1)
        self.assert_stderr_contains(applied, "plugin lua_points failed at "
                                    "after_erasure")
        self.assertNotIn(5, self.persons())

    def test_plan_hook_error(self):
        result = run("plan", *self.arguments(POINTS_POLICY),
                     "--plugin-option", "lua_points.fail_at=after_plan")
        self.assert_exit(result, 1)
        self.assertIn("Plan digest:", result.stdout)
        result = run("plan", *self.arguments(POINTS_POLICY),
                     "--plugin-option", "lua_points.fail_at=before_plan")
        self.assert_exit(result, 1)
        self.assertNotIn("Plan digest:", result.stdout)


if __name__ == "__main__":
    unittest.main()
