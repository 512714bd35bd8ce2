"""The bundled contact_format plugin: plain C functions through libffi,
called from Lua and used by a bulk update."""

import unittest

from lethe_testing import plan_digest, query
from plugin_testing import (FIXTURE_NOW, LetheTestCase, bundled_dir,
                            crm_database, repl_lines, run, temporary_folder,
                            write_file)

PHONES = [
    ("06 12345678", "31", "+31612345678"),
    ("+31 (0)6 1234 5678", "31", "+31612345678"),
    ("0031 6-12345678", "31", "+31612345678"),
    ("020-555 1234", "31", "+31205551234"),
    ("(020) 555.12.34", "31", "+31205551234"),
    ("+44 20 7946 0958", "31", "+442079460958"),
    ("030 1234567", "49", "+49301234567"),
    ("612345678", "31", "+31612345678"),
    ("+1 555 123 4567 890 12", "31", None),
    ("12", "31", None),
    ("06-abc", "31", None),
    ("", "31", None),
    ("0612345678", "0", None),
    ("0612345678", "3a", None),
]

EMAILS = [
    ("ann@old.example", True),
    ("a.b+tag@mail.sub.example.org", True),
    ("o'brien@example.ie", True),
    ("ann", False),
    ("ann@example", False),
    ("a..b@example.org", False),
    (".ann@example.org", False),
    ("ann.@example.org", False),
    ("ann@-example.org", False),
    ("ann@example.o", False),
    ("ann@example.123", False),
    ("zoë@example.org", False),
    ("ann@@example.org", False),
    ("ann@exa mple.org", False),
    ("", False),
]

# Phone numbers for the bulk update: (id, stored, expected afterwards).
PHONE_ROWS = [
    (1, "06 12345678", "+31612345678"),
    (2, "+31 (0)20 555 1234", "+31205551234"),
    (3, "not a number", "not a number"),
    (4, "+31612345678", "+31612345678"),
]

FIXTURE_SQL = """
INSERT INTO person (person_id, firstname, lastname, registered) VALUES
  (1, 'Ann', 'One', '2020-01-01'), (2, 'Bob', 'Two', '2020-01-01');
""" + "".join(
    f"INSERT INTO phone (phone_id, person_id, number) VALUES "
    f"({phone_id}, 1, '{number}');\n" for phone_id, number, _ in PHONE_ROWS
) + """
INSERT INTO email (email_id, person_id, address) VALUES
  (1, 1, 'ann@one.example'), (2, 1, 'ann@@one.example'),
  (3, 2, 'bob@two'), (4, 2, 'bob@two.example');
"""

POLICY = """
policy { name = "contact formats", model = "crm" }
local contact = plugin "contact_format"

rule "phone numbers in E.164" {
  select = entity "phone":all(),
  action = update { number = field_action(contact.phone_e164, "31") },
}

rule "invalid e-mail addresses" {
  select = entity "email":where {
    function(row) return not contact.email_valid(row.address) end },
  action = delete(),
  max = { share = 1 },
}
"""


class ContactFormatTest(LetheTestCase):

    def setUp(self):
        self.db = crm_database(self, FIXTURE_SQL)
        self.policy = write_file(temporary_folder(self), "contact.lua",
                                 POLICY)

    def repl(self, lines):
        script = 'c = plugin "contact_format"\n' + "\n".join(lines) + "\n"
        return run("repl", "--db", self.db, "--plugin-dir", bundled_dir(),
                   stdin=script)

    def test_phone_e164_from_lua(self):
        result = self.repl([
            f"print('phone {index}', tostring(c.phone_e164({number!r}, "
            f"{code!r})))" for index, (number, code, _) in enumerate(PHONES)])
        values = repl_lines(result)
        for index, (number, code, expected) in enumerate(PHONES):
            with self.subTest(number=number, country_code=code):
                self.assertEqual(values.get(f"phone {index}"),
                                 expected or "nil", result.describe())

    def test_email_valid_from_lua(self):
        result = self.repl([
            f"print('email {index}', tostring(c.email_valid({address!r})))"
            for index, (address, _) in enumerate(EMAILS)])
        values = repl_lines(result)
        for index, (address, expected) in enumerate(EMAILS):
            with self.subTest(address=address):
                self.assertEqual(values.get(f"email {index}"),
                                 str(expected).lower(), result.describe())

    def test_bulk_update_and_delete_applied(self):
        arguments = [self.policy, "--db", self.db, "--now", FIXTURE_NOW,
                     "--plugin-dir", bundled_dir()]
        planned = run("plan", *arguments)
        self.assert_exit(planned, 0)
        self.assertIn("number via contact_format.phone_e164(\"31\")",
                      planned.stdout)
        self.assert_exit(run("grant", "tester", "update", "--db", self.db),
                         0)
        self.assert_exit(run("grant", "tester", "delete", "--db", self.db),
                         0)
        applied = run("apply", *arguments, "--as", "tester", "--yes",
                      plan_digest(planned.stdout))
        self.assert_exit(applied, 0)
        numbers = dict(query(self.db, "SELECT phone_id, number FROM phone"))
        for phone_id, stored, expected in PHONE_ROWS:
            with self.subTest(phone=stored):
                self.assertEqual(numbers[phone_id], expected)
        emails = [row[0] for row in query(
            self.db, "SELECT email_id FROM email ORDER BY 1")]
        self.assertEqual(emails, [1, 4])

    def test_function_rejected_for_wrong_field_type(self):
        policy = write_file(temporary_folder(self), "wrong_field.lua", """
local contact = plugin "contact_format"
rule "x" {
  select = entity "person":all(),
  action = update { nomailing = field_action(contact.phone_e164, "31") },
}
""")
        result = run("plan", policy, "--db", self.db, "--now", FIXTURE_NOW,
                     "--plugin-dir", bundled_dir())
        self.assert_exit(result, 1)
        self.assert_stderr_contains(
            result, "wrong_field.lua:", "contact_format.phone_e164 does not "
            "apply to boolean field nomailing")


if __name__ == "__main__":
    unittest.main()
