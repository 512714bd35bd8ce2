"""The erasure ledger and `lethe reapply`: a backup restored after an
erasure is cleaned again with the same key, a different key matches
nothing, and neither the erased values nor the key leak anywhere.

The run deletes persons 14 and 30 of the guard fixture with the canaries
(guard_helpers.CANARY_SQL): person 14 with phone 2, person 30 with its
e-mail address, phone, activity and document.
"""

import glob
import hashlib
import json
import os
import shutil
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


POLICY = """\
policy { name = "ledger", model = "crm" }
local person = entity "person"
rule "delete two persons" {
  select = person:where {
    { "lastname", "one of", { "Prospect14", "zqlast9921" } },
  },
  action = delete(),
}
"""

KEY = "8d1e6f0a2b4c93e7d5a1f08c6b2e4d97"
OTHER_KEY = "0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e"

# The rows that the run deletes, by table.
DELETED = {"person": [14, 30], "email": [30], "phone": [2, 30],
           "appointment": [30], "document": [30]}


def restore(backup, db):
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(backup, db)


class LedgerTest(lt.LetheTestCase):
    """Apply with a ledger, restore the backup, reapply."""

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        cls.db = templates.copy("guard", cls.folder)
        gh.add_canaries(cls.db)
        cls.backup = gh.copy_database(cls.db, os.path.join(cls.folder,
                                                           "backup.db"))
        cls.key_file = lt.write_file(cls.folder, "lethe.key", KEY + "\n")
        cls.ledger = os.path.join(cls.folder, "erased.ledger")
        policy = lt.write_file(cls.folder, "ledger.lua", POLICY)
        cls.outputs = []
        plan = cls.record(gh.run, "plan", policy, "--db", cls.db, "--now",
                       gh.GUARD_NOW, "--json")
        cls.applied = cls.record(gh.apply_policy, policy, cls.db,
                              plan.json()["short_digest"], "--ledger",
                              cls.ledger, "--key-file", cls.key_file)
        cls.after_apply = gh.contents(cls.db)
        cls.applied_copy = gh.copy_database(
            cls.db, os.path.join(cls.folder, "applied.db"))
        # Reapply on the restored backup with the same key.
        restore(cls.backup, cls.db)
        preview = cls.record(gh.run, "reapply", "--ledger", cls.ledger, "--db",
                        cls.db, "--key-file", cls.key_file, "--as", gh.USER,
                        "--json")
        cls.reapply_plan = preview.json() if preview.stdout.strip() else None
        cls.reapplied = cls.record(
            gh.run, "reapply", "--ledger", cls.ledger, "--db", cls.db,
            "--key-file", cls.key_file, "--as", gh.USER, "--yes",
            cls.reapply_plan["short_digest"] if cls.reapply_plan else "-")
        cls.after_reapply = gh.contents(cls.db)
        cls.audit = cls.record(gh.run, "audit", "--db", cls.db, "--json")

    @classmethod
    def record(cls, function, *arguments):
        result = function(*arguments)
        cls.outputs.append(result)
        return result

    def test_apply_succeeds(self):
        self.assert_exit(self.applied, 0)

    def test_reapply_succeeds(self):
        self.assert_exit(self.reapplied, 0)

    def test_reapply_deletes_same_rows(self):
        self.assertTrue(self.after_reapply == self.after_apply,
                        "the restored database after reapply differs from "
                        "the database after the first apply")

    def test_canary_rows_gone_again(self):
        for table, ids in DELETED.items():
            key = "person_id" if table == "person" else f"{table}_id"
            found = lt.query_ids(self.db, f"SELECT {key} FROM {table} WHERE "
                                 f"{key} IN ({','.join(map(str, ids))})")
            self.assertEqual(found, [], f"{table} rows {found} are back "
                             "after reapply")

    def test_ledger_lines_hashed(self):
        with open(self.ledger, encoding="utf-8") as file:
            lines = file.read().splitlines()
        self.assertGreater(len(lines), 0, "the ledger is empty")
        for number, line in enumerate(lines, 1):
            entry = json.loads(line)
            with self.subTest(line=number):
                self.assertEqual(sorted(entry),
                                 ["at", "entity", "hash", "kind", "plan"],
                                 f"ledger line {number}: {line}")
                self.assertRegex(entry["hash"], r"^[0-9a-f]{64}$")

    def test_ledger_holds_no_value(self):
        with open(self.ledger, "rb") as file:
            text = file.read().lower()
        for name, canary in gh.CANARIES.items():
            with self.subTest(canary=name):
                self.assertNotIn(canary.lower().encode(), text)
        self.assertNotIn(b"example.org", text)

    def test_ledger_ids_keyed(self):
        # An id hashed without the key would reveal who was erased to
        # anyone who hashes candidate ids.
        with open(self.ledger, encoding="utf-8") as file:
            hashes = {json.loads(line)["hash"] for line in file}
        for table, ids in DELETED.items():
            for id_ in ids:
                for text in (str(id_), f"id\0{table}\0{id_}",
                             f"id\0person\0{id_}"):
                    plain = hashlib.sha256(text.encode()).hexdigest()
                    self.assertNotIn(plain, hashes,
                                     f"the ledger holds the unkeyed hash of "
                                     f"{text!r}")

    def test_key_not_leaked(self):
        files = [self.db, self.backup, self.applied_copy, self.ledger]
        files += glob.glob(os.path.join(self.folder, "*.db-*"))
        for path in files:
            with open(path, "rb") as file:
                data = file.read()
            with self.subTest(file=os.path.basename(path)):
                self.assertNotIn(KEY.encode(), data)
        for result in self.outputs:
            with self.subTest(command=" ".join(result.arguments[:2])):
                self.assertNotIn(KEY, result.stdout + result.stderr)

    def test_audit_digest_keyed(self):
        records = self.audit.json()
        digests = [record["ids_digest"] for record in records]
        self.assertTrue(digests and all(digest.startswith("hmac:")
                                        for digest in digests),
                        f"audit id digests: expected HMACs, got {digests}")


class OtherKeyTest(lt.LetheTestCase):
    """A ledger read with a different key matches no row."""

    def test_nothing_matches(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        gh.add_canaries(db)
        backup = gh.copy_database(db, os.path.join(folder, "backup.db"))
        key = lt.write_file(folder, "lethe.key", KEY)
        other = lt.write_file(folder, "other.key", OTHER_KEY)
        ledger = os.path.join(folder, "erased.ledger")
        policy = lt.write_file(folder, "ledger.lua", POLICY)
        digest = gh.plan_json(policy, db)["short_digest"]
        applied = gh.apply_policy(policy, db, digest, "--ledger", ledger,
                                  "--key-file", key)
        self.assert_exit(applied, 0)
        restore(backup, db)
        before = lt.file_digest(db)
        preview = gh.run("reapply", "--ledger", ledger, "--db", db,
                       "--key-file", other, "--as", gh.USER, "--json")
        self.assert_exit(preview, 1)
        selected = {rule["name"]: rule["selected"]
                    for rule in preview.json()["rules"]}
        self.assertTrue(selected and not any(selected.values()),
                        f"rows selected with another key: {selected}")
        self.assert_unchanged(db, before, preview)


class RecycledIdTest(lt.LetheTestCase):
    """SQLite gives a new row the largest id plus one, so after deleting
    the row with the largest id the next new row gets the same id. Reapply
    must not delete that new, different person because its id matches a
    ledger line."""

    def test_new_row_with_old_id_kept(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        key = lt.write_file(folder, "lethe.key", KEY)
        ledger = os.path.join(folder, "erased.ledger")
        policy = lt.write_file(folder, "last.lua", """\
policy { name = "last person", model = "crm" }
local person = entity "person"
rule "delete Prospect20" {
  select = person:where { { "lastname", "=", "Prospect20" } },
  action = delete(),
}
""")
        digest = gh.plan_json(policy, db)["short_digest"]
        applied = gh.apply_policy(policy, db, digest, "--ledger", ledger,
                                  "--key-file", key)
        self.assert_exit(applied, 0)
        # A backup taken after the erasure contains a person created later.
        lt.execute(db, "INSERT INTO person (firstname, lastname, "
                   "category_idx, registered) VALUES ('Uma', 'Newcomer', 2, "
                   "'2024-07-01 00:00:00')")
        new_id = lt.scalar(db, "SELECT person_id FROM person WHERE "
                           "lastname = 'Newcomer'")
        self.assertEqual(new_id, 20, "SQLite did not reuse id 20; this "
                         "test needs another scenario")
        preview = gh.run("reapply", "--ledger", ledger, "--db", db,
                       "--key-file", key, "--as", gh.USER, "--json")
        selected = {rule["name"]: rule["selected"]
                    for rule in preview.json()["rules"]}
        self.assertEqual(sum(selected.values()), 0,
                         f"reapply selects the new person {new_id}, who "
                         f"only shares the id of an erased person: "
                         f"{selected}")


class KeyFileTest(lt.LetheTestCase):
    """A key file that is too short or is the database is rejected."""

    def test_short_key_rejected(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        key = lt.write_file(folder, "short.key", "0123456789")
        policy = lt.write_file(folder, "ledger.lua", POLICY)
        before = lt.file_digest(db)
        result = gh.apply_policy(policy, db,
                                 gh.plan_json(policy, db)["short_digest"],
                                 "--ledger", os.path.join(folder, "l"),
                                 "--key-file", key)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "a key needs at least 16")
        self.assert_unchanged(db, before, result)
        self.assertNotIn("0123456789", result.stderr)

    def test_ledger_needs_key(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        policy = lt.write_file(folder, "ledger.lua", POLICY)
        before = lt.file_digest(db)
        result = gh.run("apply", policy, "--db", db, "--now", gh.GUARD_NOW,
                        "--as", gh.USER, "--yes",
                        gh.plan_json(policy, db)["short_digest"], "--ledger",
                        os.path.join(folder, "l"),
                        env={"LETHE_KEY_FILE": ""})
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "--ledger needs a key")
        self.assert_unchanged(db, before, result)


if __name__ == "__main__":
    unittest.main()
