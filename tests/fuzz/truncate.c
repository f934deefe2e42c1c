/* Fuzz: publish.html.truncate (core/lua/lib_html.c), the excerpt cutter.
 * The first byte is the limit (0-255 characters), the rest the HTML. It
 * must not crash or raise on any input, must return a string, and on
 * valid UTF-8 input must return valid UTF-8 (it never splits a character). */
#include "fuzz.h"
#include "util/utf8.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    lua_State *L = fuzz_lua();
    const char *html = (const char *)data + 1;
    size_t len = size - 1;
    lua_getglobal(L, "publish");
    lua_getfield(L, -1, "html");
    lua_getfield(L, -1, "truncate");
    lua_pushlstring(L, html, len);
    lua_pushinteger(L, data[0]);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK)
        FUZZ_FAIL("truncate raised: %s", lua_tostring(L, -1));
    size_t out_len;
    const char *out = lua_tolstring(L, -2, &out_len);
    if (!out) FUZZ_FAIL("truncate returned a %s", luaL_typename(L, -2));
    if (pub_utf8_invalid_at(html, len) == len && pub_utf8_invalid_at(out, out_len) != out_len)
        FUZZ_FAIL("valid UTF-8 in, invalid out");
    lua_close(L);
    return 0;
}
