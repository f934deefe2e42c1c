/* publish.highlight(code, lang [, opts]): syntax highlighting for plugins
 * (the `highlight` plugin, Liquid's {% highlight %}). The work is
 * core/highlight.c's; this file reads the arguments and keeps results in
 * the build cache, so a rebuild does not highlight unchanged code again. */
#include "lib.h"
#include "../cache.h"
#include "../highlight.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* opts.linenos: true numbers lines from 1, an integer from that number. */
static long linenos_option(lua_State *L, int opts)
{
    if (opts == 0) return 0;
    lua_getfield(L, opts, "linenos");
    long n = 0;
    if (lua_isinteger(L, -1)) {
        n = (long)lua_tointeger(L, -1);
        if (n < 1 || n > 1000000000)
            luaL_error(L, "bad option 'linenos' to 'highlight' (first line number out of range)");
    } else if (lua_isboolean(L, -1)) {
        n = lua_toboolean(L, -1);
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "bad option 'linenos' to 'highlight' (boolean or integer expected, got %s)",
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return n;
}

/* publish.highlight(code, lang [, opts]) -> html | nil [, err]
 * The inner HTML of <pre><code> for `code` in `lang`: escaped, tokens in
 * <span class="k">-style elements, line ends kept. nil when lang is nil,
 * "" or a language no definition covers (show the code plain); nil and a
 * message when the highlighter failed. */
static int l_highlight(lua_State *L)
{
    size_t len;
    const char *code = luaL_checklstring(L, 1, &len);
    const char *lang = luaL_optstring(L, 2, NULL);
    int opts = 0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        opts = 3;
    }
    pub_hl_options o = {linenos_option(L, opts)};
    if (!pub_hl_language(lang)) {
        lua_pushnil(L);
        return 1;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_CACHE);
    pub_cache *cache = lua_touserdata(L, -1);
    lua_pop(L, 1);
    uint64_t key = cache ? pub_hl_cache_key(code, len, lang, &o) : 0;
    size_t out_len;
    char *html = cache ? pub_cache_get_html(cache, key, &out_len) : NULL;
    if (!html) {
        char *err = NULL;
        html = pub_hl_render(code, len, lang, &o, &out_len, &err);
        if (!html) {
            lua_pushnil(L);
            if (err) pub_lua_push_owned(L, err, strlen(err));
            else lua_pushliteral(L, "highlighting failed");
            return 2;
        }
        if (cache) pub_cache_put_html(cache, key, html, out_len);
    }
    /* No Lua call can raise between the allocation and here; the push
     * itself frees html if it does. */
    pub_lua_push_owned(L, html, out_len);
    return 1;
}

int pub_lua_highlight_register(lua_State *L)
{
    lua_pushcfunction(L, l_highlight);
    return 1;
}
