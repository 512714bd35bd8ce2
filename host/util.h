/*
 * util.h: small helpers shared by every host module.
 *
 * Error convention: a function that can fail for reasons outside the
 * program (a file, a database, a script) returns 0 on success and -1 on
 * failure, and stores a message allocated with malloc in *err, which the
 * caller frees. The message names the input and says what to do.
 */
#ifndef LETHE_UTIL_H
#define LETHE_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Format into a new string; aborts the process if memory runs out. */
char *util_format(const char *format, ...)
    __attribute__((format(printf, 1, 2)));
char *util_vformat(const char *format, va_list args);

/* Set *err (if err is not NULL) to a formatted message and return -1. */
int util_fail(char **err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* malloc, realloc and strdup that abort on exhaustion. */
void *util_malloc(size_t size);
void *util_realloc(void *pointer, size_t size);
char *util_strdup(const char *text);

/* A growing byte buffer that keeps its data NUL-terminated. Start it
 * zeroed; the owner frees data. */
struct util_buffer {
    char *data;
    size_t length, capacity;
};

/* Append length bytes to buffer; aborts the process if memory runs out. */
void util_buffer_add(struct util_buffer *buffer, const char *bytes,
                     size_t length);

/* Read a whole file into a NUL-terminated buffer; *size gets its length. */
int util_read_file(const char *path, char **data, size_t *size, char **err);

/* Nonzero when standard stream fd is a terminal and NO_COLOR is unset. */
int util_use_color(int fd);

#endif
