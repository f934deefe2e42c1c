/* The value hash of incremental builds' page records (see deps_hash.c). */
#ifndef PUB_LUA_DEPS_HASH_H
#define PUB_LUA_DEPS_HASH_H
#include <lua.h>

/* internal.hash_value(v, ids) -> hex string: the hash of `v`, deep, table
 * keys sorted; a table that is a key of `ids` counts as its id (a string)
 * alone. */
int pub_lua_deps_hash_value(lua_State *L);

#endif
