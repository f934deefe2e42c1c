/* The value hash of incremental builds' page records (see deps_hash.c). */
#ifndef PUB_LUA_DEPS_HASH_H
#define PUB_LUA_DEPS_HASH_H
#include <lua.h>

/* internal.hash_value(v, ids) -> hex string: the hash of `v`, deep, table
 * keys sorted; a table that is a key of `ids` counts as its id (a string)
 * alone. */
int pub_lua_deps_hash_value(lua_State *L);

/* internal.unchanged(record, by_id, backing, memo, verdicts, ids, lazy) -> bool:
 * true when every line of a page's record is known to hold (verdicts,
 * filled by deps.lua) or is a tracked object's fields that all hash as
 * recorded (memo filled as it goes); false means "look in Lua". `lazy`:
 * field -> function(backing) giving what stands for a lazy value. */
int pub_lua_deps_unchanged(lua_State *L);

/* internal.record_lines(reads, ids, backing, memo, frozen, own, page, lazy) ->
 * array of record lines, one per object the page read (unsorted), or nil
 * when a name needs escaping (deps.lua builds them then). Stack: 1 reads
 * (proxy -> {field = true}), 2 ids, 3 backing, 4 memo, 5 frozen, 6 own
 * (fields the page set on itself), 7 the page, 8 lazy (as above). */
int pub_lua_deps_lines(lua_State *L);

#endif
