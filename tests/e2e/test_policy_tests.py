"""`lethe test`: bundled policy tests pass, broken copies fail with a
message that points at the difference, and fixture errors name the row."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

LETHE = os.environ["LETHE"]
SOURCE = os.environ["LETHE_SOURCE_DIR"]
POLICIES = os.path.join(SOURCE, "scripts", "policies")


def run_lethe(*arguments, cwd=None):
    return subprocess.run([LETHE, *arguments], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


class PolicyTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="lethe-policy-tests-")
        for name in os.listdir(POLICIES):
            if name.startswith("retention"):
                shutil.copy(os.path.join(POLICIES, name), self.folder)

    def tearDown(self):
        shutil.rmtree(self.folder)

    def edit_policy(self, old, new):
        path = os.path.join(self.folder, "retention.lua")
        with open(path, encoding="utf-8") as file:
            text = file.read()
        self.assertIn(old, text, "the text to break is in the policy")
        with open(path, "w", encoding="utf-8") as file:
            file.write(text.replace(old, new, 1))

    def results(self):
        result = run_lethe("test", self.folder, "--json")
        return result, json.loads(result.stdout)

    def test_bundled_policies_pass(self):
        result = run_lethe("test", POLICIES)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        last = result.stdout.strip().splitlines()[-1]
        self.assertRegex(last, r"^\d+ passed, 0 failed$")

    def test_copy_passes_unchanged(self):
        result, document = self.results()
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertEqual(document["failed"], 0)
        self.assertEqual(document["passed"], 4)

    def assert_fails(self, old, new, *expected_texts):
        self.edit_policy(old, new)
        result, document = self.results()
        self.assertEqual(result.returncode, 1, result.stdout)
        text = "\n".join(m for t in document["tests"] for m in t["messages"])
        for expected in expected_texts:
            self.assertIn(expected, text)

    def test_registration_bound_later_fails(self):
        self.assert_fails('{ "registered", "older than", 3, "years" }',
                          '{ "registered", "older than", 4, "years" }',
                          "id 11 (missing)",
                          "failed registered older than 4 years")

    def test_registration_bound_earlier_fails(self):
        self.assert_fails('{ "registered", "older than", 3, "years" }',
                          '{ "registered", "older than", 2, "years" }',
                          "id 12 (unexpected)")

    def test_activity_bound_later_fails(self):
        self.assert_fails(
            '{ "activities", "none", { "activeDate", "newer than", 3, '
            '"years" } }',
            '{ "activities", "none", { "activeDate", "newer than", 4, '
            '"years" } }',
            "id 13 (missing)")

    def test_lost_customer_bounds_fail(self):
        self.assert_fails('{ "registered", "older than", 5, "years" }',
                          '{ "registered", "older than", 6, "years" }',
                          "id 8 (missing)")

    def test_sale_bound_fails(self):
        self.assert_fails(
            '{ "sales", "none", { "saledate", "newer than", 5, "years" } }',
            '{ "sales", "none", { "saledate", "newer than", 4, "years" } }',
            "id 13 (unexpected)")

    def test_changed_action_fails(self):
        self.edit_policy("action = update { blockEmarketing = true }",
                         "action = keep()")
        result, document = self.results()
        self.assertEqual(result.returncode, 1)
        text = "\n".join(m for t in document["tests"] for m in t["messages"])
        self.assertIn("block e-marketing after withdrawal", text)
        self.assertIn("updated person: expected {8}, got {}", text)

    def test_dropped_consent_check_fails(self):
        self.edit_policy('{ "legal_basis", "<>", "WITHDRAWN" } },', "},")
        result, document = self.results()
        self.assertEqual(result.returncode, 1)
        text = "\n".join(m for t in document["tests"] for m in t["messages"])
        self.assertIn("id 5 (missing)", text)
        self.assertIn("failed consents none (purpose = EMARKETING)", text)

    def write_test(self, body):
        path = os.path.join(self.folder, "fixture_test.lua")
        with open(path, "w", encoding="utf-8") as file:
            file.write(body)
        return run_lethe("test", path)

    def test_unknown_fixture_field_names_row(self):
        result = self.write_test(
            'test "bad" { policy = "retention.lua", now = "2024-06-30",\n'
            '  fixture = { person = { { id = 1, frstname = "A" } } } }\n')
        self.assertEqual(result.returncode, 1)
        self.assertIn("fixture person row 1: unknown field 'frstname'",
                      result.stdout)
        self.assertIn("did you mean 'firstname'", result.stdout)
        self.assertIn("0 passed, 1 failed", result.stdout)

    def test_missing_parent_names_row(self):
        result = self.write_test(
            'test "orphan" { policy = "retention.lua", now = "2024-06-30",\n'
            '  fixture = { person = { { id = 1, company = 99 } } } }\n')
        self.assertEqual(result.returncode, 1)
        self.assertIn("fixture person row 1", result.stdout)
        self.assertIn("FOREIGN KEY", result.stdout)

    def test_unknown_rule_fails(self):
        result = self.write_test(
            'test "rule" { policy = "retention.lua", now = "2024-06-30",\n'
            '  expect = { ["no such rule"] = { selected = {} } } }\n')
        self.assertEqual(result.returncode, 1)
        self.assertIn('the policy has no rule "no such rule"', result.stdout)


if __name__ == "__main__":
    unittest.main()
