/*
 * util.c: formatting, allocation and file helpers (see util.h).
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die_out_of_memory(void)
{
    fputs("lethe: out of memory\n", stderr);
    abort();
}

void *util_malloc(size_t size)
{
    void *pointer = malloc(size ? size : 1);
    if (!pointer)
        die_out_of_memory();
    return pointer;
}

void *util_realloc(void *pointer, size_t size)
{
    void *grown = realloc(pointer, size ? size : 1);
    if (!grown)
        die_out_of_memory();
    return grown;
}

char *util_strdup(const char *text)
{
    size_t length = strlen(text) + 1;
    return memcpy(util_malloc(length), text, length);
}

char *util_vformat(const char *format, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int length = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (length < 0)
        return util_strdup("(message could not be formatted)");
    char *text = util_malloc((size_t)length + 1);
    vsnprintf(text, (size_t)length + 1, format, args);
    return text;
}

char *util_format(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = util_vformat(format, args);
    va_end(args);
    return text;
}

int util_fail(char **err, const char *format, ...)
{
    if (err) {
        va_list args;
        va_start(args, format);
        free(*err);
        *err = util_vformat(format, args);
        va_end(args);
    }
    return -1;
}

int util_read_file(const char *path, char **data, size_t *size, char **err)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return util_fail(err, "cannot open %s: %s", path, strerror(errno));
    size_t capacity = 8192, length = 0;
    char *buffer = util_malloc(capacity);
    for (;;) {
        if (length + 1 >= capacity) {
            capacity *= 2;
            buffer = util_realloc(buffer, capacity);
        }
        size_t got = fread(buffer + length, 1, capacity - length - 1, file);
        length += got;
        if (got == 0)
            break;
    }
    int failed = ferror(file);
    fclose(file);
    if (failed) {
        free(buffer);
        return util_fail(err, "cannot read %s", path);
    }
    buffer[length] = '\0';
    *data = buffer;
    if (size)
        *size = length;
    return 0;
}

int util_use_color(int fd)
{
    const char *no_color = getenv("NO_COLOR");
    if (no_color && *no_color)
        return 0;
    return isatty(fd);
}

void util_buffer_add(struct util_buffer *buffer, const char *bytes,
                     size_t length)
{
    if (buffer->length + length + 1 > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 64;
        while (capacity < buffer->length + length + 1)
            capacity *= 2;
        buffer->data = util_realloc(buffer->data, capacity);
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
}
