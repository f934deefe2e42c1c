/* The proxies of incremental builds (core/lua/deps.lua): before pages
 * render, every page (posts included), `site` and `site.data` keep their
 * identity but their fields move to a backing table, so that the proxy's
 * metamethods see every read. Done in C for a whole site in one call: a
 * 10k-post site has as many objects of ~20 fields, and a Lua loop moving
 * them into tables that grow as they fill cost ~0.1 s of every build that
 * renders anything. Raw access only; Lua runs only for a page whose
 * `output` is not a string (its __tostring). */
#include "lua/deps_proxy.h"
#include <lauxlib.h>
#include <string.h>

/* Stack slots of pub_lua_deps_proxify's arguments. */
enum { DATA = 1, SITE, LISTS, PROXY, BACKING, IDS, BY_ID };

/* Makes the table at `t` a proxy known as the id at `id`: false when it
 * cannot be (a locked metatable, another object with that id), or, for an
 * object already a proxy, whether it has that id. `guess`: how many fields
 * the last object had, updated. */
static bool proxify(lua_State *L, int t, int id, int *guess)
{
    lua_pushvalue(L, t);
    if (lua_rawget(L, IDS) != LUA_TNIL) {
        bool same = lua_rawequal(L, -1, id);
        lua_pop(L, 1);
        return same;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, id);
    bool taken = lua_rawget(L, BY_ID) != LUA_TNIL;
    lua_pop(L, 1);
    if (taken) return false;
    if (luaL_getmetafield(L, t, "__metatable") != LUA_TNIL) {
        lua_pop(L, 1);
        return false;
    }
    /* One pass: each field moves to the backing table (sized as the last
     * object's, which is like this one) and is cleared here, which lua_next
     * allows. */
    lua_Unsigned items = lua_rawlen(L, t);
    lua_createtable(L, (int)items, *guess);
    int b = lua_gettop(L), fields = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, b);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, t);
        fields++;
    }
    *guess = fields - (int)items > 0 ? fields - (int)items : 0;
    if (lua_getmetatable(L, t)) lua_setmetatable(L, b);
    lua_pushvalue(L, PROXY);
    lua_setmetatable(L, t);
    lua_pushvalue(L, t);
    lua_pushvalue(L, b);
    lua_rawset(L, BACKING);
    lua_pushvalue(L, t);
    lua_pushvalue(L, id);
    lua_rawset(L, IDS);
    lua_pushvalue(L, id);
    lua_pushvalue(L, t);
    lua_rawset(L, BY_ID);
    lua_pop(L, 1); /* b */
    return true;
}

/* Pushes how records name the page at `t`: "post PATH" or "page PATH"
 * for a page from a document, else "page /OUTPUT". */
static void push_page_id(lua_State *L, int t)
{
    int top = lua_gettop(L);
    lua_pushliteral(L, "_doc");
    bool from_doc = lua_rawget(L, t) != LUA_TNIL && lua_toboolean(L, -1);
    lua_pushliteral(L, "path");
    bool has_path = lua_rawget(L, t) == LUA_TSTRING; /* at top + 2 */
    if (from_doc && has_path) {
        lua_pushliteral(L, "kind");
        bool post = lua_rawget(L, t) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "post") == 0;
        lua_pushstring(L, post ? "post " : "page ");
        lua_pushvalue(L, top + 2);
        lua_concat(L, 2);
    } else {
        lua_pushliteral(L, "page /");
        lua_pushliteral(L, "output");
        lua_rawget(L, t);
        luaL_tolstring(L, -1, NULL); /* a string, or what tostring says */
        lua_remove(L, -2);
        lua_concat(L, 2);
    }
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
}

int pub_lua_deps_proxify(lua_State *L)
{
    if (!lua_isnoneornil(L, DATA)) luaL_checktype(L, DATA, LUA_TTABLE);
    if (!lua_isnoneornil(L, SITE)) luaL_checktype(L, SITE, LUA_TTABLE);
    for (int i = LISTS; i <= BY_ID; i++) luaL_checktype(L, i, LUA_TTABLE);
    lua_settop(L, BY_ID);
    luaL_checkstack(L, 16, "proxies");
    lua_newtable(L);
    int failed = lua_gettop(L), guess = 16;
    if (lua_type(L, DATA) == LUA_TTABLE) {
        lua_pushliteral(L, "data");
        proxify(L, DATA, lua_gettop(L), &guess);
        lua_settop(L, failed);
    }
    if (lua_type(L, SITE) == LUA_TTABLE) {
        lua_pushliteral(L, "site");
        proxify(L, SITE, lua_gettop(L), &guess);
        lua_settop(L, failed);
    }
    lua_Integer nlists = (lua_Integer)lua_rawlen(L, LISTS), count = 0;
    for (lua_Integer l = 1; l <= nlists; l++) {
        if (lua_rawgeti(L, LISTS, l) != LUA_TTABLE) {
            lua_settop(L, failed);
            continue;
        }
        int list = lua_gettop(L);
        lua_Integer n = (lua_Integer)lua_rawlen(L, list);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, list, i) != LUA_TTABLE) {
                lua_settop(L, list);
                continue;
            }
            int page = lua_gettop(L);
            /* A page already a proxy (site.posts after site.pages) is
             * named as it was. */
            lua_pushvalue(L, page);
            if (lua_rawget(L, IDS) == LUA_TNIL) {
                lua_pop(L, 1);
                push_page_id(L, page);
            }
            if (!proxify(L, page, page + 1, &guess)) {
                lua_pushvalue(L, page);
                lua_rawseti(L, failed, ++count);
            }
            lua_settop(L, list);
        }
        lua_settop(L, failed);
    }
    return 1;
}
