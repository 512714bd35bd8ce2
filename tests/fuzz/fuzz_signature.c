/*
 * fuzz_signature.c: libFuzzer target for ffi_signature_parse, the parser
 * of plain C function signatures that plugins declare.
 *
 * tests/fuzz/run.sh builds and runs it with the other harnesses. Every
 * input must end in success or a message, never in a crash, and a parsed
 * signature must be consistent.
 */
#include "ffi_signature.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct ffi_signature signature;
    char message[256];
    if (ffi_signature_parse(text, &signature, message, sizeof message) == 0) {
        if (signature.parameter_count < 0 ||
            signature.parameter_count > FFI_MAX_PARAMETERS ||
            strlen(signature.name) == 0)
            abort();
    } else if (strlen(message) == 0) {
        abort();
    }
    free(text);
    return 0;
}
