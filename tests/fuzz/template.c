/* Fuzz: the template compiler of the bundled template plugin
 * (plugins/template.lua, M.compile). Any text as a layout: compiling it
 * either gives a function or raises an error located in the layout
 * ("layouts/fuzz.html:LINE:COL: ..."), never an error inside the plugin
 * itself or a crash. Compiled templates are not run (an expression may
 * loop; the sandbox's limits are tested elsewhere). */
#include "fuzz.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = fuzz_lua_shared();
    static int plugin = LUA_NOREF;
    if (plugin == LUA_NOREF) {
        fuzz_require_embedded(L, "plugins/template.lua");
        plugin = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, plugin);
    lua_getfield(L, -1, "compile");
    lua_pushlstring(L, (const char *)data, size);
    lua_pushliteral(L, "layouts/fuzz.html");
    lua_pushinteger(L, 1);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK) {
        if (!lua_isfunction(L, -1)) FUZZ_FAIL("compile returned a %s", luaL_typename(L, -1));
        return 0;
    }
    const char *msg = lua_tostring(L, -1);
    static const char where[] = "layouts/fuzz.html:";
    if (!msg || strncmp(msg, where, sizeof where - 1) != 0)
        FUZZ_FAIL("template error not located in the layout: %s", msg ? msg : "(not a string)");
    return 0;
}
