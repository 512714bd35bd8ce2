/*
 * ffi_call.c: converting Lua and SQL values to C arguments, calling plain
 * C functions through libffi, converting their results back, and the
 * libffi self-test.
 *
 * Sections: argument slots, arguments from Lua, results to Lua, calls
 * from SQL, and the self-test.
 */
#include "ffi_call.h"

#include "plugin_registry.h"

#include <assert.h>
#include <float.h>
#include <lauxlib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static_assert(sizeof(bool) == 1, "bool is passed as a one-byte integer");

/* ---------------------------------------------------------------------- */
/* Argument slots                                                          */
/* ---------------------------------------------------------------------- */

/* Storage for one converted argument; libffi reads it through a pointer. */
union argument_slot {
    bool boolean;
    int32_t int32;
    int64_t int64;
    uint32_t uint32;
    double real;
    float single;
    const char *text;
    const struct lethe_idset *set;
};

/* Storage for a result. libffi widens integer results narrower than a
 * register to ffi_arg, so the buffer is at least that large. */
union result_slot {
    ffi_arg unsigned_register;
    ffi_sarg signed_register;
    int64_t int64;
    double real;
    float single;
    void *pointer;
};

static ffi_type *libffi_type(enum ffi_kind kind)
{
    switch (kind) {
    case FFI_VOID: return &ffi_type_void;
    case FFI_BOOL: return &ffi_type_uint8;
    case FFI_INT32: return &ffi_type_sint32;
    case FFI_INT64: return &ffi_type_sint64;
    case FFI_UINT32: return &ffi_type_uint32;
    case FFI_DOUBLE: return &ffi_type_double;
    case FFI_FLOAT: return &ffi_type_float;
    default: return &ffi_type_pointer;
    }
}

int ffi_function_prepare(struct ffi_function *function, char *message,
                         size_t message_size)
{
    const struct ffi_signature *signature = &function->signature;
    if (signature->result == FFI_OWNED_TEXT && !function->free_result) {
        snprintf(message, message_size,
                 "%s returns char *, but the plugin sets no "
                 "info->free_result to free it; set one, or return "
                 "const char * for text the plugin keeps",
                 function->qualified_name);
        return -1;
    }
    for (int i = 0; i < signature->parameter_count; i++)
        function->parameter_types[i] = libffi_type(signature->parameters[i]);
    ffi_status status = ffi_prep_cif(
        &function->cif, FFI_DEFAULT_ABI, (unsigned)signature->parameter_count,
        libffi_type(signature->result), function->parameter_types);
    if (status != FFI_OK) {
        snprintf(message, message_size,
                 "libffi cannot prepare a call to %s (status %d)",
                 function->qualified_name, (int)status);
        return -1;
    }
    return 0;
}

/* The text "argument N 'NAME'" or "argument N" for messages. */
static void argument_label(const struct ffi_signature *signature, int index,
                           char *out, size_t size)
{
    const char *name = signature->parameter_names[index];
    if (name[0])
        snprintf(out, size, "argument %d '%s'", index + 1, name);
    else
        snprintf(out, size, "argument %d", index + 1);
}

/* ---------------------------------------------------------------------- */
/* Arguments from Lua                                                      */
/* ---------------------------------------------------------------------- */

/* Raise "F: argument N 'NAME' expects TYPE, got WHAT". Does not return. */
static int raise_argument(lua_State *L, const struct ffi_function *function,
                          int index, const char *what)
{
    char label[96];
    argument_label(&function->signature, index, label, sizeof label);
    return luaL_error(L, "%s: %s expects %s, got %s",
                      function->qualified_name, label,
                      ffi_kind_name(function->signature.parameters[index]),
                      what);
}

/* The Lua value at `position` as an integer in [minimum, maximum]: an
 * integer, or a float with an integral value. Raises otherwise. */
static int64_t integer_argument(lua_State *L,
                                const struct ffi_function *function,
                                int index, int position, int64_t minimum,
                                int64_t maximum)
{
    if (lua_type(L, position) != LUA_TNUMBER)
        raise_argument(L, function, index, luaL_typename(L, position));
    int exact = 0;
    lua_Integer value = lua_tointegerx(L, position, &exact);
    if (!exact)
        raise_argument(L, function, index,
                       lua_pushfstring(L, "%f, which is not a whole number "
                                       "in the range of int64_t",
                                       lua_tonumber(L, position)));
    if (value < minimum || value > maximum)
        raise_argument(L, function, index,
                       lua_pushfstring(L, "%I, which is out of its range",
                                       (LUAI_UACINT)value));
    return value;
}

/* Convert argument `index` (Lua stack position index + 1) into `slot`;
 * an id set becomes a view in `view`. Raises on a wrong type or range. */
static void argument_from_lua(lua_State *L,
                              const struct ffi_function *function, int index,
                              union argument_slot *slot,
                              struct lethe_idset *view)
{
    int position = index + 1;
    switch (function->signature.parameters[index]) {
    case FFI_BOOL:
        if (lua_type(L, position) != LUA_TBOOLEAN)
            raise_argument(L, function, index, luaL_typename(L, position));
        slot->boolean = lua_toboolean(L, position);
        break;
    case FFI_INT32:
        slot->int32 = (int32_t)integer_argument(L, function, index, position,
                                                INT32_MIN, INT32_MAX);
        break;
    case FFI_UINT32:
        slot->uint32 = (uint32_t)integer_argument(
            L, function, index, position, 0, (int64_t)UINT32_MAX);
        break;
    case FFI_INT64:
        slot->int64 = integer_argument(L, function, index, position,
                                       INT64_MIN, INT64_MAX);
        break;
    case FFI_DOUBLE:
        if (lua_type(L, position) != LUA_TNUMBER)
            raise_argument(L, function, index, luaL_typename(L, position));
        slot->real = (double)lua_tonumber(L, position);
        break;
    case FFI_FLOAT: {
        if (lua_type(L, position) != LUA_TNUMBER)
            raise_argument(L, function, index, luaL_typename(L, position));
        double value = (double)lua_tonumber(L, position);
        if (isfinite(value) && fabs(value) > FLT_MAX)
            raise_argument(L, function, index,
                           lua_pushfstring(L, "%f, which is out of the "
                                           "range of float", value));
        slot->single = (float)value;
        break;
    }
    case FFI_TEXT: {
        if (lua_type(L, position) != LUA_TSTRING)
            raise_argument(L, function, index, luaL_typename(L, position));
        size_t length;
        const char *text = lua_tolstring(L, position, &length);
        if (strlen(text) != length)
            raise_argument(L, function, index, "a string with a NUL byte");
        slot->text = text;
        break;
    }
    case FFI_IDSET: {
        struct idset *set = idset_test(L, position);
        if (!set)
            raise_argument(L, function, index, luaL_typename(L, position));
        if (!set->bitmap)
            raise_argument(L, function, index, "a closed id set");
        registry_idset_view(view, set);
        slot->set = view;
        break;
    }
    default:
        assert(!"result-only kind in a parameter list");
    }
}

/* ---------------------------------------------------------------------- */
/* Results to Lua                                                          */
/* ---------------------------------------------------------------------- */

/* lua_pushstring in protected mode: [-1, +1, m] with the text as a light
 * userdata argument. */
static int push_text_copy(lua_State *L)
{
    lua_pushstring(L, lua_touserdata(L, 1));
    return 1;
}

/* Push a char * result and free it with the plugin's free function, also
 * when copying it runs out of memory. [-0, +1, e] */
static void push_owned_text(lua_State *L, const struct ffi_function *function,
                            char *text)
{
    if (!text) {
        lua_pushnil(L);
        return;
    }
    lua_pushcfunction(L, push_text_copy);
    lua_pushlightuserdata(L, text);
    int status = lua_pcall(L, 1, 1, 0);
    function->free_result(text);
    if (status != LUA_OK)
        lua_error(L);
}

/* Push a lethe_idset * result: a set from idset_new that Lua takes over.
 * [-0, +1, e] */
static void push_new_set(lua_State *L, const struct ffi_function *function,
                         struct lethe_idset *result)
{
    if (!result) {
        lua_pushnil(L);
        return;
    }
    if (result->magic != IDSET_OWNED_MAGIC) {
        luaL_error(L, "%s returned an id set that it did not create with "
                      "host->idset_new; the result was ignored",
                   function->qualified_name);
        return;
    }
    struct idset *pushed = idset_push(L, result->storage.entity);
    roaring_bitmap_free(pushed->bitmap);
    pushed->bitmap = result->storage.bitmap;
    result->storage.bitmap = NULL;
    registry_idset_release(result);
}

static void push_result(lua_State *L, const struct ffi_function *function,
                        const union result_slot *result)
{
    switch (function->signature.result) {
    case FFI_BOOL:
        lua_pushboolean(L, (uint8_t)result->unsigned_register != 0);
        break;
    case FFI_INT32:
        lua_pushinteger(L, (int32_t)result->signed_register);
        break;
    case FFI_UINT32:
        lua_pushinteger(L, (uint32_t)result->unsigned_register);
        break;
    case FFI_INT64:
        lua_pushinteger(L, result->int64);
        break;
    case FFI_DOUBLE:
        lua_pushnumber(L, result->real);
        break;
    case FFI_FLOAT:
        lua_pushnumber(L, (double)result->single);
        break;
    case FFI_TEXT:
        if (result->pointer)
            lua_pushstring(L, result->pointer);
        else
            lua_pushnil(L);
        break;
    case FFI_OWNED_TEXT:
        push_owned_text(L, function, result->pointer);
        break;
    case FFI_NEW_IDSET:
        push_new_set(L, function, result->pointer);
        break;
    default:
        break;
    }
}

/* The Lua function for a plain C function: checks the argument count and
 * types, calls through libffi, converts the result. Raises on bad
 * arguments before the call. [-n, +0|1, e] */
static int call_from_lua(lua_State *L)
{
    const struct ffi_function *function =
        lua_touserdata(L, lua_upvalueindex(1));
    const struct ffi_signature *signature = &function->signature;
    int count = lua_gettop(L);
    if (count != signature->parameter_count)
        return luaL_error(L, "%s expects %d argument%s, got %d",
                          function->qualified_name,
                          signature->parameter_count,
                          signature->parameter_count == 1 ? "" : "s", count);
    union argument_slot slots[FFI_MAX_PARAMETERS];
    struct lethe_idset views[FFI_MAX_PARAMETERS];
    void *values[FFI_MAX_PARAMETERS];
    for (int i = 0; i < count; i++) {
        argument_from_lua(L, function, i, &slots[i], &views[i]);
        values[i] = &slots[i];
    }
    luaL_checkstack(L, 4, "calling a plugin function");
    union result_slot result;
    memset(&result, 0, sizeof result);
    ffi_call((ffi_cif *)&function->cif, function->address, &result, values);
    for (int i = 0; i < count; i++)
        views[i].magic = 0; /* the views end with this call */
    if (signature->result == FFI_VOID)
        return 0;
    push_result(L, function, &result);
    return 1;
}

void ffi_function_push(lua_State *L, struct ffi_function *function)
{
    lua_pushlightuserdata(L, function);
    lua_pushcclosure(L, call_from_lua, 1);
}

/* ---------------------------------------------------------------------- */
/* Calls from SQL                                                          */
/* ---------------------------------------------------------------------- */

int ffi_function_usable_in_sql(const struct ffi_function *function,
                               char *message, size_t message_size)
{
    const struct ffi_signature *signature = &function->signature;
    if (signature->parameter_count == 0) {
        snprintf(message, message_size, "%s takes no argument for the "
                 "field value", function->qualified_name);
        return 0;
    }
    if (signature->result == FFI_VOID || signature->result == FFI_NEW_IDSET) {
        snprintf(message, message_size, "%s returns %s, not a value for a "
                 "field", function->qualified_name,
                 ffi_kind_name(signature->result));
        return 0;
    }
    for (int i = 0; i < signature->parameter_count; i++) {
        if (signature->parameters[i] == FFI_IDSET) {
            snprintf(message, message_size, "%s takes an id set (argument "
                     "%d), which SQL cannot pass", function->qualified_name,
                     i + 1);
            return 0;
        }
    }
    return 1;
}

/* Convert SQL argument `index` into `slot`. Returns 0, or -1 with an
 * error set on `context`. */
static int argument_from_sql(const struct ffi_function *function,
                             sqlite3_context *context, int index,
                             sqlite3_value *value, union argument_slot *slot)
{
    enum ffi_kind kind = function->signature.parameters[index];
    int type = sqlite3_value_type(value);
    char label[96];
    argument_label(&function->signature, index, label, sizeof label);
    int exact_integer = type == SQLITE_INTEGER ||
                        (type == SQLITE_FLOAT &&
                         sqlite3_value_double(value) ==
                             (double)sqlite3_value_int64(value));
    int64_t integer = sqlite3_value_int64(value);
    const char *problem = NULL;
    switch (kind) {
    case FFI_BOOL:
    case FFI_INT32:
    case FFI_UINT32:
    case FFI_INT64:
        if (!exact_integer)
            problem = "a whole number";
        else if (kind == FFI_INT32 &&
                 (integer < INT32_MIN || integer > INT32_MAX))
            problem = "a whole number in the range of int32_t";
        else if (kind == FFI_UINT32 &&
                 (integer < 0 || integer > (int64_t)UINT32_MAX))
            problem = "a whole number in the range of uint32_t";
        slot->int64 = integer; /* overwritten below for narrow kinds */
        if (kind == FFI_BOOL)
            slot->boolean = integer != 0;
        else if (kind == FFI_INT32)
            slot->int32 = (int32_t)integer;
        else if (kind == FFI_UINT32)
            slot->uint32 = (uint32_t)integer;
        break;
    case FFI_DOUBLE:
    case FFI_FLOAT:
        if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
            problem = "a number";
        else if (kind == FFI_DOUBLE)
            slot->real = sqlite3_value_double(value);
        else
            slot->single = (float)sqlite3_value_double(value);
        break;
    case FFI_TEXT:
        if (type != SQLITE_TEXT)
            problem = "text";
        else {
            slot->text = (const char *)sqlite3_value_text(value);
            if (!slot->text ||
                strlen(slot->text) != (size_t)sqlite3_value_bytes(value))
                problem = "text without NUL bytes";
        }
        break;
    default:
        problem = "a value SQL can pass";
    }
    if (!problem)
        return 0;
    char *text = sqlite3_mprintf("%s: %s must be %s", function->qualified_name,
                                 label, problem);
    sqlite3_result_error(context, text ? text : "out of memory", -1);
    sqlite3_free(text);
    return -1;
}

static void result_to_sql(const struct ffi_function *function,
                          sqlite3_context *context,
                          const union result_slot *result)
{
    switch (function->signature.result) {
    case FFI_BOOL:
        sqlite3_result_int(context, (uint8_t)result->unsigned_register != 0);
        break;
    case FFI_INT32:
        sqlite3_result_int64(context, (int32_t)result->signed_register);
        break;
    case FFI_UINT32:
        sqlite3_result_int64(context, (uint32_t)result->unsigned_register);
        break;
    case FFI_INT64:
        sqlite3_result_int64(context, result->int64);
        break;
    case FFI_DOUBLE:
        sqlite3_result_double(context, result->real);
        break;
    case FFI_FLOAT:
        sqlite3_result_double(context, (double)result->single);
        break;
    case FFI_TEXT:
    case FFI_OWNED_TEXT:
        if (!result->pointer) {
            sqlite3_result_null(context);
            break;
        }
        sqlite3_result_text(context, result->pointer, -1, SQLITE_TRANSIENT);
        if (function->signature.result == FFI_OWNED_TEXT)
            function->free_result(result->pointer);
        break;
    default:
        sqlite3_result_error(context, "the function's result cannot be "
                             "used in SQL", -1);
    }
}

void ffi_function_call_sql(const struct ffi_function *function,
                           sqlite3_context *context, int argc,
                           sqlite3_value **argv)
{
    const struct ffi_signature *signature = &function->signature;
    if (argc != signature->parameter_count) {
        char *text = sqlite3_mprintf("%s expects %d arguments, got %d",
                                     function->qualified_name,
                                     signature->parameter_count, argc);
        sqlite3_result_error(context, text ? text : "out of memory", -1);
        sqlite3_free(text);
        return;
    }
    if (argc == 0 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    union argument_slot slots[FFI_MAX_PARAMETERS];
    void *values[FFI_MAX_PARAMETERS];
    for (int i = 0; i < argc; i++) {
        if (argument_from_sql(function, context, i, argv[i], &slots[i]) != 0)
            return;
        values[i] = &slots[i];
    }
    union result_slot result;
    memset(&result, 0, sizeof result);
    ffi_call((ffi_cif *)&function->cif, function->address, &result, values);
    result_to_sql(function, context, &result);
}

/* ---------------------------------------------------------------------- */
/* The self-test                                                           */
/* ---------------------------------------------------------------------- */

/* The arguments the probe received, in the order of its parameters. */
static struct {
    float a;
    double b;
    int64_t c;
    float d;
    int32_t e;
    double f;
    uint32_t g;
    int64_t h;
    float i;
    double j;
    bool k;
    double l;
    float m;
    int64_t n;
    int32_t o;
    float p;
} probe_received;

#define PROBE_RESULT (-1.0e-310) /* a negative subnormal double */

/* Sixteen arguments: nine floating-point ones, more than the eight
 * floating-point argument registers of the x86-64 System V and AArch64
 * calling conventions, and seven integer ones, more than the six integer
 * argument registers of x86-64, so that some of each go on the stack. */
static double probe(float a, double b, int64_t c, float d, int32_t e,
                    double f, uint32_t g, int64_t h, float i, double j,
                    bool k, double l, float m, int64_t n, int32_t o, float p)
{
    probe_received.a = a;
    probe_received.b = b;
    probe_received.c = c;
    probe_received.d = d;
    probe_received.e = e;
    probe_received.f = f;
    probe_received.g = g;
    probe_received.h = h;
    probe_received.i = i;
    probe_received.j = j;
    probe_received.k = k;
    probe_received.l = l;
    probe_received.m = m;
    probe_received.n = n;
    probe_received.o = o;
    probe_received.p = p;
    return PROBE_RESULT;
}

static float probe_float(float x) { return x * 2.0f; }

static int64_t probe_int64(int32_t high, uint32_t low)
{
    return (int64_t)(((uint64_t)(uint32_t)high << 32) | low);
}

static int prepare_probe(struct ffi_function *function, const char *text,
                         lethe_function_address address, char *message,
                         size_t message_size)
{
    memset(function, 0, sizeof *function);
    if (ffi_signature_parse(text, &function->signature, message,
                            message_size) != 0)
        return -1;
    snprintf(function->qualified_name, sizeof function->qualified_name,
             "self-test.%s", function->signature.name);
    function->address = address;
    return ffi_function_prepare(function, message, message_size);
}

/* Compare `size` bytes of what arrived with what was sent. */
static int same(const void *sent, const void *arrived, size_t size,
                const char *what, char *message, size_t message_size)
{
    if (memcmp(sent, arrived, size) == 0)
        return 1;
    snprintf(message, message_size,
             "libffi self-test failed: %s did not arrive intact; plain C "
             "functions are disabled", what);
    return 0;
}

static int check_mixed_arguments(char *message, size_t message_size)
{
    struct ffi_function function;
    if (prepare_probe(&function,
                      "double probe(float a, double b, int64_t c, float d, "
                      "int32_t e, double f, uint32_t g, int64_t h, "
                      "float i, double j, bool k, double l, float m, "
                      "int64_t n, int32_t o, float p)",
                      (lethe_function_address)probe, message,
                      message_size) != 0)
        return -1;
    float a = -1.5f, d = FLT_TRUE_MIN, i = 3.25f, m = INFINITY, p = -FLT_MAX;
    double b = DBL_MAX, f = -0.0, j = 1.0e-310, l = NAN;
    int64_t c = INT64_MIN, h = INT64_MAX, n = -2;
    int32_t e = INT32_MIN, o = -7;
    uint32_t g = UINT32_MAX;
    bool k = true;
    void *values[] = {&a, &b, &c, &d, &e, &f, &g, &h,
                      &i, &j, &k, &l, &m, &n, &o, &p};
    double result = 0;
    memset(&probe_received, 0, sizeof probe_received);
    ffi_call(&function.cif, function.address, &result, values);
    double expected = PROBE_RESULT;
    const struct {
        const void *sent, *arrived;
        size_t size;
        const char *what;
    } checks[] = {
        {&a, &probe_received.a, sizeof a, "float a"},
        {&b, &probe_received.b, sizeof b, "double b"},
        {&c, &probe_received.c, sizeof c, "int64_t c"},
        {&d, &probe_received.d, sizeof d, "float d"},
        {&e, &probe_received.e, sizeof e, "int32_t e"},
        {&f, &probe_received.f, sizeof f, "double f"},
        {&g, &probe_received.g, sizeof g, "uint32_t g"},
        {&h, &probe_received.h, sizeof h, "int64_t h"},
        {&i, &probe_received.i, sizeof i, "float i"},
        {&j, &probe_received.j, sizeof j, "double j"},
        {&k, &probe_received.k, sizeof k, "bool k"},
        {&l, &probe_received.l, sizeof l, "double l"},
        {&m, &probe_received.m, sizeof m, "float m"},
        {&n, &probe_received.n, sizeof n, "int64_t n"},
        {&o, &probe_received.o, sizeof o, "int32_t o"},
        {&p, &probe_received.p, sizeof p, "float p"},
        {&expected, &result, sizeof result, "the double result"},
    };
    for (size_t index = 0; index < sizeof checks / sizeof checks[0];
         index++) {
        if (!same(checks[index].sent, checks[index].arrived,
                  checks[index].size, checks[index].what, message,
                  message_size))
            return -1;
    }
    return 0;
}

static int check_results(char *message, size_t message_size)
{
    struct ffi_function function;
    if (prepare_probe(&function, "float probe_float(float x)",
                      (lethe_function_address)probe_float, message,
                      message_size) != 0)
        return -1;
    float x = -0.75f, expected_float = -1.5f;
    union result_slot result;
    void *float_values[] = {&x};
    ffi_call(&function.cif, function.address, &result, float_values);
    if (!same(&expected_float, &result.single, sizeof expected_float,
              "the float result", message, message_size))
        return -1;
    if (prepare_probe(&function,
                      "int64_t probe_int64(int32_t high, uint32_t low)",
                      (lethe_function_address)probe_int64, message,
                      message_size) != 0)
        return -1;
    int32_t high = INT32_MIN;
    uint32_t low = 0x89abcdefu;
    int64_t expected = INT64_MIN + 0x89abcdef;
    void *integer_values[] = {&high, &low};
    ffi_call(&function.cif, function.address, &result, integer_values);
    return same(&expected, &result.int64, sizeof expected,
                "the int64_t result", message, message_size)
               ? 0
               : -1;
}

int ffi_self_test(char *message, size_t message_size)
{
    if (check_mixed_arguments(message, message_size) != 0)
        return -1;
    return check_results(message, message_size);
}
