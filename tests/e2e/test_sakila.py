"""The bundled Sakila policy planned and applied on the Sakila database.

Every expected count comes from the SQL in this file, which selects the
policy's records directly: closed accounts (active = '0') with no rental
on or after the boundary six calendar months before --now are deleted
unless they have a rental that was not returned; open accounts without such
a rental are closed; the rest is kept.
"""

import unittest

import lethe_testing as lt

templates = lt.DatabaseTemplates()


def tearDownModule():
    templates.close()


CLOSED_SQL = """
SELECT c.customer_id FROM customer c
WHERE c.active = '0' AND NOT EXISTS (
  SELECT 1 FROM rental r WHERE r.customer_id = c.customer_id
    AND julianday(r.rental_date) >= julianday(?1))
"""

DORMANT_SQL = CLOSED_SQL.replace("c.active = '0'", "c.active = '1'")

UNRETURNED_SQL = """
SELECT customer_id FROM rental WHERE return_date IS NULL
"""


def boundary(now):
    """Return the start of "the last six months" before the day `now`."""
    return lt.sql_time(lt.add_months(lt.parse_day(now), -6))


class Expected:
    """Ids and row counts that the policy must produce on one database at
    one reference day, computed by SQL."""

    def __init__(self, db, now):
        start = boundary(now)
        self.closed = lt.query_ids(db, CLOSED_SQL, (start,))
        unreturned = set(lt.query_ids(db, UNRETURNED_SQL))
        self.vetoed = [i for i in self.closed if i in unreturned]
        self.deleted = [i for i in self.closed if i not in unreturned]
        self.dormant = lt.query_ids(db, DORMANT_SQL, (start,))
        everyone = lt.query_ids(db, "SELECT customer_id FROM customer")
        self.open = lt.query_ids(
            db, "SELECT customer_id FROM customer WHERE active = '1'")
        claimed = set(self.closed) | set(self.dormant)
        self.kept = [i for i in everyone if i not in claimed]
        marks = ",".join("?" * len(self.deleted)) or "NULL"
        self.rentals = lt.scalar(
            db, f"SELECT count(*) FROM rental WHERE customer_id IN ({marks})",
            self.deleted)
        self.payments = lt.scalar(
            db, f"SELECT count(*) FROM payment WHERE customer_id IN ({marks})",
            self.deleted)
        # Payments of other customers for rentals that go lose the link.
        self.payments_cleared = lt.scalar(
            db, f"SELECT count(*) FROM payment WHERE customer_id NOT IN "
                f"({marks}) AND rental_id IN (SELECT rental_id FROM rental "
                f"WHERE customer_id IN ({marks}))",
            self.deleted + self.deleted)

    def delete_effects(self):
        effects = {("customer", "delete"): len(self.deleted),
                   ("rental", "delete"): self.rentals,
                   ("payment", "delete"): self.payments}
        if self.payments_cleared:
            effects[("payment", "clear")] = self.payments_cleared
        return {key: rows for key, rows in effects.items() if rows}


class PlanCase(lt.LetheTestCase):
    """Plan the Sakila policy at `now` once per class, as JSON with every
    acting id among the samples."""

    now = None

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("sakila", folder)
        cls.expected = Expected(cls.db, cls.now)
        cls.digest_before = lt.file_digest(cls.db)
        cls.result = lt.run_lethe("plan", "sakila", "--db", cls.db, "--now",
                                  cls.now, "--samples", "1000", "--json")
        cls.plan = cls.result.json() if cls.result.returncode == 0 else None

    def setUp(self):
        self.assert_exit(self.result, 0)

    def rule(self, name):
        return lt.rule_by_name(self.plan, name)


class SakilaPlanTest(PlanCase):
    now = "2006-05-14"

    def test_plan_leaves_database_unchanged(self):
        self.assert_unchanged(self.db, self.digest_before, self.result)

    def test_boundary_shown(self):
        criteria = self.rule("delete closed accounts")["criteria"]
        expected = "from " + boundary(self.now)
        self.assertTrue(any(expected in text for text in criteria),
                        f"expected {expected!r} in the criteria {criteria}")

    def test_closed_selected_count(self):
        rule = self.rule("delete closed accounts")
        expected = len(self.expected.closed)
        self.assertEqual(rule["selected"], expected,
                         f"selected: expected {expected}, got "
                         f"{rule['selected']}")

    def test_closed_vetoed_count(self):
        rule = self.rule("delete closed accounts")
        vetoed = sum(veto["count"] for veto in rule["vetoes"])
        expected = len(self.expected.vetoed)
        self.assertEqual(vetoed, expected,
                         f"vetoed: expected {expected}, got {vetoed}")

    def test_closed_acting_ids(self):
        rule = self.rule("delete closed accounts")
        self.assertEqual(lt.sample_ids(rule), self.expected.deleted,
                         f"acting: expected {self.expected.deleted}, got "
                         f"{lt.sample_ids(rule)}")

    def test_closed_cascade_rows(self):
        rule = self.rule("delete closed accounts")
        expected = self.expected.delete_effects()
        actual = lt.effect_rows(rule)
        self.assertEqual(actual, expected,
                         f"effects: expected {expected}, got {actual}")

    def test_dormant_acting_ids(self):
        rule = self.rule("close dormant accounts")
        self.assertEqual(lt.sample_ids(rule), self.expected.dormant,
                         f"acting: expected {len(self.expected.dormant)} "
                         f"ids, got {len(lt.sample_ids(rule))}")

    def test_dormant_update_rows(self):
        rule = self.rule("close dormant accounts")
        expected = {("customer", "update"): len(self.expected.dormant)}
        actual = lt.effect_rows(rule)
        self.assertEqual(actual, expected,
                         f"effects: expected {expected}, got {actual}")

    def test_keep_rule_takes_rest(self):
        rule = self.rule("keep everyone else")
        self.assertEqual(lt.sample_ids(rule), self.expected.kept,
                         f"kept: expected {len(self.expected.kept)} ids, got "
                         f"{len(lt.sample_ids(rule))}")
        excluded = len(self.expected.closed) + len(self.expected.dormant)
        self.assertEqual(rule["excluded"], excluded,
                         f"excluded: expected {excluded}, got "
                         f"{rule['excluded']}")

    def test_no_problems(self):
        self.assertEqual(self.plan["problems"], [],
                         f"problems: expected none, got "
                         f"{self.plan['problems']}")

    def test_text_digest_matches_json(self):
        text = lt.run_lethe("plan", "sakila", "--db", self.db, "--now",
                            self.now)
        self.assert_exit(text, 0)
        digest = lt.plan_digest(text.stdout)
        self.assertEqual(digest, self.plan["short_digest"],
                         f"text digest {digest}, JSON short_digest "
                         f"{self.plan['short_digest']}")


class SakilaVetoTest(PlanCase):
    """At 2006-08-31 the boundary is 2006-02-28 (31 February clamped), after
    the last rental, so closed accounts with an open rental are vetoed."""

    now = "2006-08-31"

    def test_boundary_clamped(self):
        criteria = self.rule("delete closed accounts")["criteria"]
        expected = "from 2006-02-28 00:00:00"
        self.assertTrue(any(expected in text for text in criteria),
                        f"expected {expected!r} in the criteria {criteria}")

    def test_vetoed_count(self):
        rule = self.rule("delete closed accounts")
        vetoed = sum(veto["count"] for veto in rule["vetoes"])
        expected = len(self.expected.vetoed)
        self.assertGreater(expected, 0, "the SQL finds accounts to veto")
        self.assertEqual(vetoed, expected,
                         f"vetoed: expected {expected}, got {vetoed}")

    def test_veto_reason_and_samples(self):
        rule = self.rule("delete closed accounts")
        samples = lt.veto_ids(rule, "not returned")
        expected = self.expected.vetoed[:3]
        self.assertEqual(samples, expected,
                         f"samples of the 'not returned' veto: expected "
                         f"{expected}, got {samples}; vetoes: "
                         f"{rule['vetoes']}")

    def test_vetoed_not_acting(self):
        rule = self.rule("delete closed accounts")
        self.assertEqual(lt.sample_ids(rule), self.expected.deleted,
                         f"acting: expected {self.expected.deleted}, got "
                         f"{lt.sample_ids(rule)}")


class SakilaApplyTest(lt.LetheTestCase):
    """Apply at 2006-05-14 and compare the database with the plan and SQL."""

    now = "2006-05-14"

    @classmethod
    def setUpClass(cls):
        folder = lt.temporary_folder(cls)
        cls.db = templates.copy("sakila", folder)
        cls.expected = Expected(cls.db, cls.now)
        for right in ("delete", "update"):
            lt.run_lethe("grant", "dpo", right, "--db", cls.db)
        cls.counts_before = lt.row_counts(cls.db)
        cls.plan_result = lt.run_lethe("plan", "sakila", "--db", cls.db,
                                       "--now", cls.now, "--json")
        cls.plan = cls.plan_result.json()
        cls.result = lt.run_lethe("apply", "sakila", "--db", cls.db, "--now",
                                  cls.now, "--as", "dpo", "--yes",
                                  cls.plan["short_digest"])
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
        expected = {"customer": len(self.expected.deleted),
                    "rental": self.expected.rentals,
                    "payment": self.expected.payments}
        self.assertEqual(self.removed(), expected,
                         f"rows removed: expected {expected}, got "
                         f"{self.removed()}")

    def test_deleted_customers_gone(self):
        left = [i for i in lt.query_ids(self.db,
                                        "SELECT customer_id FROM customer")
                if i in set(self.expected.deleted)]
        self.assertEqual(left, [], f"deleted customers still present: {left}")

    def test_vetoed_customers_kept(self):
        present = set(lt.query_ids(self.db,
                                   "SELECT customer_id FROM customer"))
        missing = [i for i in self.expected.vetoed if i not in present]
        self.assertEqual(missing, [],
                         f"vetoed customers deleted: {missing}")

    def test_dormant_accounts_closed(self):
        closed = set(lt.query_ids(
            self.db, "SELECT customer_id FROM customer "
                     "WHERE CAST(active AS INTEGER) = 0"))
        still_open = [i for i in self.expected.dormant if i not in closed]
        self.assertEqual(still_open, [],
                         f"{len(still_open)} dormant accounts still open, "
                         f"first ids {still_open[:5]}")

    def test_open_accounts_untouched(self):
        opened = lt.query_ids(self.db, "SELECT customer_id FROM customer "
                                       "WHERE CAST(active AS INTEGER) = 1")
        dormant = set(self.expected.dormant)
        expected = [i for i in self.expected.open if i not in dormant]
        self.assertEqual(opened, expected,
                         f"open accounts: expected {len(expected)}, got "
                         f"{len(opened)}")

    def test_foreign_keys_hold(self):
        problems = lt.foreign_key_problems(self.db)
        self.assertEqual(problems, [],
                         f"PRAGMA foreign_key_check: expected no rows, got "
                         f"{problems[:5]}")

    def test_second_plan_closes_nothing(self):
        result = lt.run_lethe("plan", "sakila", "--db", self.db, "--now",
                              self.now, "--json")
        self.assert_exit(result, 0)
        rule = lt.rule_by_name(result.json(), "close dormant accounts")
        self.assertEqual(rule["effects"], [],
                         f"effects of the second plan: expected none, got "
                         f"{rule['effects']}")

    def test_second_plan_matches_sql(self):
        # The accounts closed by the first run have no recent rental, so
        # the policy deletes them on the next run, and the plan shows that.
        result = lt.run_lethe("plan", "sakila", "--db", self.db, "--now",
                              self.now, "--json")
        self.assert_exit(result, 0)
        rule = lt.rule_by_name(result.json(), "delete closed accounts")
        expected = len(lt.query_ids(self.db, CLOSED_SQL,
                                    (boundary(self.now),)))
        self.assertEqual(rule["selected"], expected,
                         f"selected: expected {expected}, got "
                         f"{rule['selected']}")


if __name__ == "__main__":
    unittest.main()
