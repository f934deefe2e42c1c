/* The proxies of incremental builds (see deps_proxy.c). */
#ifndef PUB_LUA_DEPS_PROXY_H
#define PUB_LUA_DEPS_PROXY_H
#include <lua.h>
#include <stdbool.h>

/* internal.proxify(data, site, lists, proxy_mt, backing, ids, by_id) ->
 * array of the pages that could not be made proxies (a locked metatable,
 * or another page with the same id). `data` (or nil), `site` and every
 * table in the arrays of `lists` become proxies: the object keeps its
 * identity, its fields move to a new backing table (which takes its old
 * metatable), it gets `proxy_mt`, and backing[obj], ids[obj], by_id[id]
 * are set. Ids: "data", "site", and for a page "post PATH" / "page PATH"
 * (a page from a document: its `_doc` and `path`) or "page /OUTPUT". A
 * page already a proxy is left as it is. */
int pub_lua_deps_proxify(lua_State *L);

#endif
