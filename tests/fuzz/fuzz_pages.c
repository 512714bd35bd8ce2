/*
 * fuzz_pages.c: libFuzzer target for page_scan, the page-by-page reader
 * of database files behind the erasure check.
 *
 * tests/fuzz/run.sh builds and runs it with the other harnesses, seeded
 * with small real database files. The input is written to a file and
 * searched for three values. page_scan must return 1, 0 or -1 with a
 * message, never crash or hang, and no value's count may exceed its
 * number of copies in the input.
 */
#include "page_scan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/lethe-fuzz-pages-XXXXXX";
static int descriptor = -1;

static long copies(const uint8_t *data, size_t size, const char *text)
{
    size_t length = strlen(text);
    long count = 0;
    for (size_t at = 0; at + length <= size; at++)
        if (memcmp(data + at, text, length) == 0)
            count++;
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (descriptor < 0) {
        descriptor = mkstemp(path);
        if (descriptor < 0)
            abort();
    }
    if (ftruncate(descriptor, 0) != 0 ||
        (size > 0 && pwrite(descriptor, data, size, 0) != (ssize_t)size))
        abort();
    static const char *const texts[] = {"Canary Value", "long value ", "A"};
    struct scan_needle needles[3];
    for (int i = 0; i < 3; i++)
        needles[i] = (struct scan_needle){texts[i], strlen(texts[i]), -1};
    char *err = NULL;
    int threads = size > 0 && (data[size - 1] & 1) ? 2 : 1;
    int status = page_scan(path, needles, 3, NULL, 0, threads, &err);
    if (status == -1 && err == NULL)
        abort();
    if (status != -1 && status != 0 && status != 1)
        abort();
    for (int i = 0; status == 1 && i < 3; i++)
        if (needles[i].count < 0 ||
            needles[i].count > copies(data, size, texts[i]))
            abort();
    free(err);
    return 0;
}
