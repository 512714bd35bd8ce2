"""The bundled erasure_receipt plugin: a JSON receipt with counts and
digests after each erasure, only in the directory the user configured,
with no personal data."""

import json
import os
import stat
import unittest

from lethe_testing import FIXTURE_POLICY, plan_digest, query, row_counts
from plugin_testing import (FIXTURE_NOW, LetheTestCase, bundled_dir,
                            fixture_database, run, temporary_folder,
                            write_file)

UPDATE_ONLY_POLICY = """
policy { name = "updates only", model = "crm" }
rule "no mailing" {
  select = entity "person":where { { "category", "=", "Customer" } },
  action = update { nomailing = true },
}
"""


class ErasureReceiptTest(LetheTestCase):

    def setUp(self):
        self.db = fixture_database(self)
        self.folder = temporary_folder(self)
        self.receipts = temporary_folder(self)
        for right in ["delete", "update"]:
            self.assert_exit(run("grant", "tester", right, "--db", self.db),
                             0)

    def arguments(self, policy_text, name="policy.lua"):
        return [write_file(self.folder, name, policy_text), "--db", self.db,
                "--now", FIXTURE_NOW, "--plugin-dir", bundled_dir(),
                "--plugin", "erasure_receipt", "--plugin-option",
                f"erasure_receipt.directory={self.receipts}"]

    def apply(self, policy_text):
        arguments = self.arguments(policy_text)
        planned = run("plan", *arguments)
        self.assert_exit(planned, 0)
        applied = run("apply", *arguments, "--as", "tester", "--yes",
                      plan_digest(planned.stdout))
        return planned, applied

    def receipt_files(self):
        return sorted(os.listdir(self.receipts))

    def personal_values(self):
        """Names and addresses in the database, which a receipt must not
        contain."""
        values = set()
        for sql in ["SELECT firstname, lastname FROM person",
                    "SELECT address, address FROM email",
                    "SELECT name, name FROM contact"]:
            for first, second in query(self.db, sql):
                values.update(value for value in (first, second)
                              if value and len(value) >= 3)
        return values

    def test_receipt_after_erasure(self):
        personal = self.personal_values()
        before = row_counts(self.db)
        planned, applied = self.apply(FIXTURE_POLICY)
        self.assert_exit(applied, 0)
        files = self.receipt_files()
        self.assertEqual(len(files), 1, applied.describe())

        digest = plan_digest(planned.stdout)
        self.assertTrue(files[0].startswith("receipt-"))
        self.assertIn(digest, files[0])
        path = os.path.join(self.receipts, files[0])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path, encoding="utf-8") as file:
            text = file.read()
        receipt = json.loads(text)

        self.assertEqual(receipt["receipt"], "lethe erasure receipt")
        self.assertEqual(receipt["policy"], "fixture retention")
        self.assertTrue(receipt["plan_digest"].startswith(digest))
        self.assertEqual(receipt["reference_time"], "2024-06-30T00:00:00Z")
        self.assertIs(receipt["erasure_verified"], True)

        after = row_counts(self.db)
        for table in ["person", "contact", "email", "appointment"]:
            with self.subTest(table=table):
                self.assertEqual(receipt["counts"].get(f"{table}.delete", 0),
                                 before[table] - after[table])
        self.assertGreater(receipt["counts"]["erasure.values_checked"], 0)
        self.assertIn("rule delete old prospects", receipt["digests"])

        for value in personal:
            with self.subTest(value=value):
                self.assertNotIn(value, text)
        self.assertIn("wrote the receipt", applied.stderr)

    def test_no_receipt_without_deletions(self):
        planned, applied = self.apply(UPDATE_ONLY_POLICY)
        self.assert_exit(applied, 0)
        self.assertEqual(self.receipt_files(), [])

    def test_no_receipt_from_plan(self):
        result = run("plan", *self.arguments(FIXTURE_POLICY))
        self.assert_exit(result, 0)
        self.assertEqual(self.receipt_files(), [])

    def test_each_erasure_gets_its_own_receipt(self):
        first = FIXTURE_POLICY.split('rule "keep e-marketing consents"')[0]
        _, applied = self.apply(first)
        self.assert_exit(applied, 0)
        _, applied = self.apply(FIXTURE_POLICY)
        self.assert_exit(applied, 0)
        self.assertEqual(len(self.receipt_files()), 2)

    def test_directory_must_be_configured(self):
        cases = [
            ([], "no receipt directory is configured"),
            (["--plugin-option", "erasure_receipt.directory=receipts"],
             "is not an absolute path"),
            (["--plugin-option", "erasure_receipt.directory="
              + os.path.join(self.receipts, "missing")],
             "does not exist or is not a directory"),
        ]
        for options, message in cases:
            with self.subTest(options=options):
                result = run("plan", write_file(self.folder, "p.lua",
                                                FIXTURE_POLICY),
                             "--db", self.db, "--now", FIXTURE_NOW,
                             "--plugin-dir", bundled_dir(), "--plugin",
                             "erasure_receipt", *options)
                self.assert_exit(result, 0)
                self.assert_stderr_contains(result, "plugin erasure_receipt",
                                            message)

    def test_unwritable_directory_fails_after_commit(self):
        # /proc is a directory in which no one, not even root, can create
        # a file.
        self.receipts = "/proc"
        before = row_counts(self.db)
        _, applied = self.apply(FIXTURE_POLICY)
        self.assert_exit(applied, 1)
        self.assert_stderr_contains(applied, "plugin erasure_receipt failed "
                                    "at after_erasure", "cannot create a "
                                    "receipt in /proc")
        self.assertLess(row_counts(self.db)["person"], before["person"])

if __name__ == "__main__":
    unittest.main()
