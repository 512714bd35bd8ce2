/*
 * record_scan.c: searching query rows as SQLite records (see
 * record_scan.h). The record format is SQLite's file format, section
 * "Record Format": a header of varints (its own size, then one serial
 * type per column) followed by the values' bytes.
 */
#include "record_scan.h"

#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Rows searched between two checks whether every needle is found. */
#define CHECK_EVERY 4096

static size_t varint_length(uint64_t value)
{
    size_t length = 1;
    while (length < 9 && value >= (UINT64_C(1) << (7 * length)))
        length++;
    return length;
}

/* Write `value` as an SQLite varint (big-endian, 7 bits a byte, the ninth
 * byte 8 bits) and return its length. */
static size_t put_varint(unsigned char *out, uint64_t value)
{
    size_t length = varint_length(value);
    if (length == 9) {
        out[8] = (unsigned char)value;
        value >>= 8;
        for (int i = 7; i >= 0; i--) {
            out[i] = (unsigned char)((value & 0x7f) | 0x80);
            value >>= 7;
        }
        return 9;
    }
    for (size_t i = length; i-- > 0;) {
        out[i] = (unsigned char)((value & 0x7f) |
                                 (i + 1 < length ? 0x80 : 0));
        value >>= 7;
    }
    return length;
}

/* The serial type of an integer and the number of bytes it takes. */
static uint64_t integer_type(int64_t value, size_t *bytes)
{
    static const size_t widths[] = {1, 2, 3, 4, 6, 8};
    if (value == 0 || value == 1) {
        *bytes = 0;
        return value == 0 ? 8 : 9;
    }
    for (size_t i = 0; i < 6; i++) {
        int64_t bound = (int64_t)1 << (8 * widths[i] - 1);
        if (widths[i] == 8 || (value >= -bound && value < bound)) {
            *bytes = widths[i];
            return i + 1;
        }
    }
    *bytes = 8;
    return 6;
}

/* The serial type of `value` and its stored length in *bytes. Text is
 * stored in the database's text encoding `encoding` (SQLITE_UTF8,
 * SQLITE_UTF16LE or SQLITE_UTF16BE). */
static uint64_t serial_type(sqlite3_value *value, int encoding, size_t *bytes)
{
    switch (sqlite3_value_type(value)) {
    case SQLITE_NULL:
        *bytes = 0;
        return 0;
    case SQLITE_INTEGER:
        return integer_type(sqlite3_value_int64(value), bytes);
    case SQLITE_FLOAT:
        *bytes = 8;
        return 7;
    case SQLITE_TEXT:
        *bytes = (size_t)(encoding == SQLITE_UTF8
                              ? sqlite3_value_bytes(value)
                              : sqlite3_value_bytes16(value));
        return 2 * (uint64_t)*bytes + 13;
    default:
        *bytes = (size_t)sqlite3_value_bytes(value);
        return 2 * (uint64_t)*bytes + 12;
    }
}

static void put_big_endian(unsigned char *out, uint64_t value, size_t bytes)
{
    for (size_t i = bytes; i-- > 0;) {
        out[i] = (unsigned char)value;
        value >>= 8;
    }
}

/* Write the stored bytes of one value (bytes long, from serial_type). */
static void put_value(unsigned char *out, sqlite3_value *value, int encoding,
                      size_t bytes)
{
    switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
        put_big_endian(out, (uint64_t)sqlite3_value_int64(value), bytes);
        break;
    case SQLITE_FLOAT: {
        double number = sqlite3_value_double(value);
        uint64_t bits;
        memcpy(&bits, &number, sizeof bits);
        put_big_endian(out, bits, 8);
        break;
    }
    case SQLITE_TEXT:
        /* Each call may convert the text and free the previous form, so
         * the pointer is used at once. */
        memcpy(out,
               encoding == SQLITE_UTF16LE   ? sqlite3_value_text16le(value)
               : encoding == SQLITE_UTF16BE ? sqlite3_value_text16be(value)
                                            : sqlite3_value_text(value),
               bytes);
        break;
    default:
        if (bytes > 0)
            memcpy(out, sqlite3_value_blob(value), bytes);
    }
}

/* Each sqlite3_column_* call takes the connection's mutex, so a row's
 * values are fetched once and read through the sqlite3_value API. The
 * caller holds the connection's mutex, which makes these values
 * protected in the sense of the SQLite documentation. */
unsigned char *record_build(sqlite3_stmt *statement, int encoding,
                            unsigned char *buffer, size_t *size,
                            size_t *capacity)
{
    enum { MAX_COLUMNS = 2000 }; /* SQLite's default SQLITE_MAX_COLUMN */
    sqlite3_value *values[MAX_COLUMNS];
    uint64_t types[MAX_COLUMNS];
    size_t lengths[MAX_COLUMNS];
    int columns = sqlite3_column_count(statement);
    if (columns > MAX_COLUMNS)
        columns = MAX_COLUMNS;
    size_t types_length = 0, body_length = 0;
    for (int c = 0; c < columns; c++) {
        values[c] = sqlite3_column_value(statement, c);
        types[c] = serial_type(values[c], encoding, &lengths[c]);
        types_length += varint_length(types[c]);
        body_length += lengths[c];
    }
    /* The header size includes the varint that stores it. */
    size_t header_length = types_length + 1;
    while (varint_length(header_length) != header_length - types_length)
        header_length = types_length + varint_length(header_length);
    size_t needed = *size + header_length + body_length;
    if (needed > *capacity) {
        *capacity = needed * 2;
        buffer = util_realloc(buffer, *capacity);
    }
    unsigned char *header = buffer + *size;
    unsigned char *body = header + header_length;
    header += put_varint(header, header_length);
    for (int c = 0; c < columns; c++) {
        header += put_varint(header, types[c]);
        put_value(body, values[c], encoding, lengths[c]);
        body += lengths[c];
    }
    *size = needed;
    return buffer;
}

/* The needles still to be found, indexed. Needles found in rows are
 * dropped from the index from time to time, so that the many rows that
 * contain them (a first name that many persons share) stop costing
 * lookups in the index. */
struct pending {
    struct scan_needle *all; /* the caller's needles */
    size_t all_count;
    struct scan_needle *needles; /* copies of unfound needles of `all` */
    size_t *origin;              /* needles[j] is a copy of all[origin[j]] */
    size_t count;
    struct scan_index *index;
    const struct record_scan_hook *hook;
};

static void pending_free(struct pending *pending)
{
    scan_index_free(pending->index);
    free(pending->needles);
    free(pending->origin);
    pending->index = NULL;
    pending->needles = NULL;
    pending->origin = NULL;
}

/* Index the needles of `all` whose count is zero. */
static void pending_build(struct pending *pending)
{
    pending_free(pending);
    size_t size = pending->all_count ? pending->all_count : 1;
    pending->needles = util_malloc(size * sizeof *pending->needles);
    pending->origin = util_malloc(size * sizeof *pending->origin);
    pending->count = 0;
    for (size_t i = 0; i < pending->all_count; i++) {
        if (pending->all[i].count != 0)
            continue;
        pending->needles[pending->count] = pending->all[i];
        pending->origin[pending->count++] = i;
    }
    pending->index = scan_index_new(pending->needles, pending->count);
}

/* Add the counts of the indexed copies to the caller's needles. */
static void pending_sync(struct pending *pending)
{
    for (size_t j = 0; j < pending->count; j++) {
        pending->all[pending->origin[j]].count += pending->needles[j].count;
        pending->needles[j].count = 0;
    }
}

/* Run the hook (if any) and return whether every needle is found.
 * Rebuilds the index when at most half of its needles are unfound. */
static int all_found(struct pending *pending)
{
    pending_sync(pending);
    if (pending->hook)
        pending->hook->before_check(pending->hook->context, pending->all,
                                    pending->all_count);
    size_t unfound = 0;
    for (size_t j = 0; j < pending->count; j++)
        if (pending->all[pending->origin[j]].count == 0)
            unfound++;
    if (unfound == 0)
        return 1;
    if (unfound * 2 <= pending->count)
        pending_build(pending);
    return 0;
}

/* Search the rows of one query; *done is set once every needle is found.
 * Returns 0 or -1 with *err set. */
static int scan_query(sqlite3 *db, const char *sql, int encoding,
                      struct pending *pending, unsigned char **buffer,
                      size_t *capacity, int *done, char **err)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK)
        return util_fail(err, "%s (in %s)", sqlite3_errmsg(db), sql);
    long rows = 0;
    int status;
    sqlite3_mutex *mutex = sqlite3_db_mutex(db); /* NULL unless serialized */
    sqlite3_mutex_enter(mutex);
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        size_t size = 0;
        *buffer =
            record_build(statement, encoding, *buffer, &size, capacity);
        scan_index_count(pending->index, (const char *)*buffer, size, size);
        if (++rows % CHECK_EVERY == 0 && all_found(pending))
            break;
    }
    int failed = status != SQLITE_ROW && status != SQLITE_DONE;
    if (failed)
        util_fail(err, "%s (in %s)", sqlite3_errmsg(db), sql);
    sqlite3_mutex_leave(mutex);
    sqlite3_finalize(statement);
    *done = all_found(pending);
    return failed ? -1 : 0;
}

int record_text_encoding(sqlite3 *db, char **err)
{
    sqlite3_stmt *statement = NULL;
    int encoding = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA encoding", -1, &statement, NULL) ==
            SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(statement, 0);
        encoding = !name                             ? -1
                   : strcmp(name, "UTF-8") == 0    ? SQLITE_UTF8
                   : strcmp(name, "UTF-16le") == 0 ? SQLITE_UTF16LE
                   : strcmp(name, "UTF-16be") == 0 ? SQLITE_UTF16BE
                                                   : -1;
    }
    if (encoding < 0)
        util_fail(err, "cannot read the database's text encoding: %s",
                  sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return encoding;
}

int record_scan(sqlite3 *db, const char *const *sqls, size_t sql_count,
                struct scan_needle *needles, size_t needle_count,
                const struct record_scan_hook *hook, char **err)
{
    int encoding = record_text_encoding(db, err);
    if (encoding < 0)
        return -1;
    struct pending pending = {
        .all = needles, .all_count = needle_count, .hook = hook};
    pending_build(&pending);
    unsigned char *buffer = NULL;
    size_t capacity = 0;
    int done = all_found(&pending), status = 0;
    for (size_t i = 0; i < sql_count && !done && status == 0; i++)
        status = scan_query(db, sqls[i], encoding, &pending, &buffer,
                            &capacity, &done, err);
    pending_sync(&pending);
    pending_free(&pending);
    free(buffer);
    return status;
}
