"""Cascades on every sample database.

The rows per table that the plan shows are the rows that the apply
removes, counting every table before and after. Links of set_null
children are cleared and the children stay. Foreign keys hold afterwards,
and a foreign key that the model does not describe stops the plan.

Expected rows come from hand counts on the CRM fixture (see the docstring
of test_crm_fixture) and from SQL written here for Sakila and Northwind.
"""

import os
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


def null_keys(db, table, column):
    return set(lt.query_ids(
        db, f'SELECT rowid FROM "{table}" WHERE "{column}" IS NULL'))


class CascadeCase(lt.LetheTestCase):
    """Plan and apply one policy on a copy of one database, counting every
    table before and after. Subclasses set kind, policy, now and, for the
    checks against SQL, expected_deletes and expected_clears."""

    kind = None
    policy = None
    now = None
    expected_deletes = None
    expected_clears = None

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = cls.make_database(folder)
        cls.prepare(folder)
        lt.run_lethe("grant", "tester", "delete", "--db", cls.db)
        lt.run_lethe("grant", "tester", "update", "--db", cls.db)
        cls.before = gh.table_counts(cls.db)
        cls.original = os.path.join(folder, "original.db")
        gh.copy_database(cls.db, cls.original)
        plan = lt.run_lethe("plan", cls.policy, "--db", cls.db, "--now",
                            cls.now, "--json")
        cls.plan = plan.json() if plan.returncode == 0 else None
        cls.clear_columns = {}
        if cls.plan:
            for rule in cls.plan["rules"]:
                for effect in rule["effects"]:
                    if effect["operation"] == "clear":
                        cls.clear_columns[effect["table"]] = effect["column"]
        cls.nulls_before = {table: null_keys(cls.db, table, column)
                            for table, column in cls.clear_columns.items()}
        cls.result = lt.run_lethe(
            "apply", cls.policy, "--db", cls.db, "--now", cls.now, "--as",
            "tester", "--yes", cls.plan["short_digest"] if cls.plan else "-")
        cls.after = gh.table_counts(cls.db)

    @classmethod
    def make_database(cls, folder):
        return templates.copy(cls.kind, folder)

    @classmethod
    def prepare(cls, folder):
        """Compute expected values before the plan (optional)."""

    def setUp(self):
        self.assertIsNotNone(self.plan, "lethe plan failed")
        self.assert_exit(self.result, 0)

    def planned(self, operation):
        return {table: rows for (table, kind), rows
                in gh.totals(self.plan).items() if kind == operation}

    def test_removed_rows_match_plan(self):
        planned = self.planned("delete")
        for table, rows in self.before.items():
            removed = rows - self.after[table]
            self.assertEqual(removed, planned.get(table, 0),
                             f"{table}: plan says {planned.get(table, 0)} "
                             f"rows deleted, {removed} were removed")

    def test_removed_rows_match_sql(self):
        if self.expected_deletes is None:
            self.skipTest("no SQL count for this database")
        removed = {table: rows - self.after[table]
                   for table, rows in self.before.items()
                   if rows != self.after[table]}
        self.assertEqual(removed, self.expected_deletes,
                         f"rows removed: expected {self.expected_deletes}, "
                         f"got {removed}")

    def test_cleared_links_match_plan(self):
        planned = self.planned("clear")
        for table, column in self.clear_columns.items():
            cleared = null_keys(self.db, table, column) \
                - self.nulls_before[table]
            self.assertEqual(len(cleared), planned[table],
                             f"{table}.{column}: plan says {planned[table]} "
                             f"links cleared, {len(cleared)} became NULL")

    def test_cleared_links_match_sql(self):
        if self.expected_clears is None:
            self.skipTest("no SQL count for this database")
        cleared = {}
        for table, column in self.clear_columns.items():
            keys = null_keys(self.db, table, column) - self.nulls_before[table]
            cleared[(table, column)] = sorted(keys)
        self.assertEqual(cleared, self.expected_clears,
                         f"cleared links: expected {self.expected_clears}, "
                         f"got {cleared}")

    def test_foreign_keys_hold(self):
        problems = lt.foreign_key_problems(self.db)
        self.assertEqual(problems, [],
                         f"foreign_key_check: expected none, got "
                         f"{problems[:10]}")

    def test_integrity(self):
        result = gh.integrity(self.db)
        self.assertEqual(result, "ok",
                         f"integrity_check: expected ok, got {result}")


class CrmFixtureCascadeTest(CascadeCase):
    """The fixture policy of lethe_testing on the CRM fixture."""

    kind = "crm"
    now = lt.FIXTURE_NOW
    # By hand: company 1 with persons 1 and 2, activity 1, document 1,
    # sale 1, consent 1 and e-mail 1; then persons 4 and 5 with activity
    # 4 and consent 2. Activity 3 loses sale 1, sale 2 loses person 5.
    expected_deletes = {"contact": 1, "person": 4, "appointment": 2,
                        "document": 1, "sale": 1, "consentperson": 2,
                        "email": 1}
    expected_clears = {("appointment", "sale_id"): [3],
                       ("sale", "person_id"): [2]}

    @classmethod
    def prepare(cls, folder):
        cls.policy = lt.write_file(folder, "fixture.lua", lt.FIXTURE_POLICY)

    def test_cleared_rows_kept(self):
        rows = lt.query(self.db, "SELECT appointment_id, sale_id FROM "
                        "appointment WHERE appointment_id = 3 UNION ALL "
                        "SELECT sale_id, person_id FROM sale WHERE "
                        "sale_id = 2")
        self.assertEqual(rows, [(3, None), (2, None)],
                         f"activity 3 and sale 2: expected both kept with "
                         f"the link cleared, got {rows}")


class SampleCrmCascadeTest(CascadeCase):
    """The bundled retention policy on a generated CRM database."""

    now = "2024-06-30"
    policy = "retention"

    @classmethod
    def make_database(cls, folder):
        path = os.path.join(folder, "sample.db")
        result = lt.run_lethe("init", path, "--sample", "--persons", "600",
                              "--seed", "11", "--now", cls.now)
        if result.returncode != 0:
            raise AssertionError("lethe init --sample failed:\n"
                                 + result.describe())
        return path

    def test_plan_deletes_rows(self):
        planned = self.planned("delete")
        self.assertGreater(planned.get("person", 0), 0,
                           f"the sample should have persons to delete; "
                           f"plan totals: {self.plan['totals']}")


SAKILA_NOW = "2006-08-31"
SAKILA_START = "2006-02-28 00:00:00"  # six months before SAKILA_NOW

SAKILA_DELETED = f"""
SELECT customer_id FROM customer c
WHERE active = '0'
  AND NOT EXISTS (SELECT 1 FROM rental r WHERE r.customer_id = c.customer_id
                  AND julianday(r.rental_date) >= julianday('{SAKILA_START}'))
  AND NOT EXISTS (SELECT 1 FROM rental r WHERE r.customer_id = c.customer_id
                  AND r.return_date IS NULL)
"""


class SakilaCascadeTest(CascadeCase):
    kind = "sakila"
    now = SAKILA_NOW
    policy = "sakila"

    @classmethod
    def prepare(cls, folder):
        deleted = f"({SAKILA_DELETED})"
        cls.expected_deletes = {
            "customer": lt.scalar(cls.db, f"SELECT count(*) FROM {deleted}"),
            "rental": lt.scalar(cls.db, "SELECT count(*) FROM rental WHERE "
                                f"customer_id IN {deleted}"),
            "payment": lt.scalar(cls.db, "SELECT count(*) FROM payment WHERE "
                                 f"customer_id IN {deleted}"),
        }
        cleared = lt.query_ids(
            cls.db, "SELECT payment_id FROM payment WHERE customer_id NOT IN "
            f"{deleted} AND rental_id IN (SELECT rental_id FROM rental WHERE "
            f"customer_id IN {deleted})")
        cls.expected_clears = {("payment", "rental_id"): cleared} \
            if cleared else {}

    def test_sql_finds_rows(self):
        self.assertGreater(self.expected_deletes["rental"], 0,
                           "the SQL should find rentals to delete")


NORTHWIND_NOW = "2019-01-01"
NORTHWIND_START = "2017-07-01 00:00:00"  # 18 months before NORTHWIND_NOW

NORTHWIND_DELETED = f"""
SELECT c.CustomerID FROM Customers c
WHERE NOT EXISTS (SELECT 1 FROM Orders o WHERE o.CustomerID = c.CustomerID
                  AND julianday(o.OrderDate) >= julianday('{NORTHWIND_START}'))
  AND NOT EXISTS (SELECT 1 FROM Orders o WHERE o.CustomerID = c.CustomerID
                  AND o.ShippedDate IS NULL)
"""


class NorthwindCascadeTest(CascadeCase):
    kind = "northwind"
    now = NORTHWIND_NOW
    policy = "northwind"
    expected_clears = {}

    @classmethod
    def prepare(cls, folder):
        deleted = f"({NORTHWIND_DELETED})"
        orders = f"(SELECT OrderID FROM Orders WHERE CustomerID IN {deleted})"
        cls.expected_deletes = {
            "Customers": lt.scalar(cls.db, f"SELECT count(*) FROM {deleted}"),
            "Orders": lt.scalar(cls.db, f"SELECT count(*) FROM {orders}"),
            "Order Details": lt.scalar(
                cls.db, f'SELECT count(*) FROM "Order Details" WHERE OrderID '
                f"IN {orders}"),
        }


class UnmodelledKeyTest(lt.LetheTestCase):
    """A foreign key that the model does not describe stops the plan."""

    @classmethod
    def setUpClass(cls):
        cls.folder = lt.temporary_folder(cls)
        source = os.path.join(lt.environment_path("LETHE_SOURCE_DIR"),
                              "scripts", "models", "crm.lua")
        with open(source, encoding="utf-8") as file:
            text = file.read()
        start = text.find("    selection_member = {")
        cls.model_found = start >= 0
        cls.model = lt.write_file(cls.folder, "crm_partial.lua",
                                  text[:start] + "  },\n}\n")

    def setUp(self):
        self.assertTrue(self.model_found, "the crm model has no "
                        "selection_member entity; update this test")
        self.db = templates.copy("guard", self.folder)

    def policy(self, lastname):
        return lt.write_file(self.folder, "policy.lua", f"""\
policy {{ name = "partial model" }}
local person = entity "person"
rule "delete one" {{
  select = person:where {{ {{ "lastname", "=", "{lastname}" }} }},
  action = delete(),
}}
""")

    def test_plan_names_table(self):
        # Person 16 is a member of selection 1.
        plan = gh.plan_json(self.policy("Prospect16"), self.db, "--model",
                            self.model)
        problems = plan["problems"]
        self.assertEqual(len(problems), 1,
                         f"problems: expected one, got {problems}")
        self.assertIn("1 rows of table selectionmember point at person rows",
                      problems[0])

    def test_apply_rejected(self):
        policy = self.policy("Prospect16")
        plan = gh.plan_json(policy, self.db, "--model", self.model)
        digest, counts = lt.file_digest(self.db), lt.row_counts(self.db)
        result = gh.run("apply", policy, "--db", self.db, "--model",
                        self.model, "--now", gh.GUARD_NOW, "--as", gh.USER,
                        "--yes", plan["short_digest"])
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "table selectionmember")
        self.assert_unchanged(self.db, digest, result)
        after = lt.row_counts(self.db)
        self.assertEqual(after, counts,
                         f"row counts: expected {counts}, got {after}")

    def test_unreferenced_row_passes(self):
        # Person 11 is in no selection, so nothing points at it.
        plan = gh.plan_json(self.policy("Prospect11"), self.db, "--model",
                            self.model)
        self.assertEqual(plan["problems"], [],
                         f"problems: expected none, got {plan['problems']}")


del CascadeCase

if __name__ == "__main__":
    unittest.main()
