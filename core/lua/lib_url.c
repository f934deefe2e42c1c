/* publish.url: percent-encoding for links. `encode` makes a whole URL or
 * path safe to put in an href or an XML document (non-ASCII, spaces and
 * quotes encoded; reserved characters and '%' kept, so an encoded URL is
 * not encoded twice); `escape` encodes one component (a query value, a
 * path segment). The rules are util/text.h's. */
#include "lib.h"
#include <lauxlib.h>

/* publish.url.encode(url) -> string
 * "/categories/뉴스/" -> "/categories/%EB%89%B4%EC%8A%A4/". nil gives "". */
static int l_encode(lua_State *L)
{
    return pub_lua_push_escaped(L, PUB_ESC_URL);
}

/* publish.url.escape(s) -> string
 * Every byte but A-Z a-z 0-9 - . _ ~ as %XX: "a b/c" -> "a%20b%2Fc". */
static int l_escape(lua_State *L)
{
    return pub_lua_push_escaped(L, PUB_ESC_URL_COMPONENT);
}

static const luaL_Reg url_funcs[] = {
    {"encode", l_encode},
    {"escape", l_escape},
    {NULL, NULL},
};

int pub_luaopen_url(lua_State *L)
{
    luaL_newlib(L, url_funcs);
    return 1;
}
