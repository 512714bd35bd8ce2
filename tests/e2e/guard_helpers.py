"""Helpers for the tests that try to get past the guard rails of
permanent deletion: a small CRM fixture counted by hand, table snapshots,
id sets as Lethe stores them, and running lethe with extra environment.

The general helpers (paths, running lethe, digests, queries) are in
lethe_testing; this module adds what only these tests need.

The guard fixture, with the reference time GUARD_NOW (2024-06-30).
Category ids: 1 Prospect, 2 Customer, 3 Lost customer.

- Company 1 "Lost Alpha" (Lost customer) has persons 1 and 2. Person 1
  has sale 1, activity 1 with document 1, and e-mail 1; person 2 has
  phone 1.
- Company 2 "Lost Beta" (Lost customer) has person 3, who is the CRM
  user "cas", and person 4.
- Company 3 "Gamma Customer" (Customer) has persons 5 and 6 and e-mail 3.
  Person 5 has sale 2 and activity 2, which points at sale 1 of company 1.
- Company 4 "Lost Delta" (Lost customer) has person 7.
- Company 5 "Royal Lost" (Lost customer) has no persons.
- Persons 8 to 20 are private Prospects (no company) registered in 2015,
  with the last names Prospect08 to Prospect20. Person 9 is the CRM user
  "ivo" and person 10 has the title VIP.
- Person 8 has consent 1 (STORE) and is a member of selection 1.
- Person 12 has activity 3 and e-mail 2.
- Person 13 has consent 2 (EMARKETING).
- Person 14 has phone 2, person 15 address 1.
- Person 16 is a member of selection 1.
- Person 17 has sale 3, which has no company.

The person table has 20 rows, so that caps are easy to count: the default
cap (half a table) is 10 persons.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time

import lethe_testing as lt

GUARD_NOW = "2024-06-30"

# The user who holds the delete and update rights in the guard fixture.
USER = "tester"

GUARD_SQL = """
INSERT INTO contact (contact_id, name, category_idx, registered) VALUES
  (1, 'Lost Alpha', 3, '2010-01-01 00:00:00'),
  (2, 'Lost Beta', 3, '2010-01-01 00:00:00'),
  (3, 'Gamma Customer', 2, '2010-01-01 00:00:00'),
  (4, 'Lost Delta', 3, '2010-01-01 00:00:00'),
  (5, 'Royal Lost', 3, '2010-01-01 00:00:00');

INSERT INTO person (person_id, contact_id, firstname, lastname, title,
                    category_idx, registered) VALUES
  (1, 1, 'Amy', 'Alpha', NULL, 2, '2011-01-01 00:00:00'),
  (2, 1, 'Ben', 'Alpha', NULL, 2, '2011-01-01 00:00:00'),
  (3, 2, 'Cas', 'Beta', NULL, 2, '2011-01-01 00:00:00'),
  (4, 2, 'Dora', 'Beta', NULL, 2, '2011-01-01 00:00:00'),
  (5, 3, 'Eli', 'Gamma', NULL, 2, '2011-01-01 00:00:00'),
  (6, 3, 'Fio', 'Gamma', NULL, 2, '2011-01-01 00:00:00'),
  (7, 4, 'Gil', 'Delta', NULL, 2, '2011-01-01 00:00:00'),
  (8, NULL, 'Hana', 'Prospect08', NULL, 1, '2015-01-01 00:00:00'),
  (9, NULL, 'Ivo', 'Prospect09', NULL, 1, '2015-01-01 00:00:00'),
  (10, NULL, 'Jan', 'Prospect10', 'VIP', 1, '2015-01-01 00:00:00'),
  (11, NULL, 'Kit', 'Prospect11', NULL, 1, '2015-01-01 00:00:00'),
  (12, NULL, 'Lou', 'Prospect12', NULL, 1, '2015-01-01 00:00:00'),
  (13, NULL, 'Mia', 'Prospect13', NULL, 1, '2015-01-01 00:00:00'),
  (14, NULL, 'Ned', 'Prospect14', NULL, 1, '2015-01-01 00:00:00'),
  (15, NULL, 'Ola', 'Prospect15', NULL, 1, '2015-01-01 00:00:00'),
  (16, NULL, 'Pia', 'Prospect16', NULL, 1, '2015-01-01 00:00:00'),
  (17, NULL, 'Quin', 'Prospect17', NULL, 1, '2015-01-01 00:00:00'),
  (18, NULL, 'Rae', 'Prospect18', NULL, 1, '2015-01-01 00:00:00'),
  (19, NULL, 'Sam', 'Prospect19', NULL, 1, '2015-01-01 00:00:00'),
  (20, NULL, 'Tia', 'Prospect20', NULL, 1, '2015-01-01 00:00:00');

INSERT INTO associate (associate_id, name, person_id, registered) VALUES
  (1, 'cas', 3, '2015-01-01 00:00:00'),
  (2, 'ivo', 9, '2015-01-01 00:00:00');

INSERT INTO sale (sale_id, contact_id, person_id, heading, saledate, amount,
                  status, registered) VALUES
  (1, 1, 1, 'Alpha deal', '2012-01-01 00:00:00', 1000, 3,
   '2012-01-01 00:00:00'),
  (2, 3, 5, 'Gamma deal', '2015-06-01 00:00:00', 500, 2,
   '2015-06-01 00:00:00'),
  (3, NULL, 17, 'Private deal', '2016-06-01 00:00:00', 50, 2,
   '2016-06-01 00:00:00');

INSERT INTO appointment (appointment_id, contact_id, person_id, sale_id, type,
                         status, activeDate, description, registered) VALUES
  (1, 1, 1, NULL, 1, 3, '2012-03-01 00:00:00', 'Alpha kickoff meeting',
   '2012-03-01 00:00:00'),
  (2, 3, 5, 1, 2, 3, '2015-03-01 00:00:00', 'Gamma call about Alpha',
   '2015-03-01 00:00:00'),
  (3, NULL, 12, NULL, 2, 3, '2016-03-01 00:00:00', 'Call with Lou',
   '2016-03-01 00:00:00');

INSERT INTO document (document_id, appointment_id, header, body, registered)
VALUES (1, 1, 'Minutes', 'Alpha kickoff minutes', '2012-03-01 00:00:00');

INSERT INTO consentperson (consentperson_id, person_id, consentpurpose_id,
                           legalbase_id, consentsource_id, registered) VALUES
  (1, 8, 1, 1, 1, '2015-01-01 00:00:00'),
  (2, 13, 2, 1, 2, '2015-01-01 00:00:00');

INSERT INTO email (email_id, contact_id, person_id, address) VALUES
  (1, NULL, 1, 'amy@alpha.example'),
  (2, NULL, 12, 'lou@prospect.example'),
  (3, 3, NULL, 'info@gamma.example');

INSERT INTO phone (phone_id, contact_id, person_id, number) VALUES
  (1, NULL, 2, '+31 20 555 0102'),
  (2, NULL, 14, '+31 20 555 0114');

INSERT INTO address (address_id, person_id, street, zipcode, city) VALUES
  (1, 15, 'Canal 15', '1015 AB', 'Amsterdam');

INSERT INTO selection (selection_id, name, kind, entity, registered) VALUES
  (1, 'Mailing list', 0, 'person', '2015-01-01 00:00:00');

INSERT INTO selectionmember (selectionmember_id, selection_id, person_id)
VALUES (1, 1, 16), (2, 1, 8);
"""

# Caps that no test of a veto or a cascade reaches by accident.
WIDE_CAPS = "max_per_rule = { share = 0.9 }, max_per_run = { share = 0.9 }"


# Person 30, a private prospect added to the guard fixture, carries a
# unique canary value in each personal-data field that lethe must erase.
# These are its first and last name, e-mail address and phone number, an
# activity description (full-text indexed), a document header, and a long
# document body (indexed too, and long enough to need overflow pages).
# The canaries are lowercase, so that the full-text index stores them as
# they are. Their first letters differ from those of every other indexed
# word, so that the index never stores one as a suffix after a shared
# prefix.
CANARIES = {
    "firstname": "zqfirst7341",
    "lastname": "zqlast9921",
    "email": "zqmail5512",
    "phone": "0648 1177 3309",
    "description": "zqdesc8830",
    "header": "xqhead2231",
    "body": "qqbody4471",
}

FILLER = "lorem ipsum dolor sit amet " * 120

# A policy that deletes person 30 of CANARY_SQL and its rows.
CANARY_POLICY = """\
policy { name = "erase the canaries", model = "crm" }
local person = entity "person"
rule "delete person 30" {
  select = person:where { { "lastname", "=", "zqlast9921" } },
  action = delete(),
}
"""

CANARY_SQL = f"""
INSERT INTO person (person_id, firstname, lastname, category_idx, registered)
VALUES (30, '{CANARIES["firstname"]}', '{CANARIES["lastname"]}', 1,
        '2015-01-01 00:00:00');
INSERT INTO email (email_id, person_id, address)
VALUES (30, 30, '{CANARIES["email"]}@example.org');
INSERT INTO phone (phone_id, person_id, number)
VALUES (30, 30, '{CANARIES["phone"]}');
INSERT INTO appointment (appointment_id, person_id, type, status, activeDate,
                         description, registered)
VALUES (30, 30, 2, 3, '2016-01-01 00:00:00',
        'call about {CANARIES["description"]} renewal', '2016-01-01 00:00:00');
INSERT INTO document (document_id, appointment_id, header, body, registered)
VALUES (30, 30, 'minutes {CANARIES["header"]}',
        '{FILLER} {CANARIES["body"]} {FILLER}', '2016-01-01 00:00:00');
"""


def add_canaries(path):
    """Add person 30 and its canary rows to the database at `path`."""
    connection = lt.connect(path)
    try:
        connection.executescript(CANARY_SQL)
    finally:
        connection.close()


def prepare_canary_run(templates, folder, extra_sql=""):
    """Copy the guard fixture into `folder`, add the canaries and run
    `extra_sql` on it, write CANARY_POLICY and plan it. Returns the
    database, the policy path and the plan's short digest."""
    db = templates.copy("guard", folder)
    add_canaries(db)
    connection = lt.connect(db)
    try:
        connection.executescript(extra_sql)
    finally:
        connection.close()
    policy = lt.write_file(folder, "erase.lua", CANARY_POLICY)
    return db, policy, plan_json(policy, db)["short_digest"]


def make_guard_fixture(path):
    """Create the guard fixture at `path` and give USER both rights."""
    result = lt.run_lethe("init", path)
    if result.returncode != 0:
        raise AssertionError("lethe init failed:\n" + result.describe())
    connection = lt.connect(path)
    try:
        connection.executescript(GUARD_SQL)
    finally:
        connection.close()
    for right in ("delete", "update"):
        result = lt.run_lethe("grant", USER, right, "--db", path)
        if result.returncode != 0:
            raise AssertionError("lethe grant failed:\n" + result.describe())
    return path


class Templates(lt.DatabaseTemplates):
    """lethe_testing's templates plus the guard fixture ("guard")."""

    builders = {**lt.DatabaseTemplates.builders, "guard": make_guard_fixture}


# Running lethe ---------------------------------------------------------------


def run(*arguments, env=None, stdin=None, timeout=60):
    """Run lethe like lethe_testing.run_lethe, with extra environment
    variables `env` and the text `stdin` as standard input."""
    arguments = [str(argument) for argument in arguments]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [lt.lethe_binary(), *arguments],
            stdin=subprocess.DEVNULL if stdin is None else None,
            input=stdin, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "NO_COLOR": "1", **(env or {})})
    except subprocess.TimeoutExpired as expired:
        return lt.Result(arguments, None, lt._text(expired.stdout),
                         lt._text(expired.stderr),
                         time.monotonic() - started, True)
    return lt.Result(arguments, completed.returncode, completed.stdout,
                     completed.stderr, time.monotonic() - started, False)


def plan_json(policy, db, *extra):
    """Plan `policy` on `db` at GUARD_NOW and return the JSON document;
    raise when the plan fails."""
    result = run("plan", policy, "--db", db, "--now", GUARD_NOW, "--json",
                 *extra)
    if result.returncode != 0:
        raise AssertionError("lethe plan failed:\n" + result.describe())
    return result.json()


def apply_policy(policy, db, digest, *extra, env=None):
    """Apply `policy` on `db` at GUARD_NOW as USER, confirming `digest`."""
    return run("apply", policy, "--db", db, "--now", GUARD_NOW, "--as", USER,
               "--yes", digest, *extra, env=env)


def vetoes_by_reason(rule):
    """Return {reason: count} of one rule of a JSON plan."""
    return {veto["reason"]: veto["count"] for veto in rule["vetoes"]}


def totals(plan):
    """Return {(table, operation): rows} over all rules of a JSON plan."""
    return {(total["table"], total["operation"]): total["rows"]
            for total in plan["totals"]}


# Snapshots of databases ------------------------------------------------------


def table_names(path, include_lethe=False, include_shadow=False):
    """Return the names of the ordinary tables of `path`; optionally with
    Lethe's own tables and the shadow tables that hold full-text
    indexes."""
    sql = ("SELECT name FROM sqlite_schema s WHERE type = 'table' "
           "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' "
           "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'")
    if not include_lethe:
        sql += " AND name NOT LIKE 'lethe!_%' ESCAPE '!'"
    if not include_shadow:
        sql += (" AND NOT EXISTS (SELECT 1 FROM sqlite_schema v "
                "WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' "
                "AND substr(s.name, 1, length(v.name) + 1) = v.name || '_')")
    return lt.query_ids(path, sql)


def table_counts(path):
    """Return {table: rows} of the tables of table_names(path)."""
    return {name: lt.scalar(path, f'SELECT count(*) FROM "{name}"')
            for name in table_names(path)}


def contents(path, include_lethe=False, include_shadow=False,
             leave_out=None):
    """Return {table: sorted rows} of the tables of table_names(path).

    `leave_out` maps a table to columns that differ between two runs of
    the same plan (times, and hashes over times) and are left out.
    """
    leave_out = leave_out or {}
    connection = sqlite3.connect(path)
    # Lethe stores serialized id sets as text that is not UTF-8.
    connection.text_factory = bytes
    try:
        snapshot = {}
        for name in table_names(path, include_lethe, include_shadow):
            columns = [row[1] for row in connection.execute(
                f'SELECT * FROM pragma_table_info("{name}")')]
            kept = [c for c in columns if c not in leave_out.get(name, ())]
            listing = ", ".join(f'"{c}"' for c in kept)
            rows = connection.execute(
                f'SELECT {listing} FROM "{name}"').fetchall()
            snapshot[name] = sorted(rows, key=repr)
        return snapshot
    finally:
        connection.close()


def integrity(path):
    """Return the result of PRAGMA integrity_check: "ok", or the
    problems found."""
    rows = lt.query(path, "PRAGMA integrity_check")
    return "; ".join(str(row[0]) for row in rows)


def copy_database(path, target):
    """Copy a database file whose journal or WAL holds nothing pending."""
    shutil.copyfile(path, target)
    return target


# Id sets as Lethe serializes them --------------------------------------------

# A serialized set is "LIDS", a version byte, the length of the entity
# name in one byte and the name, the length of the bitmap as a
# little-endian u32, the bitmap in the portable Roaring format, and the
# first 8 bytes of the SHA-256 of everything before (host/idset.c).
_NO_RUN_COOKIE = 12346
_RUN_COOKIE = 12347


def decode_id_set(data):
    """Return (entity, sorted ids) of a serialized id set."""
    if data[:4] != b"LIDS":
        raise ValueError("not a serialized id set")
    name_length = data[5]
    entity = data[6:6 + name_length].decode()
    start = 6 + name_length
    (size,) = struct.unpack_from("<I", data, start)
    bitmap = data[start + 4:start + 4 + size]
    return entity, _decode_portable(bitmap)


def _decode_portable(bitmap):
    (cookie,) = struct.unpack_from("<I", bitmap, 0)
    position = 4
    runs = set()
    if cookie & 0xFFFF == _RUN_COOKIE:
        count = (cookie >> 16) + 1
        flags = bitmap[position:position + (count + 7) // 8]
        position += (count + 7) // 8
        runs = {i for i in range(count) if flags[i // 8] >> (i % 8) & 1}
    elif cookie == _NO_RUN_COOKIE:
        (count,) = struct.unpack_from("<I", bitmap, position)
        position += 4
    else:
        raise ValueError(f"unknown Roaring cookie {cookie}")
    headers = [struct.unpack_from("<HH", bitmap, position + 4 * i)
               for i in range(count)]
    position += 4 * count
    if cookie == _NO_RUN_COOKIE or count >= 4:
        position += 4 * count  # offsets of the containers
    ids = []
    for index, (key, cardinality_less_one) in enumerate(headers):
        cardinality = cardinality_less_one + 1
        high = key << 16
        if index in runs:
            (run_count,) = struct.unpack_from("<H", bitmap, position)
            position += 2
            for _ in range(run_count):
                low, length = struct.unpack_from("<HH", bitmap, position)
                position += 4
                ids.extend(high | value
                           for value in range(low, low + length + 1))
        elif cardinality <= 4096:
            values = struct.unpack_from(f"<{cardinality}H", bitmap, position)
            position += 2 * cardinality
            ids.extend(high | value for value in values)
        else:
            words = struct.unpack_from("<1024Q", bitmap, position)
            position += 8192
            for word_index, word in enumerate(words):
                while word:
                    bit = word & -word
                    ids.append(high | (word_index * 64 + bit.bit_length() - 1))
                    word ^= bit
    return sorted(ids)


def encode_id_set(entity, ids):
    """Serialize `ids` (fewer than 4096 per 65536 block) as Lethe does,
    with a valid checksum."""
    ids = sorted(set(ids))
    groups = {}
    for value in ids:
        groups.setdefault(value >> 16, []).append(value & 0xFFFF)
    keys = sorted(groups)
    bitmap = struct.pack("<II", _NO_RUN_COOKIE, len(keys))
    for key in keys:
        bitmap += struct.pack("<HH", key, len(groups[key]) - 1)
    offset = len(bitmap) + 4 * len(keys)
    for key in keys:
        bitmap += struct.pack("<I", offset)
        offset += 2 * len(groups[key])
    for key in keys:
        bitmap += struct.pack(f"<{len(groups[key])}H", *groups[key])
    name = entity.encode()
    body = (b"LIDS" + bytes([1, len(name)]) + name
            + struct.pack("<I", len(bitmap)) + bitmap)
    return body + hashlib.sha256(body).digest()[:8]


# Plan files ------------------------------------------------------------------


def read_plan_file(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def write_plan_file(path, document):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2)


def scratch_folder():
    """Create a temporary folder for module-level state, which the caller
    removes."""
    return tempfile.mkdtemp(prefix="lethe-e2e-")
