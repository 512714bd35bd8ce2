"""The bundled retention policy (scripts/policies/retention.lua) written
the way a consultant would write it without Lethe: a Python script with
the standard sqlite3 module that walks the persons and companies row by
row and queries the database about each one. It is the subject of benchmark
S9 and runs as a dry run, printing what each rule would select, veto and
change, as one JSON object.

    python3 consultant_retention.py DATABASE --now 2025-01-01

It follows the policy's rules exactly, so that its counts can be checked
against `lethe plan retention`: rules are read in order and the first rule
that selects a person decides; a person who is a CRM user is never
deleted; a company is kept when deleting it would delete such a person;
dates are compared as instants, and a date that cannot be read matches no
date condition. It computes no cascades and no digest, which the plan
does.
"""

import argparse
import json
import sqlite3
from datetime import datetime, timezone


def parse_date(text):
    """Return the UTC instant of an ISO-8601 text, or None."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def years_before(now, years):
    """The same day `years` years earlier; 29 February becomes the 28th."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def lookup(db, table, key, label_column, label):
    row = db.execute(f"SELECT {key} FROM {table} WHERE {label_column} = ?",
                     (label,)).fetchone()
    if row is None:
        raise SystemExit(f"{table} has no row {label!r}")
    return row[0]


def has_recent_activity(db, column, owner, since):
    for (active_date,) in db.execute(
            f"SELECT activeDate FROM appointment WHERE {column} = ?",
            (owner,)):
        when = parse_date(active_date)
        if when is not None and when >= since:
            return True
    return False


def has_recent_sale(db, company, since):
    for (sale_date,) in db.execute(
            "SELECT saledate FROM sale WHERE contact_id = ?", (company,)):
        when = parse_date(sale_date)
        if when is not None and when >= since:
            return True
    return False


def consents_of(db, person):
    return db.execute("SELECT consentpurpose_id, legalbase_id FROM "
                      "consentperson WHERE person_id = ?", (person,)) \
        .fetchall()


def stale_prospects(db, codes, users, now):
    """Select rule 1's persons; returns (selected, vetoed) person ids."""
    since = years_before(now, 3)
    selected, vetoed = [], []
    for person, category, registered in db.execute(
            "SELECT person_id, category_idx, registered FROM person "
            "ORDER BY person_id").fetchall():
        if category != codes["prospect"]:
            continue
        when = parse_date(registered)
        if when is None or when >= since:
            continue
        if has_recent_activity(db, "person_id", person, since):
            continue
        standing_consents = [
            basis for purpose, basis in consents_of(db, person)
            if purpose == codes["emarketing"]
            and basis != codes["withdrawn"]]
        if standing_consents:
            continue
        selected.append(person)
        if person in users:
            vetoed.append(person)
    return selected, vetoed


def lost_customers(db, codes, users, now):
    """Select rule 2's companies; returns (selected, vetoed) company ids
    and the persons that deleting the companies not vetoed deletes."""
    since = years_before(now, 5)
    selected, vetoed, deleted_persons = [], [], set()
    for company, category, registered in db.execute(
            "SELECT contact_id, category_idx, registered FROM contact "
            "ORDER BY contact_id").fetchall():
        if category != codes["lost"]:
            continue
        when = parse_date(registered)
        if when is None or when >= since:
            continue
        if has_recent_activity(db, "contact_id", company, since):
            continue
        if has_recent_sale(db, company, since):
            continue
        selected.append(company)
        persons = [row[0] for row in db.execute(
            "SELECT person_id FROM person WHERE contact_id = ?", (company,))]
        if any(person in users for person in persons):
            vetoed.append(company)
        else:
            deleted_persons.update(persons)
    return selected, vetoed, deleted_persons


def withdrawn_consents(db, codes, claimed):
    """Select rule 3's persons; returns the selected persons that no
    earlier rule claimed, and those whose blockEmarketing would change."""
    selected, changing = [], []
    for person, blocked in db.execute(
            "SELECT person_id, blockEmarketing FROM person ORDER BY "
            "person_id").fetchall():
        if person in claimed:
            continue
        for purpose, basis in consents_of(db, person):
            if purpose == codes["emarketing"] and basis == codes["withdrawn"]:
                selected.append(person)
                if blocked != 1:
                    changing.append(person)
                break
    return selected, changing


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--now", required=True,
                        help="reference day, YYYY-MM-DD (UTC)")
    options = parser.parse_args()
    now = parse_date(options.now)

    db = sqlite3.connect(options.database)
    codes = {
        "prospect": lookup(db, "category", "category_id", "name",
                           "Prospect"),
        "lost": lookup(db, "category", "category_id", "name",
                       "Lost customer"),
        "emarketing": lookup(db, "consentpurpose", "consentpurpose_id",
                             "key", "EMARKETING"),
        "withdrawn": lookup(db, "legalbase", "legalbase_id", "key",
                            "WITHDRAWN"),
    }
    users = {row[0] for row in db.execute(
        "SELECT person_id FROM associate WHERE person_id IS NOT NULL")}

    stale, stale_vetoed = stale_prospects(db, codes, users, now)
    lost, lost_vetoed, lost_persons = lost_customers(db, codes, users, now)
    claimed = set(stale) | lost_persons
    withdrawn, changing = withdrawn_consents(db, codes, claimed)
    total = db.execute("SELECT count(*) FROM person").fetchone()[0]

    print(json.dumps({
        "delete stale prospects": {"selected": len(stale),
                                   "vetoed": len(stale_vetoed)},
        "delete lost customers": {"selected": len(lost),
                                  "vetoed": len(lost_vetoed)},
        "block e-marketing after withdrawal": {"selected": len(withdrawn),
                                               "changed": len(changing)},
        "keep everyone else": {"selected": total - len(claimed)
                               - len(withdrawn)},
    }))


if __name__ == "__main__":
    main()
