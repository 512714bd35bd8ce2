#!/usr/bin/env python3
"""Time multi-criteria selections against hand-written SQL.

Each case is one rule with several criteria. The script plans it with
`lethe plan --json` and runs an equivalent query written by hand with
Python's sqlite3, checks that both select the same number of persons, and
prints both times. The hand-written SQL compares dates as text, which is
right for the canonical 'YYYY-MM-DD HH:MM:SS' form the sample generator
writes. It folds case with lower(), which is right for the generated
names. Lethe reads every ISO form and folds all of Unicode, so it does
more per row.

Usage:
  tests/bench/criteria_bench.py --lethe build/lethe --db bench.db
      [--persons 1000000] [--now 2025-01-01] [--repeat 3]

Without an existing --db file, the script creates it with
`lethe init --sample --persons N --seed 1 --now NOW`.
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

# (name, Lua criteria of person:where, hand-written SQL selecting the same
# person ids). Dates are three years before 2025-01-01.
CASES = [
    ("stale prospects",
     """{
    { "category", "=", "Prospect" },
    { "registered", "older than", 3, "years" },
    { "activities", "none", { "activeDate", "newer than", 3, "years" } },
    { "consents", "none", { "purpose", "=", "EMARKETING" },
      { "legal_basis", "<>", "WITHDRAWN" } },
  }""",
     """SELECT p.person_id FROM person p
        WHERE p.category_idx = 1
          AND p.registered < '2022-01-01 00:00:00'
          AND NOT EXISTS (SELECT 1 FROM appointment a
                          WHERE a.person_id = p.person_id
                            AND a.activeDate >= '2022-01-01 00:00:00')
          AND NOT EXISTS (SELECT 1 FROM consentperson c
                          WHERE c.person_id = p.person_id
                            AND c.consentpurpose_id = 2
                            AND c.legalbase_id <> 5)"""),
    ("activity counters",
     """{
    { "activities", "count", ">=", 5, { "status", "=", 3 } },
    { "activities", "last", "activeDate", "before", "2022-01-01" },
  }""",
     """SELECT p.person_id FROM person p
        WHERE (SELECT count(*) FROM appointment a
               WHERE a.person_id = p.person_id AND a.status = 3) >= 5
          AND (SELECT max(a.activeDate) FROM appointment a
               WHERE a.person_id = p.person_id) < '2022-01-01 00:00:00'"""),
    ("text and company",
     """{
    { "lastname", "contains", "SEN" },
    { "company.category", "=", "Customer" },
    { "sales", "any", { "status", "=", 1 } },
  }""",
     """SELECT p.person_id FROM person p
        WHERE instr(lower(p.lastname), 'sen') > 0
          AND EXISTS (SELECT 1 FROM contact c
                      WHERE c.contact_id = p.contact_id
                        AND c.category_idx = 2)
          AND EXISTS (SELECT 1 FROM sale s
                      WHERE s.person_id = p.person_id AND s.status = 1)"""),
]

POLICY = """policy {{ name = "bench", model = "crm" }}
local person = entity "person"
rule "{name}" {{
  select = person:where {criteria},
  action = keep(),
}}
"""


def create_database(lethe, path, persons, now):
    started = time.monotonic()
    subprocess.run([lethe, "init", path, "--sample", "--persons",
                    str(persons), "--seed", "1", "--now", now], check=True)
    print(f"created {path} with {persons} persons in "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr)


def time_lethe(lethe, db, now, name, criteria, folder):
    """Plan the case; return (persons selected, seconds)."""
    policy = os.path.join(folder, "bench.lua")
    with open(policy, "w", encoding="utf-8") as file:
        file.write(POLICY.format(name=name, criteria=criteria))
    started = time.monotonic()
    completed = subprocess.run(
        [lethe, "plan", policy, "--db", db, "--now", now, "--json",
         "--samples", "0"], capture_output=True, text=True, check=True)
    elapsed = time.monotonic() - started
    plan = json.loads(completed.stdout)
    return plan["rules"][0]["selected"], elapsed


def time_sql(db, sql):
    """Run the hand-written query; return (persons selected, seconds)."""
    connection = sqlite3.connect(db)
    try:
        started = time.monotonic()
        count = len(connection.execute(sql).fetchall())
        return count, time.monotonic() - started
    finally:
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lethe", required=True, help="the lethe binary")
    parser.add_argument("--db", required=True,
                        help="sample database (created when missing)")
    parser.add_argument("--persons", type=int, default=1000000,
                        help="persons of a new database (default 1000000)")
    parser.add_argument("--now", default="2025-01-01",
                        help="reference day (default 2025-01-01)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per case; the fastest counts (default 3)")
    options = parser.parse_args()

    if not os.path.exists(options.db):
        create_database(options.lethe, options.db, options.persons,
                        options.now)
    persons = sqlite3.connect(options.db).execute(
        "SELECT count(*) FROM person").fetchone()[0]
    print(f"{persons} persons; fastest of {options.repeat} runs")
    print(f"{'case':<20} {'selected':>9} {'lethe plan s':>13} "
          f"{'hand SQL s':>11}")

    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for name, criteria, sql in CASES:
            lethe_runs = [time_lethe(options.lethe, options.db, options.now,
                                     name, criteria, folder)
                          for _ in range(options.repeat)]
            sql_runs = [time_sql(options.db, sql)
                        for _ in range(options.repeat)]
            selected, sql_count = lethe_runs[0][0], sql_runs[0][0]
            print(f"{name:<20} {selected:>9} "
                  f"{min(run[1] for run in lethe_runs):>13.2f} "
                  f"{min(run[1] for run in sql_runs):>11.2f}")
            if selected != sql_count:
                print(f"  MISMATCH: lethe selects {selected}, the "
                      f"hand-written SQL {sql_count}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
