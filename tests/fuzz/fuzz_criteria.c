/*
 * fuzz_criteria.c: libFuzzer harness for the criteria compiler. The input
 * bytes choose criteria for the person entity of the CRM model: field or
 * relation paths, operators, values (integers at the edges, NaN, infinity,
 * text, dates, lists, nested groups). A compile error is an expected
 * outcome; compiled SQL that SQLite then rejects is a finding.
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>

static const char setup[] =
    "local criteria = require 'lethe.criteria'\n"
    "local native = require 'lethe.native'\n"
    "local session = require 'lethe.session'\n"
    "local util = require 'lethe.util'\n"
    "local path = os.tmpname()\n"
    "os.remove(path)\n"
    "assert(native.create_database(path, { persons = 50, seed = 1,\n"
    "                                      anchor = 1700000000 }))\n"
    "db = assert(native.open(path))\n"
    "os.remove(path)\n"
    "local model = session.load_model('crm', db, path)\n"
    "local person = model.entities.person\n"
    "local model_module = require 'lethe.model'\n"
    "local names = model_module.member_names(person)\n"
    "table.sort(names)\n"
    "names[#names + 1] = 'company.name'\n"
    "names[#names + 1] = 'company.registered'\n"
    "names[#names + 1] = 'nosuchfield'\n"
    "local operators = { '=', '<>', '<', '>', '<=', '>=', 'between',\n"
    "  'before', 'after', 'on', 'older than', 'newer than', 'today',\n"
    "  'before today', 'after today', 'this', 'previous', 'next',\n"
    "  'this and previous', 'this and next', 'contains', 'not contains',\n"
    "  'begins with', 'ends with', 'is exactly', 'one of', 'not one of',\n"
    "  'empty', 'not empty', 'any', 'none', 'is', 'count', 'last' }\n"
    "local units = { 'days', 'weeks', 'months', 'quarters', 'years',\n"
    "  'day', 'hours' }\n"
    "local numbers = { 0, 1, -1, 3, math.maxinteger, math.mininteger,\n"
    "  0/0, 1/0, -1/0, -0.0, 2^53, 1e308, 0.5 }\n"
    "local texts = { '', 'a', '%', '_', 'Prospect', 'CONSENT', '2024-01-01',\n"
    "  '2024-02-30', '9999-12-31T23:59:59Z', '0000-01-01', 'x\\0y',\n"
    "  'É', \"'); DROP TABLE person; --\" }\n"
    "local function reader(text)\n"
    "  local i = 0\n"
    "  return function()\n"
    "    i = i + 1\n"
    "    return text:byte(i) or 0\n"
    "  end\n"
    "end\n"
    "local function pick(list, byte) return list[byte() % #list + 1] end\n"
    "local criterion\n"
    "local function value(byte, depth)\n"
    "  local kind = byte() % 6\n"
    "  if kind == 0 then return pick(numbers, byte) end\n"
    "  if kind == 1 then return pick(texts, byte) end\n"
    "  if kind == 2 then return byte() % 2 == 0 end\n"
    "  if kind == 3 then return pick(units, byte) end\n"
    "  if kind == 4 and depth < 3 then\n"
    "    return criterion(byte, depth + 1)\n"
    "  end\n"
    "  local list = {}\n"
    "  for i = 1, byte() % 4 do list[i] = pick(texts, byte) end\n"
    "  return list\n"
    "end\n"
    "function criterion(byte, depth)\n"
    "  local result = { pick(names, byte), pick(operators, byte) }\n"
    "  for i = 3, 2 + byte() % 4 do result[i] = value(byte, depth) end\n"
    "  return result\n"
    "end\n"
    "local key = util.quote(person.key)\n"
    "function fuzz_one(text)\n"
    "  local byte = reader(text)\n"
    "  local groups = { n = 1 + byte() % 2 }\n"
    "  for g = 1, groups.n do\n"
    "    local group = {}\n"
    "    for c = 1, 1 + byte() % 3 do group[c] = criterion(byte, 0) end\n"
    "    groups[g] = group\n"
    "  end\n"
    "  local context = criteria.context(model, db, 1700000000)\n"
    "  local ok, sql = pcall(criteria.compile, context, person, 't0', groups)\n"
    "  if not ok then return end\n"
    "  db:ids(string.format('SELECT t0.%s FROM %s t0 WHERE %s', key,\n"
    "    util.quote(person.table), sql), context.params, 'person',\n"
    "    person.table)\n"
    "end\n";

static lua_State *state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SQL that the compiler produced and SQLite rejects raises in fuzz_one:
 * report it as a finding. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!state)
        state = fuzz_state(setup);
    lua_getglobal(state, "fuzz_one");
    lua_pushlstring(state, (const char *)data, size);
    if (lua_pcall(state, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "fuzz_criteria: %s\n", lua_tostring(state, -1));
        abort();
    }
    lua_settop(state, 0);
    return 0;
}
