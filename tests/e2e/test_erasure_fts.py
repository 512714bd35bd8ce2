"""Full-text indexes and erasure: apply merges a full-text index when the
plan overwrites a column that the index covers, so that the old terms
leave its segments, and leaves an index alone when the plan touches
nothing that feeds it.

The guard fixture with the canaries of guard_helpers holds the activity
(appointment) 30 whose description contains a unique canary word; the
schema's triggers copy descriptions into appointment_fts.
"""

import os
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


CANARY = gh.CANARIES["description"]

OVERWRITE_POLICY = f"""\
policy {{ name = "overwrite a description", model = "crm" }}
local activity = entity "activity"
rule "blank the canary's description" {{
  select = activity:where {{
    {{ "description", "=", "call about {CANARY} renewal" }},
  }},
  action = update {{ description = "blank" }},
}}
"""

UNRELATED_POLICY = """\
policy { name = "stop mailing", model = "crm" }
local person = entity "person"
rule "stop mailing person 30" {
  select = person:where { { "lastname", "=", "zqlast9921" } },
  action = update { nomailing = true },
}
"""

def file_count(db, text):
    """Occurrences of `text` in the database file."""
    with open(db, "rb") as file:
        return file.read().count(text.encode())


def index_pages(db, index):
    """The rows of an FTS5 index's data table, as (id, block) pairs."""
    return lt.query(db, f"SELECT id, hex(block) FROM {index}_data "
                        "ORDER BY id")


class FtsCase(lt.LetheTestCase):

    def prepare(self, policy_text, *extra):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        gh.add_canaries(db)
        policy = lt.write_file(folder, "policy.lua", policy_text)
        digest = gh.plan_json(policy, db)["short_digest"]
        return db, policy, digest


class OverwriteMergesIndexTest(FtsCase):

    def test_old_description_leaves_file(self):
        db, policy, digest = self.prepare(OVERWRITE_POLICY)
        self.assertGreater(file_count(db, CANARY), 0,
                           "canary not in the file before the apply")
        result = gh.apply_policy(policy, db, digest)
        self.assert_exit(result, 0)
        described = lt.scalar(db, "SELECT description FROM appointment "
                                  "WHERE appointment_id = 30")
        self.assertEqual(described, "blank")
        self.assertEqual(file_count(db, CANARY), 0,
                         "the old description is still in the file")

    def test_index_finds_new_description_only(self):
        db, policy, digest = self.prepare(OVERWRITE_POLICY)
        self.assert_exit(gh.apply_policy(policy, db, digest), 0)
        old = lt.query_ids(db, "SELECT rowid FROM appointment_fts WHERE "
                               f"appointment_fts MATCH '{CANARY}'")
        self.assertEqual(old, [], "the index still finds the old text")
        new = lt.query_ids(db, "SELECT rowid FROM appointment_fts WHERE "
                               "appointment_fts MATCH 'blank'")
        self.assertIn(30, new, "the index does not find the new text")

    def test_skipped_steps_leave_old_terms(self):
        """Without the erasure steps the old term stays in the index's
        segments, so the test above can fail."""
        db, policy, digest = self.prepare(OVERWRITE_POLICY)
        result = gh.apply_policy(policy, db, digest, "--skip-erasure-steps")
        self.assert_exit(result, 0)
        self.assertGreater(file_count(db, CANARY), 0,
                           "the old description left the file even "
                           "without the erasure steps")


class UnrelatedUpdateTest(FtsCase):

    def test_indexes_untouched(self):
        db, policy, digest = self.prepare(UNRELATED_POLICY)
        before = {index: index_pages(db, index)
                  for index in ("appointment_fts", "document_fts")}
        result = gh.apply_policy(policy, db, digest)
        self.assert_exit(result, 0)
        mailing = lt.scalar(db, "SELECT nomailing FROM person WHERE "
                                "person_id = 30")
        self.assertEqual(mailing, 1)
        for index, pages in before.items():
            with self.subTest(index=index):
                self.assertEqual(index_pages(db, index), pages,
                                 f"{index} was rewritten by an update "
                                 "that does not feed it")


if __name__ == "__main__":
    unittest.main()
