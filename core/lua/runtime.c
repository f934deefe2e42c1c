/* The Lua runtime the engine and plugins run in. Plugins are found by a
 * searcher of our own rather than package.path so that chunk names read
 * "plugins/NAME.lua" in errors, and so that a site plugin replaces the
 * bundled one of the same name. Hook dispatch itself lives in engine.lua. */
#define _GNU_SOURCE
#include "runtime.h"
#include "embedded.h"
#include "lib.h"
#include "limits.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/hash.h"
#include "../util/mem.h"
#include "../util/path.h"
#include "../confine.h"
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <assert.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define REG_ENGINE "publish.engine"

const pub_embedded_file *pub_runtime_find_embedded(const char *path)
{
    for (const pub_embedded_file *f = pub_embedded_files; f->path; f++)
        if (strcmp(f->path, path) == 0) return f;
    return NULL;
}

/* package.searchers entry: SRC/plugins/NAME.lua, then the bundled
 * plugins/NAME.lua. Dots in NAME are folders, as with require. */
static int search_plugins(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_Buffer rel;
    luaL_buffinit(L, &rel);
    luaL_addstring(&rel, "plugins/");
    for (const char *p = name; *p; p++) luaL_addchar(&rel, *p == '.' ? '/' : *p);
    luaL_addstring(&rel, ".lua");
    luaL_pushresult(&rel);
    const char *relpath = lua_tostring(L, -1);
    lua_pushliteral(L, "@");
    lua_pushvalue(L, -2);
    lua_concat(L, 2);
    const char *chunkname = lua_tostring(L, -1);

    /* Both stay on the stack (src is anchored there); C memory below is
     * only live across calls that cannot raise (lua_load is protected),
     * so running out of memory leaks none of it. */
    lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_SOURCE);
    const char *src = lua_tostring(L, -1);
    lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_CONFINE);
    const pub_confine *confine = lua_touserdata(L, -1);
    char *text = NULL;
    size_t len = 0;
    pub_diag *outside = NULL;
    int rc = pub_confine_read(confine, relpath, &text, &len, &outside);
    if (rc == PUB_CONFINE_OUTSIDE) {
        /* A site plugin that links out of SRC is refused, not skipped for
         * the bundled one of the same name. */
        pub_buf msg = PUB_BUF_INIT;
        pub_buf_printf(&msg, "cannot read '%s': %s", outside->path, outside->message);
        pub_diag_free(outside);
        size_t msg_len = msg.len;
        pub_lua_push_owned(L, pub_buf_detach(&msg), msg_len);
        return lua_error(L);
    }
    if (rc == 0) {
        uint64_t file_hash = pub_hash(text, len, pub_hash(relpath, strlen(relpath) + 1, 0));
        int status = luaL_loadbufferx(L, text, len, chunkname, "t");
        free(text);
        /* Every site plugin file loaded, in order, goes into one hash: the
         * document cache's key (doc.h) must change when any of them does. */
        lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_PLUGIN_CODE);
        uint64_t code = pub_hash(&file_hash, sizeof file_hash, (uint64_t)lua_tointeger(L, -1));
        lua_pop(L, 1);
        lua_pushinteger(L, (lua_Integer)code);
        lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_PLUGIN_CODE);
        if (status != LUA_OK) return lua_error(L);
        char *file = pub_path_join(src ? src : ".", relpath);
        pub_lua_push_owned(L, file, strlen(file));
        return 2;
    }
    const pub_embedded_file *bundled = pub_runtime_find_embedded(relpath);
    if (bundled) {
        if (luaL_loadbufferx(L, bundled->bytes, bundled->len, chunkname, "t") != LUA_OK)
            return lua_error(L);
        lua_pushstring(L, relpath);
        return 2;
    }
    lua_pushfstring(L, "\n\tno site plugin '%s' and no bundled one", relpath);
    return 1;
}

/* Engine libraries the bundled plugins and the engine share (core/lua/NAME.lua,
 * required as "publish.NAME"; schema: the config and front-matter schema;
 * layouts: what the template plugins share about layout files).
 * They go in package.preload, which require tries
 * before any searcher, so a site plugin cannot shadow them by accident. */
static const char *const engine_libraries[] = {"urls", "pager", "schema", "links", "deps", "layouts",
                                               "snapshots"};

static int load_engine_library(lua_State *L)
{
    const pub_embedded_file *f = lua_touserdata(L, lua_upvalueindex(1));
    luaL_Buffer chunk;
    luaL_buffinit(L, &chunk);
    luaL_addchar(&chunk, '@');
    luaL_addstring(&chunk, f->path);
    luaL_pushresult(&chunk);
    if (luaL_loadbufferx(L, f->bytes, f->len, lua_tostring(L, -1), "t") != LUA_OK) return lua_error(L);
    lua_call(L, 0, 1);
    return 1;
}

void pub_runtime_install_libraries(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    for (size_t i = 0; i < sizeof engine_libraries / sizeof *engine_libraries; i++) {
        char path[64], name[64];
        snprintf(path, sizeof path, "core/lua/%s.lua", engine_libraries[i]);
        snprintf(name, sizeof name, "publish.%s", engine_libraries[i]);
        const pub_embedded_file *f = pub_runtime_find_embedded(path);
        assert(f != NULL); /* CMake embeds every Lua file of core/lua */
        lua_pushlightuserdata(L, (void *)f);
        lua_pushcclosure(L, load_engine_library, 1);
        lua_setfield(L, -2, name);
    }
    lua_pop(L, 2);
}

/* Ours is the second searcher, after preload; the sandbox has removed the
 * others (package.path files and C modules), so a build depends neither
 * on the folder it is run from nor on Lua modules installed system-wide. */
static void install_searcher(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_pushcfunction(L, search_plugins);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}

/* A number at config key limits.NAME: >= 0, integer when `integer`. */
static bool limit_value(const pub_site *site, const pub_value *limits, const char *name, bool integer,
                        double *out, pub_diags *diags)
{
    const pub_value *v = pub_map_get(limits, name);
    if (!v) return false;
    double d = v->type == PUB_INT ? (double)v->as.integer : v->type == PUB_FLOAT ? v->as.number : -1;
    if (d < 0 || (integer && v->type != PUB_INT)) {
        pub_diags_add(diags, PUB_ERROR, site->config_name, v->line, v->col,
                      "'limits.%s' must be a%s number >= 0 (0: no limit)", name,
                      integer ? "n integer" : "");
        return false;
    }
    *out = d;
    return true;
}

/* The per-call limits from config `limits:` (defaults in limits.h). */
static void configure_limits(lua_State *L, const pub_site *site, pub_diags *diags)
{
    pub_limit_settings set = {PUB_LIMIT_MEMORY_MB, PUB_LIMIT_INSTRUCTIONS, PUB_LIMIT_SECONDS};
    const pub_value *limits = pub_map_get(site->config, "limits");
    if (limits && limits->type != PUB_MAP) {
        pub_diags_add(diags, PUB_ERROR, site->config_name, limits->line, limits->col,
                      "'limits' must be a map (memory, instructions, seconds)");
        limits = NULL;
    }
    for (size_t i = 0; limits && i < limits->as.map.len; i++) {
        const char *key = limits->as.map.pairs[i].key;
        if (strcmp(key, "memory") && strcmp(key, "instructions") && strcmp(key, "seconds")) {
            const pub_value *v = limits->as.map.pairs[i].value;
            pub_diags_add(diags, PUB_ERROR, site->config_name, v->line, v->col,
                          "unknown limit '%s' (known: memory, instructions, seconds)", key);
        }
    }
    double d;
    if (limit_value(site, limits, "memory", true, &d, diags)) set.memory_mb = (size_t)d;
    if (limit_value(site, limits, "instructions", true, &d, diags)) set.instructions = (long long)d;
    if (limit_value(site, limits, "seconds", false, &d, diags)) set.seconds = d;
    pub_limits_configure(L, &set);
}

typedef struct runtime_setup {
    const pub_site *site;
    pub_diags *diags;
    const pub_md_options *md;
    pub_sandbox_mode mode;
} runtime_setup;

static int open_protected(lua_State *L)
{
    const runtime_setup *s = lua_touserdata(L, 1);
    lua_pop(L, 1);
    pub_sandbox_open(L, s->mode);
    configure_limits(L, s->site, s->diags);
    lua_pushstring(L, s->site->src);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_SOURCE);
    lua_pushlightuserdata(L, s->site->confine);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_CONFINE);
    lua_pushlightuserdata(L, s->diags);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_DIAGS);
    pub_lua_set_md_options(L, s->md);
    luaL_requiref(L, "publish", pub_luaopen_publish, 1);
    lua_pop(L, 1);
    install_searcher(L);
    pub_runtime_install_libraries(L);
    return 0;
}

lua_State *pub_runtime_open(const pub_site *site, pub_diags *diags, const pub_md_options *md,
                            pub_sandbox_mode mode)
{
    lua_State *L = pub_limits_newstate();
    /* Rendered pages are garbage as soon as they are written: the
     * generational collector frees them young, keeping the heap near the
     * size of the site's model instead of twice that. */
    lua_gc(L, LUA_GCGEN, 0, 0);
    /* Under one protected call, as lua.c's pmain: an error here (no
     * memory) is reported, not left to the panic handler. */
    runtime_setup setup = {site, diags, md, mode};
    lua_pushcfunction(L, open_protected);
    lua_pushlightuserdata(L, &setup);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        pub_diags_add(diags, PUB_ERROR, NULL, 0, 0, "cannot start Lua: %s",
                      lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error");
        pub_limits_close(L);
        return NULL;
    }
    return L;
}

void pub_runtime_push_bundled_plugins(lua_State *L)
{
    static const char prefix[] = "plugins/";
    lua_newtable(L);
    lua_Integer n = 0;
    for (const pub_embedded_file *f = pub_embedded_files; f->path; f++) {
        size_t len = strlen(f->path);
        if (strncmp(f->path, prefix, strlen(prefix)) != 0 || len < strlen(prefix) + 5) continue;
        lua_pushlstring(L, f->path + strlen(prefix), len - strlen(prefix) - strlen(".lua"));
        lua_rawseti(L, -2, ++n);
    }
}

void pub_runtime_close(lua_State *L)
{
    pub_limits_close(L);
}

/* States left to the exit: a process leaves at most a few (one build). */
static lua_State *left_to_exit[4];
static size_t nleft_to_exit;

void pub_runtime_leave(lua_State *L)
{
    if (!L) return;
    if (nleft_to_exit < sizeof left_to_exit / sizeof *left_to_exit)
        left_to_exit[nleft_to_exit++] = L;
    else
        pub_runtime_close(L);
}

bool pub_runtime_push_engine(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, REG_ENGINE) == LUA_TTABLE) return true;
    lua_pop(L, 1);
    const pub_embedded_file *f = pub_runtime_find_embedded("core/lua/engine.lua");
    if (!f) {
        lua_pushliteral(L, "engine.lua is missing from the build");
        return false;
    }
    /* The engine requires publish.schema: a bare state (tests, fuzzers)
     * needs the libraries too; installing them again changes nothing. */
    pub_runtime_install_libraries(L);
    if (luaL_loadbufferx(L, f->bytes, f->len, "@core/lua/engine.lua", "t") != LUA_OK) return false;
    pub_sandbox_push_host(L);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) return false;
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_ENGINE);
    return true;
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* "FILE:LINE: message\nstack traceback:..." -> a diagnostic at FILE:LINE:1. */
/* A script's "usage: ..." error is for the user, not a bug: its first
 * line only, no traceback (the CLI exits 2 on it). */
static bool add_usage_error(const char *msg, const char *path, pub_diags *diags)
{
    if (strncmp(msg, "usage: ", 7) != 0) return false;
    pub_diags_add(diags, PUB_ERROR, path, 0, 0, "%.*s", (int)strcspn(msg, "\n"), msg);
    return true;
}

static void report_lua_error(const char *text, const char *fallback, pub_diags *diags)
{
    if (add_usage_error(text, fallback, diags)) return;
    const char *colon = strchr(text, ':');
    const char *nl = strchr(text, '\n');
    if (colon && (!nl || colon < nl) && colon > text) {
        char *end;
        long line = strtol(colon + 1, &end, 10);
        if (end != colon + 1 && *end == ':' && line > 0) {
            char *path = pub_xstrndup(text, (size_t)(colon - text));
            const char *msg = end + 1;
            while (*msg == ' ') msg++;
            if (!add_usage_error(msg, path, diags))
                pub_diags_add(diags, PUB_ERROR, path, (int)line, 1, "%s", msg);
            free(path);
            return;
        }
    }
    pub_diags_add(diags, PUB_ERROR, fallback, 0, 0, "%s", text);
}

bool pub_runtime_call(lua_State *L, int nargs, int nresults, pub_diags *diags,
                      const char *path)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (status == LUA_OK) return true;
    size_t len = 0;
    const char *msg = lua_tolstring(L, -1, &len);
    char *shown = msg ? pub_diag_text(msg, len) : NULL; /* a NUL must not cut it */
    report_lua_error(shown ? shown : "unknown error", path, diags);
    free(shown);
    lua_pop(L, 1);
    return false;
}

int pub_runtime_script_text(const char *script, char **text, size_t *len, char **display)
{
    int rc = pub_file_read(script, text, len);
    *display = pub_xstrdup(script);
    if (rc != ENOENT || strchr(script, '/')) return rc;
    size_t n = strlen(script);
    bool has_ext = n > 4 && strcmp(script + n - 4, ".lua") == 0;
    pub_buf path = PUB_BUF_INIT;
    pub_buf_printf(&path, "scripts/edit/%s%s", script, has_ext ? "" : ".lua");
    const pub_embedded_file *f = pub_runtime_find_embedded(pub_buf_cstr(&path));
    if (f) {
        *text = pub_xstrndup(f->bytes, f->len);
        *len = f->len;
        free(*display);
        *display = pub_buf_detach(&path);
        return 0;
    }
    pub_buf_free(&path);
    return rc;
}

bool pub_runtime_run_script(lua_State *L, const char *script, int argc, char **argv,
                            pub_diags *diags)
{
    char *text = NULL, *display = NULL;
    size_t len = 0;
    int rc = pub_runtime_script_text(script, &text, &len, &display);
    if (rc != 0) {
        pub_buf names = PUB_BUF_INIT;
        for (const pub_embedded_file *f = pub_embedded_files; f->path; f++) {
            if (strncmp(f->path, "scripts/edit/", 13) != 0) continue;
            pub_buf_printf(&names, "%s%.*s", names.len ? ", " : "",
                           (int)(strlen(f->path) - 13 - 4), f->path + 13);
        }
        if (rc == ENOENT && !strchr(script, '/'))
            pub_diags_add(diags, PUB_ERROR, script, 0, 0,
                          "no such script (a file, or a bundled one: %s)", pub_buf_cstr(&names));
        else
            pub_diags_add(diags, PUB_ERROR, script, 0, 0, "cannot read script: %s", strerror(rc));
        pub_buf_free(&names);
        free(display);
        return false;
    }
    /* Skip a "#!" first line, as the lua interpreter does. */
    pub_buf chunk = PUB_BUF_INIT;
    pub_buf_puts(&chunk, "@");
    pub_buf_puts(&chunk, display);
    const char *start = text;
    if (len >= 2 && text[0] == '#' && text[1] == '!') start = text + strcspn(text, "\n");
    int status = luaL_loadbufferx(L, start, len - (size_t)(start - text), pub_buf_cstr(&chunk), "t");
    free(text);
    pub_buf_free(&chunk);
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        report_lua_error(msg ? msg : "cannot load script", display, diags);
        lua_pop(L, 1);
        free(display);
        return false;
    }
    for (int i = 0; i < argc; i++) lua_pushstring(L, argv[i]);
    bool ok = pub_runtime_call(L, argc, 0, diags, display);
    free(display);
    return ok;
}
