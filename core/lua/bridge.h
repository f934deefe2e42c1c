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

/* Additions used by the publish library (backward compatible). */

/* The same conversion, naming `what` ("YAML", "JSON") in error messages
 * instead of "front matter". */
pub_value *pub_lua_to_value_as(lua_State *L, int idx, const char *what,
                               char **error);

/* Pushes v and frees it, also when Lua runs out of memory on the push
 * (the memory error is then raised again). */
void pub_lua_push_value_free(lua_State *L, pub_value *v);

/* Pushes / recognises the `publish.null` sentinel. */
void pub_lua_push_null(lua_State *L);
int pub_lua_is_null(lua_State *L, int idx);

/* How a table converts: 1 when it is a list (keys exactly 1..n, or empty
 * and not marked as a map), 0 when a map; *len gets the list length.
 * Maps pushed by pub_lua_push_value that are empty carry a metatable with
 * __yaml = "map" so they stay maps; a user marks one the same way
 * (setmetatable({}, {__yaml = "map"})), and __yaml = "map" makes any table
 * a map. Never raises. */
int pub_lua_table_is_list(lua_State *L, int idx, size_t *len);

/* Pushes the positions of map `meta`'s keys (front matter) as one
 * userdata ("publish.positions"): indexing it by a key gives the table
 * {value line, value col, key line, key col} (a new table each time), or nil for a key the map does not have; a key given twice gives
 * the later one. Compact because every document of a build carries one
 * and nearly none is ever read (they are for diagnostics). */
void pub_lua_push_key_positions(lua_State *L, const pub_value *meta);

/* The bytes of the positions userdata at idx (*len set), NULL when the
 * value is not one; and a positions userdata made from such bytes (the
 * build's post snapshots keep them, core/lua/snapshot.h). */
const void *pub_lua_positions_bytes(lua_State *L, int idx, size_t *len);
void pub_lua_push_positions_bytes(lua_State *L, const void *bytes, size_t len);

/* Writes d as ISO 8601 with its numeric offset ("2024-06-19T09:30:00+09:00")
 * into out (PUB_LUA_ISO_SIZE bytes) and returns the length. */
#define PUB_LUA_ISO_SIZE 48
size_t pub_lua_date_iso(const pub_date *d, char *out);

#endif
