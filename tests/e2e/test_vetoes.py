"""Vetoes: records that a delete rule selects but must keep. Each veto is
reported in `--json` with its reason and count, and the vetoed rows are
still there after the apply.

On the guard fixture (see guard_helpers), with these holds and guards:

- hold "court case" on person 7, no end;
- hold "tax audit" on person 8 until 2030-01-01 (after GUARD_NOW: active);
- hold "expired" on person 11 until 2020-01-01 (before GUARD_NOW: over);
- hold "mistake" on person 13, removed again with `lethe hold remove`;
- hold "disputed call" on activity 3, which belongs to person 12;
- policy guard "VIP customer" (where title = VIP) on persons: person 10;
- policy guard "royal warrant" (a check function) on companies: company 5.

Rule "delete lost companies" selects companies 1, 2, 4 and 5. Company 2
would take person 3, a CRM user, company 4 would take the held person 7,
and company 5 has the royal warrant: only company 1 goes, with persons 1
and 2. Person 4 of company 2 stays with its company.

Rule "delete prospects" selects persons 8 to 20. Person 8 is held, 9 is
a CRM user, 10 a VIP, and person 12 would take the held activity 3. The
other nine (11 and 13 to 20) go.
"""

import os
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


VETO_POLICY = f"""\
policy {{ name = "vetoes", model = "crm", {gh.WIDE_CAPS} }}
local person = entity "person"
local company = entity "company"

guard "vip" {{
  entity = person,
  reason = "VIP customer",
  where = {{ "title", "=", "VIP" }},
}}

guard "royal" {{
  entity = company,
  reason = "royal warrant",
  check = function(row) return row.name:find("Royal") ~= nil end,
}}

rule "delete lost companies" {{
  select = company:where {{ {{ "category", "=", "Lost customer" }} }},
  action = delete(),
}}

rule "delete prospects" {{
  select = person:where {{ {{ "category", "=", "Prospect" }} }},
  action = delete(),
}}
"""

USER_REASON = "is a CRM user (associate)"


def hold(db, *arguments):
    result = gh.run("hold", *arguments, "--db", db)
    if result.returncode != 0:
        raise AssertionError("lethe hold failed:\n" + result.describe())
    return result


class VetoTest(lt.LetheTestCase):
    """The veto policy planned and applied once on one fixture."""

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("guard", folder)
        hold(cls.db, "add", "person", "7", "--reason", "court case")
        hold(cls.db, "add", "person", "8", "--reason", "tax audit",
             "--until", "2030-01-01")
        hold(cls.db, "add", "person", "11", "--reason", "expired", "--until",
             "2020-01-01")
        hold(cls.db, "add", "person", "13", "--reason", "mistake")
        hold(cls.db, "add", "activity", "3", "--reason", "disputed call")
        cls.listed_before = hold(cls.db, "list").stdout
        mistake = lt.scalar(cls.db, "SELECT hold_id FROM lethe_hold WHERE "
                            "reason = 'mistake'")
        hold(cls.db, "remove", str(mistake))
        cls.listed_after = hold(cls.db, "list").stdout
        cls.policy = lt.write_file(folder, "vetoes.lua", VETO_POLICY)
        cls.plan = gh.plan_json(cls.policy, cls.db, "--samples", "50")
        cls.result = gh.apply_policy(cls.policy, cls.db,
                                     cls.plan["short_digest"], "--json")
        cls.applied = cls.result.json() if cls.result.returncode == 0 \
            else None

    def setUp(self):
        self.assert_exit(self.result, 0)

    def vetoes(self, rule_name, plan=None):
        return gh.vetoes_by_reason(lt.rule_by_name(plan or self.plan,
                                                   rule_name))

    def assert_ids(self, sql, expected):
        actual = lt.query_ids(self.db, sql)
        self.assertEqual(actual, expected,
                         f"{sql}: expected {expected}, got {actual}")

    def test_company_vetoes(self):
        expected = {
            f"would delete a person that is vetoed ({USER_REASON})": 1,
            "would delete a person that is vetoed (legal hold: court case)":
                1,
            "royal warrant": 1,
        }
        actual = self.vetoes("delete lost companies")
        self.assertEqual(actual, expected,
                         f"vetoes: expected {expected}, got {actual}")

    def test_person_vetoes(self):
        expected = {
            USER_REASON: 1,
            "VIP customer": 1,
            "legal hold: tax audit (until 2030-01-01 23:59:59)": 1,
            "would delete a activity that is vetoed (legal hold: disputed "
            "call)": 1,
        }
        actual = self.vetoes("delete prospects")
        self.assertEqual(actual, expected,
                         f"vetoes: expected {expected}, got {actual}")

    def test_veto_samples(self):
        expected = {"VIP customer": [10], USER_REASON: [9],
                    "legal hold: tax audit (until 2030-01-01 23:59:59)": [8]}
        rule = lt.rule_by_name(self.plan, "delete prospects")
        for reason, ids in expected.items():
            actual = lt.veto_ids(rule, reason)
            self.assertEqual(actual, ids,
                             f"samples of {reason!r}: expected {ids}, got "
                             f"{actual}")

    def test_apply_reports_same_vetoes(self):
        for name in ("delete lost companies", "delete prospects"):
            expected = self.vetoes(name)
            actual = self.vetoes(name, self.applied)
            self.assertEqual(actual, expected,
                             f"vetoes of {name!r} in apply --json: expected "
                             f"{expected}, got {actual}")

    def test_acting_counts(self):
        for name, expected in (("delete lost companies", 1),
                               ("delete prospects", 9)):
            actual = lt.rule_by_name(self.plan, name)["acting"]
            self.assertEqual(actual, expected,
                             f"acting of {name!r}: expected {expected}, got "
                             f"{actual}")

    def test_vetoed_companies_kept(self):
        self.assert_ids("SELECT contact_id FROM contact", [2, 3, 4, 5])

    def test_vetoed_persons_kept(self):
        self.assert_ids("SELECT person_id FROM person",
                        [3, 4, 5, 6, 7, 8, 9, 10, 12])

    def test_held_activity_kept(self):
        self.assert_ids("SELECT appointment_id FROM appointment WHERE "
                        "person_id = 12", [3])

    def test_hold_list_shows_holds(self):
        lines = [line.split("\t") for line in
                 self.listed_before.strip().splitlines()]
        listed = sorted((fields[1], fields[2], fields[3], fields[4])
                        for fields in lines)
        expected = sorted([
            ("person", "7", "court case", "no end"),
            ("person", "8", "tax audit", "2030-01-01 23:59:59"),
            ("person", "11", "expired", "2020-01-01 23:59:59"),
            ("person", "13", "mistake", "no end"),
            ("activity", "3", "disputed call", "no end"),
        ])
        self.assertEqual(listed, expected,
                         f"hold list: expected {expected}, got {listed}")

    def test_removed_hold_not_listed(self):
        self.assertNotIn("mistake", self.listed_after,
                         f"hold list after remove:\n{self.listed_after}")

    def test_foreign_keys_hold(self):
        problems = lt.foreign_key_problems(self.db)
        self.assertEqual(problems, [],
                         f"foreign_key_check: expected none, got {problems}")


class HeldUpdateTest(lt.LetheTestCase):
    """An update rule leaves a held record alone too."""

    def test_held_person_not_updated(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        hold(db, "add", "person", "11", "--reason", "frozen file")
        policy = lt.write_file(folder, "update.lua", """\
policy { name = "no mailing", model = "crm" }
local person = entity "person"
rule "no mailing for prospects" {
  select = person:where { { "lastname", "one of",
                            { "Prospect11", "Prospect12" } } },
  action = update { nomailing = true },
}
""")
        plan = gh.plan_json(policy, db)
        vetoes = gh.vetoes_by_reason(plan["rules"][0])
        self.assertEqual(vetoes, {"legal hold: frozen file": 1},
                         f"vetoes: expected one hold, got {vetoes}")
        result = gh.apply_policy(policy, db, plan["short_digest"])
        self.assert_exit(result, 0)
        updated = lt.query_ids(db, "SELECT person_id FROM person WHERE "
                               "nomailing = 1")
        self.assertEqual(updated, [12],
                         f"persons with nomailing: expected [12], got "
                         f"{updated}")


class RestrictLinkTest(lt.LetheTestCase):
    """A restrict link without a reason of its own vetoes with a reason
    that names the child table's entity."""

    def test_restrict_reason_and_count(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        source = os.path.join(lt.environment_path("LETHE_SOURCE_DIR"),
                              "scripts", "models", "crm.lua")
        with open(source, encoding="utf-8") as file:
            text = file.read()
        original = ('on_delete = "restrict", reverse = "users",\n'
                    '                   reason = "is a CRM user (associate)"')
        self.assertIn(original, text, "the crm model's user link changed; "
                      "update this test")
        model = lt.write_file(folder, "crm_plain.lua", text.replace(
            original, 'on_delete = "restrict", reverse = "users"'))
        policy = lt.write_file(folder, "users.lua", f"""\
policy {{ name = "users", {gh.WIDE_CAPS} }}
local person = entity "person"
rule "delete prospects" {{
  select = person:where {{ {{ "category", "=", "Prospect" }} }},
  action = delete(),
}}
""")
        plan = gh.plan_json(policy, db, "--model", model)
        vetoes = gh.vetoes_by_reason(plan["rules"][0])
        expected = {"has user rows, which restrict deletion": 1}
        self.assertEqual(vetoes, expected,
                         f"vetoes: expected {expected}, got {vetoes}")
        result = gh.run("apply", policy, "--db", db, "--model", model,
                        "--now", gh.GUARD_NOW, "--as", gh.USER, "--yes",
                        plan["short_digest"])
        self.assert_exit(result, 0)
        kept = lt.query_ids(db, "SELECT person_id FROM person WHERE "
                            "category_idx = 1")
        self.assertEqual(kept, [9], f"prospects left: expected [9] (the "
                         f"CRM user), got {kept}")


class GuardMistakeTest(lt.LetheTestCase):
    """A guard whose check function reads a misspelled field must fail,
    not read nil and veto nothing."""

    def test_check_unknown_field_fails(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        policy = lt.write_file(folder, "typo.lua", f"""\
policy {{ name = "typo", model = "crm", {gh.WIDE_CAPS} }}
local person = entity "person"
guard "vip" {{
  entity = person,
  reason = "VIP customer",
  check = function(row) return row.titel == "VIP" end,
}}
rule "delete prospects" {{
  select = person:where {{ {{ "category", "=", "Prospect" }} }},
  action = delete(),
}}
""")
        result = gh.run("plan", policy, "--db", db, "--now", gh.GUARD_NOW)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "titel")


if __name__ == "__main__":
    unittest.main()
