/* The Lua side of the fuzz harnesses (see fuzz.h). */
#include "fuzz.h"
#include "lua/embedded.h"
#include "lua/lib.h"
#include "lua/runtime.h"
#include <lualib.h>
#include <string.h>

lua_State *fuzz_lua(void)
{
    lua_State *L = luaL_newstate();
    if (!L) FUZZ_FAIL("cannot make a Lua state");
    luaL_openlibs(L);
    luaL_requiref(L, "publish", pub_luaopen_publish, 1);
    lua_pop(L, 1);
    pub_runtime_install_libraries(L); /* the plugins require publish.layouts */
    return L;
}

lua_State *fuzz_lua_shared(void)
{
    static lua_State *L;
    static unsigned calls;
    if (!L) L = fuzz_lua();
    if (++calls % 1024 == 0) lua_gc(L, LUA_GCCOLLECT);
    lua_settop(L, 0);
    return L;
}

void fuzz_require_embedded(lua_State *L, const char *path)
{
    for (const pub_embedded_file *f = pub_embedded_files; f->path; f++) {
        if (strcmp(f->path, path) != 0) continue;
        char chunk[256];
        snprintf(chunk, sizeof chunk, "@%s", path);
        if (luaL_loadbuffer(L, f->bytes, f->len, chunk) != LUA_OK ||
            lua_pcall(L, 0, 1, 0) != LUA_OK)
            FUZZ_FAIL("cannot load %s: %s", path, lua_tostring(L, -1));
        return;
    }
    FUZZ_FAIL("%s is not embedded", path);
}
