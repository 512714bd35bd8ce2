/*
 * sqlfunctions.h: SQL functions that bulk updates and anonymisation use,
 * so that an update over an id set stays one UPDATE statement.
 *
 *   lethe_replace(text, search, replacement, case_sensitive, whole_word)
 *   lethe_regex_replace(text, pattern, replacement, case_sensitive)
 *       POSIX extended regular expressions (regcomp from the C library);
 *       \0 to \9 in the replacement insert the match and its groups
 *   lethe_list_add(list, value, separator)
 *   lethe_list_remove(list, value, separator)
 *   lethe_keyed_hash(key, value)   HMAC-SHA-256, first 32 hex digits
 *   lethe_random_shape(value)      random text of the same shape
 *
 * Every function returns NULL for a NULL text argument.
 */
#ifndef LETHE_SQLFUNCTIONS_H
#define LETHE_SQLFUNCTIONS_H

#include <sqlite3.h>

/* Register the functions on `db`. */
int sqlfunctions_register(sqlite3 *db, char **err);

/* Check that `pattern` compiles as a POSIX extended regular expression;
 * on failure *err holds regerror's message. */
int sqlfunctions_check_regex(const char *pattern, char **err);

#endif
