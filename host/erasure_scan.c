/*
 * erasure_scan.c: the erasure check's search (see erasure_scan.h): the
 * database file read page by page, or else the files and the live rows
 * searched at the same time.
 */
#include "erasure_scan.h"

#include "page_scan.h"
#include "record_scan.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Threads of the page search at most. */
#define MAX_THREADS 8

/* The file search, owned by the calling thread and filled in by the
 * second one. The second thread writes only `needles`, `file_counts`,
 * `status`, `err` and finally `finished` (a release store). The calling
 * thread reads them only after it loads `finished` as 1 (an acquire
 * load) or after joining the thread. */
struct file_search {
    const char *const *files;
    size_t file_count;
    struct scan_needle *needles; /* a copy of the values, own counts */
    size_t count;
    long *file_counts;
    int status;
    char *err;
    atomic_int finished;
    int applied; /* the calling thread has used the result */
};

static struct scan_needle *copy_needles(const struct scan_needle *values,
                                        size_t count)
{
    struct scan_needle *needles =
        util_malloc((count ? count : 1) * sizeof *needles);
    for (size_t i = 0; i < count; i++) {
        needles[i] = values[i];
        needles[i].count = 0;
    }
    return needles;
}

static void *search_files(void *argument)
{
    struct file_search *search = argument;
    for (size_t f = 0; f < search->file_count; f++) {
        search->status = scan_file(search->files[f], search->needles,
                                   search->count, &search->err);
        if (search->status != 0)
            break;
        for (size_t i = 0; i < search->count; i++)
            search->file_counts[f * search->count + i] =
                search->needles[i].count;
    }
    atomic_store_explicit(&search->finished, 1, memory_order_release);
    return NULL;
}

static int in_files(const struct file_search *search, size_t i)
{
    for (size_t f = 0; f < search->file_count; f++)
        if (search->file_counts[f * search->count + i] > 0)
            return 1;
    return 0;
}

/* record_scan's hook: once the files are searched, the values that they
 * do not contain need no live row, so they are marked found and the row
 * search can stop as soon as the others are found. A failed file search
 * marks every value, because its error ends the check anyway. */
static void skip_absent(void *context, struct scan_needle *needles,
                        size_t count)
{
    struct file_search *search = context;
    if (search->applied ||
        !atomic_load_explicit(&search->finished, memory_order_acquire))
        return;
    search->applied = 1;
    for (size_t i = 0; i < count; i++)
        if (needles[i].count == 0 &&
            (search->status != 0 || !in_files(search, i)))
            needles[i].count = 1;
}

/* Search the rows for `values` on the calling thread; live[i] is set
 * from the row counts, and is meaningful only where the files contain
 * values[i]. */
static int search_rows(sqlite3 *db, const char *const *sqls,
                       size_t sql_count, const struct scan_needle *values,
                       size_t count, struct file_search *search,
                       unsigned char *live, char **err)
{
    struct scan_needle *needles = copy_needles(values, count);
    struct record_scan_hook hook = {skip_absent, search};
    int status =
        record_scan(db, sqls, sql_count, needles, count, &hook, err);
    for (size_t i = 0; i < count; i++)
        live[i] = needles[i].count > 0;
    free(needles);
    return status;
}

/* Search the files and the rows at once; a copy counts as a residue when
 * no live row contains its value. */
static int scan_rows_and_files(sqlite3 *db, const char *const *files,
                               size_t file_count, const char *const *sqls,
                               size_t sql_count,
                               const struct scan_needle *values, size_t count,
                               long *residues, char **err)
{
    struct file_search search = {
        .files = files,
        .file_count = file_count,
        .needles = copy_needles(values, count),
        .count = count,
        .file_counts = residues,
    };
    memset(residues, 0, file_count * count * sizeof *residues);
    atomic_init(&search.finished, 0);
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, search_files, &search) == 0;
    if (!threaded)
        search_files(&search);
    unsigned char *live = util_malloc(count ? count : 1);
    char *rows_err = NULL;
    int rows_status = search_rows(db, sqls, sql_count, values, count,
                                  &search, live, &rows_err);
    if (threaded)
        pthread_join(thread, NULL);
    for (size_t f = 0; f < file_count; f++)
        for (size_t i = 0; i < count; i++)
            if (live[i])
                residues[f * count + i] = 0;
    free(live);
    free(search.needles);
    int status = 0;
    if (search.status != 0) {
        status = util_fail(err, "%s", search.err);
    } else if (rows_status != 0) {
        status = util_fail(err, "%s", rows_err);
    }
    free(search.err);
    free(rows_err);
    return status;
}

/* Whether the file at `path` is missing or empty. */
static int empty_file(const char *path)
{
    struct stat status;
    if (stat(path, &status) != 0)
        return errno == ENOENT;
    return status.st_size == 0;
}

/* The number of cores online, from 1 to MAX_THREADS. */
static int processors(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1)
        return 1;
    return online > MAX_THREADS ? MAX_THREADS : (int)online;
}

/* The root pages of SQLite's own tables (sqlite_stat1, sqlite_stat4,
 * sqlite_sequence) in `db`, into *roots (free it). Returns their number,
 * or -1 with *err set. */
static long internal_roots(sqlite3 *db, uint32_t **roots, char **err)
{
    static const char sql[] =
        "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND "
        "name LIKE 'sqlite!_%' ESCAPE '!' AND rootpage > 0";
    sqlite3_stmt *statement = NULL;
    *roots = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK)
        return util_fail(err, "cannot list SQLite's own tables: %s",
                         sqlite3_errmsg(db));
    size_t count = 0, capacity = 0;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 8;
            *roots = util_realloc(*roots, capacity * sizeof **roots);
        }
        (*roots)[count++] = (uint32_t)sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    if (status != SQLITE_DONE) {
        free(*roots);
        *roots = NULL;
        return util_fail(err, "cannot list SQLite's own tables: %s",
                         sqlite3_errmsg(db));
    }
    return (long)count;
}

/* The page search of the database file, then the other files, where
 * every copy is a residue. Returns 1, 0 when the page search does not
 * apply, or -1 with *err set. */
static int scan_pages(sqlite3 *db, const char *const *files,
                      size_t file_count, const struct scan_needle *values,
                      size_t count, long *residues, char **err)
{
    if (file_count < 1 || (file_count > 1 && !empty_file(files[1])))
        return 0;
    uint32_t *roots;
    long root_count = internal_roots(db, &roots, err);
    if (root_count < 0)
        return -1;
    struct scan_needle *needles = copy_needles(values, count);
    int status = page_scan(files[0], needles, count, roots,
                           (size_t)root_count, processors(), err);
    free(roots);
    for (size_t f = 0; f < file_count && status == 1; f++) {
        if (f > 0 && scan_file(files[f], needles, count, err) != 0) {
            status = -1;
            break;
        }
        for (size_t i = 0; i < count; i++)
            residues[f * count + i] = needles[i].count;
    }
    free(needles);
    return status;
}

int erasure_scan(sqlite3 *db, const char *const *files, size_t file_count,
                 const char *const *sqls, size_t sql_count,
                 const struct scan_needle *values, size_t count,
                 long *residues, char **err)
{
    int status =
        scan_pages(db, files, file_count, values, count, residues, err);
    if (status != 0)
        return status == 1 ? 0 : -1;
    if (!sqls)
        return 1;
    return scan_rows_and_files(db, files, file_count, sqls, sql_count,
                               values, count, residues, err);
}
