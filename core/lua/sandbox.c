/* The plugin sandbox (see sandbox.h). The standard libraries are opened as
 * usual and then cut down, rather than rebuilt, so every function a plugin
 * keeps is Lua's own. Functions a capability unlocks are wrapped in a
 * guard closure that looks up the running plugin's grants when called;
 * the running plugin is set by the engine through the host table around
 * each hook call, together with the per-call limits (limits.h).
 *
 * What plugins cannot reach: the registry (no debug library), the engine's
 * C functions (held in engine upvalues and the host table, which only the
 * engine chunk receives), C pointers of the run (registry only). */
#include "sandbox.h"
#include "limits.h"
#include "lib.h"
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REG_HOST "publish.host"       /* the host table */
#define REG_GRANTS "publish.grants"   /* who -> { capability = true } */
#define REG_CURRENT "publish.current" /* name of the plugin running, or nil */

static const char *const capabilities[] = {"env", "exec", "network", "read_outside", NULL};

const char *pub_sandbox_current(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_CURRENT);
    const char *who = lua_tostring(L, -1); /* the registry keeps it alive */
    lua_pop(L, 1);
    return who;
}

bool pub_sandbox_allowed(lua_State *L, const char *capability)
{
    const char *who = pub_sandbox_current(L);
    bool ok = false;
    if (lua_getfield(L, LUA_REGISTRYINDEX, REG_GRANTS) == LUA_TTABLE &&
        lua_getfield(L, -1, who ? who : "") == LUA_TTABLE) {
        lua_getfield(L, -1, capability);
        ok = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return ok;
}

bool pub_sandbox_grant(lua_State *L, const char *who, const char *capability)
{
    size_t i = 0;
    while (capabilities[i] && strcmp(capabilities[i], capability) != 0) i++;
    if (!capabilities[i]) return false;
    lua_getfield(L, LUA_REGISTRYINDEX, REG_GRANTS);
    if (lua_getfield(L, -1, who) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, who);
    }
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, capability);
    lua_pop(L, 2);
    return true;
}

int pub_sandbox_refuse(lua_State *L, const char *who, const char *fname, const char *capability)
{
    return luaL_error(L, "plugin '%s' may not call %s: it needs the '%s' capability "
                         "(plugins: [{name: %s, allow: [%s]}])",
                      who, fname, capability, who, capability);
}

/* os.getenv of the variables that name the build's environment (Jekyll's
 * JEKYLL_ENV=production) needs no capability: templates depend on them
 * and they hold no secret. */
static bool is_build_environment(lua_State *L, const char *capability)
{
    const char *name = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : "";
    return strcmp(capability, "env") == 0 &&
           (strcmp(name, "JEKYLL_ENV") == 0 || strcmp(name, "PUBLISH_ENV") == 0);
}

/* A guarded function: upvalues (1) the real function, (2) the capability,
 * (3) the name the caller used. */
static int guarded(lua_State *L)
{
    const char *capability = lua_tostring(L, lua_upvalueindex(2));
    if (!pub_sandbox_allowed(L, capability) && !is_build_environment(L, capability)) {
        const char *fname = lua_tostring(L, lua_upvalueindex(3));
        const char *who = pub_sandbox_current(L);
        if (who) return pub_sandbox_refuse(L, who, fname, capability);
        return luaL_error(L, "%s needs the '%s' capability", fname, capability);
    }
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Replaces table[field] (the table on the stack top) with a guard. */
static void guard(lua_State *L, const char *field, const char *capability, const char *fname)
{
    lua_getfield(L, -1, field);
    lua_pushstring(L, capability);
    lua_pushstring(L, fname);
    lua_pushcclosure(L, guarded, 3);
    lua_setfield(L, -2, field);
}

/* load(chunk [, name [, mode [, env]]]) in text mode whatever mode says:
 * a binary chunk is refused by Lua itself ("attempt to load a binary
 * chunk (mode is 't')"). Upvalue 1: the real load. */
static int load_text(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 3) {
        lua_settop(L, 3);
        n = 3;
    }
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* loadfile(name [, mode [, env]]) and dofile(name), text only (scripts). */
static int loadfile_text(lua_State *L)
{
    const char *name = luaL_optstring(L, 1, NULL);
    int env = !lua_isnone(L, 3) ? 3 : 0;
    if (luaL_loadfilex(L, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (env) {
        lua_pushvalue(L, env);
        if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    }
    return 1;
}

static int dofile_text(lua_State *L)
{
    const char *name = luaL_optstring(L, 1, NULL);
    lua_settop(L, 1);
    if (luaL_loadfilex(L, name, "t") != LUA_OK) return lua_error(L);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

/* collectgarbage for plugins: measuring and collecting, not switching
 * the collector the whole build depends on. Upvalue 1: the real one. */
static int collect_limited(lua_State *L)
{
    static const char *const allowed[] = {"collect", "count", "step", "isrunning", NULL};
    const char *opt = luaL_optstring(L, 1, "collect");
    size_t i = 0;
    while (allowed[i] && strcmp(allowed[i], opt) != 0) i++;
    if (!allowed[i]) return luaL_error(L, "collectgarbage('%s') is not available to plugins", opt);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static void wrap_global(lua_State *L, const char *name, lua_CFunction wrapper)
{
    lua_getglobal(L, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setglobal(L, name);
}

/* package: require finds plugins only (preload and the searcher the
 * runtime installs second), never C modules or files on package.path. */
static void cut_package(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "path");
    lua_getfield(L, -1, "searchers");
    for (lua_Integer i = (lua_Integer)lua_rawlen(L, -1); i >= 2; i--) {
        lua_pushnil(L);
        lua_rawseti(L, -2, i);
    }
    lua_pop(L, 2);
}

/* Sets package.loaded[name] to the global of that name (or nil). */
static void sync_loaded(lua_State *L, const char *name)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_getglobal(L, name);
    lua_setfield(L, -2, name);
    lua_pop(L, 2);
}

static void open_plugin_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_LOADLIBNAME, luaopen_package},
        {LUA_COLIBNAME, luaopen_coroutine}, {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_getglobal(L, "string");
    pub_pattern_install(L);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    wrap_global(L, "load", load_text);
    wrap_global(L, "collectgarbage", collect_limited);

    /* os: the clock and dates; getenv and execute behind capabilities. */
    luaL_requiref(L, "publish.os", luaopen_os, 0);
    lua_createtable(L, 0, 6);
    static const char *const kept[] = {"time", "date", "clock", "difftime", "getenv", "execute", NULL};
    for (size_t i = 0; kept[i]; i++) {
        lua_getfield(L, -2, kept[i]);
        lua_setfield(L, -2, kept[i]);
    }
    guard(L, "getenv", "env", "os.getenv");
    guard(L, "execute", "exec", "os.execute");
    lua_setglobal(L, "os");
    lua_pop(L, 1);
    /* io: only popen, behind `exec`; files are read with publish.fs. */
    luaL_requiref(L, "publish.io", luaopen_io, 0);
    lua_createtable(L, 0, 1);
    lua_getfield(L, -2, "popen");
    lua_setfield(L, -2, "popen");
    guard(L, "popen", "exec", "io.popen");
    lua_setglobal(L, "io");
    lua_pop(L, 1);
    sync_loaded(L, "os");
    sync_loaded(L, "io");
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushnil(L);
    lua_setfield(L, -2, "publish.os");
    lua_pushnil(L);
    lua_setfield(L, -2, "publish.io");
    lua_pop(L, 2);
}

static void open_script_libs(lua_State *L)
{
    luaL_openlibs(L);
    wrap_global(L, "load", load_text);
    lua_pushcfunction(L, loadfile_text);
    lua_setglobal(L, "loadfile");
    lua_pushcfunction(L, dofile_text);
    lua_setglobal(L, "dofile");
    /* A script is the user's own tool: io and os stay whole (bundled
     * scripts run programs, e.g. jekyll-import lists a folder with find).
     * publish.fs stays confined to SRC for scripts too: it reads the
     * site; io reads anything else. */
}

/* host.begin(plugin): the plugin's hook starts; limits are armed. */
static int l_host_begin(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_CURRENT);
    pub_limits_begin(L);
    return 0;
}

/* host.finish() -> message | nil: the hook ended; the message of a limit
 * it exceeded. */
static int l_host_finish(lua_State *L)
{
    const char *message = pub_limits_finish(L);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_CURRENT);
    if (message) lua_pushstring(L, message);
    else lua_pushnil(L);
    return 1;
}

/* host.grant(plugin, capability) -> true | nil, message */
static int l_host_grant(lua_State *L)
{
    const char *who = luaL_checkstring(L, 1);
    const char *capability = luaL_checkstring(L, 2);
    if (pub_sandbox_grant(L, who, capability)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushfstring(L, "unknown capability '%s' (known: " PUB_SANDBOX_CAPABILITIES ")", capability);
    return 2;
}

static int l_host_stderr(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    fwrite(s, 1, len, stderr);
    return 0;
}

static int l_host_getenv(lua_State *L)
{
    lua_pushstring(L, getenv(luaL_checkstring(L, 1)));
    return 1;
}

/* The host table, in the registry; also made on demand for a state not
 * opened here (tests that load the engine into a bare state). */
static void register_host(lua_State *L)
{
    static const luaL_Reg host[] = {{"begin", l_host_begin}, {"finish", l_host_finish},
                                    {"grant", l_host_grant}, {"stderr", l_host_stderr},
                                    {"getenv", l_host_getenv}, {NULL, NULL}};
    luaL_newlib(L, host);
    luaL_requiref(L, "publish.debug", luaopen_debug, 0);
    lua_getfield(L, -1, "traceback");
    lua_setfield(L, -3, "traceback");
    lua_getfield(L, -1, "getinfo");
    lua_setfield(L, -3, "getinfo");
    lua_pop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_HOST);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_GRANTS);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(L);
    lua_setfield(L, -2, "publish.debug");
    lua_pop(L, 1);
}

void pub_sandbox_open(lua_State *L, pub_sandbox_mode mode)
{
    register_host(L);
    if (mode == PUB_SANDBOX_SCRIPT) open_script_libs(L);
    else open_plugin_libs(L);
    cut_package(L);
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
}

void pub_sandbox_push_host(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, REG_HOST) == LUA_TTABLE) return;
    lua_pop(L, 1);
    register_host(L);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_HOST);
}
