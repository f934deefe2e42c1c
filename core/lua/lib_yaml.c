/* publish.yaml: YAML text <-> Lua values for plugins and scripts, with the
 * same reader and writer as front matter and config (frontmatter.c), so a
 * plugin sees exactly the types a post would. */
#include "lib.h"
#include "../frontmatter.h"
#include "bridge.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* publish.yaml.load(s [, name]) -> value
 * Parses one YAML document: maps become tables, lists arrays, timestamps
 * publish.Date, null list items publish.null; an empty document gives
 * nil. Errors raise "NAME:LINE:COL: MESSAGE" (name defaults to
 * "<string>"). */
static int l_load(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "<string>");
    pub_value *v = NULL;
    pub_diag *err = pub_yaml_parse(name, s, len, 1, &v);
    if (err) {
        pub_value_free(v);
        pub_lua_push_diag(L, err);
        return lua_error(L);
    }
    pub_lua_push_value_free(L, v);
    return 1;
}

/* publish.yaml.dump(v) -> string
 * Block-style YAML ending in a newline. Tables follow the list/map rule of
 * bridge.h (keys 1..n make a list; an empty table is an empty list unless
 * it has __yaml = "map" in its metatable; map keys sorted). Functions,
 * userdata, cycles and invalid UTF-8 are errors. */
static int l_dump(lua_State *L)
{
    char *msg = NULL;
    luaL_checkany(L, 1);
    pub_value *v = pub_lua_to_value_as(L, 1, "YAML", &msg);
    if (!v) {
        if (msg) pub_lua_push_owned(L, msg, strlen(msg));
        else lua_pushliteral(L, "cannot convert value");
        return luaL_argerror(L, 1, lua_tostring(L, -1));
    }
    pub_buf out = PUB_BUF_INIT;
    pub_yaml_emit(v, 0, &out);
    pub_value_free(v);
    size_t len = out.len;
    pub_lua_push_owned(L, pub_buf_detach(&out), len);
    return 1;
}

static const luaL_Reg yaml_funcs[] = {
    {"load", l_load},
    {"dump", l_dump},
    {NULL, NULL},
};

int pub_luaopen_yaml(lua_State *L)
{
    luaL_newlib(L, yaml_funcs);
    return 1;
}
