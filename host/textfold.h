/*
 * textfold.h: Unicode case folding for case-insensitive text criteria.
 *
 *   lethe_fold(text)  the NFKC_Casefold form of text (utf8proc): "É" and
 *                     "é" fold alike, "ß" folds to "ss", and "Σ", "σ" and
 *                     "ς" all fold to "σ"
 *
 * Criteria compare lethe_fold(column) with a value folded the same way,
 * so that every text operator except "is exactly" ignores case across all
 * of Unicode, not only for ASCII letters.
 */
#ifndef LETHE_TEXTFOLD_H
#define LETHE_TEXTFOLD_H

#include <sqlite3.h>

/* Register lethe_fold on `db`. Returns 0, or -1 with a message in *err. */
int textfold_register(sqlite3 *db, char **err);

#endif
