/* publish.http: the network for plugins that are granted it. get(url)
 * fetches one URL through core/fetch.c (the curl program). A plugin needs
 * the `network` capability (plugins: [{name: x, allow: [network]}]);
 * `publish run` scripts, the user's own tools, need none. */
#include "fetch.h"
#include "lua/lib.h"
#include "lua/sandbox.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* A malloc'd body owned by Lua until it is a string: a push that raises
 * (out of memory) cannot leak it. */
static int free_box(lua_State *L)
{
    char **box = lua_touserdata(L, 1);
    free(*box);
    *box = NULL;
    return 0;
}

/* publish.http.get(url [, {timeout = SECONDS}]) -> body, status | nil, err.
 * status is the final HTTP status after redirects (a 404 still returns
 * its body); no answer at all is nil and a message. */
static int l_get(lua_State *L)
{
    const char *url = luaL_checkstring(L, 1);
    const char *who = pub_sandbox_current(L);
    if (who && !pub_sandbox_allowed(L, "network"))
        return pub_sandbox_refuse(L, who, "publish.http.get", "network");
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return luaL_argerror(L, 1, "an http:// or https:// URL");
    int seconds = 10;
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "timeout");
        if (!lua_isnil(L, -1)) seconds = (int)luaL_checkinteger(L, -1);
        lua_pop(L, 1);
    }
    char **box = pub_lua_new_box(L, sizeof *box, "publish.HttpBody", free_box);
    size_t len;
    int status;
    char *err = pub_fetch_get(url, seconds, box, &len, &status);
    if (err) {
        lua_pushnil(L);
        pub_lua_push_owned(L, err, strlen(err));
        return 2;
    }
    if (status == 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "no answer from '%s'", url);
        return 2;
    }
    lua_pushlstring(L, *box, len);
    lua_pushinteger(L, status);
    return 2;
}

int pub_luaopen_http(lua_State *L)
{
    static const luaL_Reg fns[] = {{"get", l_get}, {NULL, NULL}};
    luaL_newlib(L, fns);
    return 1;
}
