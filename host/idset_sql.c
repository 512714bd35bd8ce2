/*
 * idset_sql.c: id sets on the SQL side: building a set from the rows of a
 * statement, and the table-valued function lethe_ids(?) that joins a set
 * into SQL. The virtual table only reads bitmaps and never calls Lua, so
 * no Lua error can cross SQLite frames.
 */
#include "idset.h"
#include "idset_internal.h"

#include "util.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Reading ids from SQL                                                    */
/* ---------------------------------------------------------------------- */

#define ID_RULE "ids must be integers from " ID_RANGE

/* Store `id` in *out when it fits an unsigned 32-bit integer. Otherwise
 * fail with a message naming `table` and the id. */
static int check_table_id(sqlite3_int64 id, const char *table, uint32_t *out,
                          char **err)
{
    if (id < 0 || id > (sqlite3_int64)MAX_ID)
        return util_fail(err, "invalid id %lld in table %s: " ID_RULE,
                         (long long)id, table);
    *out = (uint32_t)id;
    return 0;
}

/* Read `value` as an id. A REAL with an integral value in range is
 * accepted. NULL, text, blobs and other numbers fail with a message naming
 * `table` and the value. */
static int read_value_id(sqlite3_value *value, const char *table,
                         uint32_t *out, char **err)
{
    switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
        return check_table_id(sqlite3_value_int64(value), table, out, err);
    case SQLITE_FLOAT: {
        double number = sqlite3_value_double(value);
        if (number >= 0 && number <= MAX_ID && number == floor(number)) {
            *out = (uint32_t)number;
            return 0;
        }
        return util_fail(err, "invalid id %.17g in table %s: " ID_RULE,
                         number, table);
    }
    case SQLITE_NULL:
        return util_fail(err, "invalid id NULL in table %s: " ID_RULE, table);
    case SQLITE_TEXT: {
        const unsigned char *text = sqlite3_value_text(value);
        return util_fail(err, "invalid id '%.40s' in table %s: " ID_RULE,
                         text ? (const char *)text : "", table);
    }
    default:
        return util_fail(
            err, "invalid id (a blob of %d bytes) in table %s: " ID_RULE,
            sqlite3_value_bytes(value), table);
    }
}

int idset_read_row_id(sqlite3_stmt *statement, const char *table,
                      uint32_t *out, char **err)
{
    return read_value_id(sqlite3_column_value(statement, 0), table, out, err);
}

int idset_add_id(struct idset *set, sqlite3_int64 id, const char *table,
                 char **err)
{
    uint32_t checked = 0;
    if (!set->bitmap)
        return util_fail(err,
                         "cannot add an id of table %s to a closed "
                         "id set",
                         table);
    if (!idset_ready(set))
        return util_fail(err, "out of memory adding an id of table %s",
                         table);
    if (check_table_id(id, table, &checked, err) != 0)
        return -1;
    roaring_bitmap_add(set->bitmap, checked);
    return 0;
}

/* Fail unless `set` is open, and unpack it, so that ids of `table` can be
 * added. */
static int check_open(struct idset *set, const char *table, char **err)
{
    if (!set->bitmap)
        return util_fail(err,
                         "cannot read ids of table %s into a closed "
                         "id set",
                         table);
    if (!idset_ready(set))
        return util_fail(err, "out of memory reading ids of table %s",
                         table);
    return 0;
}

int idset_fill_from_statement(struct idset *set, sqlite3_stmt *statement,
                              const char *table, char **err)
{
    if (check_open(set, table, err) != 0)
        return -1;
    struct id_batch batch = {.bitmap = set->bitmap, .used = 0};
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        uint32_t id = 0;
        if (idset_read_row_id(statement, table, &id, err) != 0)
            return -1;
        batch_add(&batch, id);
    }
    batch_flush(&batch);
    if (status != SQLITE_DONE)
        return util_fail(err, "cannot read ids of table %s: %s", table,
                         sqlite3_errmsg(sqlite3_db_handle(statement)));
    roaring_bitmap_run_optimize(set->bitmap);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Collecting ids inside SQLite                                            */
/* ---------------------------------------------------------------------- */

/*
 * The aggregate lethe_collect_ids(collector, id) adds every id to the
 * batch of a collector bound with sqlite3_bind_pointer(), so no row
 * leaves the statement. Reading the 1,000,000 person ids of the benchmark
 * database (docs/BENCHMARKS.md) took 110 ms stepped out row by row and
 * 67 ms collected, with SQLite 3.40.1 on a 2-core virtual machine.
 */

#define COLLECTOR_POINTER_TYPE "lethe_id_collector"
#define COLLECTOR_PARAMETER ":lethe_collector"

struct id_collector {
    const char *table; /* named in messages */
    char *error;       /* the first invalid id's message, or NULL */
    struct id_batch batch;
};

static void collect_step(sqlite3_context *context, int argc,
                         sqlite3_value **argv)
{
    (void)argc;
    struct id_collector *collector =
        sqlite3_value_pointer(argv[0], COLLECTOR_POINTER_TYPE);
    if (!collector) {
        sqlite3_result_error(context,
                             "lethe_collect_ids() works only in the "
                             "queries of db:ids()",
                             -1);
        return;
    }
    uint32_t id = 0;
    if (read_value_id(argv[1], collector->table, &id, &collector->error) !=
        0) {
        sqlite3_result_error(context, collector->error, -1);
        return;
    }
    batch_add(&collector->batch, id);
}

static void collect_final(sqlite3_context *context)
{
    sqlite3_result_null(context);
}

int idset_prepare_collect(sqlite3 *db, const char *sql,
                          sqlite3_stmt **out)
{
    /* The line breaks end a trailing "--" comment of `sql`. */
    char *wrapped = sqlite3_mprintf(
        "WITH lethe_rows(id) AS (\n%s\n) SELECT lethe_collect_ids("
        COLLECTOR_PARAMETER ", id) FROM lethe_rows",
        sql);
    if (!wrapped)
        return SQLITE_NOMEM;
    const char *tail = NULL;
    int status = sqlite3_prepare_v2(db, wrapped, -1, out, &tail);
    if (status == SQLITE_OK && tail && *tail != '\0')
        status = SQLITE_ERROR; /* `sql` held more than one statement */
    sqlite3_free(wrapped);
    if (status != SQLITE_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
    }
    return status;
}

int idset_fill_from_collector(struct idset *set, sqlite3_stmt *statement,
                              const char *table, char **err)
{
    if (check_open(set, table, err) != 0)
        return -1;
    struct id_collector *collector = malloc(sizeof *collector);
    if (!collector)
        return util_fail(err, "out of memory reading ids of table %s",
                         table);
    collector->table = table;
    collector->error = NULL;
    collector->batch.bitmap = set->bitmap;
    collector->batch.used = 0;
    int index =
        sqlite3_bind_parameter_index(statement, COLLECTOR_PARAMETER);
    int status = sqlite3_bind_pointer(statement, index, collector,
                                      COLLECTOR_POINTER_TYPE, NULL);
    if (status == SQLITE_OK)
        status = sqlite3_step(statement);
    batch_flush(&collector->batch);
    int result = 0;
    if (collector->error) {
        *err = collector->error;
        result = -1;
    } else if (status != SQLITE_ROW) {
        result = util_fail(err, "cannot read ids of table %s: %s", table,
                           sqlite3_errmsg(sqlite3_db_handle(statement)));
    }
    /* Reset so that the statement no longer points at the collector. */
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    free(collector);
    if (result == 0)
        roaring_bitmap_run_optimize(set->bitmap);
    return result;
}

/* ---------------------------------------------------------------------- */
/* The lethe_ids virtual table                                             */
/* ---------------------------------------------------------------------- */

/*
 * lethe_ids(?) is an eponymous virtual table with the column id and the
 * hidden column id_set, which takes the argument: a set bound with
 * idset_bind(). It returns the ids in ascending order. A NULL, unbound or
 * foreign argument gives no rows.
 *
 * xBestIndex takes the argument, an equality on id (a lookup) and bounds
 * on id (a seek and an early end). It never marks an id constraint as
 * omitted, so SQLite checks each row again. That keeps text and other
 * non-numeric comparison values right without copying SQLite's rules.
 */

enum { COLUMN_ID, COLUMN_SET };

/* Bits of idxNum. The argv of xFilter has the values in this order. */
enum {
    PLAN_SET = 1,          /* the id_set argument */
    PLAN_EQUAL = 2,        /* id = value */
    PLAN_LOWER = 4,        /* id > value or id >= value */
    PLAN_LOWER_STRICT = 8, /* the lower bound is id > value */
    PLAN_UPPER = 16,       /* id < value or id <= value */
    PLAN_UPPER_STRICT = 32 /* the upper bound is id < value */
};

/* Rows assumed for a set when planning. The set is bound after the
 * statement is prepared, so its size is unknown when SQLite plans. */
#define ESTIMATED_SET_ROWS 1000.0

struct ids_cursor {
    sqlite3_vtab_cursor base; /* must come first */
    struct idset *set;
    /* set->generation when the iterator was placed: the set may be packed
     * (and unpacked again) between two steps, which moves its containers,
     * and the iterator must then seek again. */
    uint64_t generation;
    roaring_uint32_iterator_t iterator;
    uint32_t current; /* the id the cursor is on */
    int64_t last;     /* largest id to return */
    bool done;
};

static int ids_connect(sqlite3 *db, void *unused_aux, int argc,
                       const char *const *argv, sqlite3_vtab **out,
                       char **unused_message)
{
    (void)unused_aux;
    (void)argc;
    (void)argv;
    (void)unused_message;
    int status = sqlite3_declare_vtab(db, "CREATE TABLE x(id INTEGER, "
                                          "id_set HIDDEN)");
    if (status != SQLITE_OK)
        return status;
    sqlite3_vtab *vtab = sqlite3_malloc(sizeof *vtab);
    if (!vtab)
        return SQLITE_NOMEM;
    memset(vtab, 0, sizeof *vtab);
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = vtab;
    return SQLITE_OK;
}

static int ids_disconnect(sqlite3_vtab *vtab)
{
    sqlite3_free(vtab);
    return SQLITE_OK;
}

/* Indexes into aConstraint of the constraints a plan uses, or -1. */
struct constraint_choice {
    int set, equal, lower, upper;
    bool unusable_set; /* an argument that depends on a later table */
};

static void choose_constraints(const sqlite3_index_info *info,
                               struct constraint_choice *choice)
{
    *choice = (struct constraint_choice){-1, -1, -1, -1, false};
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *constraint =
            &info->aConstraint[i];
        unsigned char op = constraint->op;
        if (constraint->iColumn == COLUMN_SET) {
            if (op != SQLITE_INDEX_CONSTRAINT_EQ)
                continue;
            if (constraint->usable)
                choice->set = i;
            else
                choice->unusable_set = true;
        } else if (constraint->usable) {
            if (op == SQLITE_INDEX_CONSTRAINT_EQ)
                choice->equal = i;
            else if (op == SQLITE_INDEX_CONSTRAINT_GT ||
                     op == SQLITE_INDEX_CONSTRAINT_GE)
                choice->lower = i;
            else if (op == SQLITE_INDEX_CONSTRAINT_LT ||
                     op == SQLITE_INDEX_CONSTRAINT_LE)
                choice->upper = i;
        }
    }
}

/* Pass constraint `index` (when >= 0) to xFilter as the next argument and
 * set `flag` in the plan. */
static void use_constraint(sqlite3_index_info *info, int index, int flag,
                           bool omit, int *argument)
{
    if (index < 0)
        return;
    info->aConstraintUsage[index].argvIndex = ++*argument;
    info->aConstraintUsage[index].omit = omit;
    info->idxNum |= flag;
}

/* xBestIndex. The cost is the number of rows expected, so that SQLite
 * puts the set in the outer loop of a join and looks up the rows of the
 * other table by primary key. A plan without a usable argument when the
 * query has one is rejected with SQLITE_CONSTRAINT. */
static int ids_best_index(sqlite3_vtab *unused_vtab, sqlite3_index_info *info)
{
    (void)unused_vtab;
    struct constraint_choice choice;
    choose_constraints(info, &choice);
    if (choice.set < 0 && choice.unusable_set)
        return SQLITE_CONSTRAINT;
    int argument = 0;
    double rows = choice.set >= 0 ? ESTIMATED_SET_ROWS : 1.0;
    info->idxNum = 0;
    use_constraint(info, choice.set, PLAN_SET, true, &argument);
    if (choice.equal >= 0) {
        use_constraint(info, choice.equal, PLAN_EQUAL, false, &argument);
        info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
        rows = 1.0;
    } else {
        use_constraint(info, choice.lower, PLAN_LOWER, false, &argument);
        use_constraint(info, choice.upper, PLAN_UPPER, false, &argument);
        if (choice.lower >= 0 &&
            info->aConstraint[choice.lower].op == SQLITE_INDEX_CONSTRAINT_GT)
            info->idxNum |= PLAN_LOWER_STRICT;
        if (choice.upper >= 0 &&
            info->aConstraint[choice.upper].op == SQLITE_INDEX_CONSTRAINT_LT)
            info->idxNum |= PLAN_UPPER_STRICT;
        rows = choice.lower >= 0 ? rows / 2 : rows;
        rows = choice.upper >= 0 ? rows / 2 : rows;
    }
    if (info->nOrderBy == 1 && !info->aOrderBy[0].desc &&
        (info->aOrderBy[0].iColumn == COLUMN_ID ||
         info->aOrderBy[0].iColumn == -1))
        info->orderByConsumed = 1;
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = rows;
    return SQLITE_OK;
}

static int ids_open(sqlite3_vtab *unused_vtab, sqlite3_vtab_cursor **out)
{
    (void)unused_vtab;
    struct ids_cursor *cursor = sqlite3_malloc(sizeof *cursor);
    if (!cursor)
        return SQLITE_NOMEM;
    memset(cursor, 0, sizeof *cursor);
    cursor->done = true;
    *out = &cursor->base;
    return SQLITE_OK;
}

static int ids_close(sqlite3_vtab_cursor *cursor)
{
    sqlite3_free(cursor);
    return SQLITE_OK;
}

/* Return the smallest id that satisfies id > value (strict) or id >= value,
 * in 0 .. 2^32 where 2^32 means none. A value that is not a number gives 0
 * (no bound), since SQLite checks the constraint again. */
static int64_t lowest_id_from(sqlite3_value *value, bool strict)
{
    int type = sqlite3_value_type(value);
    if (type == SQLITE_INTEGER) {
        sqlite3_int64 bound = sqlite3_value_int64(value);
        if (bound >= (sqlite3_int64)MAX_ID)
            return strict || bound > (sqlite3_int64)MAX_ID ? MAX_ID + 1LL
                                                           : MAX_ID;
        bound += strict;
        return bound < 0 ? 0 : bound;
    }
    if (type != SQLITE_FLOAT)
        return 0;
    double real = sqlite3_value_double(value);
    double bound = strict ? floor(real) + 1 : ceil(real);
    if (!(bound > 0)) /* also catches NaN */
        return 0;
    return bound > MAX_ID ? MAX_ID + 1LL : (int64_t)bound;
}

/* Return the largest id that satisfies id < value (strict) or id <= value,
 * in -1 .. 2^32-1 where -1 means none. A value that is not a number gives
 * 2^32-1 (no bound). */
static int64_t highest_id_from(sqlite3_value *value, bool strict)
{
    int type = sqlite3_value_type(value);
    if (type == SQLITE_INTEGER) {
        sqlite3_int64 bound = sqlite3_value_int64(value);
        if (bound <= 0)
            return strict || bound < 0 ? -1 : 0;
        bound -= strict;
        return bound > (sqlite3_int64)MAX_ID ? MAX_ID : bound;
    }
    if (type != SQLITE_FLOAT)
        return MAX_ID;
    double real = sqlite3_value_double(value);
    double bound = strict ? ceil(real) - 1 : floor(real);
    if (!(bound < MAX_ID)) /* also catches NaN */
        return MAX_ID;
    return bound < 0 ? -1 : (int64_t)bound;
}

static int seek(struct ids_cursor *cursor, uint32_t id);
static int note_position(struct ids_cursor *cursor);

/* xFilter: position the cursor on the first id of the set that satisfies
 * the plan's bounds. */
static int ids_filter(sqlite3_vtab_cursor *base, int plan,
                      const char *unused_plan_text, int argc,
                      sqlite3_value **argv)
{
    (void)unused_plan_text;
    (void)argc;
    struct ids_cursor *cursor = (struct ids_cursor *)base;
    struct idset *set = NULL;
    int64_t first = 0, last = MAX_ID;
    int argument = 0;
    if (plan & PLAN_SET)
        set = sqlite3_value_pointer(argv[argument++], IDSET_POINTER_TYPE);
    if (plan & PLAN_EQUAL) {
        first = lowest_id_from(argv[argument], false);
        last = highest_id_from(argv[argument++], false);
    }
    if (plan & PLAN_LOWER)
        first = lowest_id_from(argv[argument++], plan & PLAN_LOWER_STRICT);
    if (plan & PLAN_UPPER)
        last = highest_id_from(argv[argument++], plan & PLAN_UPPER_STRICT);
    cursor->done = true;
    cursor->set = NULL;
    if (!set || !set->bitmap || first > last)
        return SQLITE_OK;
    cursor->set = set;
    cursor->last = last;
    return seek(cursor, (uint32_t)first);
}

/* Place the cursor on the first id of its set at or above `id`. */
static int seek(struct ids_cursor *cursor, uint32_t id)
{
    struct idset *set = cursor->set;
    if (!set->bitmap) {
        cursor->done = true;
        sqlite3_free(cursor->base.pVtab->zErrMsg);
        cursor->base.pVtab->zErrMsg = sqlite3_mprintf(
            "the id set of %s ids was closed while a statement read it",
            set->entity);
        return SQLITE_ERROR;
    }
    if (!idset_ready(set))
        return SQLITE_NOMEM;
    cursor->generation = set->generation;
    roaring_init_iterator(set->bitmap, &cursor->iterator);
    roaring_move_uint32_iterator_equalorlarger(&cursor->iterator, id);
    return note_position(cursor);
}

/* Record the id the iterator is on, or that the cursor is done. */
static int note_position(struct ids_cursor *cursor)
{
    cursor->done = !cursor->iterator.has_value ||
                   cursor->iterator.current_value > cursor->last;
    if (!cursor->done)
        cursor->current = cursor->iterator.current_value;
    return SQLITE_OK;
}

static int ids_next(sqlite3_vtab_cursor *base)
{
    struct ids_cursor *cursor = (struct ids_cursor *)base;
    if (cursor->set->generation != cursor->generation) {
        if (cursor->current == MAX_ID) {
            cursor->done = true;
            return SQLITE_OK;
        }
        return seek(cursor, cursor->current + 1);
    }
    roaring_advance_uint32_iterator(&cursor->iterator);
    return note_position(cursor);
}

static int ids_eof(sqlite3_vtab_cursor *base)
{
    return ((struct ids_cursor *)base)->done;
}

static int ids_column(sqlite3_vtab_cursor *base, sqlite3_context *context,
                      int column)
{
    struct ids_cursor *cursor = (struct ids_cursor *)base;
    if (column == COLUMN_ID)
        sqlite3_result_int64(context, cursor->current);
    else
        sqlite3_result_null(context);
    return SQLITE_OK;
}

static int ids_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
    *rowid = ((struct ids_cursor *)base)->current;
    return SQLITE_OK;
}

/* No xCreate, so lethe_ids exists only as an eponymous table. */
static const sqlite3_module ids_module = {
    .iVersion = 0,
    .xConnect = ids_connect,
    .xBestIndex = ids_best_index,
    .xDisconnect = ids_disconnect,
    .xOpen = ids_open,
    .xClose = ids_close,
    .xFilter = ids_filter,
    .xNext = ids_next,
    .xEof = ids_eof,
    .xColumn = ids_column,
    .xRowid = ids_rowid,
};

int idset_bind(sqlite3_stmt *statement, int index, const struct idset *set)
{
    if (!set || !set->bitmap)
        return SQLITE_MISUSE;
    return sqlite3_bind_pointer(statement, index, (void *)set,
                                IDSET_POINTER_TYPE, NULL);
}

int idset_sql_register(sqlite3 *db, char **err)
{
    if (sqlite3_create_module_v2(db, "lethe_ids", &ids_module, NULL, NULL) !=
        SQLITE_OK)
        return util_fail(err,
                         "cannot register the SQL function lethe_ids: "
                         "%s",
                         sqlite3_errmsg(db));
    if (sqlite3_create_function(db, "lethe_collect_ids", 2,
                                SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, NULL,
                                collect_step, collect_final) != SQLITE_OK)
        return util_fail(err,
                         "cannot register the SQL function "
                         "lethe_collect_ids: %s",
                         sqlite3_errmsg(db));
    return 0;
}
