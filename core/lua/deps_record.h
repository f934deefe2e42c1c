/* Recording what a page reads, in C (see deps_record.c). */
#ifndef PUB_LUA_DEPS_RECORD_H
#define PUB_LUA_DEPS_RECORD_H
#include <lua.h>

/* internal.recorder(backing, dirty, index) -> a table of functions over
 * one recorder of page reads:
 *   index(t, k)  the proxies' __index: notes field k of t when a page is
 *                rendering, then returns backing[t][k]; for a proxy in
 *                `dirty` (a page set fields on it while rendering) or the
 *                field `time`, the first read in a page calls `index`
 *                (deps.lua's own) instead;
 *   note(t, k)   notes a read (deps.lua's index, pairs and #);
 *   has(t, k)    whether the page read field k of t;
 *   begin()      a page starts rendering (nothing read); stop() it ended;
 *   reads()      what it read as proxy -> {field = true};
 *   lines(ids, backing, memo, frozen, own, page, lazy) -> its record lines,
 *                one per object read (unsorted), or nil when deps.lua must
 *                write them (a key that is not a string, a name that
 *                needs escaping, a pseudo-field such as `*keys`): `memo`
 *                proxy -> field -> hex hash (read and filled), `frozen`
 *                proxy -> field -> hash of a value the page replaced, `own`
 *                fields the page set on itself, `lazy` field ->
 *                function(backing) standing for a lazy value. */
int pub_lua_deps_recorder(lua_State *L);

#endif
