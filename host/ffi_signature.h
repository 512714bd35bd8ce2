/*
 * ffi_signature.h: parsing the C signatures of plugins' plain C functions.
 *
 * A signature is one C declaration over the types that lethe/plugin.h
 * lists, for example
 *
 *     char *phone_e164(const char *number, const char *country_code)
 *     int64_t add(int64_t a, int64_t b);
 *     bool is_ready(void)
 *
 * Parameter names are optional. The parser allocates nothing and reads
 * only the NUL-terminated text it is given, so that it can be fuzzed on
 * its own (tests/fuzz/fuzz_signature.c).
 */
#ifndef LETHE_FFI_SIGNATURE_H
#define LETHE_FFI_SIGNATURE_H

#include <stddef.h>

/* Most parameters a plain C function may have. */
#define FFI_MAX_PARAMETERS 16
/* Maximum length of a function or parameter name, in bytes. */
#define FFI_MAX_NAME 63

enum ffi_kind {
    FFI_VOID,      /* result only */
    FFI_BOOL,
    FFI_INT32,
    FFI_INT64,
    FFI_UINT32,
    FFI_DOUBLE,
    FFI_FLOAT,
    FFI_TEXT,      /* const char *: argument, or result Lethe does not free */
    FFI_OWNED_TEXT, /* char *: result only, freed with the plugin's free */
    FFI_IDSET,     /* const lethe_idset *: argument only */
    FFI_NEW_IDSET  /* lethe_idset *: result only, taken over by Lethe */
};

struct ffi_signature {
    char name[FFI_MAX_NAME + 1];
    enum ffi_kind result;
    int parameter_count;
    enum ffi_kind parameters[FFI_MAX_PARAMETERS];
    /* Parameter names as written, or "" where the signature has none. */
    char parameter_names[FFI_MAX_PARAMETERS][FFI_MAX_NAME + 1];
};

/* Parse `text` into *out. Returns 0, or -1 with a message in `message`
 * (at most `message_size` bytes, always NUL-terminated when
 * message_size > 0) that names the problem and its position, such as
 * "'long' is not supported; use int64_t at byte 1". */
int ffi_signature_parse(const char *text, struct ffi_signature *out,
                        char *message, size_t message_size);

/* The C spelling of `kind`, such as "const char *". */
const char *ffi_kind_name(enum ffi_kind kind);

#endif
