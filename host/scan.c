/*
 * scan.c: counting byte strings in files (see scan.h).
 */
#define _GNU_SOURCE /* memmem */
#include "scan.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_BLOCK (1u << 20)

static size_t longest_needle(const struct scan_needle *needles, size_t count)
{
    size_t longest = 0;
    for (size_t i = 0; i < count; i++)
        if (needles[i].length > longest)
            longest = needles[i].length;
    return longest;
}

/* Count needle matches that start in buffer[0, limit). */
static void count_block(const char *buffer, size_t size, size_t limit,
                        struct scan_needle *needle)
{
    const char *cursor = buffer;
    const char *end = buffer + size;
    while (cursor < buffer + limit) {
        const char *found = memmem(cursor, (size_t)(end - cursor),
                                   needle->bytes, needle->length);
        if (!found || found >= buffer + limit)
            break;
        needle->count++;
        cursor = found + 1;
    }
}

int scan_file(const char *path, struct scan_needle *needles, size_t count,
              char **err)
{
    for (size_t i = 0; i < count; i++)
        needles[i].count = 0;
    FILE *file = fopen(path, "rb");
    if (!file) {
        if (errno == ENOENT)
            return 0;
        return util_fail(err, "cannot read %s: %s", path, strerror(errno));
    }
    /* Each block keeps the last (longest - 1) bytes of the one before, so
     * a match across a block boundary is seen once, in the block where it
     * starts. */
    size_t overlap = longest_needle(needles, count);
    overlap = overlap > 0 ? overlap - 1 : 0;
    char *buffer = util_malloc(SCAN_BLOCK + overlap);
    size_t kept = 0;
    int status = 0;
    for (;;) {
        size_t got = fread(buffer + kept, 1, SCAN_BLOCK, file);
        size_t size = kept + got;
        int last = got < SCAN_BLOCK;
        size_t limit = last ? size : (size > overlap ? size - overlap : 0);
        for (size_t i = 0; i < count; i++)
            count_block(buffer, size, limit, &needles[i]);
        if (last)
            break;
        kept = size - limit;
        memmove(buffer, buffer + limit, kept);
    }
    if (ferror(file))
        status = util_fail(err, "cannot read %s", path);
    free(buffer);
    fclose(file);
    return status;
}
