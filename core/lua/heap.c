/* The Lua heap's collector between the build's phases (heap.h). Lua
 * 5.4's generational collector is right for a build (most objects are
 * posts that live as long as the build, most garbage dies within one
 * page), but two of its habits make a large build's heap grow far past
 * what it holds:
 *
 * - While the heap grows (the load, the post hooks) it finds its major
 *   collections "bad" (less than half the growth freed) and waits for
 *   the heap to double before the next one, collecting no young garbage
 *   meanwhile; and right after entering generational mode it lets the
 *   next ~40 MB of garbage pile up before its first young collection (a
 *   95 MB heap of small tables churning 7 KB strings grew to 139 MB; with
 *   the step it stayed within 100 MB). Hence the full collection into
 *   plain generational mode and the young step at once.
 * - A young collection comes each time the heap grows 20% past what the
 *   last major one left. At 100k posts that is ~85 MB of young garbage
 *   per render process (the heap is ~420 MB when they fork), in the
 *   parent and in every worker: rendering asks for 5% (100k posts, with
 *   the cache: peak RSS 785 -> 692 MB; the CPU time did not move beyond
 *   the noise of a loaded machine). */
#include "lua/heap.h"

void pub_lua_settle_heap(lua_State *L, int minor)
{
    lua_gc(L, LUA_GCINC, 0, 0, 0);
    lua_gc(L, LUA_GCGEN, minor, 0);
    lua_gc(L, LUA_GCSTEP, 0);
}
