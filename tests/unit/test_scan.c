/*
 * test_scan.c: the multi-needle search of scan.c against a plain
 * one-needle-at-a-time count (memcmp at every position), on hand-made
 * cases and on random buffers, in memory and through files read in small
 * blocks.
 */
#include "scan.h"

#include "checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Occurrences of needle in buffer, overlapping ones included. */
static long reference_count(const char *buffer, size_t size,
                            const struct scan_needle *needle)
{
    long count = 0;
    for (size_t at = 0; at + needle->length <= size; at++)
        if (memcmp(buffer + at, needle->bytes, needle->length) == 0)
            count++;
    return count;
}

static void check_buffer(const char *what, const char *buffer, size_t size,
                         struct scan_needle *needles, size_t count, int line)
{
    for (size_t i = 0; i < count; i++)
        needles[i].count = 0;
    struct scan_index *index = scan_index_new(needles, count);
    scan_index_count(index, buffer, size, size);
    scan_index_free(index);
    for (size_t i = 0; i < count; i++)
        check_value(what, needles[i].count,
                    reference_count(buffer, size, &needles[i]), line);
}

static void write_file(const char *path, const char *buffer, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(buffer, 1, size, file) != size) {
        perror(path);
        exit(1);
    }
    fclose(file);
}

/* Scan `buffer` written to a file, in blocks of every size in `blocks`. */
static void check_file(const char *what, const char *buffer, size_t size,
                       struct scan_needle *needles, size_t count,
                       const size_t *blocks, size_t block_count, int line)
{
    char path[] = "/tmp/lethe-test-scan-XXXXXX";
    int descriptor = mkstemp(path);
    if (descriptor < 0) {
        perror("mkstemp");
        exit(1);
    }
    close(descriptor);
    write_file(path, buffer, size);
    for (size_t b = 0; b < block_count; b++) {
        char *err = NULL;
        int status = scan_file_blocks(path, needles, count, blocks[b], &err);
        check_value(what, status, 0, line);
        free(err);
        for (size_t i = 0; i < count; i++)
            check_value(what, needles[i].count,
                        reference_count(buffer, size, &needles[i]), line);
    }
    remove(path);
}

static struct scan_needle needle(const char *text)
{
    struct scan_needle result = {text, strlen(text), 0};
    return result;
}

static void test_hand_made(void)
{
    const char text[] = "aaaaa Storgatan 16698 37 abcdefgh abcde xyz";
    struct scan_needle needles[] = {
        needle("aaa"),           /* overlapping occurrences: 3 */
        needle("Storgatan 166"), /* across two columns' text */
        needle("abcde"),         /* a prefix of a longer needle */
        needle("abcdefgh"),
        needle("abcde"), /* the same needle twice */
        needle("xyz"),   /* at the very end */
        needle("absent"),
    };
    size_t count = sizeof needles / sizeof needles[0];
    check_buffer("hand-made", text, sizeof text - 1, needles, count,
                 __LINE__);
    check_value("overlapping aaa", needles[0].count, 3, __LINE__);
    check_value("across columns", needles[1].count, 1, __LINE__);
    check_value("prefix needle", needles[2].count, 2, __LINE__);
    check_value("end of buffer", needles[5].count, 1, __LINE__);
    const size_t blocks[] = {1, 2, 3, 5, 8, 13, 64, 4096};
    check_file("hand-made file", text, sizeof text - 1, needles, count,
               blocks, sizeof blocks / sizeof blocks[0], __LINE__);
}

static void test_binary(void)
{
    const char bytes[] = {0, 1, 0, 1, 0, (char)0xff, (char)0xfe, 0, 0, 0};
    const char zeros[] = {0, 0};
    const char mixed[] = {1, 0, (char)0xff};
    struct scan_needle needles[] = {
        {zeros, sizeof zeros, 0},
        {mixed, sizeof mixed, 0},
        {bytes, sizeof bytes, 0},
    };
    check_buffer("binary", bytes, sizeof bytes, needles, 3, __LINE__);
    check_value("zero pairs", needles[0].count, 2, __LINE__);
    const size_t blocks[] = {1, 4, 9, 10, 11};
    check_file("binary file", bytes, sizeof bytes, needles, 3, blocks,
               sizeof blocks / sizeof blocks[0], __LINE__);
}

/* Needles of every length from the shortest to past 8 that start alike,
 * so that the first level's needles and longer ones share prefixes. */
static void test_lengths_below_eight(void)
{
    const char text[] = "Jesper Lund, Jesper Lunde, Jespersen, Jesp";
    struct scan_needle needles[] = {
        needle("Jespe"),        needle("Jesper"),
        needle("Jesper "),      needle("Jesper L"),
        needle("Jesper Lu"),    needle("Jesper Lund"),
        needle("Jesper Lunde"), needle("Jespersen"),
        needle("Jesperse"),     needle("Jesp"),
    };
    size_t count = sizeof needles / sizeof needles[0];
    check_buffer("lengths below eight", text, sizeof text - 1, needles,
                 count, __LINE__);
    check_value("shortest of a shared start", needles[0].count, 3,
                __LINE__);
    check_value("length 8 of a shared start", needles[3].count, 2,
                __LINE__);
    const size_t blocks[] = {1, 3, 7, 9, 4096};
    check_file("lengths below eight file", text, sizeof text - 1, needles,
               count, blocks, sizeof blocks / sizeof blocks[0], __LINE__);
}

static void test_limit(void)
{
    const char text[] = "abcabcabc";
    struct scan_needle needles[] = {needle("abc")};
    struct scan_index *index = scan_index_new(needles, 1);
    scan_index_count(index, text, 9, 4); /* starts at 0 and 3 only */
    scan_index_free(index);
    check_value("limit", needles[0].count, 2, __LINE__);
}

static void test_missing_file(void)
{
    struct scan_needle needles[] = {needle("abc")};
    needles[0].count = 7;
    char *err = NULL;
    int status = scan_file("/nonexistent/lethe-scan-test", needles, 1, &err);
    check_value("missing file status", status, 0, __LINE__);
    check_value("missing file count", needles[0].count, 0, __LINE__);
    free(err);
    check_buffer("no needles", "abc", 3, needles, 0, __LINE__);
}

/* Needles that share long starts (a letter template) and a needle of
 * 3000 bytes, longer than several levels of the index and the blocks. */
static void test_shared_starts(void)
{
    enum { COUNT = 200 };
    static char storage[COUNT][80];
    static char text[20000];
    static char long_needle[3000];
    struct scan_needle needles[COUNT + 1];
    size_t size = 0;
    for (int i = 0; i < COUNT; i++) {
        int length = snprintf(storage[i], sizeof storage[i],
                              "Dear customer, thank you for order %d%s", i,
                              i % 3 ? " of May" : "");
        needles[i].bytes = storage[i];
        needles[i].length = (size_t)length;
        if (i % 7 == 0)
            size += (size_t)snprintf(text + size, sizeof text - size,
                                     "..%s of June..", storage[i]);
    }
    for (size_t i = 0; i < sizeof long_needle; i++)
        long_needle[i] = (char)('a' + i % 23);
    memcpy(text + size, long_needle, sizeof long_needle);
    size += sizeof long_needle;
    needles[COUNT].bytes = long_needle;
    needles[COUNT].length = sizeof long_needle;
    check_buffer("shared starts", text, size, needles, COUNT + 1, __LINE__);
    check_value("order 7 of May", needles[7].count, 1, __LINE__);
    check_value("order 0 alone", needles[0].count, 1, __LINE__);
    check_value("long needle", needles[COUNT].count, 1, __LINE__);
    const size_t blocks[] = {100, 4096};
    check_file("shared starts file", text, size, needles, COUNT + 1, blocks,
               sizeof blocks / sizeof blocks[0], __LINE__);
}

/* Random buffers over a small alphabet, so that needles taken from the
 * buffer and random needles both match often; needle lengths up to 40
 * are longer than the smallest blocks. */
static void test_random(void)
{
    srand(12345);
    enum { SIZE = 3000, COUNT = 60 };
    static char buffer[SIZE];
    static char storage[COUNT][41];
    struct scan_needle needles[COUNT];
    for (int round = 0; round < 20; round++) {
        int alphabet = 2 + round % 4;
        for (size_t i = 0; i < SIZE; i++)
            buffer[i] = (char)(rand() % alphabet + (round % 2 ? 0 : 'a'));
        for (size_t i = 0; i < COUNT; i++) {
            size_t length = 1 + (size_t)rand() % 40;
            if (round % 3 == 0 && length < 5)
                length = 5; /* a longer shortest needle: a longer key */
            if (i % 2 == 0) {
                size_t at = (size_t)rand() % (SIZE - length);
                memcpy(storage[i], buffer + at, length);
            } else {
                for (size_t j = 0; j < length; j++)
                    storage[i][j] = (char)(rand() % alphabet +
                                           (round % 2 ? 0 : 'a'));
            }
            needles[i].bytes = storage[i];
            needles[i].length = length;
        }
        check_buffer("random", buffer, SIZE, needles, COUNT, __LINE__);
        const size_t blocks[] = {7, 33, 1024};
        check_file("random file", buffer, SIZE, needles, COUNT, blocks,
                   sizeof blocks / sizeof blocks[0], __LINE__);
    }
}

int main(void)
{
    test_hand_made();
    test_binary();
    test_lengths_below_eight();
    test_limit();
    test_missing_file();
    test_shared_starts();
    test_random();
    return check_summary();
}
