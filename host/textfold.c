/*
 * textfold.c: the lethe_fold SQL function (see textfold.h).
 */
#include "textfold.h"

#include "util.h"

#include <stdlib.h>
#include <utf8proc.h>

/* NFKC_Casefold: compatibility composition, case folding, and removal of
 * default-ignorable code points such as the soft hyphen. */
#define FOLD_OPTIONS                                                      \
    (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |               \
     UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/* Whether all `length` bytes of `text` are ASCII. */
static int is_ascii(const unsigned char *text, int length)
{
    for (int i = 0; i < length; i++)
        if (text[i] >= 0x80)
            return 0;
    return 1;
}

/* Set the result to ASCII `text` with A-Z lowered, which is its
 * NFKC_Casefold form. */
static void result_ascii_folded(sqlite3_context *context,
                                const unsigned char *text, int length)
{
    char *folded = sqlite3_malloc(length + 1);
    if (!folded) {
        sqlite3_result_error_nomem(context);
        return;
    }
    for (int i = 0; i < length; i++) {
        unsigned char c = text[i];
        folded[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    folded[length] = '\0';
    sqlite3_result_text(context, folded, length, sqlite3_free);
}

/* lethe_fold(value): NULL for NULL; otherwise the value as text, folded.
 * Text that is not valid UTF-8 is returned unchanged, so that it still
 * compares equal to itself. */
static void sql_fold(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    const unsigned char *text = sqlite3_value_text(argv[0]);
    int length = sqlite3_value_bytes(argv[0]);
    if (!text) {
        sqlite3_result_error_nomem(context);
        return;
    }
    if (is_ascii(text, length)) {
        result_ascii_folded(context, text, length);
        return;
    }
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t folded_length =
        utf8proc_map(text, length, &folded, FOLD_OPTIONS);
    if (folded_length < 0) {
        free(folded);
        if (folded_length == UTF8PROC_ERROR_NOMEM)
            sqlite3_result_error_nomem(context);
        else
            sqlite3_result_text(context, (const char *)text, length,
                                SQLITE_TRANSIENT);
        return;
    }
    sqlite3_result_text64(context, (const char *)folded,
                          (sqlite3_uint64)folded_length, free, SQLITE_UTF8);
}

int textfold_register(sqlite3 *db, char **err)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    if (sqlite3_create_function(db, "lethe_fold", 1, flags, NULL, sql_fold,
                                NULL, NULL) != SQLITE_OK)
        return util_fail(err, "cannot register lethe_fold: %s",
                         sqlite3_errmsg(db));
    return 0;
}
