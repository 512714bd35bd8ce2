"""Bulk updates and anonymisation through the real lethe binary, on a
hand-built CRM fixture. Every expected value is written out by hand."""

import os
import signal
import sqlite3
import subprocess
import tempfile
import shutil
import time
import unittest

import lethe_testing as lt

NOW = "2024-06-30"
USER = "updater"

FIXTURE = """
INSERT INTO contact (contact_id, name, category_idx, registered)
VALUES (1, 'Acme BV', 2, '2015-01-01'), (2, 'Beta AS', 2, '2015-01-01');
INSERT INTO person (person_id, contact_id, firstname, lastname, title,
                    category_idx, registered, nomailing, birthyear)
VALUES (1, 1, 'Anna', 'de Vries', 'sales manager', 1, '2015-01-01', 0, 1980),
       (2, 1, 'Bram', 'Jansen', 'CEO', 1, '2015-01-01', 1, 1975),
       (3, NULL, 'Cato', 'van Dijk', NULL, 1, '2015-01-01', 0, NULL),
       (4, 2, 'Dirk', 'Smit', 'manager', 2, '2015-01-01', 0, 1990);
INSERT INTO sale (sale_id, contact_id, person_id, saledate, status,
                  registered)
VALUES (1, 1, 1, '2020-01-01', 2, '2020-01-01');
INSERT INTO appointment (appointment_id, contact_id, person_id, type, status,
                         activeDate, description, registered)
VALUES (1, 1, 1, 1, 3, '2020-01-01', 'met Anna', '2020-01-01');
INSERT INTO consentperson (person_id, consentpurpose_id, legalbase_id,
                           consentsource_id, registered)
VALUES (1, 2, 1, 1, '2015-01-01'), (2, 1, 2, 1, '2015-01-01');
"""


class UpdateCase(lt.LetheTestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="lethe-updates-")
        self.db = os.path.join(self.folder, "crm.db")
        result = lt.run_lethe("init", self.db)
        self.assertEqual(result.returncode, 0, result.describe())
        connection = sqlite3.connect(self.db)
        connection.executescript(FIXTURE)
        connection.commit()
        connection.close()
        for right in ("update", "delete"):
            lt.run_lethe("grant", USER, right, "--db", self.db)

    def tearDown(self):
        shutil.rmtree(self.folder)

    def policy(self, select, action, name="edit", header=""):
        text = (f'policy {{ model = "crm", max_per_rule = {{ share = 1 }},'
                f' {header} }}\nlocal person = entity "person"\n'
                f'local company = entity "company"\n'
                f'rule "{name}" {{ select = {select}, action = {action} }}\n')
        return lt.write_file(self.folder, "policy.lua", text)

    def apply(self, policy, *extra):
        plan = lt.run_lethe("plan", policy, "--db", self.db, "--now", NOW,
                            "--json", *extra)
        self.assertEqual(plan.returncode, 0, plan.describe())
        digest = plan.json()["short_digest"]
        return lt.run_lethe("apply", policy, "--db", self.db, "--now", NOW,
                            "--as", USER, "--yes", digest, *extra)

    def column(self, sql):
        return [row[0] for row in lt.query(self.db, sql)]


class FieldActions(UpdateCase):
    def test_set_value(self):
        result = self.apply(self.policy("person:all()",
                                        'update { title = "owner" }'))
        self.assertEqual(result.returncode, 0, result.describe())
        self.assertEqual(self.column(
            "SELECT title FROM person ORDER BY person_id"), ["owner"] * 4)

    def test_clear(self):
        self.apply(self.policy("person:all()", "update { title = clear() }"))
        self.assertEqual(self.column(
            "SELECT title FROM person ORDER BY person_id"), [None] * 4)

    def test_clear_not_null_fails(self):
        before = lt.file_digest(self.db)
        result = lt.run_lethe("plan", self.policy(
            "person:all()", "update { registered = clear() }"),
            "--db", self.db, "--now", NOW)
        self.assertEqual(result.returncode, 1)
        self.assertIn("NOT NULL", result.stderr)
        self.assertEqual(lt.file_digest(self.db), before)

    def test_check_and_toggle(self):
        self.apply(self.policy(
            'person:where { { "firstname", "one of", { "Anna", "Bram" } } }',
            "update { nomailing = toggle(), blockEmarketing = check() }"))
        self.assertEqual(self.column(
            "SELECT nomailing FROM person ORDER BY person_id"), [1, 0, 0, 0])
        self.assertEqual(self.column(
            "SELECT blockEmarketing FROM person ORDER BY person_id"),
            [1, 1, 0, 0])

    def test_replace_whole_word(self):
        self.apply(self.policy("person:all()", 'update { title = replace('
                               '"manager", "lead", { whole_word = true }) }'))
        self.assertEqual(self.column(
            "SELECT title FROM person ORDER BY person_id"),
            ["sales lead", "CEO", None, "lead"])

    def test_replace_case_sensitive(self):
        self.apply(self.policy("person:all()", 'update { title = replace('
                               '"ceo", "chief", { case_sensitive = true }) }'))
        self.assertEqual(self.column(
            "SELECT title FROM person WHERE person_id = 2"), ["CEO"])

    def test_replace_ignoring_case(self):
        self.apply(self.policy("person:all()",
                               'update { title = replace("ceo", "chief") }'))
        self.assertEqual(self.column(
            "SELECT title FROM person WHERE person_id = 2"), ["chief"])

    def test_regex_replace_groups(self):
        self.apply(self.policy("person:all()", 'update { lastname = '
                               'regex_replace("^(de|van) ", "\\\\1_") }'))
        self.assertEqual(self.column(
            "SELECT lastname FROM person ORDER BY person_id"),
            ["de_Vries", "Jansen", "van_Dijk", "Smit"])

    def test_invalid_regex_names_policy_line(self):
        result = lt.run_lethe("plan", self.policy(
            "person:all()", 'update { lastname = regex_replace("(", "") }'),
            "--db", self.db, "--now", NOW)
        self.assertEqual(result.returncode, 1)
        self.assertIn("policy.lua:4", result.stderr)
        self.assertIn("invalid pattern", result.stderr)

    def test_add_and_remove_list_values(self):
        lt.execute(self.db, "UPDATE person SET title = 'golf;tennis'")
        self.apply(self.policy("person:all()", 'update { title = '
                               'add_value("chess") }'))
        self.assertEqual(self.column(
            "SELECT DISTINCT title FROM person"), ["golf;tennis;chess"])
        self.apply(self.policy("person:all()", 'update { title = '
                               'remove_value("tennis") }'))
        self.assertEqual(self.column(
            "SELECT DISTINCT title FROM person"), ["golf;chess"])

    def test_increment_keeps_null(self):
        self.apply(self.policy("person:all()",
                               "update { birthyear = increment(2) }"))
        self.assertEqual(self.column(
            "SELECT birthyear FROM person ORDER BY person_id"),
            [1982, 1977, None, 1992])

    def test_switched_off_action_does_nothing(self):
        self.apply(self.policy("person:all()", 'update { title = "x", '
                               'nomailing = off(check()) }'))
        self.assertEqual(self.column(
            "SELECT nomailing FROM person ORDER BY person_id"), [0, 1, 0, 0])

    def test_consent_updates_and_inserts(self):
        self.apply(self.policy(
            'person:where { { "firstname", "one of", { "Anna", "Bram" } } }',
            'update { consent { purpose = "EMARKETING", '
            'legal_basis = "WITHDRAWN", source = "USER" } }'))
        rows = lt.query(self.db, "SELECT person_id, consentpurpose_id, "
                        "legalbase_id FROM consentperson ORDER BY person_id, "
                        "consentpurpose_id")
        # Person 1's EMARKETING consent is withdrawn (legal base 5); person
        # 2 gets a new EMARKETING row and keeps its STORE row.
        self.assertEqual(rows, [(1, 2, 5), (2, 1, 2), (2, 2, 5)])

    def test_withdraw_skips_persons_without_consent(self):
        plan = lt.run_lethe("plan", self.policy(
            "person:all()", 'update { withdraw_consent("EMARKETING") }'),
            "--db", self.db, "--now", NOW, "--json")
        rule = plan.json()["rules"][0]
        self.assertEqual(rule["skips"][0]["count"], 3)
        self.assertIn("no EMARKETING consent", rule["skips"][0]["reason"])

    def test_preview_shows_before_and_after(self):
        plan = lt.run_lethe("plan", self.policy(
            'person:where { { "firstname", "=", "Dirk" } }',
            'update { title = "boss" }'), "--db", self.db, "--now", NOW)
        self.assertIn('#4: title "manager" -> "boss"', plan.stdout)

    def test_trigger_rejection_skips_row(self):
        lt.execute(self.db, "CREATE TRIGGER keep_ceo BEFORE UPDATE OF title "
                   "ON person WHEN old.title = 'CEO' BEGIN SELECT "
                   "RAISE(ABORT, 'the CEO title is protected'); END")
        result = self.apply(self.policy("person:all()",
                                        'update { title = "staff" }'))
        self.assertEqual(result.returncode, 0, result.describe())
        self.assertIn("Skipped person #2", result.stderr)
        self.assertIn("the CEO title is protected", result.stderr)
        self.assertIn("Updated 3 rows, skipped 1.", result.stderr)
        self.assertEqual(self.column(
            "SELECT title FROM person ORDER BY person_id"),
            ["staff", "CEO", "staff", "staff"])
        counts = lt.scalar(self.db, "SELECT counts FROM lethe_audit")
        self.assertIn('"person:update:skipped":1', counts)

    def test_company_update_leaves_children(self):
        def crm_counts():
            return {name: count for name, count in
                    lt.row_counts(self.db).items()
                    if not name.startswith("lethe_")}
        before = crm_counts()
        persons = lt.query(self.db, "SELECT * FROM person ORDER BY 1")
        self.apply(self.policy("company:all()",
                               "update { nomailing = true }"))
        self.assertEqual(crm_counts(), before)
        self.assertEqual(lt.query(self.db, "SELECT * FROM person ORDER BY 1"),
                         persons)
        self.assertEqual(self.column("SELECT nomailing FROM contact"), [1, 1])

    def test_update_needs_update_right(self):
        lt.run_lethe("revoke", USER, "update", "--db", self.db)
        before = lt.file_digest(self.db)
        result = self.apply(self.policy("person:all()",
                                        'update { title = "x" }'))
        self.assertEqual(result.returncode, 1)
        self.assertIn("does not hold the update right", result.stderr)
        self.assertEqual(lt.file_digest(self.db), before)


class Anonymisation(UpdateCase):
    def key_file(self, name, text):
        return lt.write_file(self.folder, name, text)

    def hash_names(self, key_text):
        shutil.copy(self.db, self.db + ".copy")
        key = self.key_file("key-" + key_text[:4], key_text)
        policy = self.policy("person:all()",
                             'anonymise { firstname = "hash" }')
        result = self.apply(policy, "--key-file", key)
        self.assertEqual(result.returncode, 0, result.describe())
        names = self.column("SELECT firstname FROM person ORDER BY person_id")
        output = result.stdout + result.stderr
        shutil.copy(self.db + ".copy", self.db)
        return names, output

    def test_hash_same_input_same_output(self):
        lt.execute(self.db, "UPDATE person SET firstname = 'Anna'")
        names, _ = self.hash_names("k" * 32)
        self.assertEqual(len(set(names)), 1)
        self.assertEqual(len(names[0]), 32)

    def test_hash_differs_across_keys(self):
        first, _ = self.hash_names("a" * 32)
        second, _ = self.hash_names("b" * 32)
        self.assertNotEqual(first, second)

    def test_key_never_shown_or_stored(self):
        secret = "SecretKeyValue-0123456789abcdef"
        _, output = self.hash_names(secret)
        self.assertNotIn(secret, output)
        shutil.copy(self.db, self.db + ".check")
        key = self.key_file("key-secret", secret)
        self.apply(self.policy("person:all()",
                               'anonymise { firstname = "hash" }'),
                   "--key-file", key)
        for path in (self.db, self.db + "-wal", self.db + "-journal"):
            if os.path.exists(path):
                with open(path, "rb") as file:
                    self.assertNotIn(secret.encode(), file.read())

    def test_hash_without_key_fails_unchanged(self):
        before = lt.file_digest(self.db)
        result = self.apply(self.policy("person:all()",
                                        'anonymise { firstname = "hash" }'))
        self.assertEqual(result.returncode, 1)
        self.assertIn("needs a key", result.stderr)
        self.assertEqual(lt.file_digest(self.db), before)

    def test_random_keeps_shape(self):
        self.apply(self.policy('person:where { { "firstname", "=", "Anna" } }',
                               'anonymise { lastname = "random" }'))
        name = self.column("SELECT lastname FROM person WHERE person_id = 1")
        self.assertRegex(name[0], r"^[a-z]{2} [A-Z][a-z]{4}$")
        self.assertNotEqual(name[0], "de Vries")

    def test_default_keeps_sales(self):
        self.apply(self.policy('person:where { { "firstname", "=", "Anna" } }',
                               "anonymise()"))
        row = lt.query(self.db, "SELECT firstname, lastname, birthyear FROM "
                       "person WHERE person_id = 1")
        self.assertEqual(row, [(None, None, None)])
        self.assertEqual(lt.scalar(self.db, "SELECT person_id FROM sale"), 1)


class AuditVerify(UpdateCase):
    def test_verify_intact_and_tampered(self):
        self.apply(self.policy("person:all()", 'update { title = "x" }'))
        result = lt.run_lethe("audit", "--db", self.db, "--verify")
        self.assertEqual(result.returncode, 0, result.describe())
        self.assertEqual(result.stdout,
                         "Audit trail verified: 1 records, chain intact.\n")
        lt.execute(self.db, "DELETE FROM lethe_audit")
        result = lt.run_lethe("audit", "--db", self.db, "--verify")
        self.assertEqual(result.returncode, 1)
        self.assertIn("records were removed", result.stderr)


class RightsInput(UpdateCase):
    def test_empty_user_rejected(self):
        result = lt.run_lethe("grant", "", "delete", "--db", self.db)
        self.assertEqual(result.returncode, 2)
        self.assertIn("the user name is empty", result.stderr)
        self.assertEqual(lt.scalar(self.db, "SELECT count(*) FROM "
                                   "lethe_right WHERE user = ''"), 0)


class Concurrency(UpdateCase):
    def test_two_writers_both_count(self):
        lt.execute(self.db, "UPDATE person SET birthyear = 100")
        policy = self.policy("person:all()",
                             "update { birthyear = increment(1) }")
        plan = lt.run_lethe("plan", policy, "--db", self.db, "--now", NOW,
                            "--json")
        digest = plan.json()["short_digest"]
        command = [lt.lethe_binary(), "apply", policy, "--db", self.db,
                   "--now", NOW, "--as", USER, "--yes", digest]
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        outputs = [run.communicate(timeout=60) for run in runs]
        for run, (_, stderr) in zip(runs, outputs):
            self.assertEqual(run.returncode, 0, stderr)
            self.assertNotIn("locked", stderr)
        self.assertEqual(self.column("SELECT DISTINCT birthyear FROM person"),
                         [102])


class InterruptedBatches(UpdateCase):
    def test_sigint_stops_at_batch_boundary(self):
        connection = sqlite3.connect(self.db)
        connection.executemany(
            "INSERT INTO person (person_id, firstname, registered, "
            "category_idx, birthyear) VALUES (?, 'P', '2015-01-01', 1, 1)",
            [(i,) for i in range(10, 4010)])
        connection.commit()
        connection.close()
        policy = self.policy("person:all()",
                             "update { birthyear = increment(1) }")
        plan = lt.run_lethe("plan", policy, "--db", self.db, "--now", NOW,
                            "--json")
        digest = plan.json()["short_digest"]
        run = subprocess.Popen(
            [lt.lethe_binary(), "apply", policy, "--db", self.db, "--now",
             NOW, "--as", USER, "--yes", digest, "--batch-size", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
        self.assertEqual(run.returncode, 1, stderr)
        self.assertIn("Stopped after", stderr)
        done = lt.scalar(self.db, "SELECT done_rows FROM lethe_run")
        # The fixture's persons 1, 2 and 4 come first in id order (person
        # 3 has no birth year, so nothing changes for it).
        changed = lt.scalar(self.db, "SELECT count(*) FROM person WHERE "
                            "(birthyear = 2 AND person_id >= 10) OR "
                            "birthyear IN (1981, 1976, 1991)")
        self.assertEqual(done, changed)
        self.assertIn(f"Stopped after {done} of", stderr)
        self.assertEqual(lt.query(self.db, "PRAGMA integrity_check"),
                         [("ok",)])


if __name__ == "__main__":
    unittest.main()
