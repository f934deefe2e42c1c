/* internal.sort_posts(posts, later_path_first) -> true, with `posts`
 * sorted newest first (engine.lua's order); false, the table untouched,
 * when some post lacks a string path or a date with an integer epoch (the
 * engine then sorts with its Lua comparator). */
#ifndef PUB_LUA_SORT_POSTS_H
#define PUB_LUA_SORT_POSTS_H
#include <lua.h>

int pub_lua_sort_posts(lua_State *L);

#endif
