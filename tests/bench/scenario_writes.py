"""S3 (a bulk update of a fifth of the persons) and S4 (a guarded deletion
of a tenth of the persons, with cascades and erasure steps), each against
a hand-written statement in a Python sqlite3 transaction.

Every run, Lethe's and the reference's, starts from a fresh copy of the
benchmark database; the copy is not timed. Lethe is timed as the whole
`lethe apply ... --yes DIGEST` process, which prints the plan, plans
again under the write lock, checks row counts, writes the audit record and
commits. The reference is timed from BEGIN IMMEDIATE to the end of
COMMIT. After each run the resulting tables are counted (not timed), and
Lethe's and the reference's results must be equal.

The selection's size is set by a date boundary: the registration time of
the N-th person in registration order, so that "registered before" it
selects N persons.
"""

import time

from harness import (BenchError, Row, Sample, alternate, checked, connect,
                     fresh_copy, remove_database)

USER = "bench"

UPDATE_POLICY = """policy {{ name = "benchmark bulk update", model = "crm" }}
local person = entity "person"
rule "stop mailing early registrations" {{
  select = person:where {{
    {{ "nomailing", "is false" }},
    {{ "registered", "before", "{boundary}" }},
  }},
  action = update {{ nomailing = true }},
}}
"""

UPDATE_SQL = ("UPDATE person SET nomailing = 1 WHERE nomailing = 0 AND "
              "registered < ?")

DELETE_POLICY = """policy {{
  name = "benchmark guarded deletion", model = "crm" }}
local person = entity "person"
rule "delete early registrations" {{
  select = person:where {{ {{ "registered", "before", "{boundary}" }} }},
  action = delete(),
}}
"""

# Persons who are CRM users are never deleted, because the model's link
# from associate restricts their deletion. The schema's ON DELETE rules
# delete or clear the children, and its triggers remove the full-text
# index entries.
DELETE_SQL = ("DELETE FROM person WHERE registered < ? AND person_id NOT IN "
              "(SELECT person_id FROM associate WHERE person_id IS NOT NULL)")

# What a deletion leaves, compared between Lethe and the reference.
RESULT_COUNTS = {
    "person": "SELECT count(*) FROM person",
    "contact": "SELECT count(*) FROM contact",
    "appointment": "SELECT count(*) FROM appointment",
    "document": "SELECT count(*) FROM document",
    "consentperson": "SELECT count(*) FROM consentperson",
    "email": "SELECT count(*) FROM email",
    "phone": "SELECT count(*) FROM phone",
    "address": "SELECT count(*) FROM address",
    "selectionmember": "SELECT count(*) FROM selectionmember",
    "sale without person": "SELECT count(*) FROM sale WHERE person_id IS "
                           "NULL",
    "persons not mailed": "SELECT count(*) FROM person WHERE nomailing = 1",
}


def boundary_for(path, count, where="1"):
    """The registration time that `count` persons matching `where`
    precede."""
    db = connect(path)
    row = db.execute(f"SELECT registered FROM person WHERE {where} ORDER BY "
                     "registered LIMIT 1 OFFSET ?", (count,)).fetchone()
    db.close()
    if row is None:
        raise BenchError(f"the database has fewer than {count} persons")
    return row[0]


def result_counts(path):
    db = connect(path)
    counts = {name: db.execute(sql).fetchone()[0]
              for name, sql in RESULT_COUNTS.items()}
    db.close()
    return counts


def prepare(ctx, name, policy_text, right):
    """Write the policy, make a copy of the benchmark database in which
    the benchmark user has `right`, and plan the policy on it. Returns the
    policy path, the prepared copy and the plan."""
    policy = ctx.work_dir / f"{name}.lua"
    policy.write_text(policy_text)
    prepared = fresh_copy(ctx.database(ctx.current_persons),
                          ctx.work_dir / f"{name}-prepared.db")
    checked(ctx.lethe.run("grant", USER, right, "--db", prepared),
            "lethe grant")
    plan = ctx.lethe.plan_json(policy, prepared, ctx.now)
    return policy, prepared, plan


def lethe_apply(ctx, policy, prepared, plan, copy, extra=(), timeout=None):
    """Return a sampler for one `lethe apply` on a fresh copy. The
    sample's value is a pair: the result counts (None when the run was
    stopped at `timeout`) and a note that tells when the run was stopped
    or the erasure check found copies."""
    def sample():
        fresh_copy(prepared, copy)
        result = ctx.lethe.run("apply", policy, "--db", copy, "--now",
                               ctx.now, "--as", USER, "--yes",
                               plan["digest"], *extra, timeout=timeout)
        note = ""
        if result.timed_out:
            note = f"stopped after {result.wall:.0f} s"
        elif result.returncode == 1 and "Erasure NOT verified" in \
                result.stdout:
            note = "finished, but the erasure check found copies"
        else:
            checked(result, "lethe apply")
        counts = None if result.timed_out else result_counts(copy)
        remove_database(copy)
        return Sample(wall=result.wall, cpu=result.cpu,
                      value=(counts, note))
    return sample


def reference_run(ctx, prepared, copy, statements, pragmas=()):
    """Return a sampler for the hand-written statements in one
    transaction on a fresh copy."""
    def sample():
        fresh_copy(prepared, copy)
        db = connect(copy)
        for pragma in pragmas:
            db.execute(pragma)
        started, cpu = time.perf_counter(), time.process_time()
        db.execute("BEGIN IMMEDIATE")
        for sql, parameters in statements:
            db.execute(sql, parameters)
        db.execute("COMMIT")
        sample = Sample(wall=time.perf_counter() - started,
                        cpu=time.process_time() - cpu)
        db.close()
        sample.value = (result_counts(copy), "")
        remove_database(copy)
        return sample
    return sample


def check_results(name, ours, theirs):
    results = [s.value[0] for s in ours + theirs if s.value[0] is not None]
    for result in results[1:]:
        if result != results[0]:
            raise BenchError(f"{name}: Lethe and the reference left "
                             f"different tables: {results[0]} and {result}")


def notes_of(samples):
    return "; ".join(sorted({s.value[1] for s in samples if s.value[1]}))


def run_s3(ctx):
    ctx.current_persons = ctx.persons
    count = ctx.persons // 5
    boundary = boundary_for(ctx.database(), count, "nomailing = 0")
    policy, prepared, plan = prepare(
        ctx, "s3-bulk-update", UPDATE_POLICY.format(boundary=boundary),
        "update")

    updated = sum(effect["rows"] for rule in plan["rules"]
                  for effect in rule["effects"])
    copy = ctx.work_dir / "s3-run.db"

    ours, theirs = alternate(
        ctx.repetitions, lethe_apply(ctx, policy, prepared, plan, copy),
        reference_run(ctx, prepared, copy, [(UPDATE_SQL, (boundary,))]))
    check_results("S3", ours, theirs)
    rows = [Row("S3", f"bulk update of {updated} persons (nomailing = "
                "true)", lethe=ours, reference=theirs,
                reference_name="hand-written UPDATE in one transaction",
                goal=("ratio_max", 1.25), note=notes_of(ours))]
    # Apply runs the erasure steps (secure_delete, merging every full-text
    # index) even when a plan deletes nothing; this row shows the update
    # without them.
    ours, theirs = alternate(
        ctx.repetitions,
        lethe_apply(ctx, policy, prepared, plan, copy,
                    ("--skip-erasure-steps",)),
        reference_run(ctx, prepared, copy, [(UPDATE_SQL, (boundary,))]))
    check_results("S3 without erasure steps", ours, theirs)
    rows.append(Row("S3", "the same with --skip-erasure-steps", lethe=ours,
                    reference=theirs, reference_name="hand-written UPDATE "
                    "in one transaction"))
    remove_database(prepared)
    return rows


def run_s4(ctx):
    rows = []
    for persons in ctx.deletion_sizes():
        ctx.current_persons = persons
        rows.extend(deletion_rows(ctx, persons, persons == ctx.persons))
    return rows


def deletion_rows(ctx, persons, main):
    """Return the rows for deleting a tenth of `persons`. Lethe with its
    erasure steps runs against deletes with secure_delete on. On the
    benchmark database, Lethe also runs without them, against deletes with
    secure_delete off."""
    boundary = boundary_for(ctx.database(persons), persons // 10)
    policy, prepared, plan = prepare(
        ctx, f"s4-delete-{persons}", DELETE_POLICY.format(boundary=boundary),
        "delete")
    rule = plan["rules"][0]
    deleted = rule["acting"]
    vetoed = sum(veto["count"] for veto in rule["vetoes"])

    copy = ctx.work_dir / "s4-run.db"
    statements = [(DELETE_SQL, (boundary,))]
    repetitions = ctx.repetitions if main else 1
    ours, theirs = alternate(
        repetitions,
        lethe_apply(ctx, policy, prepared, plan, copy,
                    timeout=ctx.deletion_timeout),
        reference_run(ctx, prepared, copy, statements,
                      ("PRAGMA secure_delete = ON",)),
        long_run=ctx.long_run)
    check_results("S4", ours, theirs)
    note = notes_of(ours)
    row = Row("S4", f"delete {deleted} of {persons} persons ({vetoed} "
              "vetoed), with cascades and erasure steps", lethe=ours,
              reference=theirs, reference_name="hand-written DELETE, "
              "secure_delete on", goal=("ratio_max", 1.3) if main else None,
              note=note)
    if any(s.value[0] is None for s in ours):
        row.status = "missed"

    rows = [row]
    if main:
        ours, theirs = alternate(
            ctx.repetitions,
            lethe_apply(ctx, policy, prepared, plan, copy,
                        ("--skip-erasure-steps",)),
            reference_run(ctx, prepared, copy, statements,
                          ("PRAGMA secure_delete = OFF",)))
        check_results("S4 without erasure", ours, theirs)
        rows.append(Row("S4", f"the same with --skip-erasure-steps",
                        lethe=ours, reference=theirs,
                        reference_name="hand-written DELETE, secure_delete "
                        "off"))
    remove_database(prepared)
    return rows
