"""Cascades, vetoes and first-rule-wins on a hand-made CRM database.

The fixture (lethe_testing.FIXTURE_SQL) and its policy
(lethe_testing.FIXTURE_POLICY) are small enough to count by hand. With the
reference time 2024-06-30 the rules do this, in order:

1. "delete lost companies" selects the Lost customer companies without an
   activity since 2019-06-30: companies 1 and 2 (company 3 had a call in
   2023). Company 2 is vetoed because its person 3 is a CRM user. Deleting
   company 1 takes persons 1 and 2, activity 1 and its document 1, sale 1,
   consent 1 and e-mail 1, and clears sale_id of activity 3, which belongs
   to company 4 but points at sale 1.
2. "keep e-marketing consents" matches persons 2 and 8; person 2 is gone
   with company 1, so it keeps person 8.
3. "delete old prospects" matches Prospects registered before 2021-06-30:
   persons 1, 4, 5, 8 and 9. Person 1 is gone and person 8 was kept, which
   leaves 4, 5 and 9. Person 9 is a CRM user and is vetoed. Deleting
   persons 4 and 5 takes activity 4 and consent 2, and clears person_id of
   sale 2, which stays with company 4.
4. "no mailing for non-prospects" (category <> Prospect) matches persons
   2, 3, 6 and 12; person 2 is gone. Persons 7, 11 and 13 have no category
   and must not match.
5. "block persons of active companies" (company.category <> Lost customer)
   matches persons 5, 6 and 13. Persons without a company and person 7,
   whose company has no category, must not match. Only person 13 is left.
6. "clear titles other than CEO" (title not one of {CEO}) matches person 7
   only: persons 10 and 12 are CEOs, the others have no title.
7. "keep everyone else" keeps persons 10 and 11.
"""

import os
import unittest

import lethe_testing as lt

templates = lt.DatabaseTemplates()


def tearDownModule():
    templates.close()


class FixturePlanTest(lt.LetheTestCase):
    """The plan of the fixture policy, read from `lethe plan --json`."""

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("crm", folder)
        cls.policy = lt.write_file(folder, "fixture.lua", lt.FIXTURE_POLICY)
        cls.digest_before = lt.file_digest(cls.db)
        cls.result = lt.run_lethe("plan", cls.policy, "--db", cls.db, "--now",
                                  lt.FIXTURE_NOW, "--samples", "100",
                                  "--json")
        cls.plan = cls.result.json() if cls.result.returncode == 0 else None

    def setUp(self):
        self.assert_exit(self.result, 0)

    def rule(self, name):
        return lt.rule_by_name(self.plan, name)

    def test_plan_leaves_database_unchanged(self):
        self.assert_unchanged(self.db, self.digest_before, self.result)

    def test_lost_company_deleted(self):
        rule = self.rule("delete lost companies")
        self.assertEqual(rule["selected"], 2,
                         f"selected: expected 2, got {rule['selected']}")
        self.assertEqual(lt.sample_ids(rule), [1],
                         f"acting: expected [1], got {lt.sample_ids(rule)}")

    def test_company_with_user_vetoed(self):
        rule = self.rule("delete lost companies")
        vetoed = lt.veto_ids(rule, "CRM user")
        self.assertEqual(vetoed, [2],
                         "companies vetoed for a CRM user: expected [2], "
                         f"got {vetoed}; vetoes: {rule['vetoes']}")

    def test_company_cascade_rows(self):
        rule = self.rule("delete lost companies")
        expected = {
            ("contact", "delete"): 1,
            ("person", "delete"): 2,
            ("appointment", "delete"): 1,
            ("document", "delete"): 1,
            ("sale", "delete"): 1,
            ("consentperson", "delete"): 1,
            ("email", "delete"): 1,
            ("appointment", "clear"): 1,
        }
        actual = lt.effect_rows(rule)
        self.assertEqual(actual, expected,
                         f"effects: expected {expected}, got {actual}")

    def test_cleared_link_is_sale_id(self):
        rule = self.rule("delete lost companies")
        columns = [effect["column"] for effect in rule["effects"]
                   if effect["operation"] == "clear"]
        self.assertEqual(columns, ["sale_id"],
                         f"cleared columns: expected ['sale_id'], got "
                         f"{columns}")

    def test_keep_rule_claims_person(self):
        rule = self.rule("keep e-marketing consents")
        self.assertEqual(lt.sample_ids(rule), [8],
                         f"kept: expected [8], got {lt.sample_ids(rule)}")
        self.assertEqual(rule["excluded"], 1,
                         f"excluded: expected 1 (person 2), got "
                         f"{rule['excluded']}")

    def test_later_rule_skips_claimed(self):
        rule = self.rule("delete old prospects")
        self.assertEqual(rule["selected"], 3,
                         f"selected: expected 3 (persons 4, 5, 9), got "
                         f"{rule['selected']}")
        self.assertEqual(rule["excluded"], 2,
                         f"excluded: expected 2 (persons 1, 8), got "
                         f"{rule['excluded']}")
        self.assertEqual(lt.sample_ids(rule), [4, 5],
                         f"acting: expected [4, 5], got "
                         f"{lt.sample_ids(rule)}")

    def test_user_person_vetoed(self):
        rule = self.rule("delete old prospects")
        vetoed = lt.veto_ids(rule, "CRM user")
        self.assertEqual(vetoed, [9],
                         f"persons vetoed as CRM users: expected [9], got "
                         f"{vetoed}; vetoes: {rule['vetoes']}")

    def test_user_veto_counted_once(self):
        rule = self.rule("delete old prospects")
        total = sum(veto["count"] for veto in rule["vetoes"])
        self.assertEqual(total, 1,
                         f"vetoed persons: expected 1, got {total}; vetoes: "
                         f"{rule['vetoes']}")

    def test_person_delete_clears_sale(self):
        rule = self.rule("delete old prospects")
        expected = {
            ("person", "delete"): 2,
            ("appointment", "delete"): 1,
            ("consentperson", "delete"): 1,
            ("sale", "clear"): 1,
        }
        actual = lt.effect_rows(rule)
        self.assertEqual(actual, expected,
                         f"effects: expected {expected}, got {actual}")

    def test_not_equal_skips_null_category(self):
        rule = self.rule("no mailing for non-prospects")
        self.assertEqual(lt.sample_ids(rule), [3, 6, 12],
                         f"updated: expected [3, 6, 12], got "
                         f"{lt.sample_ids(rule)}")

    def test_company_path_skips_missing_company(self):
        rule = self.rule("block persons of active companies")
        self.assertEqual(lt.sample_ids(rule), [13],
                         f"updated: expected [13], got {lt.sample_ids(rule)}")
        self.assertEqual(rule["excluded"], 2,
                         f"excluded: expected 2 (persons 5, 6), got "
                         f"{rule['excluded']}")

    def test_not_one_of_skips_null_title(self):
        rule = self.rule("clear titles other than CEO")
        self.assertEqual(lt.sample_ids(rule), [7],
                         f"updated: expected [7], got {lt.sample_ids(rule)}")

    def test_last_rule_keeps_rest(self):
        rule = self.rule("keep everyone else")
        self.assertEqual(lt.sample_ids(rule), [10, 11],
                         f"kept: expected [10, 11], got "
                         f"{lt.sample_ids(rule)}")


class FixtureApplyTest(lt.LetheTestCase):
    """The fixture database after applying the fixture policy."""

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("crm", folder)
        cls.policy = lt.write_file(folder, "fixture.lua", lt.FIXTURE_POLICY)
        for right in ("delete", "update"):
            lt.run_lethe("grant", "alice", right, "--db", cls.db)
        plan = lt.run_lethe("plan", cls.policy, "--db", cls.db, "--now",
                            lt.FIXTURE_NOW)
        cls.result = lt.run_lethe(
            "apply", cls.policy, "--db", cls.db, "--now", lt.FIXTURE_NOW,
            "--as", "alice", "--yes", lt.plan_digest(plan.stdout))

    def setUp(self):
        self.assert_exit(self.result, 0)

    def assert_ids(self, sql, expected):
        actual = lt.query_ids(self.db, sql)
        self.assertEqual(actual, expected,
                         f"{sql}: expected {expected}, got {actual}")

    def test_companies_left(self):
        self.assert_ids("SELECT contact_id FROM contact", [2, 3, 4, 5])

    def test_persons_left(self):
        self.assert_ids("SELECT person_id FROM person",
                        [3, 6, 7, 8, 9, 10, 11, 12, 13])

    def test_activities_left(self):
        self.assert_ids("SELECT appointment_id FROM appointment", [2, 3])

    def test_activity_sale_cleared(self):
        self.assert_ids("SELECT appointment_id FROM appointment "
                        "WHERE sale_id IS NULL", [2, 3])

    def test_documents_deleted(self):
        self.assert_ids("SELECT document_id FROM document", [])

    def test_sale_kept_with_null_person(self):
        rows = lt.query(self.db, "SELECT sale_id, contact_id, person_id "
                                 "FROM sale ORDER BY sale_id")
        self.assertEqual(rows, [(2, 4, None)],
                         f"sales: expected [(2, 4, None)], got {rows}")

    def test_consents_left(self):
        self.assert_ids("SELECT consentperson_id FROM consentperson", [3, 4])

    def test_emails_left(self):
        self.assert_ids("SELECT email_id FROM email", [2])

    def test_users_kept(self):
        self.assert_ids("SELECT person_id FROM associate", [3, 9])

    def test_nomailing_set(self):
        self.assert_ids("SELECT person_id FROM person WHERE nomailing = 1",
                        [3, 6, 12])

    def test_block_emarketing_set(self):
        self.assert_ids("SELECT person_id FROM person "
                        "WHERE blockEmarketing = 1", [13])

    def test_title_cleared(self):
        self.assert_ids("SELECT person_id FROM person WHERE title IS NOT NULL",
                        [10, 12])

    def test_foreign_keys_hold(self):
        problems = lt.foreign_key_problems(self.db)
        self.assertEqual(problems, [],
                         f"PRAGMA foreign_key_check: expected no rows, got "
                         f"{problems}")

    def test_full_text_index_follows(self):
        # Deleted activity descriptions must leave the full-text index too.
        matches = lt.query_ids(
            self.db, "SELECT rowid FROM appointment_fts "
                     "WHERE appointment_fts MATCH 'renewal OR introduction'")
        self.assertEqual(matches, [],
                         f"index matches for deleted text: expected [], got "
                         f"{matches}")

    def test_second_plan_changes_nothing(self):
        result = lt.run_lethe("plan", self.policy, "--db", self.db, "--now",
                              lt.FIXTURE_NOW, "--json")
        self.assert_exit(result, 0)
        totals = result.json()["totals"]
        self.assertEqual(totals, [],
                         f"totals of the second plan: expected [], got "
                         f"{totals}")


if __name__ == "__main__":
    unittest.main()
