/*
 * ffi_call.h: calling plugins' plain C functions through libffi, from Lua
 * and from SQL.
 *
 * Arguments are checked and converted before the call. A wrong type or a
 * value out of range is a Lua error (or an SQL error) that names the
 * function and the argument. It is raised in Lethe's own frame before
 * libffi is entered, so no Lua error crosses a libffi or plugin frame.
 */
#ifndef LETHE_FFI_CALL_H
#define LETHE_FFI_CALL_H

#include "ffi_signature.h"

#include <ffi.h>
#include <lethe/plugin.h>
#include <lua.h>
#include <sqlite3.h>

struct ffi_function {
    struct ffi_signature signature;
    char qualified_name[2 * (FFI_MAX_NAME + 1)]; /* "plugin.function" */
    lethe_function_address address;
    void (*free_result)(void *text); /* for char * results */
    ffi_cif cif;
    ffi_type *parameter_types[FFI_MAX_PARAMETERS];
};

/* Prepare `function` (signature, qualified_name, address and free_result
 * set by the caller) for calls: build its libffi call interface. Fails,
 * with a message, when libffi rejects it or when a char * result has no
 * free_result function. */
int ffi_function_prepare(struct ffi_function *function, char *message,
                         size_t message_size);

/* Push a Lua function that calls `function`, which must outlive it.
 * [-0, +1, m] */
void ffi_function_push(lua_State *L, struct ffi_function *function);

/* Call `function` with SQL values and set the SQL result: the SQL side of
 * field_action(f, ...). A NULL first argument gives NULL without a call.
 * Id set parameters and results cannot be used from SQL. */
void ffi_function_call_sql(const struct ffi_function *function,
                           sqlite3_context *context, int argc,
                           sqlite3_value **argv);

/* Whether `function` can be called from SQL with its first parameter
 * taking a field value: no id sets, at least one parameter, a result.
 * Returns 1, or 0 with the reason in `message`. */
int ffi_function_usable_in_sql(const struct ffi_function *function,
                               char *message, size_t message_size);

/* Call a built-in probe function through libffi with float, double, and
 * 32- and 64-bit integer arguments, more than fit in registers, and
 * check that every argument and the results arrive intact. Returns 0, or
 * -1 with the first difference in `message`. */
int ffi_self_test(char *message, size_t message_size);

#endif
