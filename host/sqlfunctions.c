/*
 * sqlfunctions.c: the SQL functions of bulk updates (see sqlfunctions.h).
 */
#include "sqlfunctions.h"

#include "sha256.h"
#include "util.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

static void result_buffer(sqlite3_context *context, struct util_buffer *buffer)
{
    if (!buffer->data) {
        sqlite3_result_text(context, "", 0, SQLITE_STATIC);
        return;
    }
    sqlite3_result_text(context, buffer->data, (int)buffer->length, free);
}

static int is_word_byte(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Does `search` match `text` at `at` (case folded for ASCII when asked)? */
static int matches_at(const char *text, size_t at, const char *search,
                      size_t search_length, int case_sensitive)
{
    if (case_sensitive)
        return memcmp(text + at, search, search_length) == 0;
    for (size_t i = 0; i < search_length; i++)
        if (tolower((unsigned char)text[at + i]) !=
            tolower((unsigned char)search[i]))
            return 0;
    return 1;
}

/* lethe_replace(text, search, replacement, case_sensitive, whole_word):
 * every occurrence of search replaced. Case folding covers ASCII. */
static void sql_replace(sqlite3_context *context, int argc,
                        sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    size_t length = (size_t)sqlite3_value_bytes(argv[0]);
    const char *search = (const char *)sqlite3_value_text(argv[1]);
    size_t search_length = (size_t)sqlite3_value_bytes(argv[1]);
    const char *replacement = (const char *)sqlite3_value_text(argv[2]);
    size_t replacement_length = (size_t)sqlite3_value_bytes(argv[2]);
    int case_sensitive = sqlite3_value_int(argv[3]);
    int whole_word = sqlite3_value_int(argv[4]);
    if (!text || !search || search_length == 0 || !replacement) {
        sqlite3_result_value(context, argv[0]);
        return;
    }
    struct util_buffer out = {0};
    size_t at = 0;
    while (at < length) {
        int found = at + search_length <= length &&
                    matches_at(text, at, search, search_length,
                               case_sensitive);
        if (found && whole_word) {
            size_t end = at + search_length;
            if ((at > 0 && is_word_byte((unsigned char)text[at - 1])) ||
                (end < length && is_word_byte((unsigned char)text[end])))
                found = 0;
        }
        if (found) {
            util_buffer_add(&out, replacement, replacement_length);
            at += search_length;
        } else {
            util_buffer_add(&out, text + at, 1);
            at++;
        }
    }
    result_buffer(context, &out);
}

static void free_regex(void *pointer)
{
    regfree(pointer);
    free(pointer);
}

/* Compile the pattern of argv[1]; NULL (with the error set on
 * `context`) when it is invalid. The caller owns the result. */
static regex_t *compile_pattern(sqlite3_context *context,
                                sqlite3_value **argv, int case_sensitive)
{
    const char *pattern = (const char *)sqlite3_value_text(argv[1]);
    regex_t *regex = util_malloc(sizeof *regex);
    int flags = REG_EXTENDED | (case_sensitive ? 0 : REG_ICASE);
    int status = regcomp(regex, pattern ? pattern : "", flags);
    if (status != 0) {
        char message[256];
        regerror(status, regex, message, sizeof message);
        free(regex);
        sqlite3_result_error(context, message, -1);
        return NULL;
    }
    return regex;
}

/* Append `replacement` with \0..\9 replaced by the match and its groups. */
static void add_replacement(struct util_buffer *out, const char *subject,
                            const regmatch_t *groups, const char *replacement)
{
    for (const char *c = replacement; *c; c++) {
        if (c[0] == '\\' && c[1] >= '0' && c[1] <= '9') {
            const regmatch_t *group = &groups[c[1] - '0'];
            if (group->rm_so >= 0)
                util_buffer_add(out, subject + group->rm_so,
                           (size_t)(group->rm_eo - group->rm_so));
            c++;
        } else if (c[0] == '\\' && c[1] == '\\') {
            util_buffer_add(out, "\\", 1);
            c++;
        } else {
            util_buffer_add(out, c, 1);
        }
    }
}

/* lethe_regex_replace(text, pattern, replacement, case_sensitive). */
static void sql_regex_replace(sqlite3_context *context, int argc,
                              sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    /* SQLite keeps the compiled pattern between rows of one statement. */
    regex_t *regex = sqlite3_get_auxdata(context, 1);
    if (!regex)
        regex = compile_pattern(context, argv, sqlite3_value_int(argv[3]));
    if (!regex)
        return;
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    const char *replacement = (const char *)sqlite3_value_text(argv[2]);
    struct util_buffer out = {0};
    const char *cursor = text;
    regmatch_t groups[10];
    int flags = 0;
    while (*cursor && regexec(regex, cursor, 10, groups, flags) == 0) {
        util_buffer_add(&out, cursor, (size_t)groups[0].rm_so);
        add_replacement(&out, cursor, groups, replacement ? replacement : "");
        if (groups[0].rm_eo == groups[0].rm_so) {
            /* An empty match: keep one byte and go on after it. */
            if (!cursor[groups[0].rm_eo])
                break;
            util_buffer_add(&out, cursor + groups[0].rm_eo, 1);
            cursor += groups[0].rm_eo + 1;
        } else {
            cursor += groups[0].rm_eo;
        }
        flags = REG_NOTBOL;
    }
    util_buffer_add(&out, cursor, strlen(cursor));
    result_buffer(context, &out);
    if (sqlite3_get_auxdata(context, 1) != regex)
        sqlite3_set_auxdata(context, 1, regex, free_regex);
}

/* Split `list` on `separator`, trimming spaces, and call `visit` for each
 * non-empty item. */
static void each_item(const char *list, const char *separator,
                      void (*visit)(const char *, size_t, void *),
                      void *state)
{
    size_t separator_length = strlen(separator);
    const char *start = list;
    for (;;) {
        const char *end = separator_length ? strstr(start, separator) : NULL;
        const char *stop = end ? end : start + strlen(start);
        const char *first = start, *last = stop;
        while (first < last && isspace((unsigned char)*first))
            first++;
        while (last > first && isspace((unsigned char)last[-1]))
            last--;
        if (last > first)
            visit(first, (size_t)(last - first), state);
        if (!end)
            break;
        start = end + separator_length;
    }
}

struct list_edit {
    struct util_buffer out;
    const char *value, *separator;
    size_t value_length;
    int found, removing;
};

static void copy_item(const char *item, size_t length, void *pointer)
{
    struct list_edit *edit = pointer;
    int same = length == edit->value_length &&
               memcmp(item, edit->value, length) == 0;
    if (same)
        edit->found = 1;
    if (same && edit->removing)
        return;
    if (edit->out.length > 0)
        util_buffer_add(&edit->out, edit->separator, strlen(edit->separator));
    util_buffer_add(&edit->out, item, length);
}

/* lethe_list_add / lethe_list_remove(list, value, separator): the list
 * with the value added at its end (when absent) or removed. */
static void sql_list_edit(sqlite3_context *context, int argc,
                          sqlite3_value **argv)
{
    (void)argc;
    struct list_edit edit = {0};
    edit.removing = *(int *)sqlite3_user_data(context);
    const char *list = (const char *)sqlite3_value_text(argv[0]);
    edit.value = (const char *)sqlite3_value_text(argv[1]);
    edit.separator = (const char *)sqlite3_value_text(argv[2]);
    if (!edit.value || !edit.separator || !*edit.separator) {
        sqlite3_result_value(context, argv[0]);
        return;
    }
    edit.value_length = strlen(edit.value);
    if (list)
        each_item(list, edit.separator, copy_item, &edit);
    if (!edit.removing && !edit.found) {
        if (edit.out.length > 0)
            util_buffer_add(&edit.out, edit.separator, strlen(edit.separator));
        util_buffer_add(&edit.out, edit.value, edit.value_length);
    }
    if (edit.out.length == 0) {
        free(edit.out.data);
        sqlite3_result_null(context);
        return;
    }
    result_buffer(context, &edit.out);
}

/* lethe_keyed_hash(key, value): the first 32 hex digits of the
 * HMAC-SHA-256 of value's text under key. */
static void sql_keyed_hash(sqlite3_context *context, int argc,
                           sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    const void *key = sqlite3_value_blob(argv[0]);
    int key_size = sqlite3_value_bytes(argv[0]);
    if (!key || key_size == 0) {
        sqlite3_result_error(context, "lethe_keyed_hash needs a key", -1);
        return;
    }
    const unsigned char *value = sqlite3_value_text(argv[1]);
    unsigned char digest[32];
    char hex[65];
    sha256_hmac(key, (size_t)key_size, value,
                (size_t)sqlite3_value_bytes(argv[1]), digest);
    sha256_hex(digest, hex);
    sqlite3_result_text(context, hex, 32, SQLITE_TRANSIENT);
}

/* lethe_random_shape(value): ASCII capitals become random capitals,
 * small letters and other letters random small letters, digits random
 * digits; spaces and punctuation stay. */
static void sql_random_shape(sqlite3_context *context, int argc,
                             sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    const unsigned char *text = sqlite3_value_text(argv[0]);
    size_t length = strlen((const char *)text);
    char *out = util_malloc(length + 1);
    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = text[i], random_byte;
        sqlite3_randomness(1, &random_byte);
        if (c >= 0x80 && (c & 0xc0) == 0x80)
            continue; /* continuation byte of a letter already replaced */
        if (isupper(c))
            out[used++] = (char)('A' + random_byte % 26);
        else if (islower(c) || c >= 0x80)
            out[used++] = (char)('a' + random_byte % 26);
        else if (isdigit(c))
            out[used++] = (char)('0' + random_byte % 10);
        else
            out[used++] = (char)c;
    }
    out[used] = '\0';
    sqlite3_result_text(context, out, (int)used, free);
}

int sqlfunctions_check_regex(const char *pattern, char **err)
{
    regex_t regex;
    int status = regcomp(&regex, pattern, REG_EXTENDED);
    if (status != 0) {
        char message[256];
        regerror(status, &regex, message, sizeof message);
        return util_fail(err, "%s", message);
    }
    regfree(&regex);
    return 0;
}

int sqlfunctions_register(sqlite3 *db, char **err)
{
    static int adding = 0, removing = 1;
    const int text = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    int status = sqlite3_create_function(db, "lethe_replace", 5, text, NULL,
                                         sql_replace, NULL, NULL);
    if (status == SQLITE_OK)
        status = sqlite3_create_function(db, "lethe_regex_replace", 4, text,
                                         NULL, sql_regex_replace, NULL,
                                         NULL);
    if (status == SQLITE_OK)
        status = sqlite3_create_function(db, "lethe_list_add", 3, text,
                                         &adding, sql_list_edit, NULL, NULL);
    if (status == SQLITE_OK)
        status = sqlite3_create_function(db, "lethe_list_remove", 3, text,
                                         &removing, sql_list_edit, NULL,
                                         NULL);
    if (status == SQLITE_OK)
        status = sqlite3_create_function(db, "lethe_keyed_hash", 2, text,
                                         NULL, sql_keyed_hash, NULL, NULL);
    if (status == SQLITE_OK)
        status = sqlite3_create_function(db, "lethe_random_shape", 1,
                                         SQLITE_UTF8, NULL, sql_random_shape,
                                         NULL, NULL);
    if (status != SQLITE_OK)
        return util_fail(err, "cannot register SQL functions: %s",
                         sqlite3_errmsg(db));
    return 0;
}
