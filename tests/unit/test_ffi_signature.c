/*
 * test_ffi_signature.c: the parser of plain C function signatures, on
 * accepted and rejected declarations, on mutated inputs, and the libffi
 * self-test.
 */
#include "ffi_call.h"
#include "ffi_signature.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(condition, ...)                                               \
    do {                                                                    \
        if (!(condition)) {                                                 \
            failures++;                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);            \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

struct accepted {
    const char *text;
    const char *name;
    enum ffi_kind result;
    int count;
    enum ffi_kind parameters[4];
    const char *first_name;
};

static const struct accepted accepted[] = {
    {"char *phone_e164(const char *number, const char *country)",
     "phone_e164", FFI_OWNED_TEXT, 2, {FFI_TEXT, FFI_TEXT}, "number"},
    {"int64_t add(int64_t a, int64_t b);", "add", FFI_INT64, 2,
     {FFI_INT64, FFI_INT64}, "a"},
    {"bool ready(void)", "ready", FFI_BOOL, 0, {0}, ""},
    {"void tick()", "tick", FFI_VOID, 0, {0}, ""},
    {"  double\tscale ( float x , double y )  ", "scale", FFI_DOUBLE, 2,
     {FFI_FLOAT, FFI_DOUBLE}, "x"},
    {"uint32_t f(int32_t, uint32_t, bool)", "f", FFI_UINT32, 3,
     {FFI_INT32, FFI_UINT32, FFI_BOOL}, ""},
    {"const char*name(const char*x)", "name", FFI_TEXT, 1, {FFI_TEXT}, "x"},
    {"lethe_idset *evens(const lethe_idset *set)", "evens", FFI_NEW_IDSET, 1,
     {FFI_IDSET}, "set"},
    {"float f(float, float, float, float)", "f", FFI_FLOAT, 4,
     {FFI_FLOAT, FFI_FLOAT, FFI_FLOAT, FFI_FLOAT}, ""},
};

struct rejected {
    const char *text;
    const char *reason; /* a part of the expected message */
};

static const struct rejected rejected[] = {
    {"", "empty"},
    {"int64_t sum(int64_t first, ...)", "variadic"},
    {"double norm(struct point p)", "structs are not supported"},
    {"double norm(struct point *p)", "structs are not supported"},
    {"long f(void)", "'long' is not supported"},
    {"int f(void)", "'int' is not supported"},
    {"size_t f(void)", "'size_t' is not supported"},
    {"quux f(void)", "unknown type name 'quux'"},
    {"int64_t f(char *out)", "result type only"},
    {"int64_t f(lethe_idset *set)", "result type only"},
    {"const lethe_idset *f(void)", "cannot be 'const lethe_idset *'"},
    {"int64_t f(void x)", "only in f(void)"},
    {"int64_t f(int64_t, void)", "only in f(void)"},
    {"int64_t *f(void)", "pointers to int64_t"},
    {"char **f(void)", "pointers to pointers"},
    {"char f(void)", "by value"},
    {"int64_t f(int64_t a[])", "arrays"},
    {"int64_t f(int64_t (*cb)(void))", "function pointers"},
    {"int64_t (void)", "function pointers"},
    {"int64_t f", "expected '('"},
    {"int64_t f(int64_t", "expected ','"},
    {"int64_t f(void) extra", "unexpected 'extra'"},
    {"int64_t int64_t(void)", "the function name"},
    {"unsigned f(void)", "use uint32_t"},
    {"int64_t f(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, "
     "int64_t f, int64_t g, int64_t h, int64_t i, int64_t j, int64_t k, "
     "int64_t l, int64_t m, int64_t n, int64_t o, int64_t p, int64_t q)",
     "more than 16"},
    {"int64_t a_name_that_is_much_longer_than_sixty_three_bytes_which_is_"
     "the_limit(void)",
     "longer than"},
};

static void test_accepted(void)
{
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        const struct accepted *c = &accepted[i];
        struct ffi_signature s;
        char message[256];
        int status = ffi_signature_parse(c->text, &s, message, sizeof message);
        CHECK(status == 0, "'%s' rejected: %s", c->text, message);
        if (status != 0)
            continue;
        CHECK(strcmp(s.name, c->name) == 0, "'%s': name %s", c->text,
              s.name);
        CHECK(s.result == c->result, "'%s': result %s", c->text,
              ffi_kind_name(s.result));
        CHECK(s.parameter_count == c->count, "'%s': %d parameters", c->text,
              s.parameter_count);
        for (int p = 0; p < c->count && p < s.parameter_count; p++)
            CHECK(s.parameters[p] == c->parameters[p],
                  "'%s': parameter %d is %s", c->text, p + 1,
                  ffi_kind_name(s.parameters[p]));
        if (c->count > 0)
            CHECK(strcmp(s.parameter_names[0], c->first_name) == 0,
                  "'%s': first parameter name '%s'", c->text,
                  s.parameter_names[0]);
    }
}

static void test_rejected(void)
{
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        const struct rejected *c = &rejected[i];
        struct ffi_signature s;
        char message[256] = "";
        int status = ffi_signature_parse(c->text, &s, message, sizeof message);
        CHECK(status != 0, "'%s' accepted", c->text);
        CHECK(strstr(message, c->reason) != NULL,
              "'%s': message '%s' lacks '%s'", c->text, message, c->reason);
        CHECK(strstr(message, "at byte ") != NULL,
              "'%s': message '%s' gives no position", c->text, message);
    }
}

/* The parser never writes past a small message buffer. */
static void test_small_message_buffer(void)
{
    struct ffi_signature s;
    char message[8];
    memset(message, 'x', sizeof message);
    ffi_signature_parse("quux f(void)", &s, message, 4);
    CHECK(message[3] == '\0', "message not terminated in 4 bytes");
    CHECK(message[4] == 'x', "message written past 4 bytes");
}

static uint64_t next_random(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15u;
    uint64_t z = *state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Mutate accepted signatures (replace, insert and delete bytes) and check
 * that every result is a consistent signature or a message. */
static void test_mutations(void)
{
    static const char alphabet[] = "abz_019 *(),;.[]{}\t\nconstcharvoid\xff";
    uint64_t state = 20240630;
    for (int round = 0; round < 100000; round++) {
        char text[160];
        const char *base = accepted[round % (sizeof accepted /
                                             sizeof accepted[0])].text;
        snprintf(text, sizeof text, "%s", base);
        int edits = 1 + (int)(next_random(&state) % 4);
        for (int e = 0; e < edits; e++) {
            size_t length = strlen(text);
            size_t at = length ? next_random(&state) % length : 0;
            char c = alphabet[next_random(&state) % (sizeof alphabet - 1)];
            switch (next_random(&state) % 3) {
            case 0:
                if (length)
                    text[at] = c;
                break;
            case 1:
                if (length + 1 < sizeof text) {
                    memmove(text + at + 1, text + at, length - at + 1);
                    text[at] = c;
                }
                break;
            default:
                if (length)
                    memmove(text + at, text + at + 1, length - at);
            }
        }
        struct ffi_signature s;
        char message[256];
        if (ffi_signature_parse(text, &s, message, sizeof message) == 0) {
            CHECK(s.parameter_count >= 0 &&
                      s.parameter_count <= FFI_MAX_PARAMETERS,
                  "'%s': %d parameters", text, s.parameter_count);
            CHECK(s.name[0] != '\0', "'%s': empty name", text);
        } else {
            CHECK(message[0] != '\0', "'%s': rejected without a message",
                  text);
        }
    }
}

static void test_self_test(void)
{
    char message[256] = "";
    CHECK(ffi_self_test(message, sizeof message) == 0,
          "libffi self-test failed: %s", message);
}

int main(void)
{
    test_accepted();
    test_rejected();
    test_small_message_buffer();
    test_mutations();
    test_self_test();
    if (failures)
        fprintf(stderr, "%d checks failed\n", failures);
    else
        puts("ffi_signature: all checks passed");
    return failures ? 1 : 0;
}
