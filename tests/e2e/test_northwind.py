"""The bundled Northwind policy planned and applied on the Northwind database.

Customers have a text key (CustomerID), so the model keys them by rowid and
joins orders on CustomerID. Order lines are in the table "Order Details",
whose name has a space. The SQL below asks the policy's questions at
--now 2019-01-01: customers without any order are deleted; customers with
no order in 18 months are deleted with their orders and order lines unless
an order was not shipped; customers with no order in 12 months lose their
fax number; the rest is kept.
"""

import unittest

import lethe_testing as lt

templates = lt.DatabaseTemplates()


def tearDownModule():
    templates.close()


NOW = "2019-01-01"

NO_ORDERS_SQL = """
SELECT c.rowid FROM Customers c
WHERE NOT EXISTS (SELECT 1 FROM Orders o WHERE o.CustomerID = c.CustomerID)
"""

NO_RECENT_ORDER_SQL = """
SELECT c.rowid FROM Customers c
WHERE NOT EXISTS (SELECT 1 FROM Orders o WHERE o.CustomerID = c.CustomerID
                    AND julianday(o.OrderDate) >= julianday(?1))
"""

UNSHIPPED_SQL = """
SELECT c.rowid FROM Customers c JOIN Orders o ON o.CustomerID = c.CustomerID
WHERE o.ShippedDate IS NULL
"""

WITH_FAX_SQL = """
SELECT rowid FROM Customers WHERE Fax IS NOT NULL AND Fax <> ''
"""


def months_before(months):
    return lt.sql_time(lt.add_months(lt.parse_day(NOW), -months))


class Expected:
    """Ids and row counts that the policy must produce on one database,
    computed by SQL."""

    def __init__(self, db):
        self.no_orders = lt.query_ids(db, NO_ORDERS_SQL)
        claimed = set(self.no_orders)
        quiet_18 = lt.query_ids(db, NO_RECENT_ORDER_SQL, (months_before(18),))
        self.inactive = [i for i in quiet_18 if i not in claimed]
        unshipped = set(lt.query_ids(db, UNSHIPPED_SQL))
        self.vetoed = [i for i in self.inactive if i in unshipped]
        self.deleted = [i for i in self.inactive if i not in unshipped]
        claimed |= set(self.inactive)
        quiet_12 = set(lt.query_ids(db, NO_RECENT_ORDER_SQL,
                                    (months_before(12),)))
        self.fax_cleared = [i for i in lt.query_ids(db, WITH_FAX_SQL)
                            if i in quiet_12 and i not in claimed]
        claimed |= set(self.fax_cleared)
        everyone = lt.query_ids(db, "SELECT rowid FROM Customers")
        self.kept = [i for i in everyone if i not in claimed]
        marks = ",".join("?" * len(self.deleted)) or "NULL"
        orders = (f"SELECT o.OrderID FROM Orders o JOIN Customers c "
                  f"ON o.CustomerID = c.CustomerID WHERE c.rowid IN ({marks})")
        self.orders = lt.scalar(db, f"SELECT count(*) FROM ({orders})",
                                self.deleted)
        self.lines = lt.scalar(
            db, f'SELECT count(*) FROM "Order Details" WHERE OrderID IN '
                f"({orders})", self.deleted)


class NorthwindPlanTest(lt.LetheTestCase):

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("northwind", folder)
        cls.expected = Expected(cls.db)
        cls.digest_before = lt.file_digest(cls.db)
        cls.result = lt.run_lethe("plan", "northwind", "--db", cls.db,
                                  "--now", NOW, "--samples", "1000", "--json")
        cls.plan = cls.result.json() if cls.result.returncode == 0 else None

    def setUp(self):
        self.assert_exit(self.result, 0)

    def rule(self, name):
        return lt.rule_by_name(self.plan, name)

    def assert_acting(self, name, expected):
        actual = lt.sample_ids(self.rule(name))
        self.assertEqual(actual, expected,
                         f"rule {name!r} acts on: expected {expected}, got "
                         f"{actual}")

    def test_plan_leaves_database_unchanged(self):
        self.assert_unchanged(self.db, self.digest_before, self.result)

    def test_without_orders_ids(self):
        self.assertTrue(self.expected.no_orders,
                        "the SQL finds customers without orders")
        self.assert_acting("delete customers without orders",
                           self.expected.no_orders)

    def test_inactive_selected_count(self):
        rule = self.rule("delete inactive customers")
        expected = len(self.expected.inactive)
        self.assertEqual(rule["selected"], expected,
                         f"selected: expected {expected}, got "
                         f"{rule['selected']}")
        self.assertEqual(rule["excluded"], len(self.expected.no_orders),
                         f"excluded: expected {len(self.expected.no_orders)}"
                         f", got {rule['excluded']}")

    def test_inactive_vetoed_count(self):
        rule = self.rule("delete inactive customers")
        vetoed = sum(veto["count"] for veto in rule["vetoes"])
        expected = len(self.expected.vetoed)
        self.assertEqual(vetoed, expected,
                         f"vetoed: expected {expected}, got {vetoed}")

    def test_inactive_ids(self):
        self.assert_acting("delete inactive customers", self.expected.deleted)

    def test_inactive_cascade_rows(self):
        expected = {("Customers", "delete"): len(self.expected.deleted),
                    ("Orders", "delete"): self.expected.orders,
                    ("Order Details", "delete"): self.expected.lines}
        expected = {key: rows for key, rows in expected.items() if rows}
        actual = lt.effect_rows(self.rule("delete inactive customers"))
        self.assertEqual(actual, expected,
                         f"effects: expected {expected}, got {actual}")

    def test_fax_rule_ids(self):
        self.assert_acting("drop fax numbers of quiet customers",
                           self.expected.fax_cleared)

    def test_fax_rule_updates(self):
        actual = lt.effect_rows(
            self.rule("drop fax numbers of quiet customers"))
        expected = {("Customers", "update"): len(self.expected.fax_cleared)}
        self.assertEqual(actual, expected,
                         f"effects: expected {expected}, got {actual}")

    def test_keep_rule_takes_rest(self):
        self.assert_acting("keep everyone else", self.expected.kept)

    def test_boundaries_shown(self):
        for name, months in (("delete inactive customers", 18),
                             ("drop fax numbers of quiet customers", 12)):
            criteria = self.rule(name)["criteria"]
            expected = "from " + months_before(months)
            self.assertTrue(any(expected in text for text in criteria),
                            f"expected {expected!r} in the criteria of "
                            f"{name!r}: {criteria}")


class NorthwindVetoTest(lt.LetheTestCase):
    """One order of an inactive customer marked as not shipped vetoes that
    customer, and its orders leave the cascade."""

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("northwind", folder)
        inactive = Expected(cls.db).deleted
        cls.unshipped_customer = inactive[0]
        lt.execute(cls.db,
                   "UPDATE Orders SET ShippedDate = NULL WHERE OrderID = "
                   "(SELECT min(o.OrderID) FROM Orders o JOIN Customers c "
                   "ON o.CustomerID = c.CustomerID WHERE c.rowid = ?1)",
                   (cls.unshipped_customer,))
        cls.expected = Expected(cls.db)
        cls.result = lt.run_lethe("plan", "northwind", "--db", cls.db,
                                  "--now", NOW, "--json")
        cls.plan = cls.result.json() if cls.result.returncode == 0 else None

    def setUp(self):
        self.assert_exit(self.result, 0)

    def test_unshipped_customer_vetoed(self):
        rule = lt.rule_by_name(self.plan, "delete inactive customers")
        vetoed = lt.veto_ids(rule, "not shipped")
        expected = [self.unshipped_customer]
        self.assertEqual(vetoed, expected,
                         f"vetoed for an unshipped order: expected "
                         f"{expected}, got {vetoed}; vetoes: "
                         f"{rule['vetoes']}")

    def test_cascade_leaves_vetoed_orders(self):
        rule = lt.rule_by_name(self.plan, "delete inactive customers")
        expected = {("Customers", "delete"): len(self.expected.deleted),
                    ("Orders", "delete"): self.expected.orders,
                    ("Order Details", "delete"): self.expected.lines}
        expected = {key: rows for key, rows in expected.items() if rows}
        actual = lt.effect_rows(rule)
        self.assertEqual(actual, expected,
                         f"effects: expected {expected}, got {actual}")


class NorthwindApplyTest(lt.LetheTestCase):

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("northwind", folder)
        cls.expected = Expected(cls.db)
        for right in ("delete", "update"):
            lt.run_lethe("grant", "dpo", right, "--db", cls.db)
        cls.counts_before = lt.row_counts(cls.db)
        plan = lt.run_lethe("plan", "northwind", "--db", cls.db, "--now", NOW,
                            "--json")
        cls.plan = plan.json()
        text = lt.run_lethe("plan", "northwind", "--db", cls.db, "--now", NOW)
        cls.result = lt.run_lethe("apply", "northwind", "--db", cls.db,
                                  "--now", NOW, "--as", "dpo", "--yes",
                                  lt.plan_digest(text.stdout))
        cls.counts_after = lt.row_counts(cls.db)

    def setUp(self):
        self.assert_exit(self.result, 0)

    def removed(self):
        # Lethe's own tables are left out, because the audit trail grows.
        return {table: self.counts_before[table] - self.counts_after[table]
                for table in self.counts_before
                if not table.startswith("lethe_")
                and self.counts_before[table] != self.counts_after[table]}

    def test_removed_rows_match_plan(self):
        planned = {total["table"]: total["rows"]
                   for total in self.plan["totals"]
                   if total["operation"] == "delete"}
        self.assertEqual(self.removed(), planned,
                         f"rows removed: expected {planned} from the plan, "
                         f"got {self.removed()}")

    def test_removed_rows_match_sql(self):
        expected = {
            "Customers": len(self.expected.no_orders)
            + len(self.expected.deleted),
            "Orders": self.expected.orders,
            "Order Details": self.expected.lines,
        }
        expected = {table: rows for table, rows in expected.items() if rows}
        self.assertEqual(self.removed(), expected,
                         f"rows removed: expected {expected}, got "
                         f"{self.removed()}")

    def test_customers_left(self):
        expected = sorted(self.expected.vetoed + self.expected.fax_cleared
                          + self.expected.kept)
        actual = lt.query_ids(self.db, "SELECT rowid FROM Customers")
        self.assertEqual(actual, expected,
                         f"customers left: expected {expected}, got {actual}")

    def test_fax_cleared(self):
        marks = ",".join("?" * len(self.expected.fax_cleared)) or "NULL"
        left = lt.query_ids(self.db, f"SELECT rowid FROM Customers WHERE "
                                     f"rowid IN ({marks}) AND Fax IS NOT NULL",
                            self.expected.fax_cleared)
        self.assertEqual(left, [], f"fax numbers not cleared: {left}")

    def test_orphan_orders_none(self):
        orphans = lt.query_ids(
            self.db, "SELECT OrderID FROM Orders o WHERE NOT EXISTS "
                     "(SELECT 1 FROM Customers c "
                     "WHERE c.CustomerID = o.CustomerID)")
        self.assertEqual(orphans, [],
                         f"orders without a customer: {orphans}")

    def test_foreign_keys_hold(self):
        problems = lt.foreign_key_problems(self.db)
        self.assertEqual(problems, [],
                         f"PRAGMA foreign_key_check: expected no rows, got "
                         f"{problems[:5]}")

    def test_second_plan_changes_nothing(self):
        result = lt.run_lethe("plan", "northwind", "--db", self.db, "--now",
                              NOW)
        self.assert_exit(result, 0)
        self.assertIn("Totals: nothing would change.", result.stdout,
                      "expected an empty second plan\n" + result.describe())


if __name__ == "__main__":
    unittest.main()
