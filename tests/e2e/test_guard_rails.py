"""Attempts to get past the checks that `lethe apply` makes before it
changes a row: rights, confirmation, a database that moved since the plan,
selections that came out of a mistake, whole-table deletes and caps.

Every rejected attempt must leave the database file byte for byte as it
was, with the same row count in every table. The guard fixture and its
hand counts are described in guard_helpers.
"""

import os
import pty
import subprocess
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


def person_policy(lastnames, header="", rule_options="", name="delete them"):
    """A policy with one delete rule on the persons with these last
    names; `header` adds keys to policy { }, `rule_options` to the rule."""
    names = ", ".join(f'"{lastname}"' for lastname in lastnames)
    return f"""\
policy {{ name = "guard test", model = "crm", {header} }}
local person = entity "person"
rule "{name}" {{
  select = person:where {{ {{ "lastname", "one of", {{ {names} }} }} }},
  action = delete(),
  {rule_options}
}}
"""


def prospects(*numbers):
    """Last names of the private prospects with these person ids."""
    return [f"Prospect{number:02d}" for number in numbers]


class GuardCase(lt.LetheTestCase):
    """A fresh copy of the guard fixture for every test."""

    def setUp(self):
        self.folder = lt.temporary_folder(self)
        self.db = templates.copy("guard", self.folder)

    def write_policy(self, text, name="policy.lua"):
        return lt.write_file(self.folder, name, text)

    def digest(self, policy):
        return gh.plan_json(policy, self.db)["short_digest"]

    def snapshot(self):
        return lt.file_digest(self.db), lt.row_counts(self.db)

    def assert_rejected(self, result, before, *message_parts):
        """Exit status 1, the message parts, and no change at all."""
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, *message_parts)
        self.assert_unchanged(self.db, before[0], result)
        counts = lt.row_counts(self.db)
        self.assertEqual(counts, before[1],
                         f"row counts: expected {before[1]}, got {counts}")

    def assert_persons(self, expected_missing):
        """The persons gone are exactly `expected_missing`."""
        remaining = lt.query_ids(self.db, "SELECT person_id FROM person")
        missing = sorted(set(range(1, 21)) - set(remaining))
        self.assertEqual(missing, sorted(expected_missing),
                         f"deleted persons: expected {expected_missing}, "
                         f"got {missing}")


class RightsTest(GuardCase):
    """Only a user holding the right may apply."""

    def setUp(self):
        super().setUp()
        self.policy = self.write_policy(person_policy(prospects(11, 12)))

    def apply_as(self, user):
        return gh.run("apply", self.policy, "--db", self.db, "--now",
                      gh.GUARD_NOW, "--as", user, "--yes",
                      self.digest(self.policy))

    def test_holder_applies(self):
        result = self.apply_as(gh.USER)
        self.assert_exit(result, 0)
        self.assert_persons([11, 12])

    def test_no_right_rejected(self):
        before = self.snapshot()
        self.assert_rejected(self.apply_as("mallory"), before,
                             "user mallory does not hold the delete right")

    def test_revoked_right_rejected(self):
        revoked = gh.run("revoke", gh.USER, "delete", "--db", self.db)
        self.assert_exit(revoked, 0)
        before = self.snapshot()
        self.assert_rejected(self.apply_as(gh.USER), before,
                             f"user {gh.USER} does not hold the delete right")

    def test_update_right_not_enough(self):
        granted = gh.run("grant", "editor", "update", "--db", self.db)
        self.assert_exit(granted, 0)
        before = self.snapshot()
        self.assert_rejected(self.apply_as("editor"), before,
                             "user editor does not hold the delete right")

    def test_delete_right_not_enough(self):
        granted = gh.run("grant", "remover", "delete", "--db", self.db)
        self.assert_exit(granted, 0)
        policy = self.write_policy("""\
policy { name = "update", model = "crm" }
local person = entity "person"
rule "no mailing" {
  select = person:where { { "lastname", "=", "Prospect11" } },
  action = update { nomailing = true },
}
""", "update.lua")
        before = self.snapshot()
        result = gh.run("apply", policy, "--db", self.db, "--now",
                        gh.GUARD_NOW, "--as", "remover", "--yes",
                        self.digest(policy))
        self.assert_rejected(result, before,
                             "user remover does not hold the update right")

    def test_user_name_case_matters(self):
        before = self.snapshot()
        self.assert_rejected(self.apply_as(gh.USER.upper()), before,
                             "does not hold the delete right")


class ConfirmationTest(GuardCase):
    """Apply runs only after the plan digest was confirmed."""

    def setUp(self):
        super().setUp()
        self.policy = self.write_policy(person_policy(prospects(11, 12)))
        self.expected = self.digest(self.policy)

    def apply(self, *extra, stdin=None):
        return gh.run("apply", self.policy, "--db", self.db, "--now",
                      gh.GUARD_NOW, "--as", gh.USER, *extra, stdin=stdin)

    def test_wrong_digest_rejected(self):
        before = self.snapshot()
        self.assert_rejected(self.apply("--yes", "0123456789abcdef"), before,
                             "does not match the plan digest")

    def test_digest_prefix_rejected(self):
        before = self.snapshot()
        self.assert_rejected(self.apply("--yes", self.expected[:8]), before,
                             "does not match the plan digest")

    def test_other_plan_digest_rejected(self):
        other = self.write_policy(person_policy(prospects(13)), "other.lua")
        before = self.snapshot()
        self.assert_rejected(self.apply("--yes", self.digest(other)), before,
                             "does not match the plan digest")

    def test_no_terminal_rejected(self):
        before = self.snapshot()
        self.assert_rejected(self.apply(), before,
                             "apply needs confirmation")

    def test_piped_digest_rejected(self):
        before = self.snapshot()
        self.assert_rejected(self.apply(stdin=self.expected + "\n"), before,
                             "apply needs confirmation")

    def run_at_terminal(self, typed):
        """Apply with standard input on a pseudo-terminal that receives
        `typed`, and return (exit status, standard error)."""
        master, slave = pty.openpty()
        try:
            process = subprocess.Popen(
                [lt.lethe_binary(), "apply", self.policy, "--db", self.db,
                 "--now", gh.GUARD_NOW, "--as", gh.USER],
                stdin=slave, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True,
                env={**os.environ, "NO_COLOR": "1"})
            os.write(master, typed.encode())
            _, stderr = process.communicate(timeout=60)
            return process.returncode, stderr
        finally:
            os.close(master)
            os.close(slave)

    def test_prompt_right_digest_applies(self):
        status, stderr = self.run_at_terminal(self.expected + "\n")
        self.assertEqual(status, 0, f"exit status: expected 0, got {status}"
                         f"\n{stderr}")
        self.assert_persons([11, 12])

    def test_prompt_wrong_digest_rejected(self):
        before = self.snapshot()
        status, stderr = self.run_at_terminal("0123456789abcdef\n")
        self.assertEqual(status, 1, f"exit status: expected 1, got {status}"
                         f"\n{stderr}")
        self.assertIn("does not match the plan digest", stderr)
        self.assert_unchanged(self.db, before[0])

    def test_prompt_enter_cancels(self):
        before = self.snapshot()
        status, stderr = self.run_at_terminal("\n")
        self.assertEqual(status, 1, f"exit status: expected 1, got {status}"
                         f"\n{stderr}")
        self.assertIn("cancelled", stderr)
        self.assert_unchanged(self.db, before[0])


class DriftTest(GuardCase):
    """A digest confirmed for one state of the database does not apply to
    another."""

    def setUp(self):
        super().setUp()
        self.policy = self.write_policy(person_policy(
            prospects(11, 12, 13), header=gh.WIDE_CAPS))
        self.old_digest = self.digest(self.policy)

    def apply_old(self):
        return gh.apply_policy(self.policy, self.db, self.old_digest)

    def test_new_match_rejected(self):
        lt.execute(self.db, "INSERT INTO person (person_id, lastname, "
                   "category_idx, registered) VALUES (21, 'Prospect13', 1, "
                   "'2015-01-01 00:00:00')")
        before = self.snapshot()
        self.assert_rejected(self.apply_old(), before,
                             "does not match the plan digest")

    def test_removed_row_rejected(self):
        lt.execute(self.db, "DELETE FROM person WHERE person_id = 13")
        before = self.snapshot()
        self.assert_rejected(self.apply_old(), before,
                             "does not match the plan digest")

    def test_grown_cascade_rejected(self):
        lt.execute(self.db, "INSERT INTO email (email_id, person_id, "
                   "address) VALUES (9, 11, 'kit@prospect.example')")
        before = self.snapshot()
        self.assert_rejected(self.apply_old(), before,
                             "does not match the plan digest")

    def test_new_hold_rejected(self):
        held = gh.run("hold", "add", "person", "12", "--reason", "audit",
                      "--db", self.db)
        self.assert_exit(held, 0)
        before = self.snapshot()
        self.assert_rejected(self.apply_old(), before,
                             "does not match the plan digest")


class MistakenSelectionTest(GuardCase):
    """A selection that came out of a mistake never deletes anything."""

    cases = {
        "empty criteria": ("person:where {}", "empty criteria"),
        "unknown field": ('person:where { { "lastnme", "=", "Prospect11" } }',
                          "unknown field 'lastnme'"),
        "select raises": ('(function() error("no selection today") end)()',
                          "no selection today"),
        "empty text value": ('person:where { { "lastname", "=", "" } }',
                             "the value is empty"),
        "unknown lookup value": (
            'person:where { { "category", "=", "Prospects" } }',
            "is not a value of category"),
        "criterion function raises": (
            'person:where { { function(row) error("bad row") end } }',
            "bad row"),
        "error as selection": (
            '(select(2, pcall(person.where, person, '
            '{ { "lastnme", "=", "x" } })))',
            "select must be a selection"),
        "nil selection": ("nil", "select must be a selection"),
    }

    def policy_text(self, select):
        return f"""\
policy {{ name = "mistake", model = "crm", {gh.WIDE_CAPS} }}
local person = entity "person"
rule "delete by mistake" {{
  select = {select},
  action = delete(),
}}
"""

    def test_apply_rejected(self):
        for case, (select, message) in self.cases.items():
            with self.subTest(case=case):
                policy = self.write_policy(self.policy_text(select))
                before = self.snapshot()
                result = gh.apply_policy(policy, self.db, "0123456789abcdef")
                self.assert_rejected(result, before, message)

    def test_plan_fails(self):
        for case, (select, message) in self.cases.items():
            with self.subTest(case=case):
                policy = self.write_policy(self.policy_text(select))
                result = gh.run("plan", policy, "--db", self.db, "--now",
                                gh.GUARD_NOW)
                self.assert_exit(result, 1)
                self.assert_stderr_contains(result, message)

    def test_criterion_unknown_row_field(self):
        # A Lua criterion that reads a misspelled field must fail like
        # an unknown field in a table criterion, not read nil and select
        # every row whose real last name differs.
        policy = self.write_policy(self.policy_text(
            'person:where { { "category", "=", "Prospect" }, '
            '{ function(row) return row.lastnme ~= "Prospect08" end } }'))
        result = gh.run("plan", policy, "--db", self.db, "--now",
                        gh.GUARD_NOW)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "lastnme")


class WholeTableTest(GuardCase):
    """Emptying a table takes delete_all() and --all-rows ENTITY."""

    def email_policy(self, select, action, header=""):
        return self.write_policy(f"""\
policy {{ name = "emails", model = "crm", {header} }}
local email = entity "email"
rule "drop e-mail addresses" {{
  select = {select},
  action = {action},
}}
""")

    def test_plain_delete_all_rows_stops(self):
        policy = self.email_policy("email:all()", "delete()")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, self.digest(policy))
        self.assert_rejected(result, before, "would delete every row of email")

    def test_all_share_cap_still_stops(self):
        policy = self.email_policy(
            "email:all()", "delete()",
            "max_per_rule = { share = 1 }, max_per_run = { share = 1 }")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, self.digest(policy))
        self.assert_rejected(result, before, "would delete every row of email")

    def test_two_rules_empty_table_stop(self):
        # Each rule deletes part of the e-mail table; together they delete
        # all three rows with plain delete() actions.
        policy = self.write_policy("""\
policy { name = "emails", model = "crm",
         max_per_rule = { share = 1 }, max_per_run = { share = 1 } }
local email = entity "email"
rule "first" {
  select = email:where { { "address", "begins with", "amy" } },
  action = delete(),
}
rule "second" {
  select = email:where { { "address", "ends with", ".example" } },
  action = delete(),
}
""")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, self.digest(policy))
        self.assert_rejected(result, before, "every row of email")

    def test_delete_all_needs_flag(self):
        policy = self.email_policy("email:all()", "delete_all()")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, self.digest(policy))
        self.assert_rejected(result, before, "--all-rows email")

    def test_delete_all_wrong_entity(self):
        policy = self.email_policy("email:all()", "delete_all()")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, self.digest(policy),
                                 "--all-rows", "person")
        self.assert_rejected(result, before, "--all-rows email")

    def test_delete_all_flag_wrong_digest(self):
        policy = self.email_policy("email:all()", "delete_all()")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, "0123456789abcdef",
                                 "--all-rows", "email")
        self.assert_rejected(result, before, "does not match the plan digest")

    def test_delete_all_part_stops(self):
        policy = self.email_policy(
            'email:where { { "address", "ends with", "prospect.example" } }',
            "delete_all()")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, self.digest(policy),
                                 "--all-rows", "email")
        self.assert_rejected(result, before, "would delete 1 of 3 email rows")

    def test_delete_all_empties_table(self):
        policy = self.email_policy("email:all()", "delete_all()")
        counts = lt.row_counts(self.db)
        result = gh.apply_policy(policy, self.db, self.digest(policy),
                                 "--all-rows", "email")
        self.assert_exit(result, 0)
        emails = lt.scalar(self.db, "SELECT count(*) FROM email")
        self.assertEqual(emails, 0, f"e-mail rows left: expected 0, got "
                         f"{emails}")
        after = lt.row_counts(self.db)
        others = {name: rows for name, rows in after.items()
                  if name != "email" and not name.startswith("lethe_")}
        expected = {name: rows for name, rows in counts.items()
                    if name != "email" and not name.startswith("lethe_")}
        self.assertEqual(others, expected,
                         f"other tables: expected {expected}, got {others}")


class CapTest(GuardCase):
    """Caps on deleted rows per rule and per run, each exceeded by a known
    number of rows and each met exactly. The person table has 20 rows."""

    def check_exceeded(self, text, message):
        policy = self.write_policy(text)
        plan = gh.plan_json(policy, self.db)
        problems = plan["problems"]
        self.assertTrue(any(message in problem for problem in problems),
                        f"expected a problem containing {message!r}, got "
                        f"{problems}")
        before = self.snapshot()
        result = gh.apply_policy(policy, self.db, plan["short_digest"])
        self.assert_rejected(result, before, message)

    def check_met(self, text, deleted):
        policy = self.write_policy(text)
        plan = gh.plan_json(policy, self.db)
        self.assertEqual(plan["problems"], [],
                         f"problems: expected none, got {plan['problems']}")
        result = gh.apply_policy(policy, self.db, plan["short_digest"])
        self.assert_exit(result, 0)
        self.assert_persons(deleted)

    def test_rule_rows_exceeded(self):
        self.check_exceeded(
            person_policy(prospects(11, 12, 13, 14, 15),
                          rule_options="max = { rows = 3 },"),
            "would delete 5 person rows; its cap is 3 rows, exceeded by 2")

    def test_rule_rows_met(self):
        self.check_met(person_policy(prospects(11, 12, 13),
                                     rule_options="max = { rows = 3 },"),
                       [11, 12, 13])

    def test_rule_share_exceeded(self):
        # 25 % of 20 persons is 5.
        self.check_exceeded(
            person_policy(prospects(11, 12, 13, 14, 15, 16, 17),
                          header="max_per_rule = { share = 0.25 }"),
            "would delete 7 of 20 person rows (35.0%); its cap is 25% "
            "(5 rows), exceeded by 2")

    def test_rule_share_met(self):
        self.check_met(person_policy(prospects(11, 12, 13, 14, 15),
                                     header="max_per_rule = { share = 0.25 }"),
                       [11, 12, 13, 14, 15])

    def two_rules(self, first, second):
        return f"""\
policy {{ name = "run cap", model = "crm", max_per_run = {{ rows = 6 }} }}
local person = entity "person"
rule "first" {{
  select = person:where {{ {{ "lastname", "one of", {{ {first} }} }} }},
  action = delete(),
}}
rule "second" {{
  select = person:where {{ {{ "lastname", "one of", {{ {second} }} }} }},
  action = delete(),
}}
"""

    @staticmethod
    def names(*numbers):
        return ", ".join(f'"{name}"' for name in prospects(*numbers))

    def test_run_rows_exceeded(self):
        self.check_exceeded(
            self.two_rules(self.names(11, 12, 13, 14),
                           self.names(15, 16, 17, 18)),
            "the run would delete 8 person rows; its cap is 6 rows, "
            "exceeded by 2")

    def test_run_rows_met(self):
        self.check_met(self.two_rules(self.names(11, 12, 13),
                                      self.names(14, 15, 16)),
                       [11, 12, 13, 14, 15, 16])

    def test_default_cap_exceeded(self):
        # Half of 20 persons is 10; the rule takes 11.
        self.check_exceeded(
            person_policy(prospects(8, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                                    19)),
            "would delete 11 of 20 person rows (55.0%); its cap is 50% "
            "(10 rows), exceeded by 1")

    def test_default_cap_met(self):
        self.check_met(
            person_policy(prospects(10, 11, 12, 13, 14, 15, 16, 17, 18, 19)),
            [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])

    def test_default_run_cap_exceeded(self):
        # Each rule takes 6 persons, under half of the table; together
        # they take 12, two more than half.
        text = self.two_rules(self.names(8, 10, 11, 12, 13, 14),
                              self.names(15, 16, 17, 18, 19, 20))
        text = text.replace(", max_per_run = { rows = 6 }", "")
        self.check_exceeded(
            text, "the run would delete 12 of 20 person rows (60.0%); its "
            "cap is 50% (10 rows), exceeded by 2")


class OnlyTest(GuardCase):
    """--rule and --only act on no record outside the rule's selection."""

    def test_only_outside_selection_ignored(self):
        policy = self.write_policy(person_policy(prospects(11, 12)))
        arguments = ("apply", policy, "--db", self.db, "--now", gh.GUARD_NOW,
                     "--as", gh.USER, "--rule", "delete them", "--only",
                     "11,5,3")
        preview = gh.run(*arguments)
        self.assert_exit(preview, 1)
        self.assertIn("--only: 2 of the given ids are not this rule's to act "
                      "on, so nothing happens to them: 3, 5", preview.stdout)
        result = gh.run(*arguments, "--yes", lt.plan_digest(preview.stdout))
        self.assert_exit(result, 0)
        self.assert_persons([11])


class DigestSpacesTest(GuardCase):

    def test_digest_with_spaces_accepted(self):
        policy = self.write_policy(person_policy(prospects(11)))
        digest = self.digest(policy)
        result = gh.run("apply", policy, "--db", self.db, "--now",
                        gh.GUARD_NOW, "--as", gh.USER, "--yes",
                        f" {digest}\t")
        self.assert_exit(result, 0)
        self.assert_persons([11])


class RuleRestrictTest(GuardCase):
    """--rule NAME acts only on what that rule takes in the whole policy:
    a record that an earlier keep() rule decides stays."""

    POLICY = f"""\
policy {{ name = "keep first", model = "crm" }}
local person = entity "person"
rule "keep some" {{
  select = person:where {{ {{ "lastname", "one of", {{ "Prospect11",
    "Prospect12" }} }} }},
  action = keep(),
}}
rule "delete them" {{
  select = person:where {{ {{ "lastname", "one of", {{ "Prospect11",
    "Prospect12", "Prospect13", "Prospect14" }} }} }},
  action = delete(),
}}
"""

    def test_earlier_keep_protects(self):
        policy = self.write_policy(self.POLICY)
        arguments = ("apply", policy, "--db", self.db, "--now", gh.GUARD_NOW,
                     "--as", gh.USER, "--rule", "delete them")
        preview = gh.run(*arguments)
        self.assert_exit(preview, 1)
        self.assertIn("selected: 2 person records (2 more were taken by "
                      "earlier rules)", preview.stdout)
        self.assertIn("selected: 0 person records (2 more are left out by "
                      "--rule or --only)", preview.stdout)
        result = gh.run(*arguments, "--yes", lt.plan_digest(preview.stdout))
        self.assert_exit(result, 0)
        self.assert_persons([13, 14])

    def test_only_earlier_kept_ignored(self):
        policy = self.write_policy(self.POLICY)
        arguments = ("apply", policy, "--db", self.db, "--now", gh.GUARD_NOW,
                     "--as", gh.USER, "--rule", "delete them", "--only",
                     "11,13")
        preview = gh.run(*arguments)
        self.assert_exit(preview, 1)
        self.assertIn("--only: 1 of the given ids are not this rule's to act "
                      "on, so nothing happens to them: 11", preview.stdout)
        result = gh.run(*arguments, "--yes", lt.plan_digest(preview.stdout))
        self.assert_exit(result, 0)
        self.assert_persons([13])


if __name__ == "__main__":
    unittest.main()
