"""End-to-end tests of selection criteria through the lethe command.

The fixture is built by `lethe init` plus SQL written here. Expected ids
come from Python: case folding with str.casefold and Unicode
normalisation (an implementation independent of utf8proc), date reading
with datetime, and hand counts stated next to each test.
"""

import csv
import datetime
import io
import os
import re
import unicodedata
import unittest

import lethe_testing as lt

NOW = "2019-10-15T10:00:00Z"

# Names chosen for case folding and wildcards: capitals with accents,
# Nordic letters, the German sharp s, Greek sigma in all three forms, a
# decomposed accent (e + combining acute), a ligature, and "%" and "_".
NAMES = [
    (1, "Émile", "Zola"),
    (2, "émile", "ØSTERGAARD"),
    (3, "EMILE", "Straße"),
    (4, "e\u0301mile", "ΟΔΥΣΣΕΥΣ"),
    (5, "Sophia", "100% sure"),
    (6, "Σοφία", "100 percent"),
    (7, "Ola", "a_b"),
    (8, "Kari", "axb"),
    (9, "Åse", "østergaard-ærø"),
    (10, "Leo", "\ufb01ne"),
    (11, "Zoë", "οδυσσευς"),
    (12, "Ugo", None),
]

# Registration dates in mixed ISO forms, and two that are not dates.
REGISTERED = {
    1: "2019-10-14T09:00:00Z",
    2: "2019-10-01",
    3: "2019-09-30 23:30:00",
    4: "2019-10-15T23:30:00-02:00",
    5: "2019-04-01 00:00:00",
    6: "2019-03-31T23:59:59Z",
    7: "2016-10-15",
    8: "not a date",
    9: "2019-02-30",
    10: "2019-11-30T12:00:00+01:00",
    11: "2019-10-15 09:59:59.5",
    12: "2018-01-01",
}


def fold(text):
    """NFKC_Casefold as Python's standard library spells it."""
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", text).casefold())


def parse_instant(text):
    """The UTC instant of a stored date, or None when it is not one of the
    ISO-8601 forms Lethe reads."""
    pattern = (r"\d{4}-\d{2}-\d{2}"
               r"([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
    if not isinstance(text, str) or not re.fullmatch(pattern, text):
        return None
    value = text.replace(" ", "T", 1)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def make_fixture(path):
    result = lt.run_lethe("init", path)
    if result.returncode != 0:
        raise AssertionError(result.describe())
    connection = lt.connect(path)
    try:
        for person_id, firstname, lastname in NAMES:
            connection.execute(
                "INSERT INTO person (person_id, firstname, lastname, "
                "registered) VALUES (?, ?, ?, ?)",
                (person_id, firstname, lastname, REGISTERED[person_id]))
        connection.execute(
            "INSERT INTO appointment (appointment_id, person_id, type, "
            "status, activeDate, registered) VALUES "
            "(1, 1, 1, 3, '2019-10-01', '2019-10-01'), "
            "(2, 3, 1, 3, 'garbage', '2019-10-01'), "
            "(3, 3, 1, 3, '2019-09-15', '2019-10-01')")
    finally:
        connection.close()
    return path


class CriteriaCase(lt.LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        cls.db = make_fixture(os.path.join(cls.folder, "crm.db"))

    def policy(self, criteria, name="pick"):
        """Write a policy with one keep rule over `criteria` (Lua text of a
        :where argument list) and return its path."""
        text = (f'policy {{ name = "criteria", model = "crm" }}\n'
                f'local person = entity "person"\n'
                f'rule "{name}" {{\n'
                f'  select = person:where({criteria}),\n'
                f'  action = keep(),\n'
                f'}}\n')
        return lt.write_file(self.folder, "policy.lua", text)

    def selected_ids(self, criteria):
        """The ids the rule over `criteria` selects, read from an export."""
        result = lt.run_lethe("export", self.policy(criteria), "--db",
                              self.db, "--rule", "pick", "--fields", "id",
                              "--now", NOW)
        self.assert_exit(result, 0)
        rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
        self.assertEqual(rows[0], ["id"])
        return [int(row[0]) for row in rows[1:]]


class UnicodeTextTest(CriteriaCase):
    """Text operators fold case over all of Unicode and read % and _ as
    themselves; the oracle folds with Python's own Unicode tables."""

    def expect(self, field, operator, value):
        column = 2 if field == "lastname" else 1
        test = {
            "=": lambda stored, wanted: stored == wanted,
            "<>": lambda stored, wanted: stored != wanted,
            "contains": lambda stored, wanted: wanted in stored,
            "begins with": lambda stored, wanted: stored.startswith(wanted),
            "ends with": lambda stored, wanted: stored.endswith(wanted),
        }[operator]
        return [row[0] for row in NAMES
                if row[column] is not None
                and test(fold(row[column]), fold(value))]

    def test_text_operators_fold_case(self):
        cases = [
            ("lastname", "=", "østergaard"),
            ("lastname", "=", "STRASSE"),
            ("lastname", "=", "οδυσσευσ"),
            ("lastname", "contains", "ΣΣ"),
            ("lastname", "ends with", "ς"),
            ("lastname", "begins with", "ØSTER"),
            ("lastname", "contains", "FI"),
            ("lastname", "contains", "%"),
            ("lastname", "contains", "_"),
            ("lastname", "begins with", "100%"),
            ("lastname", "<>", "zola"),
            ("firstname", "=", "ÉMILE"),
            ("firstname", "begins with", "É"),
            ("firstname", "=", "ΣΟΦΊΑ"),
            ("firstname", "ends with", "Ë"),
        ]
        for field, operator, value in cases:
            with self.subTest(field=field, operator=operator, value=value):
                criteria = '{ "%s", "%s", "%s" }' % (field, operator, value)
                self.assertEqual(self.selected_ids(criteria),
                                 self.expect(field, operator, value))

    def test_oracle_agrees_with_hand_counts(self):
        # The oracle itself, checked by hand: Straße and strasse fold
        # alike, as do the three sigmas; e + U+0301 composes to é.
        self.assertEqual(self.expect("lastname", "=", "STRASSE"), [3])
        self.assertEqual(self.expect("lastname", "=", "οδυσσευσ"), [4, 11])
        self.assertEqual(self.expect("firstname", "=", "ÉMILE"), [1, 2, 4])
        self.assertEqual(self.expect("lastname", "contains", "_"), [7])

    def test_is_exactly_compares_bytes(self):
        self.assertEqual(
            self.selected_ids('{ "firstname", "is exactly", "émile" }'), [2])

    def test_negations_skip_null(self):
        # Person 12 has no last name: neither "contains" nor "not
        # contains" selects it.
        with_a = self.selected_ids('{ "lastname", "contains", "a" }')
        without_a = self.selected_ids('{ "lastname", "not contains", "a" }')
        self.assertNotIn(12, with_a + without_a)
        self.assertEqual(sorted(with_a + without_a), list(range(1, 12)))


class DateTest(CriteriaCase):
    """Relative periods resolve to whole calendar days, the plan prints
    the ranges, and unreadable dates are counted per field."""

    def test_plan_shows_resolved_ranges(self):
        policy = self.policy(
            '{ "registered", "previous", 14, "days" }, '
            '{ "registered", "previous", 2, "weeks" }, '
            '{ "registered", "previous", 6, "months" }, '
            '{ "registered", "this and previous", 3, "weeks" }, '
            '{ "registered", "next", 1, "month" }')
        result = lt.run_lethe("plan", policy, "--db", self.db, "--now", NOW)
        self.assert_exit(result, 0)
        for line in [
                "criterion: registered previous 14 days: 2019-10-01 to "
                "2019-10-14",
                "criterion: registered previous 2 weeks: 2019-09-30 to "
                "2019-10-13",
                "criterion: registered previous 6 months: 2019-04-01 to "
                "2019-09-30",
                "criterion: registered this and previous 3 weeks: "
                "2019-09-23 to 2019-10-20",
                "criterion: registered next 1 month: 2019-11-01 to "
                "2019-11-30"]:
            self.assertIn(line, result.stdout)

    def in_days(self, first, last):
        """Ids whose registration falls on the UTC days first..last."""
        low = datetime.datetime.fromisoformat(first + "T00:00:00+00:00")
        high = (datetime.datetime.fromisoformat(last + "T00:00:00+00:00")
                + datetime.timedelta(days=1))
        return [person_id for person_id, text in sorted(REGISTERED.items())
                if parse_instant(text) is not None
                and low <= parse_instant(text) < high]

    def test_relative_periods_select_their_days(self):
        cases = [
            ('"previous", 14, "days"', "2019-10-01", "2019-10-14"),
            ('"previous", 2, "weeks"', "2019-09-30", "2019-10-13"),
            ('"previous", 6, "months"', "2019-04-01", "2019-09-30"),
            ('"this and previous", 3, "weeks"', "2019-09-23", "2019-10-20"),
            ('"next", 1, "month"', "2019-11-01", "2019-11-30"),
            ('"this", "quarter"', "2019-10-01", "2019-12-31"),
            ('"today"', "2019-10-15", "2019-10-15"),
        ]
        for operator, first, last in cases:
            with self.subTest(operator=operator):
                self.assertEqual(
                    self.selected_ids('{ "registered", %s }' % operator),
                    self.in_days(first, last))

    def test_unreadable_dates_are_counted(self):
        policy = self.policy('{ "registered", "before today" }, '
                             '{ "activities", "last", "activeDate", '
                             '"not empty" }')
        result = lt.run_lethe("plan", policy, "--db", self.db, "--now", NOW,
                              "--json")
        self.assert_exit(result, 0)
        rule = lt.rule_by_name(result.json(), "pick")
        expected_persons = sum(1 for text in REGISTERED.values()
                               if parse_instant(text) is None)
        expected_activities = sum(
            1 for (text,) in lt.query(self.db,
                                      "SELECT activeDate FROM appointment")
            if parse_instant(text) is None)
        self.assertEqual(
            [(item["entity"], item["field"], item["rows"])
             for item in rule["unreadable_dates"]],
            [("person", "registered", expected_persons),
             ("activity", "activeDate", expected_activities)])
        self.assertEqual((expected_persons, expected_activities), (2, 1))
        text = lt.run_lethe("plan", policy, "--db", self.db, "--now", NOW)
        self.assertIn("unreadable dates: 2 rows of person.registered hold "
                      "text that is not a date", text.stdout)

    def test_unreadable_dates_never_match(self):
        selected = (self.selected_ids('{ "registered", "before today" }')
                    + self.selected_ids('{ "registered", "not empty" }'))
        self.assertIn(8, selected)
        self.assertNotIn(8, self.selected_ids(
            '{ "registered", "before today" }'))
        self.assertNotIn(9, self.selected_ids(
            '{ "registered", "after", "2000-01-01" }'))


class ExportTest(CriteriaCase):
    """CSV as RFC 4180 defines it: quoted fields, doubled quotes, CRLF."""

    def test_quoting_and_line_ends(self):
        lt.execute(self.db, "UPDATE person SET title = ? WHERE person_id = 1",
                   ('Chief, "Boss"\r\nof all',))
        self.addCleanup(lt.execute, self.db,
                        "UPDATE person SET title = NULL WHERE person_id = 1")
        output = os.path.join(self.folder, "out.csv")
        result = lt.run_lethe("export", self.policy('{ "lastname", "=", '
                                                    '"zola" }'),
                              "--db", self.db, "--rule", "pick", "--fields",
                              "id,firstname,title,registered", "-o", output,
                              "--now", NOW)
        self.assert_exit(result, 0)
        self.assertEqual(result.stdout, "")
        with open(output, "rb") as file:
            data = file.read()
        self.assertEqual(
            data,
            'id,firstname,title,registered\r\n'
            '1,Émile,"Chief, ""Boss""\r\nof all",2019-10-14T09:00:00Z\r\n'
            .encode("utf-8"))

    def test_unknown_field_writes_nothing(self):
        output = os.path.join(self.folder, "none.csv")
        result = lt.run_lethe("export", self.policy('{ "lastname", "=", '
                                                    '"zola" }'),
                              "--db", self.db, "--rule", "pick", "--fields",
                              "id,lastnme", "-o", output, "--now", NOW)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "lastnme", "did you mean")
        self.assertFalse(os.path.exists(output))

    def test_unknown_rule_is_usage_error(self):
        result = lt.run_lethe("export", self.policy('{ "lastname", "=", '
                                                    '"zola" }'),
                              "--db", self.db, "--rule", "pik")
        self.assert_exit(result, 2)
        self.assert_stderr_contains(result, "did you mean 'pick'")


class ExplainTest(CriteriaCase):

    def test_text_lists_each_criterion(self):
        policy = self.policy('{ { "registered", "previous", 2, "weeks" }, '
                             '{ "lastname", "contains", "SS" }, '
                             '{ "activities", "count", ">=", 2 } }')
        result = lt.run_lethe("explain", policy, "--db", self.db, "--rule",
                              "pick", "--id", 3, "--now", NOW)
        self.assert_exit(result, 0)
        lines = result.stdout.splitlines()
        self.assertIn('  yes   {"registered", "previous", 2, "weeks"}',
                      lines)
        self.assertIn("        resolved: registered previous 2 weeks: "
                      "2019-09-30 to 2019-10-13", lines)
        self.assertIn('  yes   {"lastname", "contains", "SS"}', lines)
        self.assertIn('  yes   {"activities", "count", ">=", 2}', lines)
        self.assertIn("        value: 2", lines)
        self.assertIn("The rule's selection contains this record; no "
                      "earlier rule on the same entity selects it.", lines)

    def test_json_and_missing_record(self):
        policy = self.policy('{ "lastname", "contains", "SS" }')
        result = lt.run_lethe("explain", policy, "--db", self.db, "--rule",
                              "pick", "--id", 1, "--json", "--now", NOW)
        self.assert_exit(result, 0)
        document = result.json()
        self.assertEqual(document["selected"], False)
        self.assertEqual(document["selection"]["groups"][0][0]["held"],
                         False)
        missing = lt.run_lethe("explain", policy, "--db", self.db, "--rule",
                               "pick", "--id", 999, "--now", NOW)
        self.assert_exit(missing, 1)
        self.assertIn("No person has id 999.", missing.stdout)


    def test_bad_id_is_usage_error(self):
        policy = self.policy('{ "lastname", "contains", "SS" }')
        for text in ("99999999999", "-1", "1e3", "0x10", "3.5"):
            with self.subTest(id=text):
                result = lt.run_lethe("explain", policy, "--db", self.db,
                                      "--rule", "pick", "--id", text)
                self.assert_exit(result, 2)
                self.assert_stderr_contains(
                    result, "--id must be a whole number from 0 to "
                    f"4294967295, not '{text}'")


class MistakeTest(CriteriaCase):

    def test_bad_criteria_name_the_line(self):
        cases = [
            ('{ "registered", "previous", 2, "fortnights" }',
             'unknown unit "fortnights"'),
            ('{ "lastname", "begins", "x" }',
             "operator 'begins' does not apply to text field 'lastname'"),
            ('{ "activities", "count", ">=", "three" }',
             'expected an integer value, not "three"'),
            ('{ "lastnam", "=", "x" }', "did you mean 'lastname'"),
        ]
        for criteria, message in cases:
            with self.subTest(criteria=criteria):
                result = lt.run_lethe("plan", self.policy(criteria), "--db",
                                      self.db, "--now", NOW)
                self.assert_exit(result, 1)
                self.assert_stderr_contains(result, "policy.lua:4:",
                                            message)


if __name__ == "__main__":
    unittest.main()
