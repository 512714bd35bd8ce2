"""Physical erasure: after a delete, no byte of the deleted personal data
is left in the database file, its WAL or its journal, and lethe reports
that.

Person 30 (guard_helpers.CANARY_SQL) carries a unique canary value in
each personal-data field that lethe must erase. The same run with
--skip-erasure-steps leaves them in the file, which shows that the search
can find what it looks for.
"""

import os
import random
import sqlite3
import string
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


POLICY = gh.CANARY_POLICY


# The distinct personal-data text values of five bytes or more in
# the rows that POLICY deletes: person 30, its e-mail addresses, phones,
# addresses, activities, their documents and its consents.
ERASED_VALUES_SQL = """
SELECT count(DISTINCT value) FROM (
  SELECT firstname AS value FROM person WHERE person_id = 30
  UNION ALL SELECT middlename FROM person WHERE person_id = 30
  UNION ALL SELECT lastname FROM person WHERE person_id = 30
  UNION ALL SELECT address FROM email WHERE person_id = 30
  UNION ALL SELECT number FROM phone WHERE person_id = 30
  UNION ALL SELECT street FROM address WHERE person_id = 30
  UNION ALL SELECT zipcode FROM address WHERE person_id = 30
  UNION ALL SELECT description FROM appointment WHERE person_id = 30
  UNION ALL SELECT header FROM document WHERE appointment_id IN
    (SELECT appointment_id FROM appointment WHERE person_id = 30)
  UNION ALL SELECT body FROM document WHERE appointment_id IN
    (SELECT appointment_id FROM appointment WHERE person_id = 30)
  UNION ALL SELECT comment FROM consentperson WHERE person_id = 30
) WHERE length(CAST(value AS BLOB)) >= 5
"""


# Python's codec for the text encoding that a database states.
CODECS = {"UTF-8": "utf-8", "UTF-16le": "utf-16-le", "UTF-16be": "utf-16-be"}


def hits(db, encoding="UTF-8"):
    """{canary: [(file, count)]} over the database, WAL and journal, of
    the canaries in the database's text encoding."""
    found = {}
    for name, canary in gh.CANARIES.items():
        for suffix in ("", "-wal", "-journal"):
            path = db + suffix
            if not os.path.exists(path):
                continue
            with open(path, "rb") as file:
                count = file.read().count(canary.encode(CODECS[encoding]))
            if count:
                found.setdefault(name, []).append((suffix or "db", count))
    return found


class ErasureCase(lt.LetheTestCase):
    """Apply POLICY on the fixture with the canaries, in the journal mode
    `journal_mode` and the text encoding `encoding`, with or without the
    erasure steps."""

    journal_mode = "delete"
    encoding = "UTF-8"
    skip_steps = False

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("guard", folder)
        if cls.encoding != "UTF-8":
            lt.recode_database(cls.db, cls.encoding)
        gh.add_canaries(cls.db)
        if cls.journal_mode == "wal":
            lt.query(cls.db, "PRAGMA journal_mode = WAL")
        cls.before = hits(cls.db, cls.encoding)
        cls.erased_values = lt.scalar(cls.db, ERASED_VALUES_SQL)
        policy = lt.write_file(folder, "erase.lua", POLICY)
        digest = gh.plan_json(policy, cls.db)["short_digest"]
        extra = ("--skip-erasure-steps",) if cls.skip_steps else ()
        cls.result = gh.apply_policy(policy, cls.db, digest, *extra)
        cls.after = hits(cls.db, cls.encoding)
        cls.remaining = lt.query_ids(cls.db, "SELECT person_id FROM person "
                                     "WHERE person_id = 30")

    def setUp(self):
        self.assert_exit(self.result, 0)

    def test_canaries_planted(self):
        missing = sorted(set(gh.CANARIES) - set(self.before))
        self.assertEqual(missing, [],
                         f"canaries not in the file before the apply: "
                         f"{missing}")

    def test_person_deleted(self):
        self.assertEqual(self.remaining, [],
                         "person 30 is still in the table")


class ErasureTest(ErasureCase):

    def test_no_residue(self):
        for name in gh.CANARIES:
            with self.subTest(canary=name):
                self.assertNotIn(name, self.after,
                                 f"{name} canary {gh.CANARIES[name]!r} left "
                                 f"in {self.after.get(name)}")

    def test_erasure_verified_line(self):
        self.assert_stderr_contains(self.result, "Erasure verified: no "
                                    "residual copies")

    def test_every_value_searched(self):
        self.assertGreater(self.erased_values, 0)
        self.assert_stderr_contains(
            self.result, f"residual copies of {self.erased_values} erased "
            "values")


class WalErasureTest(ErasureTest):
    journal_mode = "wal"

    def test_still_wal(self):
        mode = lt.scalar(self.db, "PRAGMA journal_mode")
        self.assertEqual(mode, "wal", f"journal mode after the apply: {mode}")


class SkippedStepsTest(ErasureCase):
    """Without the erasure steps the canaries stay in the file, so the
    search above can find them."""

    skip_steps = True

    def test_canaries_remain(self):
        for name in gh.CANARIES:
            with self.subTest(canary=name):
                self.assertIn(name, self.after,
                              f"{name} canary {gh.CANARIES[name]!r} is gone "
                              "even without the erasure steps")

    def test_no_verified_line(self):
        self.assertNotIn("Erasure verified", self.result.stderr,
                         self.result.describe())


class WalSkippedStepsTest(SkippedStepsTest):
    journal_mode = "wal"


class Utf16ErasureTest(ErasureTest):
    encoding = "UTF-16le"


class Utf16WalErasureTest(ErasureTest):
    encoding = "UTF-16be"
    journal_mode = "wal"


class Utf16SkippedStepsTest(SkippedStepsTest):
    encoding = "UTF-16be"


def apply_with_open_reader(policy, db, digest, inspect=lambda: None):
    """Apply `policy` while another connection keeps a WAL snapshot open.
    Returns the result and what `inspect()` returns, called before the
    reader closes, because closing it lets SQLite checkpoint the zeroed
    pages over the old ones."""
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM person").fetchall()
        return gh.apply_policy(policy, db, digest), inspect()
    finally:
        reader.close()


class OpenReaderTest(lt.LetheTestCase):
    """A reader that keeps a WAL snapshot open stops the checkpoint, so
    the old pages stay in the file: lethe must say that the erasure is not
    verified and exit with status 1."""

    def test_reader_blocks_verification(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        gh.add_canaries(db)
        lt.query(db, "PRAGMA journal_mode = WAL")
        policy = lt.write_file(folder, "erase.lua", POLICY)
        digest = gh.plan_json(policy, db)["short_digest"]
        result, _ = apply_with_open_reader(policy, db, digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "Erasure NOT verified",
                                    "Another connection kept a read open")

    def test_vacuum_after_reader_closes(self):
        # The check's advice: a run with --vacuum and nothing left to
        # change rebuilds the file, but only once the reader is gone.
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        gh.add_canaries(db)
        lt.query(db, "PRAGMA journal_mode = WAL")
        policy = lt.write_file(folder, "erase.lua", POLICY)
        digest = gh.plan_json(policy, db)["short_digest"]
        reader = sqlite3.connect(db, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM person").fetchall()
            # Reading the files here would close the reader's POSIX
            # locks, so only the check's own report shows the copies.
            result = gh.apply_policy(policy, db, digest)
            self.assert_exit(result, 1)
            self.assert_stderr_contains(result, "Erasure NOT verified")
            empty = gh.plan_json(policy, db)["short_digest"]
            blocked = gh.apply_policy(policy, db, empty, "--vacuum")
            self.assert_exit(blocked, 1)
            self.assert_stderr_contains(blocked, "NOT rebuilt",
                                        "kept a read open")
        finally:
            reader.close()
        again = gh.apply_policy(policy, db, empty, "--vacuum")
        self.assert_exit(again, 0)
        self.assert_stderr_contains(again, f"Rebuilt {db} with VACUUM")
        self.assertEqual(hits(db), {}, "canaries left after the rebuild")


# Person 32's only searchable value is a first name far longer than a
# page, which SQLite splits across overflow pages.
LONG_NAME = "".join(random.Random(32).choices(string.ascii_lowercase,
                                              k=20000))
LONG_VALUE_SQL = f"""
INSERT INTO person (person_id, firstname, lastname, category_idx,
                    registered)
VALUES (32, '{LONG_NAME}', 'Lx', 1, '2015-01-01 00:00:00');
"""
LONG_VALUE_POLICY = """\
policy { name = "erase a long value", model = "crm" }
local person = entity "person"
rule "delete person 32" {
  select = person:where { { "lastname", "=", "Lx" } },
  action = delete(),
}
"""


class LongValueReaderTest(lt.LetheTestCase):
    """A long value that an open reader keeps in the file is split across
    pages, so no whole copy exists. Lethe must still find its pieces."""

    def test_split_copy_found(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        lt.query(db, "PRAGMA journal_mode = WAL")
        connection = lt.connect(db)
        try:
            connection.executescript(LONG_VALUE_SQL)
        finally:
            connection.close()
        policy = lt.write_file(folder, "erase.lua", LONG_VALUE_POLICY)
        digest = gh.plan_json(policy, db)["short_digest"]
        result, (whole, piece) = apply_with_open_reader(
            policy, db, digest, lambda: (file_count(db, LONG_NAME),
                                         file_count(db, LONG_NAME[8000:8100])))
        self.assertEqual(whole, 0, "the fixture needs the value split")
        self.assertEqual(piece, 1, "the fixture needs a piece in the file")
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "Erasure NOT verified")


# Person 31 stays. Its address is stored as the record ..."Storgatan 16",
# "698 37"..., whose bytes contain the erased street of person 30.
ADDRESSES_SQL = """
INSERT INTO person (person_id, firstname, lastname, category_idx,
                    registered)
VALUES (31, 'Stays', 'Here', 1, '2015-01-01 00:00:00');
INSERT INTO address (address_id, person_id, street, zipcode, city, country)
VALUES (30, 30, 'Storgatan 166', '111 22', 'Stockholm', 'Sweden'),
       (31, 31, 'Storgatan 16', '698 37', 'Orebro', 'Sweden');
"""

ERASED_STREET = "Storgatan 166"


def file_count_bytes(db, data):
    with open(db, "rb") as file:
        return file.read().count(data)


def file_count(db, text, encoding="UTF-8"):
    return file_count_bytes(db, text.encode(CODECS[encoding]))


class AdjacentColumnsTest(lt.LetheTestCase):
    """An erased street that a live address forms with its neighbouring
    column in the file ("Storgatan 16" followed by zip code "698 37"
    contains "Storgatan 166") is a live copy, not a residue."""

    def prepare(self):
        folder = lt.temporary_folder(self)
        return gh.prepare_canary_run(templates, folder, ADDRESSES_SQL)

    def test_live_neighbours_verified(self):
        db, policy, digest = self.prepare()
        result = gh.apply_policy(policy, db, digest)
        self.assert_exit(result, 0)
        self.assert_stderr_contains(result, "Erasure verified")
        streets = lt.query(db, "SELECT street FROM address WHERE "
                               "address_id IN (30, 31) ORDER BY address_id")
        self.assertEqual(streets, [("Storgatan 16",)])
        self.assertEqual(file_count(db, ERASED_STREET), 1,
                         "the live address should be the one copy left")


# Person 30's e-mail address, as the email table stores it.
ERASED_ADDRESS = gh.CANARIES["email"] + "@example.org"


def plant_old_copy(db, text):
    """Leave `text` in the free space of a page, as a delete without
    secure_delete does."""
    connection = lt.connect(db)
    try:
        connection.execute("PRAGMA secure_delete = OFF")
        connection.execute("CREATE TABLE scratch (note TEXT)")
        connection.execute("INSERT INTO scratch VALUES (?)", (text,))
        connection.execute("DELETE FROM scratch")
        connection.commit()
    finally:
        connection.close()


def plant_stored_value(db, stored, as_text):
    """Give person 30 a middle name of the bytes `stored`, as text in the
    database's encoding or as a BLOB, and leave an old copy of it in free
    space. SQL sets it, because it may be text that Python cannot hold
    (UTF-16 with a lone surrogate)."""
    value = f"CAST(X'{stored.hex()}' AS TEXT)" if as_text else \
        f"X'{stored.hex()}'"
    connection = lt.connect(db)
    try:
        connection.execute(f"UPDATE person SET middlename = {value} "
                           "WHERE person_id = 30")
        connection.execute("PRAGMA secure_delete = OFF")
        connection.execute("CREATE TABLE scratch (note)")
        connection.execute(f"INSERT INTO scratch VALUES ({value})")
        connection.execute("DELETE FROM scratch")
        connection.commit()
        kept = connection.execute("SELECT CAST(middlename AS BLOB) FROM "
                                  "person WHERE person_id = 30").fetchone()
    finally:
        connection.close()
    assert kept == (stored,), f"the middle name was stored as {kept}"


# A middle name with a NUL byte among its first five characters, where
# SQLite's length() of the text stops.
NUL_NAME = "zq\x00nulname4417"


class OldCopyTest(lt.LetheTestCase):
    """A copy of an erased value that an earlier delete without
    secure_delete left in free space is a residue: the check reports it,
    and --vacuum removes it, in rollback and in WAL mode."""

    def apply(self, journal_mode, *extra, value=ERASED_ADDRESS,
              encoding="UTF-8"):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        if encoding != "UTF-8":
            lt.recode_database(db, encoding)
        gh.add_canaries(db)
        lt.query(db, f"PRAGMA journal_mode = {journal_mode}")
        if value == NUL_NAME:
            lt.query(db, "UPDATE person SET middlename = ? WHERE person_id = "
                     "30", (NUL_NAME,))
        plant_old_copy(db, value)
        self.assertEqual(file_count(db, value, encoding), 2,
                         "the fixture needs a live and an old copy")
        policy = lt.write_file(folder, "erase.lua", POLICY)
        digest = gh.plan_json(policy, db)["short_digest"]
        return db, gh.apply_policy(policy, db, digest, *extra)

    def test_old_copy_reported(self):
        for mode in ("delete", "wal"):
            with self.subTest(journal_mode=mode):
                db, result = self.apply(mode)
                self.assert_exit(result, 1)
                self.assert_stderr_contains(
                    result, "Erasure NOT verified: copies of erased values "
                    f"remain (1 in {db})")

    def test_old_copy_in_utf16_reported(self):
        for encoding in ("UTF-16le", "UTF-16be"):
            with self.subTest(encoding=encoding):
                db, result = self.apply("delete", encoding=encoding)
                self.assert_exit(result, 1)
                self.assert_stderr_contains(
                    result, "Erasure NOT verified: copies of erased values "
                    f"remain (1 in {db})")

    def test_stored_bytes_searched(self):
        # Text that is not valid Unicode (a lone surrogate), which a round
        # trip through UTF-8 would change, and the UTF-8 bytes of a name
        # stored as a BLOB in a UTF-16 database.
        surrogate = [ord("Z"), ord("q"), 0xD83D] + [ord(c) for c in "name"]
        cases = [
            ("UTF-16le", b"".join(unit.to_bytes(2, "little")
                                  for unit in surrogate), True),
            ("UTF-16be", b"".join(unit.to_bytes(2, "big")
                                  for unit in surrogate), True),
            ("UTF-16be", "Zq\u0645\u062d\u0645\u062f".encode(), False),
            ("UTF-8", "Zq\u0645\u062d\u0645\u062f".encode(), False),
        ]
        for encoding, stored, as_text in cases:
            with self.subTest(encoding=encoding, stored=stored):
                self.check_one_old_copy(encoding, stored, as_text)

    def test_repetitive_long_value_counted_once(self):
        # Each 32-byte piece of this value occurs hundreds of times in one
        # copy of it; one old copy must still count as one.
        self.check_one_old_copy("UTF-8", ("Zq" + "abc" * 400).encode(), True)

    def check_one_old_copy(self, encoding, stored, as_text):
        """Apply POLICY to the fixture in `encoding` whose person 30 has
        the middle name `stored` (see plant_stored_value) with an old copy
        in free space: the check must report that one copy."""
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        if encoding != "UTF-8":
            lt.recode_database(db, encoding)
        gh.add_canaries(db)
        plant_stored_value(db, stored, as_text)
        self.assertEqual(file_count_bytes(db, stored), 2,
                         "the fixture needs a live and an old copy")
        policy = lt.write_file(folder, "erase.lua", POLICY)
        digest = gh.plan_json(policy, db)["short_digest"]
        result = gh.apply_policy(policy, db, digest)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(
            result, "Erasure NOT verified: copies of erased values "
            f"remain (1 in {db})")

    def test_value_with_nul_searched(self):
        db, result = self.apply("delete", value=NUL_NAME)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(
            result, f"Erasure NOT verified: copies of erased values remain "
            f"(1 in {db})")

    def test_vacuum_removes_old_copy(self):
        for mode in ("delete", "wal"):
            with self.subTest(journal_mode=mode):
                db, result = self.apply(mode, "--vacuum")
                self.assert_exit(result, 0)
                self.assert_stderr_contains(result, "Erasure verified")
                self.assertEqual(file_count(db, ERASED_ADDRESS), 0)


del ErasureCase

if __name__ == "__main__":
    unittest.main()
