/* publish.log: messages from plugins and scripts that are not errors.
 * They join the run's diagnostics (so the CLI prints them with everything
 * else, sorted, with the plugin's file and line) when the runtime has
 * registered a list; a bare Lua state (tests, tools) gets them on stderr. */
#include "lib.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every argument through tostring, joined with tabs (as print does). */
static const char *join_args(lua_State *L, size_t *len)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return lua_tolstring(L, -1, len);
}

static int log_at(lua_State *L, pub_level level)
{
    size_t len;
    const char *msg = join_args(L, &len);
    const char *path = NULL;
    int line = 0;
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
        if (ar.source[0] == '@') path = ar.source + 1;
        if (ar.currentline > 0) line = ar.currentline;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_DIAGS);
    pub_diags *diags = lua_touserdata(L, -1);
    lua_pop(L, 1);
    char *shown = pub_diag_text(msg, len); /* a NUL must not cut it short */
    pub_diag *d = pub_diag_new(level, path, path ? line : 0, 0, "%s", shown);
    free(shown);
    if (diags) {
        pub_diags_take(diags, d);
        return 0;
    }
    pub_buf out = PUB_BUF_INIT;
    pub_diag_format(d, &out);
    pub_diag_free(d);
    pub_buf_putc(&out, '\n');
    fwrite(out.data, 1, out.len, stderr);
    pub_buf_free(&out);
    return 0;
}

/* publish.log.warn(...)
 * A warning "PATH:LINE: warning: MESSAGE" where PATH:LINE is the calling
 * Lua code and MESSAGE the arguments through tostring, tab-separated.
 * Warnings do not fail the build. */
static int l_warn(lua_State *L) { return log_at(L, PUB_WARNING); }

/* publish.log.info(...)
 * The same as a note ("PATH:LINE: note: MESSAGE"). */
static int l_info(lua_State *L) { return log_at(L, PUB_NOTE); }

static const luaL_Reg log_funcs[] = {
    {"warn", l_warn},
    {"info", l_info},
    {NULL, NULL},
};

int pub_luaopen_log(lua_State *L)
{
    luaL_newlib(L, log_funcs);
    return 1;
}
