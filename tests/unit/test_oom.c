/* Running out of memory in Lua while C memory is live: each library
 * function that holds malloc'd memory while it calls Lua is run with an
 * allocator that fails at the first, second, ... allocation, until the
 * call succeeds. Every failure must be a clean "not enough memory" error;
 * a leak on any of those paths is caught by the sanitizer build's leak
 * check (this program then exits non-zero), not by a count here. */
#define _GNU_SOURCE
#include "check.h"
#include "confine.h"
#include "lua/lib.h"
#include "util/path.h"
#include <lauxlib.h>
#include <lualib.h>

static long budget = -1; /* allocations left before one fails; -1: no limit */

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (budget == 0) return NULL;
    if (budget > 0) budget--;
    return realloc(ptr, nsize);
}

/* Runs `code` with the n-th allocation failing, n = 0, 1, ... until it
 * succeeds; checks it then returns `want` and that each failure was a
 * memory error. */
static void run_until_ok(lua_State *L, const char *code, const char *want)
{
    bool ok = false, clean = true;
    long n;
    for (n = 0; n < 100000 && !ok; n++) {
        CHECK(luaL_loadstring(L, code) == LUA_OK);
        budget = n;
        int rc = lua_pcall(L, 0, 1, 0);
        budget = -1;
        if (rc == LUA_OK) {
            ok = true;
            CHECK_STR(lua_tostring(L, -1), want);
        } else if (rc != LUA_ERRMEM) {
            clean = false;
            fprintf(stderr, "%s: failure %ld: %s\n", code, n, lua_tostring(L, -1));
        }
        lua_pop(L, 1);
        lua_gc(L, LUA_GCCOLLECT);
    }
    CHECK(ok);
    CHECK(clean);
    CHECK(n > 1); /* it did fail on the way */
}

int main(void)
{
    char src[64];
    check_temp_dir(src, "oom");
    char *config = pub_path_join(src, "config.yaml");
    check_write_text(config, "title: x\n", 0644);
    char *folder = pub_path_join(src, "posts");
    CHECK(mkdir(folder, 0755) == 0);
    pub_confine *confine = pub_confine_new(src);

    lua_State *L = lua_newstate(failing_alloc, NULL);
    luaL_openlibs(L);
    pub_luaopen_publish(L);
    lua_setglobal(L, "publish");
    lua_pushlightuserdata(L, confine);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_CONFINE);

    run_until_ok(L, "return publish.fs.read('config.yaml')", "title: x\n");
    run_until_ok(L, "return tostring(publish.fs.exists('posts/../config.yaml'))", "true");
    run_until_ok(L, "return table.concat(publish.fs.list('.'), ',')", "config.yaml,posts");
    run_until_ok(L, "return select(2, publish.fs.read('nothing'))",
                 "cannot read 'nothing': No such file or directory");
    run_until_ok(L, "local m = publish.frontmatter('---\\na: [1, {b: 2}]\\n---\\nx\\n') return m.a[2].b .. ''",
                 "2");
    run_until_ok(L, "return publish.markdown('*a* `b`')", "<p><em>a</em> <code>b</code></p>\n");
    run_until_ok(L, "return publish.yaml.dump({a = {1, 2}})", "a:\n  - 1\n  - 2\n");

    lua_close(L);
    pub_confine_free(confine);
    pub_file_remove_tree(src);
    free(folder);
    free(config);
    return check_finish();
}
