/* publish.utf8: counting and cutting text by characters rather than bytes,
 * for excerpts and titles in any script. Invalid bytes are tolerated (each
 * counts as one character) because these run on user text that the core
 * has not necessarily validated; no function here ever splits a valid
 * multi-byte sequence. */
#include "lib.h"
#include "../util/utf8.h"
#include <lauxlib.h>

/* Bytes taken by the character at s[i]: 1 for ASCII and for a byte that
 * does not start a valid sequence. */
static size_t char_len(const char *s, size_t len, size_t i)
{
    if ((unsigned char)s[i] < 0x80) return 1;
    uint32_t cp;
    return pub_utf8_decode(s + i, len - i, &cp);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* publish.utf8.len(s) -> integer
 * The number of characters in s; an invalid byte counts as one. */
static int l_len(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer count = 0;
    for (size_t i = 0; i < len; count++) i += char_len(s, len, i);
    lua_pushinteger(L, count);
    return 1;
}

/* publish.utf8.truncate(s, n [, ellipsis]) -> string, cut
 * s unchanged (and false) when it has at most n characters. Otherwise its
 * first n characters or fewer, plus `ellipsis` (default "…", appended
 * after them: the result may have n + #ellipsis characters), and true.
 * When there is whitespace among the last 20% of those n characters (or
 * right after them), the cut is made there so no word is broken; else it
 * is a hard cut at n. Whitespace before the ellipsis is dropped. */
static int l_truncate(lua_State *L)
{
    size_t len, ell_len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *ell = luaL_optlstring(L, 3, "\xE2\x80\xA6", &ell_len);
    luaL_argcheck(L, n >= 0, 2, "must not be negative");
    /* Only the first n characters are looked at: O(n), not O(#s). */
    lua_Integer word_from = n - n / 5, count = 0;
    size_t i = 0, last_space = (size_t)-1;
    while (i < len && count < n) {
        if (count >= word_from && is_space((unsigned char)s[i])) last_space = i;
        i += char_len(s, len, i);
        count++;
    }
    if (i >= len) {
        lua_settop(L, 1);
        lua_pushboolean(L, 0);
        return 2;
    }
    size_t cut = i;
    if (!is_space((unsigned char)s[i]) && last_space != (size_t)-1) cut = last_space;
    while (cut > 0 && is_space((unsigned char)s[cut - 1])) cut--;
    luaL_Buffer b;
    luaL_buffinitsize(L, &b, cut + ell_len);
    luaL_addlstring(&b, s, cut);
    luaL_addlstring(&b, ell, ell_len);
    luaL_pushresult(&b);
    lua_pushboolean(L, 1);
    return 2;
}

static const luaL_Reg utf8_funcs[] = {
    {"len", l_len},
    {"truncate", l_truncate},
    {NULL, NULL},
};

int pub_luaopen_utf8(lua_State *L)
{
    luaL_newlib(L, utf8_funcs);
    return 1;
}
