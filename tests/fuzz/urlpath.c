/* Fuzz: URL to path, and its confinement, both ways. Any bytes as a page
 * URL go through engine.output_path (core/lua/engine.lua), then through
 * pub_path_confine, the check the output module applies before writing;
 * and as a request URL through pub_serve_request_path, the mapping `serve`
 * applies before it opens anything under DEST.
 * Whatever confinement accepts must be a relative path with no "." or ".."
 * segment and no empty one, must be accepted again unchanged, and must
 * agree with an independent segment-stack walk of the same path (which
 * climbs above the destination exactly when confinement refuses). */
#include "fuzz.h"
#include "lua/runtime.h"
#include "serve.h"
#include "util/path.h"
#include <string.h>

/* Reference: does `path` climb above its start? (A stack depth walk.) */
static bool climbs(const char *path)
{
    long depth = 0;
    const char *p = path;
    while (*p) {
        const char *seg = p;
        while (*p && *p != '/') p++;
        size_t n = (size_t)(p - seg);
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            if (--depth < 0) return true;
        } else if (n && !(n == 1 && seg[0] == '.')) {
            depth++;
        }
        if (*p) p++;
    }
    return false;
}

static void check_confined(const char *path)
{
    char *confined = pub_path_confine(path);
    bool refused = confined == NULL;
    bool expect_refused = path[0] == '/' || climbs(path);
    if (refused != expect_refused)
        FUZZ_FAIL("confinement of '%s': %s, the reference says %s", path,
                  refused ? "refused" : "accepted", expect_refused ? "refuse" : "accept");
    if (!confined) return;
    if (confined[0] == '/') FUZZ_FAIL("'%s' confined to an absolute path", path);
    for (const char *p = confined; *p;) {
        const char *seg = p;
        while (*p && *p != '/') p++;
        size_t n = (size_t)(p - seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            FUZZ_FAIL("'%s' confined to '%s' with a bad segment", path, confined);
        if (*p) p++;
    }
    char *again = pub_path_confine(confined);
    if (!again || strcmp(again, confined) != 0)
        FUZZ_FAIL("confinement is not stable: '%s' -> '%s'", confined, again ? again : "(refused)");
    free(again);
    free(confined);
}

/* serve: an accepted request path is confined (as above) and holds no
 * NUL; a refused one says 400 or 403. */
static void check_request(const char *url)
{
    int status = 0;
    bool folder = false;
    char *rel = pub_serve_request_path(url, &status, &folder);
    if (!rel) {
        if (status != 400 && status != 403) FUZZ_FAIL("request '%s' refused with %d", url, status);
        return;
    }
    if (status != 200) FUZZ_FAIL("request '%s' accepted with %d", url, status);
    if (rel[0]) check_confined(rel);
    char *again = pub_path_confine(rel);
    if (!again || strcmp(again, rel) != 0) FUZZ_FAIL("request path '%s' is not confined", rel);
    free(again);
    free(rel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    memcpy(url, data, size);
    url[size] = '\0';
    check_confined(url);
    check_request(url);
    lua_State *L = fuzz_lua_shared();
    if (!pub_runtime_push_engine(L)) FUZZ_FAIL("engine: %s", lua_tostring(L, -1));
    lua_getfield(L, -1, "output_path");
    lua_pushlstring(L, url, strlen(url));
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) FUZZ_FAIL("output_path raised: %s", lua_tostring(L, -1));
    size_t len;
    const char *output = lua_tolstring(L, -2, &len);
    if (!output) FUZZ_FAIL("output_path returned no path");
    check_confined(output);
    free(url);
    return 0;
}
