"""S1 (the retention policy's selections against hand-written SQL) and S5
(a Lua-predicate criterion against the same condition in SQL).

Lethe's side is timed inside a running `lethe repl`: each timed line
builds a selection and counts it (`#person:where {...}`), which compiles
the criteria, runs the SQL and fills the id set, exactly what the planner
does for a rule's selection. The reference runs in this process through
Python's sqlite3 module, linked to the same SQLite library, on the same
file, with the same connection settings (foreign keys on, default cache).
The reference counts the rows and sums their ids in SQL, so that every
selected row is produced, as Lethe's set needs, without Python's per-row
cost.
"""

from harness import (BenchError, Row, Sample, alternate, connect,
                     timed_sql)

# Lethe compares dates as instants, because it parses every stored value.
# The hand-written SQL compares the text, which gives the same result only
# when every value has the canonical form below. check_date_format()
# checks that before any reference runs.
CANONICAL = ("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] "
             "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]")
DATE_COLUMNS = (("person", "registered"), ("contact", "registered"),
                ("appointment", "activeDate"), ("sale", "saledate"))

STALE_LUA = """person:where {
  { "category", "=", "Prospect" },
  { "registered", "older than", 3, "years" },
  { "activities", "none", { "activeDate", "newer than", 3, "years" } },
  { "consents", "none",
    { "purpose", "=", "EMARKETING" },
    { "legal_basis", "<>", "WITHDRAWN" } } }"""

STALE_SQL = """
SELECT count(*), total(p.person_id) FROM person p
WHERE p.category_idx =
        (SELECT category_id FROM category WHERE name = 'Prospect')
  AND p.registered < :three_years
  AND NOT EXISTS (SELECT 1 FROM appointment a
                  WHERE a.person_id = p.person_id
                    AND a.activeDate >= :three_years)
  AND NOT EXISTS (SELECT 1 FROM consentperson c
                  WHERE c.person_id = p.person_id
                    AND c.consentpurpose_id = (SELECT consentpurpose_id
                          FROM consentpurpose WHERE key = 'EMARKETING')
                    AND c.legalbase_id <> (SELECT legalbase_id
                          FROM legalbase WHERE key = 'WITHDRAWN'))"""

LOST_LUA = """company:where {
  { "category", "=", "Lost customer" },
  { "registered", "older than", 5, "years" },
  { "activities", "none", { "activeDate", "newer than", 5, "years" } },
  { "sales", "none", { "saledate", "newer than", 5, "years" } } }"""

LOST_SQL = """
SELECT count(*), total(c.contact_id) FROM contact c
WHERE c.category_idx =
        (SELECT category_id FROM category WHERE name = 'Lost customer')
  AND c.registered < :five_years
  AND NOT EXISTS (SELECT 1 FROM appointment a
                  WHERE a.contact_id = c.contact_id
                    AND a.activeDate >= :five_years)
  AND NOT EXISTS (SELECT 1 FROM sale s
                  WHERE s.contact_id = c.contact_id
                    AND s.saledate >= :five_years)"""

WITHDRAWN_LUA = """person:where {
  { "consents", "any",
    { "purpose", "=", "EMARKETING" },
    { "legal_basis", "=", "WITHDRAWN" } } }"""

# consentperson.person_id is NOT NULL and a foreign key to person, so the
# persons with such a consent are exactly these person_id values. Reading
# them through the index on (purpose, legal basis) is the fast form.
WITHDRAWN_SQL = """
SELECT count(*), total(p.person_id) FROM person p
WHERE p.person_id IN (
  SELECT c.person_id FROM consentperson c
  WHERE c.consentpurpose_id = (SELECT consentpurpose_id FROM consentpurpose
                               WHERE key = 'EMARKETING')
    AND c.legalbase_id = (SELECT legalbase_id FROM legalbase
                          WHERE key = 'WITHDRAWN'))"""

# The same question in the shape Lethe compiles an "any" relation
# criterion to: a correlated EXISTS tested on every person. It is not a
# reference; its row shows what that shape costs.
WITHDRAWN_EXISTS_SQL = """
SELECT count(*), total(p.person_id) FROM person p
WHERE EXISTS (
  SELECT 1 FROM consentperson c
  WHERE c.person_id = p.person_id
    AND c.consentpurpose_id = (SELECT consentpurpose_id FROM consentpurpose
                               WHERE key = 'EMARKETING')
    AND c.legalbase_id = (SELECT legalbase_id FROM legalbase
                          WHERE key = 'WITHDRAWN'))"""

ALL_LUA = "person:all()"
ALL_SQL = "SELECT count(*), total(person_id) FROM person"

SELECTIONS = (
    ("delete stale prospects", STALE_LUA, STALE_SQL),
    ("delete lost customers", LOST_LUA, LOST_SQL),
    ("block e-marketing after withdrawal", WITHDRAWN_LUA, WITHDRAWN_SQL),
    ("keep everyone else", ALL_LUA, ALL_SQL),
)

PREDICATE_LUA = """person:where { { function(row)
  return row.birthyear ~= nil and row.birthyear < 1970 end } }"""
CRITERION_LUA = """person:where { { "birthyear", "<", 1970 } }"""
CONDITION_SQL = """SELECT count(*), total(person_id) FROM person
WHERE birthyear < 1970"""

REFERENCE_NAME = "hand-written SQL, Python sqlite3"


def one_line(lua):
    return " ".join(line.strip() for line in lua.splitlines())


def count_line(selection):
    """A REPL line that counts `selection` and prints the count and the
    CPU seconds it took after the marker."""
    return ("do local started = os.clock(); local n = #(" + one_line(selection)
            + "); print(string.format('@@ %d|%.6f', n, os.clock() - "
            "started)) end")


def lethe_sampler(repl, selection):
    line = count_line(selection)

    def sample():
        result = repl.run(line)
        count, cpu = result.value.split("|")
        return Sample(wall=result.wall, cpu=float(cpu), value=int(count))
    return sample


def sql_sampler(db, sql, parameters):
    def sample():
        result = timed_sql(db, sql, parameters)
        result.value = result.value[0]
        return result
    return sample


def check_date_format(db):
    for table, column in DATE_COLUMNS:
        odd = db.execute(f"SELECT count(*) FROM {table} WHERE {column} IS "
                         f"NOT NULL AND {column} NOT GLOB ?",
                         (CANONICAL,)).fetchone()[0]
        if odd:
            raise BenchError(f"{odd} values of {table}.{column} are not "
                             "'YYYY-MM-DD HH:MM:SS'; the hand-written SQL "
                             "compares dates as text and would differ")


def check_counts(name, ours, theirs):
    counts = {sample.value for sample in ours} | \
        {sample.value for sample in theirs}
    if len(counts) != 1:
        raise BenchError(f"{name}: Lethe counted "
                         f"{sorted({s.value for s in ours})}, the reference "
                         f"{sorted({s.value for s in theirs})}")
    return counts.pop()


def measure_pair(ctx, name, ours, theirs, warm_up_ours=True):
    """Warm both up once (Lethe's side only when `warm_up_ours`), then
    alternate them; returns both sample lists and the count they agree
    on."""
    if warm_up_ours:
        ours()
    theirs()
    lethe_samples, reference_samples = alternate(
        ctx.repetitions, ours, theirs, long_run=ctx.long_run)
    count = check_counts(name, lethe_samples, reference_samples)
    return lethe_samples, reference_samples, count


def total_samples(rows, side):
    """Per repetition, the sum over `rows` of one side's samples."""
    lists = [getattr(row, side) for row in rows]
    rounds = min(len(samples) for samples in lists)
    return [Sample(wall=sum(s[i].wall for s in lists),
                   cpu=sum(s[i].cpu for s in lists))
            for i in range(rounds)]


def run_s1(ctx):
    path = ctx.database()
    db = connect(path)
    check_date_format(db)
    parameters = {"three_years": ctx.years_before(3),
                  "five_years": ctx.years_before(5)}
    rows = []
    with ctx.lethe.repl(path, ctx.now) as repl:
        for name, lua, sql in SELECTIONS:
            ours, theirs, count = measure_pair(
                ctx, name, lethe_sampler(repl, lua),
                sql_sampler(db, sql, parameters))
            rows.append(Row("S1", f"selection \"{name}\" ({count} ids)",
                            lethe=ours, reference=theirs,
                            reference_name=REFERENCE_NAME,
                            goal=("ratio_max", 1.10)))
        ours, theirs, _ = measure_pair(
            ctx, "withdrawn as EXISTS", lethe_sampler(repl, WITHDRAWN_LUA),
            sql_sampler(db, WITHDRAWN_EXISTS_SQL, parameters))
    shape = Row("S1", "selection \"block e-marketing after withdrawal\", "
                "against the SQL written as a correlated EXISTS",
                lethe=ours, reference=theirs,
                reference_name="hand-written SQL in the shape Lethe "
                "generates")
    total = Row("S1", "all four selections", lethe=total_samples(
        rows, "lethe"), reference=total_samples(rows, "reference"),
        reference_name=REFERENCE_NAME, goal=("ratio_max", 1.10))
    db.close()
    return rows + [total, shape]


def predicate_growth_row(repl, persons):
    """One run of the predicate and of the SQL criterion on a smaller
    database."""
    first = lethe_sampler(repl, PREDICATE_LUA)()
    second = lethe_sampler(repl, CRITERION_LUA)()
    count = check_counts("Lua predicate", [first], [second])
    return Row("S5", f"Lua predicate, {persons} persons, one run "
               f"({count} ids)", lethe=[first], reference=[second],
               reference_name="SQL criterion of Lethe")


def run_s5(ctx):
    """The predicate reads every person, so one evaluation is slow on a
    large database: it gets no warm-up run, and after one run longer than
    ctx.long_run it is not repeated. It is also timed once on the smaller
    databases of S8, to show how its time grows with the table. When the
    script limits stop it, that is the result, and one more run with the
    time limit off (LETHE_TIME_LIMIT=0) gives its time."""
    rows = []
    for persons in ctx.scaling_sizes()[:-1]:
        with ctx.lethe.repl(ctx.database(persons), ctx.now) as repl:
            rows.append(predicate_growth_row(repl, persons))
    path = ctx.database()
    db = connect(path)
    goal = ("ratio_max", 3.0)
    reference_name = ("the same condition as an SQL criterion of Lethe")
    with ctx.lethe.repl(path, ctx.now) as repl:
        criterion = lethe_sampler(repl, CRITERION_LUA)
        try:
            ours, theirs, count = measure_pair(
                ctx, "Lua predicate", lethe_sampler(repl, PREDICATE_LUA),
                criterion, warm_up_ours=False)
            rows.append(Row(
                "S5", f"Lua predicate birthyear < 1970 on every person "
                f"({count} ids)", lethe=ours, reference=theirs,
                reference_name=reference_name, goal=goal))
        except BenchError as error:
            stopped = Row("S5", "Lua predicate birthyear < 1970 on every "
                          "person, default script limits", goal=goal,
                          note=str(error))
            stopped.status = "missed"
            rows.append(stopped)
            with ctx.lethe.repl(path, ctx.now,
                                {"LETHE_TIME_LIMIT": "0"}) as unlimited:
                first = lethe_sampler(unlimited, PREDICATE_LUA)()
                second = lethe_sampler(unlimited, CRITERION_LUA)()
            count = check_counts("Lua predicate", [first], [second])
            rows.append(Row(
                "S5", f"the same with the time limit off, one run ({count} "
                "ids)", lethe=[first], reference=[second],
                reference_name=reference_name, goal=goal))
        ours, theirs, _ = measure_pair(ctx, "SQL criterion", criterion,
                                       sql_sampler(db, CONDITION_SQL, {}))
        rows.append(Row("S5", "SQL criterion birthyear < 1970",
                        lethe=ours, reference=theirs,
                        reference_name=REFERENCE_NAME))
    db.close()
    return rows
