/* The Lua heap's collector between the build's phases: the settings that
 * keep a large build's heap near what it holds (see heap.c). */
#ifndef PUB_LUA_HEAP_H
#define PUB_LUA_HEAP_H
#include <lua.h>

/* A young collection each time the heap grows this many percent while
 * pages render (Lua's default is 20). */
#define PUB_HEAP_RENDER_MINOR 5

/* A full collection that leaves every surviving object old and the
 * collector in generational mode, then one young collection at once.
 * `minor`: the percent of growth between young collections from then on
 * (0: as it was). */
void pub_lua_settle_heap(lua_State *L, int minor);

#endif
