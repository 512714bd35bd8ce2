"""Saved plans: `lethe plan -o` and `lethe apply --plan` on a database
that moved since the plan, and on plan files edited by hand.

The policy deletes the Prospects 11 to 15 of the guard fixture. Their
cascades: activity 3 and e-mail 2 of person 12, consent 2 of person 13,
phone 2 of person 14, address 1 of person 15.

Every kind of drift must be listed with its kind and ids, and nothing may
change. With --only-still-matching the run must act on exactly the
planned ids that still match, once its own digest is confirmed.
"""

import base64
import json
import os
import re
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


PLANNED = [11, 12, 13, 14, 15]

POLICY = f"""\
policy {{ name = "saved", model = "crm", {gh.WIDE_CAPS} }}
local person = entity "person"
rule "delete prospects" {{
  select = person:where {{
    {{ "category", "=", "Prospect" }},
    {{ "lastname", "one of", {{ "Prospect11", "Prospect12", "Prospect13",
                               "Prospect14", "Prospect15" }} }},
  }},
  action = delete(),
}}
"""

RULE = 'rule "delete prospects"'


class SavedPlanCase(lt.LetheTestCase):
    """A fresh fixture and a plan saved on it, for every test."""

    def setUp(self):
        self.folder = lt.temporary_folder(self)
        self.db = templates.copy("guard", self.folder)
        self.policy = lt.write_file(self.folder, "saved.lua", POLICY)
        self.plan_file = os.path.join(self.folder, "plan.json")
        saved = gh.run("plan", self.policy, "--db", self.db, "--now",
                       gh.GUARD_NOW, "-o", self.plan_file)
        self.assert_exit(saved, 0)
        self.saved_digest = lt.plan_digest(saved.stdout)

    def apply_plan(self, *extra, plan_file=None):
        return gh.run("apply", "--plan", plan_file or self.plan_file, "--as",
                      gh.USER, *extra)

    def snapshot(self):
        return lt.file_digest(self.db), lt.row_counts(self.db)

    def assert_rejected(self, result, before, *message_parts):
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, *message_parts)
        self.assert_unchanged(self.db, before[0], result)
        counts = lt.row_counts(self.db)
        self.assertEqual(counts, before[1],
                         f"row counts: expected {before[1]}, got {counts}")

    def deleted_persons(self, candidates):
        left = set(lt.query_ids(self.db, "SELECT person_id FROM person"))
        return sorted(set(candidates) - left)


class DriftTest(SavedPlanCase):
    """Each kind of drift, rejected and then applied with
    --only-still-matching."""

    def check(self, change, message, still, candidates=PLANNED,
              same_digest=False):
        """Make `change` (SQL or a callable), check that --plan lists
        `message` and changes nothing, then that --only-still-matching
        deletes exactly the persons `still` among `candidates`."""
        if callable(change):
            change()
        else:
            lt.execute(self.db, change)
        before = self.snapshot()
        rejected = self.apply_plan("--yes", self.saved_digest)
        self.assert_rejected(rejected, before, message,
                             "nothing was changed")
        preview = self.apply_plan("--only-still-matching")
        self.assert_rejected(preview, before, "apply needs confirmation")
        new_digest = lt.plan_digest(preview.stdout)
        if same_digest:
            self.assertEqual(new_digest, self.saved_digest)
        else:
            self.assertNotEqual(new_digest, self.saved_digest,
                                "the smaller plan has the saved digest")
            old = self.apply_plan("--only-still-matching", "--yes",
                                  self.saved_digest)
            self.assert_rejected(old, before, "does not match the plan digest")
        present = set(lt.query_ids(self.db, "SELECT person_id FROM person"))
        applied = self.apply_plan("--only-still-matching", "--yes",
                                  new_digest)
        self.assert_exit(applied, 0)
        gone = self.deleted_persons(present & set(candidates))
        self.assertEqual(gone, still,
                         f"deleted persons: expected {still}, got {gone}")

    def test_planned_row_gone(self):
        self.check("DELETE FROM person WHERE person_id = 14",
                   f"{RULE}: 1 gone (ids 14)", [11, 12, 13, 15])

    def test_new_match(self):
        self.check("INSERT INTO person (person_id, lastname, category_idx, "
                   "registered) VALUES (21, 'Prospect11', 1, "
                   "'2015-01-01 00:00:00')",
                   f"{RULE}: 1 new match (ids 21)", PLANNED,
                   candidates=PLANNED + [21], same_digest=True)

    def test_row_stops_matching(self):
        self.check("UPDATE person SET category_idx = 2 WHERE person_id = 13",
                   f"{RULE}: 1 no longer selected (ids 13)", [11, 12, 14, 15])

    def test_row_now_vetoed(self):
        def hold():
            self.assert_exit(gh.run("hold", "add", "person", "15", "--reason",
                                    "new claim", "--db", self.db), 0)
        self.check(hold, f"{RULE}: 1 now vetoed (ids 15)", [11, 12, 13, 14])

    def test_cascade_grows(self):
        self.check("INSERT INTO email (email_id, person_id, address) VALUES "
                   "(40, 11, 'kit@prospect.example')",
                   "email delete: the plan said 1 rows, now 2", PLANNED)
        emails = lt.query_ids(self.db, "SELECT email_id FROM email WHERE "
                              "email_id = 40")
        self.assertEqual(emails, [], "the new e-mail of person 11 stayed")

    def test_unchanged_applies(self):
        applied = self.apply_plan("--yes", self.saved_digest)
        self.assert_exit(applied, 0)
        self.assertEqual(self.deleted_persons(PLANNED), PLANNED)


class EditedPlanTest(SavedPlanCase):
    """A plan file edited by hand is rejected."""

    def edit(self, change):
        document = gh.read_plan_file(self.plan_file)
        change(document)
        gh.write_plan_file(self.plan_file, document)

    def set_acting(self, entity, ids, damage=False):
        data = gh.encode_id_set(entity, ids)
        if damage:
            data = data[:-1] + bytes([data[-1] ^ 1])
        encoded = base64.b64encode(data).decode()

        def change(document):
            document["rules"][0]["acting"] = encoded
        self.edit(change)

    def test_planned_ids_decode(self):
        # The tests below edit the saved id set, so check first that this
        # test reads it the way lethe writes it.
        document = gh.read_plan_file(self.plan_file)
        data = base64.b64decode(document["rules"][0]["acting"])
        self.assertEqual(gh.decode_id_set(data), ("person", PLANNED))

    def test_digest_edited(self):
        self.edit(lambda document: document.update(digest="0" * 64))
        before = self.snapshot()
        self.assert_rejected(self.apply_plan("--yes", "0" * 16), before,
                             "nothing was changed")

    def test_id_added(self):
        # Person 5 is a Customer that the policy does not select.
        self.set_acting("person", PLANNED + [5])
        before = self.snapshot()
        result = self.apply_plan("--yes", self.saved_digest)
        self.assert_rejected(result, before,
                             f"{RULE}: 1 no longer selected (ids 5)")

    def test_id_added_still_matching(self):
        self.set_acting("person", PLANNED + [5])
        preview = self.apply_plan("--only-still-matching")
        self.assert_exit(preview, 1)
        applied = self.apply_plan("--only-still-matching", "--yes",
                                  lt.plan_digest(preview.stdout))
        self.assert_exit(applied, 0)
        gone = self.deleted_persons(PLANNED + [5])
        self.assertEqual(gone, PLANNED,
                         f"deleted persons: expected {PLANNED}, got {gone}")

    def test_id_removed(self):
        self.set_acting("person", [11, 12, 13, 14])
        before = self.snapshot()
        self.assert_rejected(self.apply_plan("--yes", self.saved_digest),
                             before, f"{RULE}: 1 new match (ids 15)")

    def test_damaged_ids(self):
        self.set_acting("person", PLANNED, damage=True)
        before = self.snapshot()
        self.assert_rejected(self.apply_plan("--yes", self.saved_digest),
                             before, "is damaged")

    def test_ids_of_other_entity(self):
        self.set_acting("company", [1, 2, 3, 4, 5])
        before = self.snapshot()
        result = self.apply_plan("--yes", self.saved_digest)
        self.assert_exit(result, 1)
        self.assert_unchanged(self.db, before[0], result)

    def test_truncated(self):
        with open(self.plan_file, encoding="utf-8") as file:
            text = file.read()
        with open(self.plan_file, "w", encoding="utf-8") as file:
            file.write(text[:len(text) // 2])
        before = self.snapshot()
        self.assert_rejected(self.apply_plan("--yes", self.saved_digest),
                             before, "is not a Lethe plan")

    def test_version_edited(self):
        self.edit(lambda document: document.update(version=2))
        before = self.snapshot()
        self.assert_rejected(self.apply_plan("--yes", self.saved_digest),
                             before, "version 2 plan")

    def test_policy_text_edited(self):
        def change(document):
            text = document["policy"]["text"]
            document["policy"]["text"] = re.sub(
                r'\{ "lastname", "one of",[^}]*\} \},', "", text)
        self.edit(change)
        before = self.snapshot()
        self.assert_rejected(self.apply_plan("--yes", self.saved_digest),
                             before, "new match")

    def test_other_database(self):
        other = os.path.join(self.folder, "other.db")
        gh.make_guard_fixture(other)
        before = lt.file_digest(other)
        result = self.apply_plan("--db", other, "--yes", self.saved_digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "was made on another database")
        self.assert_unchanged(other, before, result)

    def test_database_path_edited(self):
        other = os.path.join(self.folder, "other.db")
        gh.make_guard_fixture(other)
        self.edit(lambda document: document["database"].update(path=other))
        before = lt.file_digest(other)
        result = self.apply_plan("--yes", self.saved_digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "was made on another database")
        self.assert_unchanged(other, before, result)

    def test_not_json_object(self):
        with open(self.plan_file, "w", encoding="utf-8") as file:
            json.dump([1, 2, 3], file)
        before = self.snapshot()
        self.assert_rejected(self.apply_plan("--yes", self.saved_digest),
                             before, "is not a Lethe plan")


del SavedPlanCase

if __name__ == "__main__":
    unittest.main()
