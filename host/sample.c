/*
 * sample.c: the synthetic CRM data generator (see sample.h): checks,
 * connection settings, the layout of the data set, the order of
 * generation and the saved selections. sample_people.c writes companies
 * and persons, sample_history.c what hangs off them, sample_values.c
 * makes random numbers, dates and text, and sample_words.c contains the
 * word lists.
 *
 * The generator writes a whole CRM in one pass, company by company: the
 * company row, its e-mail, phone and address, its own activities and
 * sales, then each of its persons with their contact details, sales,
 * activities and consents. Private persons (about one in ten, no company)
 * are interleaved between the companies. Projects come first, saved
 * selections last. Every id is assigned here, in insertion order, so the
 * same seed and anchor give the same rows with the same ids.
 *
 * Each company and person gets an "activity end": no activity or sale of
 * theirs is dated after it. That one time decides the shape of the data:
 * customers are active up to a few months past the anchor, lost customers
 * stopped some years ago, and a share of the persons went quiet 3 to 10
 * years back. Activity counts follow a skewed distribution, so most
 * persons have a few activities, some have dozens and some have none.
 *
 * The first companies and private persons have fixed roles, so that the
 * bundled retention policy always finds its cases (all times relative to
 * the anchor):
 *   company 1  the users' own company (category Partner), whose first
 *              persons are CRM users (associates);
 *   company 2  a lost customer registered 7+ years back, activities and
 *              sales all 6+ years old, whose first person is a user;
 *   company 3  a lost customer with no activity or sale in 5 years and
 *              no user among its persons;
 *   private 1  a dormant user: Prospect registered 6+ years back, with no
 *              activity, sale or e-marketing consent;
 *   private 2  a Prospect registered 4+ years back, no activity in the
 *              last 3 years, no e-marketing consent, not a user;
 *   private 3  a person whose e-marketing consent is withdrawn and whose
 *              blockEmarketing flag is still 0.
 * With fewer than SAMPLE_FIXED_CASES_MINIMUM persons there is only company 1
 * with a single user.
 *
 * Speed: all rows go through prepared statements that are bound and
 * reused, inside one transaction, with synchronous writes off, foreign
 * key checks off (the generator keeps references valid by construction)
 * and a large page cache. The schema's indexes and triggers are dropped
 * for the run and created again at its end, with the full-text indexes
 * rebuilt in one pass. The connection's settings are restored afterwards.
 * Nothing is allocated per row.
 */
#include "sample.h"

#include "sample_internal.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1990-01-01 and 9000-01-01 UTC: twelve years before the earliest anchor
 * is still after 1970, and every year has four digits. */
#define ANCHOR_MINIMUM INT64_C(631152000)
#define ANCHOR_MAXIMUM INT64_C(221845392000)

/* From this many persons on, the companies of the fixed cases also have
 * persons besides the fixed ones. */
#define FULL_COMPANIES_MINIMUM 50

/* Page cache during generation, in KiB (a negative cache_size). */
#define GENERATION_CACHE_KIB 262144

static const char *const category_names[CATEGORY_COUNT] = {
    "Prospect", "Customer", "Lost customer", "Partner", "Supplier", "Press",
};

static const char *const legal_basis_keys[BASIS_COUNT] = {
    "CONSENT", "LEGITIMATE_INTEREST", "CONTRACT", "WITHDRAWN", "EMPLOYMENT",
};

static const char *const consent_source_keys[SOURCE_COUNT] = {
    "USER",
    "WEBFORM",
    "API",
};

static const struct {
    const char *table;
    const char *sql;
} statement_specs[STATEMENT_COUNT] = {
    {"contact", "INSERT INTO contact (contact_id, name, department, orgnr,"
                " category_idx, business_idx, registered, updated, nomailing)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
    {"person",
     "INSERT INTO person (person_id, contact_id, firstname, middlename,"
     " lastname, title, birthyear, birthmonth, birthday, category_idx,"
     " registered, updated, nomailing, blockEmarketing)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
     " ?14)"},
    {"associate",
     "INSERT INTO associate (associate_id, name, person_id, registered)"
     " VALUES (?1, ?2, ?3, ?4)"},
    {"project",
     "INSERT INTO project (project_id, name, status_idx, done, endDate,"
     " associate_id, registered) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {"sale", "INSERT INTO sale (sale_id, contact_id, person_id, project_id,"
             " associate_id, heading, saledate, amount, status, registered)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
    {"appointment",
     "INSERT INTO appointment (appointment_id, contact_id, person_id,"
     " project_id, sale_id, associate_id, type, status, do_by, activeDate,"
     " description, registered)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
    {"document",
     "INSERT INTO document (document_id, appointment_id, header, body,"
     " registered) VALUES (?1, ?2, ?3, ?4, ?5)"},
    {"consentperson",
     "INSERT INTO consentperson (consentperson_id, person_id,"
     " consentpurpose_id, legalbase_id, consentsource_id, comment,"
     " registered, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
    {"email",
     "INSERT INTO email (email_id, contact_id, person_id, address, rank)"
     " VALUES (?1, ?2, ?3, ?4, ?5)"},
    {"phone",
     "INSERT INTO phone (phone_id, contact_id, person_id, number, rank)"
     " VALUES (?1, ?2, ?3, ?4, ?5)"},
    {"address",
     "INSERT INTO address (address_id, contact_id, person_id, street,"
     " zipcode, city, country) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {"selection",
     "INSERT INTO selection (selection_id, name, kind, entity, criteria,"
     " left_id, right_id, operation, associate_id, registered)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
    {"selectionmember",
     "INSERT INTO selectionmember (selectionmember_id, selection_id,"
     " contact_id, person_id) VALUES (?1, ?2, ?3, ?4)"},
};

/* ==== Binding and stepping ============================================== */

void sample_bind_key(sqlite3_stmt *target, int index, int64_t id)
{
    if (id)
        sqlite3_bind_int64(target, index, id);
    else
        sqlite3_bind_null(target, index);
}

void sample_bind_string(sqlite3_stmt *target, int index, const char *text)
{
    if (text)
        sqlite3_bind_text(target, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(target, index);
}

void sample_bind_date(struct generator *g, sqlite3_stmt *target, int index,
                      int slot, int64_t time)
{
    if (!time) {
        sqlite3_bind_null(target, index);
        return;
    }
    sample_format_date(time, g->dates[slot]);
    sqlite3_bind_text(target, index, g->dates[slot], SAMPLE_DATE_LENGTH,
                      SQLITE_STATIC);
}

int sample_insert_row(struct generator *g, enum statement which)
{
    sqlite3_stmt *target = g->statements[which];
    int status = sqlite3_step(target);
    if (status != SQLITE_DONE) {
        util_fail(g->err, "inserting sample data into %s failed: %s",
                  statement_specs[which].table, sqlite3_errmsg(g->db));
        sqlite3_reset(target);
        return -1;
    }
    sqlite3_reset(target);
    return 0;
}

/* Rewrite the progress line on standard error. `stage` follows the count,
 * padded so that it covers a longer earlier stage. */
static void report_progress(struct generator *g, const char *stage)
{
    long total = g->layout.persons;
    fprintf(stderr, "\rGenerating sample data: %ld of %ld persons (%ld%%)%-20s",
            g->persons_done, total, g->persons_done * 100 / total, stage);
    fflush(stderr);
}

void sample_count_person(struct generator *g)
{
    g->persons_done++;
    if (g->progress && g->persons_done >= g->progress_next) {
        report_progress(g, "");
        g->progress_next += g->layout.persons / 100 + 1;
    }
}

/* ==== Checks, reference data and settings =============================== */

static int check_options(const struct sample_options *options, char **err)
{
    if (!options)
        return util_fail(err, "sample data options missing");
    if (options->persons < 1 || options->persons > SAMPLE_MAX_PERSONS)
        return util_fail(err,
                         "invalid number of persons for sample data: %ld; "
                         "give a number from 1 to %ld",
                         options->persons, (long)SAMPLE_MAX_PERSONS);
    int64_t anchor = (int64_t)options->anchor;
    if (anchor < ANCHOR_MINIMUM || anchor > ANCHOR_MAXIMUM)
        return util_fail(err,
                         "invalid anchor time for sample data: %lld; give "
                         "a time between 1990-01-01 and 9000-01-01 UTC",
                         (long long)anchor);
    return 0;
}

/* Store the single integer that `sql` returns in *value. */
static int query_integer(sqlite3 *db, const char *sql, int64_t *value,
                         char **err)
{
    sqlite3_stmt *query = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &query, NULL) != SQLITE_OK) {
        util_fail(err,
                  "the database lacks the default CRM schema (%s); create "
                  "it with `lethe init`",
                  sqlite3_errmsg(db));
        sqlite3_finalize(query);
        return -1;
    }
    int status = sqlite3_step(query);
    if (status == SQLITE_ROW)
        *value = sqlite3_column_int64(query, 0);
    else
        util_fail(err, "reading the database failed: %s", sqlite3_errmsg(db));
    sqlite3_finalize(query);
    return status == SQLITE_ROW ? 0 : -1;
}

/* Fail unless the database has the CRM tables and no persons or
 * companies yet, and no transaction is open. */
static int check_database(sqlite3 *db, char **err)
{
    if (!sqlite3_get_autocommit(db))
        return util_fail(err, "cannot generate sample data inside an open "
                              "transaction; commit or roll it back first");
    int64_t persons = 0, companies = 0;
    if (query_integer(db, "SELECT count(*) FROM person", &persons, err) ||
        query_integer(db, "SELECT count(*) FROM contact", &companies, err))
        return -1;
    if (persons > 0 || companies > 0)
        return util_fail(err,
                         "the database already contains %lld persons and %lld "
                         "companies; sample data goes only into a newly "
                         "created database",
                         (long long)persons, (long long)companies);
    return 0;
}

/* Store in *id the id of the row of `table` whose `column` is `key`. */
static int lookup_id(struct generator *g, const char *table, const char *column,
                     const char *key, int64_t *id)
{
    char *sql =
        util_format("SELECT %s_id FROM %s WHERE %s = ?1", table, table, column);
    sqlite3_stmt *query = NULL;
    int status = sqlite3_prepare_v2(g->db, sql, -1, &query, NULL);
    free(sql);
    if (status == SQLITE_OK) {
        sqlite3_bind_text(query, 1, key, -1, SQLITE_STATIC);
        status = sqlite3_step(query);
        if (status == SQLITE_ROW)
            *id = sqlite3_column_int64(query, 0);
    }
    sqlite3_finalize(query);
    if (status == SQLITE_ROW)
        return 0;
    return util_fail(g->err,
                     "%s '%s' not found in table %s; the database lacks the "
                     "default CRM reference data (create it with `lethe "
                     "init`)",
                     column, key, table);
}

static int load_businesses(struct generator *g)
{
    struct reference *reference = &g->reference;
    sqlite3_stmt *query = NULL;
    int status = sqlite3_prepare_v2(
        g->db, "SELECT business_id, name FROM business ORDER BY business_id",
        -1, &query, NULL);
    while (status == SQLITE_OK && sqlite3_step(query) == SQLITE_ROW &&
           reference->business_count < MAXIMUM_BUSINESSES) {
        int64_t id = sqlite3_column_int64(query, 0);
        const char *name = (const char *)sqlite3_column_text(query, 1);
        reference->business[reference->business_count++] = id;
        if (name && strcmp(name, "Consulting") == 0)
            reference->business_consulting = id;
    }
    sqlite3_finalize(query);
    if (reference->business_count == 0)
        return util_fail(g->err, "table business is empty or missing; the "
                                 "database lacks the default CRM reference "
                                 "data (create it with `lethe init`)");
    if (!reference->business_consulting)
        reference->business_consulting = reference->business[0];
    return 0;
}

/* Look up every reference row the generator uses. */
static int load_reference(struct generator *g)
{
    struct reference *reference = &g->reference;
    for (int i = 0; i < CATEGORY_COUNT; i++)
        if (lookup_id(g, "category", "name", category_names[i],
                      &reference->category[i]))
            return -1;
    for (int i = 0; i < BASIS_COUNT; i++)
        if (lookup_id(g, "legalbase", "key", legal_basis_keys[i],
                      &reference->legal_basis[i]))
            return -1;
    for (int i = 0; i < SOURCE_COUNT; i++)
        if (lookup_id(g, "consentsource", "key", consent_source_keys[i],
                      &reference->source[i]))
            return -1;
    if (lookup_id(g, "consentpurpose", "key", "STORE",
                  &reference->purpose_store) ||
        lookup_id(g, "consentpurpose", "key", "EMARKETING",
                  &reference->purpose_emarketing))
        return -1;
    return load_businesses(g);
}

static int prepare_statements(struct generator *g)
{
    for (int i = 0; i < STATEMENT_COUNT; i++) {
        if (sqlite3_prepare_v3(g->db, statement_specs[i].sql, -1,
                               SQLITE_PREPARE_PERSISTENT, &g->statements[i],
                               NULL) != SQLITE_OK)
            return util_fail(g->err,
                             "the database lacks the default CRM schema "
                             "(%s); create it with `lethe init`",
                             sqlite3_errmsg(g->db));
    }
    return 0;
}

static void finalize_statements(struct generator *g)
{
    for (int i = 0; i < STATEMENT_COUNT; i++) {
        sqlite3_finalize(g->statements[i]);
        g->statements[i] = NULL;
    }
}

/* Connection settings that generation changes and restores. */
struct saved_settings {
    int64_t foreign_keys;
    int64_t synchronous;
    int64_t cache_size;
};

/* Put back what save_settings() changed. Runs outside any transaction,
 * because foreign_keys cannot change inside one. */
static void restore_settings(sqlite3 *db, const struct saved_settings *saved)
{
    char *sql = util_format("PRAGMA foreign_keys = %lld;"
                            " PRAGMA synchronous = %lld;"
                            " PRAGMA cache_size = %lld;",
                            (long long)saved->foreign_keys,
                            (long long)saved->synchronous,
                            (long long)saved->cache_size);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    free(sql);
}

/* Store the connection's settings in *saved and switch to the fast ones
 * for generation. On failure the old settings are back in place. */
static int save_settings(sqlite3 *db, struct saved_settings *saved, char **err)
{
    if (query_integer(db, "PRAGMA foreign_keys", &saved->foreign_keys, err) ||
        query_integer(db, "PRAGMA synchronous", &saved->synchronous, err) ||
        query_integer(db, "PRAGMA cache_size", &saved->cache_size, err))
        return -1;
    char *sql = util_format("PRAGMA foreign_keys = OFF;"
                            " PRAGMA synchronous = OFF;"
                            " PRAGMA cache_size = -%d;",
                            GENERATION_CACHE_KIB);
    int status = sqlite3_exec(db, sql, NULL, NULL, NULL);
    free(sql);
    if (status == SQLITE_OK)
        return 0;
    util_fail(err, "configuring the database for sample data failed: %s",
              sqlite3_errmsg(db));
    restore_settings(db, saved);
    return -1;
}

/* ==== Indexes and triggers ============================================== */

/* Building an index once from sorted keys is faster than updating it for
 * every row, and the full-text triggers would flush the FTS5 index on
 * every insert (FTS5 writes its pending terms at each statement's
 * savepoint). So generation drops the schema's indexes and triggers, and
 * creates them again, with the full-text indexes rebuilt, before the
 * transaction commits. A failed run rolls the drops back with the rows. */

/* Add the index or trigger of the current row of `query` to g->deferred. */
static void remember_deferred_object(struct generator *g, sqlite3_stmt *query,
                                     size_t *capacity)
{
    if (g->deferred_count == *capacity) {
        *capacity = *capacity ? *capacity * 2 : 32;
        g->deferred =
            util_realloc(g->deferred, *capacity * sizeof *g->deferred);
    }
    struct deferred_object *object = &g->deferred[g->deferred_count++];
    const char *type = (const char *)sqlite3_column_text(query, 0);
    object->is_index = type && strcmp(type, "index") == 0;
    object->name = util_strdup((const char *)sqlite3_column_text(query, 1));
    object->sql = util_strdup((const char *)sqlite3_column_text(query, 2));
}

/* Run `sql`, made by sqlite3_mprintf(), and free it. */
static int exec_owned(struct generator *g, char *sql, const char *what)
{
    int status = sqlite3_exec(g->db, sql, NULL, NULL, NULL);
    sqlite3_free(sql);
    if (status != SQLITE_OK)
        return util_fail(g->err,
                         "%s failed while generating sample data: "
                         "%s",
                         what, sqlite3_errmsg(g->db));
    return 0;
}

/* Drop every index and trigger that has SQL (not the automatic indexes
 * of UNIQUE constraints), remembering their SQL in g->deferred. */
static int drop_indexes_and_triggers(struct generator *g)
{
    sqlite3_stmt *query = NULL;
    size_t capacity = 0;
    int status = sqlite3_prepare_v2(
        g->db,
        "SELECT type, name, sql FROM sqlite_schema"
        " WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"
        " ORDER BY rowid",
        -1, &query, NULL);
    if (status == SQLITE_OK) {
        while ((status = sqlite3_step(query)) == SQLITE_ROW)
            remember_deferred_object(g, query, &capacity);
    }
    sqlite3_finalize(query);
    if (status != SQLITE_DONE)
        return util_fail(g->err, "reading the schema failed: %s",
                         sqlite3_errmsg(g->db));
    for (size_t i = 0; i < g->deferred_count; i++) {
        const struct deferred_object *object = &g->deferred[i];
        if (exec_owned(g,
                       sqlite3_mprintf("DROP %s \"%w\"",
                                       object->is_index ? "INDEX" : "TRIGGER",
                                       object->name),
                       "dropping an index or trigger"))
            return -1;
    }
    return 0;
}

/* Rebuild every FTS5 table from its content table. */
static int rebuild_full_text_indexes(struct generator *g)
{
    sqlite3_stmt *query = NULL;
    int status = sqlite3_prepare_v2(
        g->db,
        "SELECT name FROM sqlite_schema WHERE type = 'table'"
        " AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%' ORDER BY name",
        -1, &query, NULL);
    if (status == SQLITE_OK) {
        while ((status = sqlite3_step(query)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(query, 0);
            if (exec_owned(g,
                           sqlite3_mprintf("INSERT INTO \"%w\" (\"%w\")"
                                           " VALUES ('rebuild')",
                                           name, name),
                           "rebuilding a full-text index")) {
                sqlite3_finalize(query);
                return -1;
            }
        }
    }
    sqlite3_finalize(query);
    if (status != SQLITE_DONE)
        return util_fail(g->err, "reading the schema failed: %s",
                         sqlite3_errmsg(g->db));
    return 0;
}

/* Create the dropped indexes, rebuild the full-text indexes, then create
 * the dropped triggers. */
static int restore_indexes_and_triggers(struct generator *g)
{
    for (size_t i = 0; i < g->deferred_count; i++) {
        if (g->deferred[i].is_index &&
            exec_owned(g, sqlite3_mprintf("%s", g->deferred[i].sql),
                       "creating an index"))
            return -1;
    }
    if (rebuild_full_text_indexes(g))
        return -1;
    for (size_t i = 0; i < g->deferred_count; i++) {
        if (!g->deferred[i].is_index &&
            exec_owned(g, sqlite3_mprintf("%s", g->deferred[i].sql),
                       "creating a trigger"))
            return -1;
    }
    return 0;
}

static void free_deferred_objects(struct generator *g)
{
    for (size_t i = 0; i < g->deferred_count; i++) {
        free(g->deferred[i].name);
        free(g->deferred[i].sql);
    }
    free(g->deferred);
    g->deferred = NULL;
    g->deferred_count = 0;
}

/* ==== Layout ============================================================ */

/* Persons per regular company, before the totals are adjusted. */
static const struct sample_bucket company_size_buckets[] = {
    {8, 0, 0}, {25, 1, 2}, {35, 3, 5}, {22, 6, 9}, {8, 10, 16}, {2, 17, 40},
};

/* Change the sizes of the regular companies (from index `first`) until
 * they add up to `target`. */
static void adjust_company_sizes(struct generator *g, long first, long target)
{
    struct layout *layout = &g->layout;
    uint32_t *sizes = layout->company_sizes;
    uint32_t regular = (uint32_t)(layout->companies - first);
    long total = 0;
    for (long i = first; i < layout->companies; i++)
        total += sizes[i];
    while (total != target) {
        long i = first + sample_random_below(&g->random, regular);
        if (total < target) {
            sizes[i]++;
            total++;
        } else if (sizes[i] > 0) {
            sizes[i]--;
            total--;
        }
    }
}

/* Decide the number of companies, private persons, users and projects. */
static void plan_counts(struct layout *layout)
{
    long persons = layout->persons;
    layout->fixed_cases = persons >= SAMPLE_FIXED_CASES_MINIMUM;
    if (layout->fixed_cases) {
        long extra = persons / 20000;
        layout->associates = 5 + (int)(extra < 45 ? extra : 45);
        layout->own_associates = layout->associates - 2;
        layout->private_persons = persons / 10 > 3 ? persons / 10 : 3;
        layout->companies = persons / 5 > 4 ? persons / 5 : 4;
    } else {
        layout->associates = layout->own_associates = 1;
        layout->private_persons = 0;
        layout->companies = 1 + persons / 5;
    }
    layout->projects = layout->companies * 3 / 100;
    if (layout->projects < 1)
        layout->projects = 1;
}

/* Decide the number of persons of each company: the fixed ones first,
 * then the regular ones, which share what is left. */
static void plan_company_sizes(struct generator *g)
{
    struct layout *layout = &g->layout;
    int full = layout->persons >= FULL_COMPANIES_MINIMUM;
    uint32_t *sizes = layout->company_sizes;
    long first_regular = 1;
    sizes[0] = (uint32_t)layout->own_associates +
               (full ? 1 + sample_random_below(&g->random, 4) : 0);
    if (layout->fixed_cases) {
        sizes[1] = 1 + (full ? 1 + sample_random_below(&g->random, 3) : 0);
        sizes[2] = full ? 2 : 1;
        first_regular = 3;
    }
    long remaining = layout->persons - layout->private_persons;
    for (long i = 0; i < first_regular; i++)
        remaining -= sizes[i];
    assert(remaining >= 0);
    if (first_regular == layout->companies) {
        sizes[0] += (uint32_t)remaining;
        return;
    }
    for (long i = first_regular; i < layout->companies; i++)
        sizes[i] = sample_random_bucket(&g->random, company_size_buckets,
                                        ARRAY_SIZE(company_size_buckets));
    adjust_company_sizes(g, first_regular, remaining);
}

/* Plan the layout and allocate its per-company and per-project arrays,
 * which free_layout() releases. */
static void plan_layout(struct generator *g)
{
    struct layout *layout = &g->layout;
    plan_counts(layout);
    size_t companies = (size_t)layout->companies;
    size_t projects = (size_t)layout->projects;
    layout->company_sizes = util_malloc(companies * sizeof(uint32_t));
    layout->company_categories = util_malloc(companies);
    memset(layout->company_categories, 0, companies);
    layout->project_starts = util_malloc(projects * sizeof(int64_t));
    layout->project_ends = util_malloc(projects * sizeof(int64_t));
    plan_company_sizes(g);
}

static void free_layout(struct layout *layout)
{
    free(layout->company_sizes);
    free(layout->company_categories);
    free(layout->project_starts);
    free(layout->project_ends);
}

/* ==== Population ======================================================== */

static enum person_role private_person_role(const struct generator *g,
                                            long position)
{
    static const enum person_role fixed[] = {
        ROLE_DORMANT_USER,
        ROLE_STALE_PROSPECT,
        ROLE_WITHDRAWN,
    };
    if (g->layout.fixed_cases && position < (long)ARRAY_SIZE(fixed))
        return fixed[position];
    return ROLE_REGULAR;
}

/* Generate projects, then the companies with their persons and the
 * private persons spread evenly between them. */
static int generate_population(struct generator *g)
{
    const struct layout *layout = &g->layout;
    for (long i = 0; i < layout->projects; i++)
        if (sample_insert_project(g, i))
            return -1;
    for (long index = 0; index < layout->companies; index++) {
        if (sample_generate_company(g, index))
            return -1;
        long long due = (long long)(index + 1) * layout->private_persons /
                        layout->companies;
        while (g->private_done < due) {
            enum person_role role = private_person_role(g, g->private_done);
            g->private_done++;
            if (sample_generate_person(g, 0, role))
                return -1;
        }
    }
    assert(g->persons_done == layout->persons);
    return 0;
}

/* ==== Saved selections ================================================== */

static int insert_selection(struct generator *g, const char *name, int kind,
                            const char *entity, const char *criteria,
                            int64_t left, int64_t right, const char *operation)
{
    sqlite3_stmt *target = g->statements[INSERT_SELECTION];
    sqlite3_bind_int64(target, 1, ++g->last.selection);
    sample_bind_string(target, 2, name);
    sqlite3_bind_int(target, 3, kind);
    sample_bind_string(target, 4, entity);
    sample_bind_string(target, 5, criteria);
    sample_bind_key(target, 6, left);
    sample_bind_key(target, 7, right);
    sample_bind_string(target, 8, operation);
    sqlite3_bind_int64(target, 9, sample_random_owner(g));
    sample_bind_date(g, target, 10, 0,
                     g->anchor -
                         sample_random_between(&g->random, DAYS(1), YEARS(2)));
    return sample_insert_row(g, INSERT_SELECTION);
}

static int insert_member(struct generator *g, int64_t company_id,
                         int64_t person_id)
{
    sqlite3_stmt *target = g->statements[INSERT_MEMBER];
    sqlite3_bind_int64(target, 1, ++g->last.member);
    sqlite3_bind_int64(target, 2, g->last.selection);
    sample_bind_key(target, 3, company_id);
    sample_bind_key(target, 4, person_id);
    return sample_insert_row(g, INSERT_MEMBER);
}

/* Insert a static selection of about one person in a hundred (at most
 * 500), drawn one from each stretch of ids. */
static int insert_visitor_selection(struct generator *g)
{
    long persons = g->layout.persons;
    long count = persons / 100 < 1     ? 1
                 : persons / 100 > 500 ? 500
                                       : persons / 100;
    long stride = persons / count;
    struct sample_text *name = &g->texts[3];
    sample_text_clear(name);
    sample_text_append_string(name, "Trade fair visitors ");
    sample_text_append_number(name, sample_year_of(g->anchor) - 1);
    if (insert_selection(g, name->data, 0, "person", NULL, 0, 0, NULL))
        return -1;
    for (long i = 0; i < count; i++) {
        int64_t id =
            1 + i * stride + sample_random_below(&g->random, (uint32_t)stride);
        if (insert_member(g, 0, id))
            return -1;
    }
    return 0;
}

/* Insert a static selection of up to 20 customer companies. */
static int insert_key_account_selection(struct generator *g)
{
    const struct layout *layout = &g->layout;
    if (insert_selection(g, "Key accounts", 0, "company", NULL, 0, 0, NULL))
        return -1;
    long stride = layout->companies / 200 + 1;
    int members = 0;
    for (long i = sample_random_below(&g->random, (uint32_t)stride);
         i < layout->companies && members < 20; i += stride) {
        if (layout->company_categories[i] != CATEGORY_CUSTOMER ||
            !sample_random_chance(&g->random, 50))
            continue;
        if (insert_member(g, i + 1, 0))
            return -1;
        members++;
    }
    return 0;
}

/* Insert the saved selections: two static, two dynamic (criteria in the
 * policy language) and one combined. */
static int generate_selections(struct generator *g)
{
    if (insert_visitor_selection(g) || insert_key_account_selection(g))
        return -1;
    int64_t visitors = 1;
    if (insert_selection(g, "Stale prospects", 1, "person",
                         "{ { \"category\", \"=\", \"Prospect\" },"
                         " { \"registered\", \"older than\", 3, \"years\" },"
                         " { \"activities\", \"none\","
                         " { \"activeDate\", \"newer than\", 3, \"years\" }"
                         " } }",
                         0, 0, NULL))
        return -1;
    int64_t stale = g->last.selection;
    if (insert_selection(g, "Newsletter audience", 1, "person",
                         "{ { \"consents\", \"any\","
                         " { \"purpose\", \"=\", \"EMARKETING\" },"
                         " { \"legal_basis\", \"=\", \"CONSENT\" } } }",
                         0, 0, NULL))
        return -1;
    return insert_selection(g, "Visitors to follow up", 2, "person", NULL,
                            visitors, stale, "left_minus_right");
}

/* ==== Entry point ======================================================= */

/* Run the whole generation inside the transaction that sample_generate()
 * opened. */
static int generate(struct generator *g)
{
    if (load_reference(g) || drop_indexes_and_triggers(g) ||
        prepare_statements(g))
        return -1;
    plan_layout(g);
    if (generate_population(g) || generate_selections(g))
        return -1;
    if (g->progress)
        report_progress(g, ", building indexes");
    finalize_statements(g);
    return restore_indexes_and_triggers(g);
}

int sample_generate(sqlite3 *db, const struct sample_options *options,
                    char **err)
{
    if (check_options(options, err) || check_database(db, err))
        return -1;
    struct saved_settings saved;
    if (save_settings(db, &saved, err))
        return -1;

    /* 1. Set up the generator, on the heap because it is large. */
    struct generator *g = util_malloc(sizeof *g);
    memset(g, 0, sizeof *g);
    g->db = db;
    g->err = err;
    g->anchor = (int64_t)options->anchor;
    g->progress = options->progress;
    g->layout.persons = options->persons;
    sample_random_seed(&g->random, options->seed);

    /* 2. Generate everything in one transaction. */
    int status = -1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        util_fail(err, "starting the sample data transaction failed: %s",
                  sqlite3_errmsg(db));
        goto cleanup;
    }
    status = generate(g);
    finalize_statements(g);

    /* 3. Commit, or roll back on failure. */
    if (status == 0 &&
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        status = util_fail(err, "committing the sample data failed: %s",
                           sqlite3_errmsg(db));
    }
    if (status != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (g->progress) {
        report_progress(g, status == 0 ? ", done" : ", failed");
        fputc('\n', stderr);
    }

cleanup:
    /* 4. Free the generator and restore the connection's settings. */
    finalize_statements(g);
    free_deferred_objects(g);
    free_layout(&g->layout);
    free(g);
    restore_settings(db, &saved);
    return status;
}
