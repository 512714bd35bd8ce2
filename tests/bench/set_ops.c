/*
 * set_ops.c: the reference for benchmark S2, set algebra on CRoaring
 * bitmaps called directly from C, with none of Lethe's layers.
 *
 *   set_ops time SHAPE SCALE ITERATIONS
 *       build sets A and B of SHAPE, then time union, intersection,
 *       difference and symmetric difference, ITERATIONS times each, and
 *       print one JSON object per operation on standard output
 *   set_ops dump SHAPE SCALE WHICH
 *       write the ids of set WHICH ("a" or "b") as 32-bit little-endian
 *       integers on standard output, for the SQLite reference
 *
 * The shapes, and the generator behind them, are the ones
 * tests/bench/sets.lua builds in Lethe's REPL, id for id:
 *   activities  ids 1 .. 9,400,000 * SCALE, each kept with chance 10/94
 *               (a tenth of the activity table; bitmap containers)
 *   sparse      1,000,000 * SCALE draws from 0 .. 2^26 - 1 (array
 *               containers)
 *   runs        alternating kept and skipped runs of 1 to 64 ids over
 *               0 .. 2,000,000 * SCALE (run containers)
 * Sets are built with roaring_bitmap_add_many() and
 * roaring_bitmap_run_optimize(), as Lethe's set.from_array() builds them.
 *
 * Times are CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), as Lua's
 * os.clock() measures in the REPL. Each timed iteration also takes the
 * result's cardinality and frees the result, as the Lua side does with
 * #r and r:close().
 */
#define _POSIX_C_SOURCE 200809L

#include <roaring/roaring.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seeds of set A and set B; sets.lua uses the same two. */
#define SEED_A UINT64_C(1)
#define SEED_B UINT64_C(2)

/* SplitMix64, the same generator as sets.lua. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A growing array of ids. */
struct id_list {
    uint32_t *ids;
    size_t count, capacity;
};

static void list_push(struct id_list *list, uint32_t id)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 1 << 16;
        list->ids = realloc(list->ids, list->capacity * sizeof *list->ids);
        if (!list->ids) {
            fputs("set_ops: out of memory\n", stderr);
            exit(1);
        }
    }
    list->ids[list->count++] = id;
}

/* Fill `list` with the ids of `shape` for `seed`; returns 0, or -1 for an
 * unknown shape. */
static int generate(const char *shape, double scale, uint64_t seed,
                    struct id_list *list)
{
    uint64_t state = seed;
    if (strcmp(shape, "activities") == 0) {
        uint32_t last = (uint32_t)(9400000 * scale);
        for (uint32_t id = 1; id <= last; id++)
            if (next_random(&state) % 94 < 10)
                list_push(list, id);
    } else if (strcmp(shape, "sparse") == 0) {
        long draws = (long)(1000000 * scale);
        for (long i = 0; i < draws; i++)
            list_push(list, (uint32_t)(next_random(&state) % (1u << 26)));
    } else if (strcmp(shape, "runs") == 0) {
        uint32_t end = (uint32_t)(2000000 * scale);
        int keep = 1;
        for (uint32_t id = 0; id < end; keep = !keep) {
            uint32_t length = 1 + (uint32_t)(next_random(&state) % 64);
            for (uint32_t i = 0; i < length && id < end; i++, id++)
                if (keep)
                    list_push(list, id);
        }
    } else {
        return -1;
    }
    return 0;
}

static roaring_bitmap_t *build(const char *shape, double scale,
                               uint64_t seed)
{
    struct id_list list = {0};
    if (generate(shape, scale, seed, &list) != 0) {
        fprintf(stderr, "set_ops: unknown shape %s; use activities, "
                        "sparse or runs\n", shape);
        exit(2);
    }
    roaring_bitmap_t *bitmap = roaring_bitmap_create();
    roaring_bitmap_add_many(bitmap, list.count, list.ids);
    roaring_bitmap_run_optimize(bitmap);
    free(list.ids);
    return bitmap;
}

static double cpu_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

typedef roaring_bitmap_t *(*operation)(const roaring_bitmap_t *,
                                       const roaring_bitmap_t *);

/* Time `iterations` runs of `op` on a and b and print the mean in
 * seconds, with the result's cardinality. */
static void time_operation(const char *name, operation op,
                           const roaring_bitmap_t *a,
                           const roaring_bitmap_t *b, long iterations)
{
    uint64_t count = 0;
    double started = cpu_seconds();
    for (long i = 0; i < iterations; i++) {
        roaring_bitmap_t *result = op(a, b);
        count = roaring_bitmap_get_cardinality(result);
        roaring_bitmap_free(result);
    }
    double seconds = (cpu_seconds() - started) / (double)iterations;
    printf("{\"operation\": \"%s\", \"seconds\": %.9f, \"count\": %llu}\n",
           name, seconds, (unsigned long long)count);
}

static int run_time(const char *shape, double scale, long iterations)
{
    roaring_bitmap_t *a = build(shape, scale, SEED_A);
    roaring_bitmap_t *b = build(shape, scale, SEED_B);
    printf("{\"a\": %llu, \"b\": %llu}\n",
           (unsigned long long)roaring_bitmap_get_cardinality(a),
           (unsigned long long)roaring_bitmap_get_cardinality(b));
    time_operation("union", roaring_bitmap_or, a, b, iterations);
    time_operation("intersection", roaring_bitmap_and, a, b, iterations);
    time_operation("difference", roaring_bitmap_andnot, a, b, iterations);
    time_operation("symmetric difference", roaring_bitmap_xor, a, b,
                   iterations);
    roaring_bitmap_free(a);
    roaring_bitmap_free(b);
    return 0;
}

static bool write_id(uint32_t id, void *file)
{
    unsigned char bytes[4] = {id & 0xff, (id >> 8) & 0xff, (id >> 16) & 0xff,
                              id >> 24};
    return fwrite(bytes, 1, 4, file) == 4;
}

static int run_dump(const char *shape, double scale, const char *set_name)
{
    uint64_t seed = strcmp(set_name, "a") == 0 ? SEED_A : SEED_B;
    roaring_bitmap_t *bitmap = build(shape, scale, seed);
    bool written = roaring_iterate(bitmap, write_id, stdout);
    roaring_bitmap_free(bitmap);
    return written && fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "time") == 0)
        return run_time(argv[2], atof(argv[3]), atol(argv[4]));
    if (argc == 5 && strcmp(argv[1], "dump") == 0)
        return run_dump(argv[2], atof(argv[3]), argv[4]);
    fputs("usage: set_ops time SHAPE SCALE ITERATIONS\n"
          "       set_ops dump SHAPE SCALE a|b\n",
          stderr);
    return 2;
}
