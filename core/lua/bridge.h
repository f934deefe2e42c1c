/* pub_value <-> Lua values. Dates become tables with the metatable
 * "publish.Date" (fields year, month, day, hour, min, sec, offset, epoch;
 * __tostring gives ISO 8601; __eq/__lt/__le compare instants). */
#ifndef PUB_LUA_BRIDGE_H
#define PUB_LUA_BRIDGE_H
#include "../value.h"
#include <lua.h>

/* Pushes v (NULL pushes nil). Maps become tables keyed by string, lists
 * arrays. A null map value leaves the key out (Lua has no other way); a
 * null list item is the sentinel `publish.null` (a light userdata) so the
 * array keeps its length. */
void pub_lua_push_value(lua_State *L, const pub_value *v);

/* Pushes a date table (see above). */
void pub_lua_push_date(lua_State *L, const pub_date *d);

/* True when the value at idx is a publish.Date table; fills *d if not NULL. */
int pub_lua_to_date(lua_State *L, int idx, pub_date *d);

/* Converts the Lua value at idx. A table whose keys are exactly 1..n is a
 * list, any other table a map with keys sorted (numbers become strings).
 * Functions, userdata (but publish.null), threads and cycles are refused:
 * returns NULL and sets *error (caller frees) to e.g.
 * "cannot store a function in front matter (key 'x')". Never raises. */
pub_value *pub_lua_to_value(lua_State *L, int idx, char **error);

#endif
