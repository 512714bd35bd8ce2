/*
 * fuzz_policy.c: libFuzzer harness for the policy loader. Each input is a
 * policy script, loaded by policy.load in the sandbox against a sample
 * CRM database, under small script limits (the time limit is off: a
 * script that stalls inside one library call is reported by libFuzzer's
 * -timeout instead of ending the process).
 */
#include "fuzz_common.h"

static const char setup[] =
    "local limits = require 'lethe.limits'\n"
    "local native = require 'lethe.native'\n"
    "local policy = require 'lethe.policy'\n"
    "local sandbox = require 'lethe.sandbox'\n"
    "local session = require 'lethe.session'\n"
    "limits.configure { memory_mb = 8, instructions = 100000,\n"
    "                   seconds = 0 }\n"
    "local path = os.tmpname()\n"
    "os.remove(path)\n"
    "assert(native.create_database(path, { persons = 50, seed = 1,\n"
    "                                      anchor = 1700000000 }))\n"
    "local db = assert(native.open(path))\n"
    "os.remove(path)\n"
    "local model = session.load_model('crm', db, path)\n"
    "local options = { db = db, now = 1700000000,\n"
    "  resolve_model = function() return model end }\n"
    "local runs = 0\n"
    "function fuzz_one(text)\n"
    "  sandbox.reset()\n"
    "  pcall(policy.load, text, 'fuzz.lua', options)\n"
    "  runs = runs + 1\n"
    "  if runs % 256 == 0 then collectgarbage() end\n"
    "end\n";

static lua_State *state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!state)
        state = fuzz_state(setup);
    fuzz_call(state, data, size);
    return 0;
}
