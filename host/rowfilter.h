/*
 * rowfilter.h: db:filter, which runs a Lua criterion function on each row
 * of a query and collects the ids of the rows for which it returns true.
 */
#ifndef LETHE_ROWFILTER_H
#define LETHE_ROWFILTER_H

#include <lua.h>

/* db:filter(sql, params, spec) -> id set | nil, error value.
 *
 * Steps `sql` (parameters bound from the table `params`, which may be
 * nil). Column 0 of each row is its id; column i is the field
 * spec.fields[i]. For each row it calls spec.check(row, id) with
 * lua_pcall, where row is a row object (see rowfilter.c), and adds the id
 * to the result, a set of entity spec.entity, when the call returns a true
 * value. spec.table names the table in messages about invalid ids.
 * spec.unknown_field(name) returns the message for reading a name that is
 * not a field.
 *
 * When a call of spec.check fails, the scan stops, spec.failed_id is set
 * to the row's id and the function returns nil and the error value as it
 * was raised. SQL errors and invalid ids raise. [-4, +1|2, e] */
int rowfilter_filter(lua_State *L);

#endif
