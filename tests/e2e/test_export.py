"""Export before delete: `--export rows.json` and `--export rows.csv`
write exactly the rows that the apply deletes, and the CSV files quote
as RFC 4180 specifies.

Person 31, added to the guard fixture, has a last name with a comma, a
double quote and a line feed. The policy deletes persons 12 and 31:
person 12 takes activity 3 and e-mail 2, person 31 its e-mail 31.
"""

import csv
import json
import os
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


AWKWARD = 'O"Neil, Jr.\nsecond line'

EXTRA_SQL = """
INSERT INTO person (person_id, firstname, lastname, category_idx, registered)
VALUES (31, 'Vic', ?, 1, '2015-01-01 00:00:00');
"""

POLICY = """\
policy { name = "export", model = "crm" }
local person = entity "person"
rule "delete two persons" {
  select = person:where { { "firstname", "one of", { "Lou", "Vic" } } },
  action = delete(),
}
"""

# The deleted rows by table, as SQL on the database before the apply.
DELETED_SQL = {
    "person": "SELECT * FROM person WHERE person_id IN (12, 31)",
    "appointment": "SELECT * FROM appointment WHERE appointment_id = 3",
    "email": "SELECT * FROM email WHERE email_id IN (2, 31)",
}


def make_database(folder):
    db = templates.copy("guard", folder)
    connection = lt.connect(db)
    try:
        connection.execute(EXTRA_SQL, (AWKWARD,))
        connection.execute("INSERT INTO email (email_id, person_id, address) "
                           "VALUES (31, 31, 'vic@example.org')")
    finally:
        connection.close()
    return db


def expected_rows(db):
    """{table: (columns, rows as dicts)} of the rows the apply deletes."""
    connection = lt.connect(db)
    try:
        expected = {}
        for table, sql in DELETED_SQL.items():
            cursor = connection.execute(sql)
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
            expected[table] = (columns, rows)
        return expected
    finally:
        connection.close()


class ExportCase(lt.LetheTestCase):
    """Apply with --export to a path ending in `suffix`."""

    suffix = None

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        cls.out = os.path.join(cls.folder, "out")
        os.mkdir(cls.out)
        cls.db = make_database(cls.folder)
        cls.expected = expected_rows(cls.db)
        policy = lt.write_file(cls.folder, "export.lua", POLICY)
        cls.digest = gh.plan_json(policy, cls.db)["short_digest"]
        cls.policy = policy
        target = os.path.join(cls.out, "rows" + cls.suffix)
        cls.result = gh.apply_policy(policy, cls.db, cls.digest, "--export",
                                     target)

    def setUp(self):
        self.assert_exit(self.result, 0)

    def test_rows_deleted(self):
        for table, sql in DELETED_SQL.items():
            left = lt.query(self.db, sql)
            self.assertEqual(left, [], f"{table} rows left: {left}")


class JsonExportTest(ExportCase):
    suffix = ".json"

    def test_only_one_file(self):
        files = sorted(os.listdir(self.out))
        self.assertEqual(files, ["rows.json"],
                         f"files written: expected ['rows.json'], got {files}")

    def test_rows_exact(self):
        with open(os.path.join(self.out, "rows.json"), encoding="utf-8") as f:
            document = json.load(f)
        self.assertEqual(sorted(document), sorted(self.expected),
                         f"tables: expected {sorted(self.expected)}, got "
                         f"{sorted(document)}")
        for table, (columns, rows) in self.expected.items():
            exported = [{column: row.get(column) for column in columns}
                        for row in document.get(table, [])]
            key = columns[0]
            with self.subTest(table=table):
                self.assertEqual(
                    sorted(exported, key=lambda row: row[key]),
                    sorted(rows, key=lambda row: row[key]))


class CsvExportTest(ExportCase):
    suffix = ".csv"

    def read(self, table):
        path = os.path.join(self.out, f"rows-{table}.csv")
        with open(path, "rb") as file:
            return file.read()

    def test_one_file_per_table(self):
        files = sorted(os.listdir(self.out))
        expected = sorted(f"rows-{table}.csv" for table in self.expected)
        self.assertEqual(files, expected,
                         f"files written: expected {expected}, got {files}")

    def test_rows_exact(self):
        for table, (columns, rows) in self.expected.items():
            with self.subTest(table=table):
                text = self.read(table).decode("utf-8")
                records = list(csv.reader(text.splitlines(keepends=True)))
                self.assertEqual(records[0], columns)
                expected_records = sorted(
                    [["" if row[column] is None else str(row[column])
                      for column in columns] for row in rows])
                self.assertEqual(sorted(records[1:]), expected_records)

    def test_quoting(self):
        raw = self.read("person")
        quoted = b'"O""Neil, Jr.\nsecond line"'
        self.assertIn(quoted, raw, f"expected the field quoted as "
                      f"{quoted!r} in\n{raw!r}")

    def test_crlf_records(self):
        raw = self.read("person")
        records = raw.split(b"\r\n")
        self.assertEqual(records[-1], b"", "the file does not end in CRLF")
        self.assertEqual(len(records), 4,
                         f"records: expected a header and 2 rows ending in "
                         f"CRLF, got {records}")


class RejectedExportTest(lt.LetheTestCase):
    """A rejected apply writes no export."""

    def test_no_file_when_rejected(self):
        folder = lt.temporary_folder(self)
        db = make_database(folder)
        policy = lt.write_file(folder, "export.lua", POLICY)
        result = gh.apply_policy(policy, db, "0123456789abcdef", "--export",
                                 os.path.join(folder, "rows.json"))
        self.assert_exit(result, 1)
        self.assertFalse(os.path.exists(os.path.join(folder, "rows.json")),
                         "the rejected apply wrote rows.json")


del ExportCase

if __name__ == "__main__":
    unittest.main()
