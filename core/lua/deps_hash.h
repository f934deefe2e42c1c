/* The value hash of incremental builds' page records (see deps_hash.c). */
#ifndef PUB_LUA_DEPS_HASH_H
#define PUB_LUA_DEPS_HASH_H
#include <lua.h>

/* internal.hash_value(v, ids) -> hex string: the hash of `v`, deep, table
 * keys sorted; a table that is a key of `ids` counts as its id (a string)
 * alone. */
int pub_lua_deps_hash_value(lua_State *L);

/* internal.unchanged(record, by_id, backing, memo, verdicts, ids) -> bool:
 * true when every line of a page's record is known to hold (verdicts,
 * filled by deps.lua) or is a tracked object's fields that all hash as
 * recorded (memo filled as it goes); false means "look in Lua". */
int pub_lua_deps_unchanged(lua_State *L);

#endif
