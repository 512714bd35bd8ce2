/*
 * fuzz_common.h: a Lua state with Lethe's modules for the libFuzzer
 * harnesses in this folder (built with -DLETHE_FUZZ=ON, see
 * docs/FUZZING.md).
 */
#ifndef LETHE_FUZZ_COMMON_H
#define LETHE_FUZZ_COMMON_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* Create the state once, run the trusted Lua `setup` in it, which must
 * define the global function fuzz_one(input). Aborts on failure. */
lua_State *fuzz_state(const char *setup);

/* Call fuzz_one(input) in protected mode: a Lua error is an expected
 * outcome for bad input, a crash or sanitizer report is a finding. */
void fuzz_call(lua_State *L, const uint8_t *data, size_t size);

#endif
