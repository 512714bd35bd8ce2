"""`lethe demo`: a synthetic CRM database and a plan of the bundled
retention policy on it, in which every rule has work to do."""

import os
import unittest

import lethe_testing as lt

NOW = "2024-06-30"
PERSONS = 300


def run_demo(db, *extra):
    return lt.run_lethe("demo", "--db", db, "--persons", PERSONS, "--now",
                        NOW, *extra)


class DemoTest(lt.LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        cls.db = os.path.join(cls.folder, "demo.db")
        cls.result = run_demo(cls.db, "--json")
        cls.plan = cls.result.json() if cls.result.returncode == 0 else None

    def setUp(self):
        self.assert_exit(self.result, 0)

    def test_bundled_policy_planned(self):
        names = [rule["name"] for rule in self.plan["rules"]]
        expected = ["delete stale prospects", "delete lost customers",
                    "block e-marketing after withdrawal",
                    "keep everyone else"]
        self.assertEqual(names, expected,
                         f"rules: expected {expected}, got {names}")

    def test_every_rule_selects(self):
        for rule in self.plan["rules"]:
            self.assertGreater(rule["selected"], 0,
                               f"rule {rule['name']!r} selects no record")

    def test_user_person_vetoed(self):
        reasons = [veto["reason"] for rule in self.plan["rules"]
                   for veto in rule["vetoes"]]
        self.assertTrue(any("CRM user" in reason for reason in reasons),
                        f"expected a veto for a CRM user's person; veto "
                        f"reasons: {reasons}")

    def test_sample_size(self):
        persons = lt.scalar(self.db, "SELECT count(*) FROM person")
        self.assertEqual(persons, PERSONS,
                         f"persons: expected {PERSONS}, got {persons}")

    def test_foreign_keys_hold(self):
        problems = lt.foreign_key_problems(self.db)
        self.assertEqual(problems, [],
                         f"PRAGMA foreign_key_check: expected no rows, got "
                         f"{problems[:5]}")

    def test_text_plan_printed(self):
        result = run_demo(self.db)
        self.assert_exit(result, 0)
        self.assertIn("Plan digest: " + self.plan["short_digest"],
                      result.stdout,
                      "expected the text plan with the same digest\n"
                      + result.describe())

    def test_demo_only_plans(self):
        digest_before = lt.file_digest(self.db)
        result = run_demo(self.db)
        self.assert_exit(result, 0)
        self.assert_stderr_contains(result, "Using the existing")
        self.assert_unchanged(self.db, digest_before, result)

    def test_same_seed_same_plan(self):
        other = os.path.join(lt.temporary_folder(self), "again.db")
        result = run_demo(other, "--json")
        self.assert_exit(result, 0)
        digest = result.json()["digest"]
        self.assertEqual(digest, self.plan["digest"],
                         f"plan digest of a second database from the same "
                         f"seed: expected {self.plan['digest']}, got "
                         f"{digest}")


if __name__ == "__main__":
    unittest.main()
