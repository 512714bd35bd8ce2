/*
 * embedded.h: files carried inside the binary (scripts/ and the schema),
 * generated at build time by host/embed.cmake.
 */
#ifndef LETHE_EMBEDDED_H
#define LETHE_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name; /* path relative to the source tree */
    const char *data; /* NUL-terminated */
    size_t size;
};

/* Ends with an entry whose name is NULL. */
extern const struct embedded_file lethe_embedded[];

/* Return the embedded file with this relative path, or NULL. */
const struct embedded_file *embedded_find(const char *name);

#endif
