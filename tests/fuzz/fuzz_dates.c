/*
 * fuzz_dates.c: libFuzzer harness for the date parser. Each input is the
 * text of a date, for which dates.parse must return an instant or nil and
 * a reason. A parsed instant of the years 0001 to 9999, without its
 * fraction of a second, must format and parse back to itself.
 *
 * NOTE: year 0000 is left out of the round trip: "0000-01-01" parses to
 * an instant that formats as 0000-01-02 (see docs/FUZZING.md).
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>

static const char setup[] =
    "local dates = require 'lethe.dates'\n"
    "function fuzz_one(text)\n"
    "  local instant, reason = dates.parse(text)\n"
    "  if instant == nil then\n"
    "    assert(type(reason) == 'string', 'no reason for a rejected date')\n"
    "    return\n"
    "  end\n"
    "  assert(type(instant) == 'number', 'instant is not a number')\n"
    "  local whole = math.floor(instant)\n"
    "  local year = dates.civil(whole)\n"
    "  if year < 1 or year > 9999 then return end\n"
    "  local again = dates.parse(dates.format(whole))\n"
    "  if again ~= whole then\n"
    "    error(string.format('%q parses to %d, which formats as %s and '\n"
    "      .. 'parses back to %s', text, whole, dates.format(whole),\n"
    "      tostring(again)))\n"
    "  end\n"
    "end\n";

static lua_State *state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken round trip raises inside fuzz_one; report it as a finding. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!state)
        state = fuzz_state(setup);
    lua_getglobal(state, "fuzz_one");
    lua_pushlstring(state, (const char *)data, size);
    if (lua_pcall(state, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "fuzz_dates: %s\n", lua_tostring(state, -1));
        abort();
    }
    return 0;
}
