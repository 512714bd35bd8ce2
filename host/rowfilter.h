/*
 * rowfilter.h: db:filter, which runs a Lua criterion function on each row
 * of a query and collects the ids of the rows for which it returns true.
 */
#ifndef LETHE_ROWFILTER_H
#define LETHE_ROWFILTER_H

#include <lua.h>

/* db:filter(spec) -> id set | nil, error value.
 *
 * Calls spec.check(row, id) on each row of a query, where row is a row
 * object (see rowfilter.c), and returns the set of entity
 * spec.entity of the ids for which the call returned a true value.
 * spec.fields lists the field names that a row has. The Lua functions in
 * spec return SQL for the scan:
 * - spec.query(selected, after) -> sql, params: the rows with an id above
 *   `after`, in ascending id order, with the id in column 0 and the field
 *   selected[i] in column i.
 * - spec.lookup(name) -> sql: the value of field `name` of the row whose
 *   id is bound to ?1.
 * - spec.unknown_field(name) -> the message for reading `name`, which is
 *   not a field.
 * spec.table names the table in messages about invalid ids.
 *
 * When a call of spec.check fails, the scan stops, spec.failed_id is set
 * to the row's id and the function returns nil and the error value as it
 * was raised. SQL errors and invalid ids raise. [-2, +1|2, e] */
int rowfilter_filter(lua_State *L);

#endif
