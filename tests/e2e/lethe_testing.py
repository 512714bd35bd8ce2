"""Shared helpers for the end-to-end tests of the lethe command.

The tests read three environment variables, which ctest sets:

- LETHE: path of the lethe binary under test.
- LETHE_SOURCE_DIR: the source checkout.
- LETHE_SHARED_DATA: the folder with the sakila/ and northwind/ SQL files.

Every database a test touches is a temporary file. Expected values come
from SQL written in the tests or from hand counts on the CRM fixture below,
never from lethe's own output.
"""

import atexit
import calendar
import dataclasses
import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest


def environment_path(name):
    """Return the path in environment variable `name`, or raise."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"environment variable {name} is not set; run the end-to-end "
            "tests through ctest, or set LETHE, LETHE_SOURCE_DIR and "
            "LETHE_SHARED_DATA")
    return value


def lethe_binary():
    return environment_path("LETHE")


def shared_data(*parts):
    """Return the path of a sample-data file, or raise naming the folder
    and how to choose another one."""
    folder = environment_path("LETHE_SHARED_DATA")
    path = os.path.join(folder, *parts)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"sample data file {path} is missing: the Sakila and Northwind "
            f"tests read the SQL files in {folder}; put the shared/data "
            "folder there, or configure the build with "
            "-DLETHE_SHARED_DATA=FOLDER")
    return path


# Running lethe -------------------------------------------------------------


@dataclasses.dataclass
class Result:
    """The outcome of one lethe run. `returncode` is None after a timeout."""

    arguments: list
    returncode: object
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool

    def describe(self, limit=2000):
        """Return the command, its exit status and output, for messages."""
        status = (f"timed out after {self.elapsed:.1f} s" if self.timed_out
                  else f"exited with {self.returncode}")
        return (f"lethe {' '.join(self.arguments)} {status}\n"
                f"stdout:\n{self.stdout[-limit:]}\n"
                f"stderr:\n{self.stderr[-limit:]}")

    def json(self):
        """Parse standard output as one JSON document."""
        return json.loads(self.stdout)


def run_lethe(*arguments, timeout=60, cwd=None):
    """Run lethe with `arguments` and standard input from /dev/null.

    A run that outlives `timeout` seconds is killed and returned with
    timed_out set, so that a hanging command fails its test instead of the
    suite.
    """
    arguments = [str(argument) for argument in arguments]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [lethe_binary(), *arguments], stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout, cwd=cwd,
            env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired as expired:
        return Result(arguments, None, _text(expired.stdout),
                      _text(expired.stderr), time.monotonic() - started, True)
    return Result(arguments, completed.returncode, completed.stdout,
                  completed.stderr, time.monotonic() - started, False)


def _text(output):
    if output is None:
        return ""
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output


def plan_digest(stdout):
    """Return the digest on the "Plan digest:" line of a text plan."""
    match = re.search(r"^Plan digest: ([0-9a-f]+)$", stdout, re.MULTILINE)
    if not match:
        raise AssertionError("no 'Plan digest:' line in the plan:\n" + stdout)
    return match.group(1)


def rule_by_name(plan, name):
    """Return the rule called `name` of a plan from `--json`."""
    for rule in plan["rules"]:
        if rule["name"] == name:
            return rule
    names = [rule["name"] for rule in plan["rules"]]
    raise AssertionError(f"the plan has no rule {name!r}; it has {names}")


def effect_rows(rule):
    """Return {(table, operation): rows} of one rule of a JSON plan."""
    rows = {}
    for effect in rule["effects"]:
        key = (effect["table"], effect["operation"])
        rows[key] = rows.get(key, 0) + effect["rows"]
    return rows


def sample_ids(rule):
    return sorted(sample["id"] for sample in rule["samples"])


def veto_ids(rule, reason_part):
    """Return the sample ids of the vetoes whose reason contains
    `reason_part`. A plan lists up to three sample ids per reason."""
    ids = set()
    for veto in rule["vetoes"]:
        if reason_part in veto["reason"]:
            ids.update(sample["id"] for sample in veto["samples"])
    return sorted(ids)


# Temporary files and databases -----------------------------------------------


def temporary_folder(test_case):
    """Create a temporary folder that is removed when `test_case` ends.

    Works for a test method (self) and for setUpClass (cls).
    """
    folder = tempfile.mkdtemp(prefix="lethe-e2e-")
    if isinstance(test_case, type):
        test_case.addClassCleanup(shutil.rmtree, folder, True)
    else:
        test_case.addCleanup(shutil.rmtree, folder, True)
    return folder


def write_file(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def copy_file(path, folder):
    """Copy `path` into `folder` under the same name and return the copy."""
    return shutil.copy(path, os.path.join(folder, os.path.basename(path)))


def load_sql_files(path, *sql_files):
    """Create the SQLite database `path` by running each SQL file."""
    connection = sqlite3.connect(path)
    try:
        # Without this each statement of the scripts is synced to disk, which
        # makes Northwind take seconds to build.
        connection.execute("PRAGMA synchronous = OFF")
        for sql_file in sql_files:
            with open(sql_file, encoding="utf-8") as file:
                connection.executescript(file.read())
        connection.commit()
    finally:
        connection.close()
    return path


def build_sakila(path):
    return load_sql_files(
        path, shared_data("sakila", "sqlite-sakila-schema.sql"),
        shared_data("sakila", "sakila-data.sqlite.sql"))


def build_northwind(path):
    return load_sql_files(path, shared_data("northwind", "create.sql"),
                          shared_data("northwind", "update.sql"))


class DatabaseTemplates:
    """Databases built once per test module and copied for each test.

    Call close() from tearDownModule to remove them. They are also removed
    when the interpreter exits, for modules that do not call close().
    """

    builders = {"sakila": build_sakila, "northwind": build_northwind}

    def __init__(self):
        self.folder = None
        self.paths = {}

    def copy(self, kind, folder, name=None):
        """Copy the `kind` template ("sakila", "northwind" or "crm") into
        `folder` and return the new path."""
        if kind not in self.paths:
            if self.folder is None:
                self.folder = tempfile.mkdtemp(prefix="lethe-e2e-templates-")
                atexit.register(self.close)
            path = os.path.join(self.folder, kind + ".db")
            if kind == "crm":
                make_crm_fixture(path)
            else:
                self.builders[kind](path)
            self.paths[kind] = path
        target = os.path.join(folder, name or kind + ".db")
        shutil.copyfile(self.paths[kind], target)
        return target

    def close(self):
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
            self.paths = {}


# Inspecting databases -------------------------------------------------------


def file_digest(path):
    """Return the SHA-256 of a file's bytes, to prove it did not change."""
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def connect(path):
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def query(path, sql, parameters=()):
    """Return all rows of `sql` on the database `path`."""
    connection = connect(path)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def query_ids(path, sql, parameters=()):
    """Return the sorted first column of every row of `sql`."""
    return sorted(row[0] for row in query(path, sql, parameters))


def scalar(path, sql, parameters=()):
    return query(path, sql, parameters)[0][0]


def execute(path, sql, parameters=()):
    """Run one changing statement on `path` and commit it."""
    connection = connect(path)
    try:
        connection.execute(sql, parameters)
    finally:
        connection.close()


def recode_database(path, encoding):
    """Rebuild the database at `path` with its text stored in `encoding`
    ("UTF-16le" or "UTF-16be"): its schema and rows are copied into a new
    database, whose encoding SQLite fixes when it is created. Full-text
    indexes are rebuilt from their content tables."""
    target = path + ".recoded"
    source = sqlite3.connect(path)
    copy = sqlite3.connect(target, isolation_level=None)
    try:
        copy.execute(f"PRAGMA encoding = '{encoding}'")
        objects = source.execute(
            "SELECT type, name, sql FROM sqlite_schema "
            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite!_%' ESCAPE '!' "
            "ORDER BY rowid").fetchall()
        virtual = [name for kind, name, sql in objects
                   if sql.upper().startswith("CREATE VIRTUAL TABLE")]

        def is_shadow(name):
            return any(name.startswith(table + "_") for table in virtual)

        copy.execute("BEGIN")
        tables = [name for kind, name, sql in objects
                  if kind == "table" and not is_shadow(name)]
        for kind, name, sql in objects:
            if name in tables:
                copy.execute(sql)
        for name in tables:
            if name in virtual:
                continue
            # Generated columns (hidden 2 and 3) cannot be written.
            columns = ", ".join(
                f'"{column[1]}"' for column in source.execute(
                    f'PRAGMA table_xinfo("{name}")') if column[6] == 0)
            rows = source.execute(f'SELECT {columns} FROM "{name}"')
            marks = ", ".join("?" * len(columns.split(", ")))
            copy.executemany(
                f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', rows)
        for name in virtual:
            copy.execute(f'INSERT INTO "{name}" ("{name}") '
                         "VALUES ('rebuild')")
        for kind, name, sql in objects:
            if kind in ("index", "trigger", "view") and not is_shadow(name):
                copy.execute(sql)
        sequences = source.execute(
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'")
        if sequences.fetchone():
            copy.execute("DELETE FROM sqlite_sequence")
            copy.executemany("INSERT INTO sqlite_sequence VALUES (?, ?)",
                             source.execute("SELECT * FROM sqlite_sequence"))
        copy.execute("COMMIT")
        if copy.execute("PRAGMA encoding").fetchone()[0] != encoding:
            raise AssertionError(f"{target} was not created in {encoding}")
    finally:
        source.close()
        copy.close()
    os.replace(target, path)


def row_counts(path):
    """Return {table: rows} for every ordinary table of the database."""
    connection = connect(path)
    try:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
        return {name: connection.execute(
                    f'SELECT count(*) FROM "{name}"').fetchone()[0]
                for name in names}
    finally:
        connection.close()


def foreign_key_problems(path):
    return query(path, "PRAGMA foreign_key_check")


# Dates -----------------------------------------------------------------------


def parse_day(text):
    return datetime.datetime.strptime(text, "%Y-%m-%d")


def add_months(moment, months):
    """Add calendar months, clamping the day to the target month's end
    (31 August minus six months is 28 February)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def sql_time(moment):
    """Format a datetime as lethe and the CRM schema store it."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# The CRM fixture -------------------------------------------------------------

# Reference time for plans on the CRM fixture. Five years before it is
# 2019-06-30 and three years before it is 2021-06-30.
FIXTURE_NOW = "2024-06-30"

# Rows added to a database that `lethe init` created. Category ids: 1
# Prospect, 2 Customer, 3 Lost customer. Purpose 2 is EMARKETING. Legal
# basis 1 is CONSENT and 5 is WITHDRAWN. A person with a NULL contact_id
# has no company.
FIXTURE_SQL = """
INSERT INTO contact (contact_id, name, category_idx, registered) VALUES
  (1, 'Lost Old Ltd', 3, '2010-01-01 00:00:00'),
  (2, 'Lost With User BV', 3, '2010-01-01 00:00:00'),
  (3, 'Lost Recent GmbH', 3, '2010-01-01 00:00:00'),
  (4, 'Customer Co', 2, '2010-01-01 00:00:00'),
  (5, 'Uncategorised SA', NULL, '2010-01-01 00:00:00');

INSERT INTO person (person_id, contact_id, firstname, lastname, title,
                    category_idx, registered) VALUES
  (1, 1, 'Ann', 'Old', NULL, 1, '2011-01-01 00:00:00'),
  (2, 1, 'Bob', 'Old', NULL, 2, '2011-01-01 00:00:00'),
  (3, 2, 'Cas', 'User', NULL, 2, '2011-01-01 00:00:00'),
  (4, 2, 'Dan', 'Prospect', NULL, 1, '2011-01-01 00:00:00'),
  (5, 4, 'Eve', 'Prospect', NULL, 1, '2015-01-01 00:00:00'),
  (6, 4, 'Fay', 'Customer', NULL, 2, '2015-01-01 00:00:00'),
  (7, 5, 'Gus', 'Nocategory', 'CTO', NULL, '2015-01-01 00:00:00'),
  (8, NULL, 'Hal', 'Consented', NULL, 1, '2015-01-01 00:00:00'),
  (9, NULL, 'Ida', 'User', NULL, 1, '2015-01-01 00:00:00'),
  (10, NULL, 'Jon', 'New', 'CEO', 1, '2023-01-01 00:00:00'),
  (11, NULL, 'Kim', 'Private', NULL, NULL, '2015-01-01 00:00:00'),
  (12, NULL, 'Lea', 'Customer', 'CEO', 2, '2015-01-01 00:00:00'),
  (13, 4, 'Max', 'Nocategory', NULL, NULL, '2015-01-01 00:00:00');

INSERT INTO associate (associate_id, name, person_id, registered) VALUES
  (1, 'cas', 3, '2015-01-01 00:00:00'),
  (2, 'ida', 9, '2015-01-01 00:00:00');

INSERT INTO sale (sale_id, contact_id, person_id, heading, saledate, amount,
                  status, registered) VALUES
  (1, 1, 1, 'Old deal', '2012-01-01 00:00:00', 1000, 3,
   '2012-01-01 00:00:00'),
  (2, 4, 5, 'Small deal', '2015-06-01 00:00:00', 500, 2,
   '2015-06-01 00:00:00');

INSERT INTO appointment (appointment_id, contact_id, person_id, sale_id, type,
                         status, activeDate, description, registered) VALUES
  (1, 1, 1, NULL, 1, 3, '2012-03-01 00:00:00', 'Renewal meeting',
   '2012-03-01 00:00:00'),
  (2, 3, NULL, NULL, 2, 3, '2023-05-01 00:00:00', 'Recent call',
   '2023-05-01 00:00:00'),
  (3, 4, 6, 1, 2, 3, '2024-01-01 00:00:00', 'Call about the old deal',
   '2024-01-01 00:00:00'),
  (4, 2, 4, NULL, 2, 3, '2011-05-01 00:00:00', 'Introduction call',
   '2011-05-01 00:00:00');

INSERT INTO document (document_id, appointment_id, header, body, registered)
VALUES (1, 1, 'Minutes', 'Renewal notes', '2012-03-01 00:00:00');

INSERT INTO consentperson (consentperson_id, person_id, consentpurpose_id,
                           legalbase_id, consentsource_id, registered) VALUES
  (1, 2, 2, 1, 2, '2015-01-01 00:00:00'),
  (2, 5, 1, 1, 1, '2015-01-01 00:00:00'),
  (3, 8, 2, 1, 2, '2015-01-01 00:00:00'),
  (4, 9, 2, 5, 2, '2015-01-01 00:00:00');

INSERT INTO email (email_id, contact_id, person_id, address) VALUES
  (1, NULL, 1, 'ann@old.example'),
  (2, 4, NULL, 'info@customer.example');
"""

# The policy for the fixture. The docstring of test_crm_fixture counts by
# hand what each rule does on the fixture.
FIXTURE_POLICY = """\
policy { name = "fixture retention", model = "crm" }

local person = entity "person"
local company = entity "company"

rule "delete lost companies" {
  select = company:where {
    { "category", "=", "Lost customer" },
    { "activities", "none", { "activeDate", "newer than", 5, "years" } },
  },
  action = delete(),
}

rule "keep e-marketing consents" {
  select = person:where {
    { "consents", "any",
      { "purpose", "=", "EMARKETING" }, { "legal_basis", "=", "CONSENT" } },
  },
  action = keep(),
}

rule "delete old prospects" {
  select = person:where {
    { "category", "=", "Prospect" },
    { "registered", "older than", 3, "years" },
  },
  action = delete(),
}

rule "no mailing for non-prospects" {
  select = person:where { { "category", "<>", "Prospect" } },
  action = update { nomailing = true },
}

rule "block persons of active companies" {
  select = person:where { { "company.category", "<>", "Lost customer" } },
  action = update { blockEmarketing = true },
}

rule "clear titles other than CEO" {
  select = person:where { { "title", "not one of", { "CEO" } } },
  action = update { title = null },
}

rule "keep everyone else" {
  select = person:all(),
  action = keep(),
}
"""


def make_crm_fixture(path):
    """Create the CRM fixture database at `path` with `lethe init`."""
    result = run_lethe("init", path)
    if result.returncode != 0:
        raise AssertionError("lethe init failed:\n" + result.describe())
    connection = connect(path)
    try:
        connection.executescript(FIXTURE_SQL)
    finally:
        connection.close()
    return path


class LetheTestCase(unittest.TestCase):
    """Assertions shared by the end-to-end tests."""

    def assert_exit(self, result, expected):
        self.assertEqual(result.returncode, expected,
                         f"expected exit status {expected}\n"
                         + result.describe())

    def assert_unchanged(self, path, digest_before, result=None):
        after = file_digest(path)
        detail = "\n" + result.describe() if result is not None else ""
        self.assertEqual(after, digest_before,
                         f"{os.path.basename(path)} changed: SHA-256 "
                         f"{digest_before[:16]} before, {after[:16]} after"
                         + detail)

    def assert_stderr_contains(self, result, *parts):
        for part in parts:
            self.assertIn(part, result.stderr,
                          f"expected {part!r} in the message\n"
                          + result.describe())
