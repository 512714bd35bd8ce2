/*
 * embedded_find.c: look-up in the table of embedded files.
 */
#include "embedded.h"

#include <string.h>

const struct embedded_file *embedded_find(const char *name)
{
    for (const struct embedded_file *file = lethe_embedded; file->name;
         file++) {
        if (strcmp(file->name, name) == 0)
            return file;
    }
    return NULL;
}
