"""Apply compares the row counts of the tables that a plan can reach
before and after its statements. A trigger that the model does not
describe may change another table, directly or through a second
trigger. Apply then rolls back and names that table.
"""

import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


# Deleting a person writes a row into zz_log, and that insert deletes the
# one row of aa_note: aa_note is reached only through the second trigger.
TRIGGERS_SQL = """
CREATE TABLE zz_log (zz_log_id INTEGER PRIMARY KEY, what TEXT);
CREATE TABLE aa_note (aa_note_id INTEGER PRIMARY KEY, text TEXT);
INSERT INTO aa_note (text) VALUES ('the only note');
CREATE TRIGGER person_logged AFTER DELETE ON person BEGIN
  INSERT INTO zz_log (what) VALUES ('deleted a person');
END;
CREATE TRIGGER log_clears_notes AFTER INSERT ON zz_log BEGIN
  DELETE FROM aa_note;
END;
"""


class TriggerChainTest(lt.LetheTestCase):

    def test_chain_rolled_back(self):
        folder = lt.temporary_folder(self)
        db, policy, digest = gh.prepare_canary_run(templates, folder,
                                                   TRIGGERS_SQL)
        result = gh.apply_policy(policy, db, digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "table aa_note changed by -1 "
                                    "rows where the plan said 0")
        self.assertEqual(lt.query_ids(db, "SELECT person_id FROM person "
                                          "WHERE person_id = 30"), [30])
        self.assertEqual(lt.scalar(db, "SELECT count(*) FROM aa_note"), 1)
        self.assertEqual(lt.scalar(db, "SELECT count(*) FROM zz_log"), 0)


if __name__ == "__main__":
    unittest.main()
