/*
 * ffi_types.c: plain C functions of every supported type, for the tests
 * of Lethe's libffi conversions. Each returns its argument unchanged or
 * a description of its arguments, so that a test can see exactly what
 * arrived.
 */
#define _POSIX_C_SOURCE 200809L

#include <lethe/plugin.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LETHE_PLUGIN_DECLARE();

static const struct lethe_host *host;
static lethe_plugin *self;

static bool flip(bool value) { return !value; }
static int32_t same_int32(int32_t value) { return value; }
static int64_t same_int64(int64_t value) { return value; }
static uint32_t same_uint32(uint32_t value) { return value; }
static double same_double(double value) { return value; }
static float same_float(float value) { return value; }
static const char *same_text(const char *value) { return value; }
static const char *static_text(void) { return "static text"; }
static char *null_text(void) { return NULL; }
static void nothing(void) {}

static char *copy_text(const char *value)
{
    return strdup(value);
}

static int64_t text_length(const char *value)
{
    return (int64_t)strlen(value);
}

/* Every argument in an exact text form: floats in hexadecimal. */
static char *describe(float a, double b, int64_t c, int32_t d, uint32_t e,
                      bool f, const char *g)
{
    char *text = malloc(512);
    if (text)
        snprintf(text, 512, "%a %a %lld %d %u %d %s", (double)a, b,
                 (long long)c, d, e, f, g);
    return text;
}

static int keep_even(void *set, int64_t id)
{
    if (id % 2 == 0)
        host->idset_add(set, id);
    return 0;
}

/* A new set of the even ids of `set`. */
static lethe_idset *evens(const lethe_idset *set)
{
    lethe_idset *result = host->idset_new(self, host->idset_entity(set));
    if (result)
        host->idset_iterate(set, keep_even, result);
    return result;
}

static int64_t count_ids(const lethe_idset *set)
{
    return (int64_t)host->idset_count(set);
}

/* Returns the set it was given, which it does not own: Lethe must
 * refuse the result. */
static lethe_idset *wrong_set(const lethe_idset *set)
{
    return (lethe_idset *)set;
}

static char *shout(const char *value)
{
    char *text = strdup(value);
    for (char *c = text; c && *c; c++) {
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    }
    return text;
}

static const struct {
    const char *signature;
    lethe_function_address address;
} functions[] = {
    {"bool flip(bool value)", (lethe_function_address)flip},
    {"int32_t same_int32(int32_t value)", (lethe_function_address)same_int32},
    {"int64_t same_int64(int64_t value)", (lethe_function_address)same_int64},
    {"uint32_t same_uint32(uint32_t value)",
     (lethe_function_address)same_uint32},
    {"double same_double(double value)", (lethe_function_address)same_double},
    {"float same_float(float value)", (lethe_function_address)same_float},
    {"const char *same_text(const char *value)",
     (lethe_function_address)same_text},
    {"const char *static_text(void)", (lethe_function_address)static_text},
    {"char *null_text(void)", (lethe_function_address)null_text},
    {"void nothing(void)", (lethe_function_address)nothing},
    {"char *copy_text(const char *value)", (lethe_function_address)copy_text},
    {"int64_t text_length(const char *value)",
     (lethe_function_address)text_length},
    {"char *describe(float a, double b, int64_t c, int32_t d, uint32_t e, "
     "bool f, const char *g)",
     (lethe_function_address)describe},
    {"lethe_idset *evens(const lethe_idset *set)",
     (lethe_function_address)evens},
    {"int64_t count_ids(const lethe_idset *set)",
     (lethe_function_address)count_ids},
    {"lethe_idset *wrong_set(const lethe_idset *set)",
     (lethe_function_address)wrong_set},
    {"char *shout(const char *value)", (lethe_function_address)shout},
};

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *h,
                                          struct lethe_plugin_info *info)
{
    host = h;
    self = info->plugin;
    info->name = "ffi_types";
    info->version = "1.0.0";
    info->description = "plain C functions of every supported type";
    info->free_result = free;
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        if (host->register_function(self, functions[i].signature,
                                    functions[i].address) != LETHE_OK)
            return LETHE_ERROR;
    }
    return LETHE_OK;
}
