/* publish.fs: reading the site's own files from Lua, which is how plugins
 * and templates read layouts, includes and data now that they have no
 * `io`. Every path is relative to SRC and must stay inside it: absolute
 * paths and paths that climb out ("../x") are refused outright, and a
 * symlink is followed only when its target is inside SRC or inside a
 * folder the site's config names in `allow_outside`. Nothing here writes.
 *
 * The check is confine.h's (the site's pub_confine, kept in the registry
 * by the runtime), the same one every C reader of site files uses; the
 * resolved path is what is then opened, with O_NOFOLLOW. */
#define _GNU_SOURCE
#include "lib.h"
#include "sandbox.h"
#include "../confine.h"
#include "../util/file.h"
#include "../util/mem.h"
#include "../util/path.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* C memory that must not leak when a Lua call raises (out of memory under
 * the sandbox's cap): held by a userdata whose __gc frees it. */
typedef struct owned {
    char *text;
    struct dirent **names;
    int n;
} owned;

static int owned_free(lua_State *L)
{
    owned *o = lua_touserdata(L, 1);
    free(o->text);
    for (int i = 0; i < o->n; i++) free(o->names[i]);
    free(o->names);
    memset(o, 0, sizeof *o);
    return 0;
}

static owned *push_owned(lua_State *L)
{
    owned *o = pub_lua_new_box(L, sizeof *o, "publish.fs.owned", owned_free);
    return o;
}

/* Raises "publish.fs.FNAME: '/x' WHY" at the caller's line; when a plugin
 * is running, says which capability would allow it. */
static int refuse(lua_State *L, const char *fname, const char *rel, const char *why)
{
    const char *who = pub_sandbox_current(L);
    if (who)
        return luaL_error(L, "publish.fs.%s: '%s' %s (plugin '%s' does not have the 'read_outside' capability)",
                          fname, rel, why, who);
    return luaL_error(L, "publish.fs.%s: '%s' %s", fname, rel, why);
}

/* The checked path argument at `arg`: a relative path that does not climb
 * out of SRC, unless the running code has the `read_outside` capability
 * (*free_path is then set: the path is taken as it is). Raises at the
 * caller's line otherwise. Returns it normalised ("" for SRC itself),
 * caller frees. */
static char *check_relpath(lua_State *L, int arg, const char *fname, bool *free_path)
{
    size_t len;
    const char *rel = luaL_checklstring(L, arg, &len);
    if (strlen(rel) != len) luaL_error(L, "publish.fs.%s: path contains a NUL byte", fname);
    *free_path = pub_sandbox_allowed(L, "read_outside");
    if (*free_path) return pub_xstrdup(rel);
    if (rel[0] == '/') refuse(L, fname, rel, "is an absolute path; paths are relative to the site folder");
    char *confined = pub_path_confine(rel);
    if (!confined) refuse(L, fname, rel, "leads outside the site folder");
    return confined;
}

/* check_relpath's path pushed as a Lua string (freed also when the push
 * runs out of memory); returns it, anchored on the stack. */
static const char *push_relpath(lua_State *L, int arg, const char *fname, bool *free_path)
{
    char *rel = check_relpath(L, arg, fname, free_path);
    pub_lua_push_owned(L, rel, strlen(rel));
    return lua_tostring(L, -1);
}

/* Resolves `rel` (checked) below SRC with confine.h's check, the one
 * every reader of site files uses, or, for code with `read_outside`
 * (`free_path`), with realpath alone. Returns the real path (caller frees)
 * or NULL with *err set: an errno value, or -1 for a symlink leading out. */
static char *resolve(lua_State *L, const char *rel, bool free_path, int *err)
{
    lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_CONFINE);
    const pub_confine *confine = lua_touserdata(L, -1);
    lua_pop(L, 1);
    char *real = NULL;
    if (free_path && confine) {
        char *joined = rel[0] == '/' ? pub_xstrdup(rel) : pub_path_join(pub_confine_root(confine), rel);
        real = realpath(joined, NULL);
        *err = real ? 0 : errno;
        free(joined);
        return real;
    }
    pub_diag *outside = NULL;
    int rc = confine ? pub_confine_resolve(confine, rel, &real, &outside) : ENOENT;
    pub_diag_free(outside);
    *err = rc == PUB_CONFINE_OUTSIDE ? -1 : rc;
    return rc ? NULL : real;
}

/* nil and the message for a failed resolve or read of `shown`. */
static int push_failure(lua_State *L, const char *shown, int err)
{
    lua_pushnil(L);
    if (err == -1)
        lua_pushfstring(L, "'%s' leads outside the site folder through a symlink (allow_outside can allow its folder)",
                        shown);
    else
        lua_pushfstring(L, "cannot read '%s': %s", shown, strerror(err));
    return 2;
}

/* publish.fs.read(relpath) -> string | nil, message
 * The whole file SRC/relpath. nil and a message when it is missing, not a
 * regular file, unreadable, or a symlink leading outside SRC. */
static int l_read(lua_State *L)
{
    bool free_path;
    const char *shown = push_relpath(L, 1, "read", &free_path);
    int err = 0;
    owned *o = push_owned(L);
    char *real = o->text = resolve(L, shown, free_path, &err);
    if (!real) return push_failure(L, shown, err);
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = fd < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        if (fd >= 0) close(fd);
        return push_failure(L, shown, err);
    }
    /* The buffer is sized before reading, so a raise (memory cap) cannot
     * happen with the file open; a file that grows meanwhile is read up to
     * its size at open. */
    size_t size = (size_t)st.st_size;
    close(fd);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, size);
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    size_t n = 0;
    if (fd < 0) return push_failure(L, shown, errno);
    pub_file_read_upto(fd, p, size, &n); /* an error ends it: what came is the file */
    close(fd);
    luaL_pushresultsize(&b, n);
    return 1;
}

/* publish.fs.exists(relpath) -> boolean
 * True when SRC/relpath exists and publish.fs would read or list it (a
 * symlink leading outside SRC counts as absent). */
static int l_exists(lua_State *L)
{
    bool free_path;
    const char *rel = push_relpath(L, 1, "exists", &free_path);
    int err = 0;
    char *real = resolve(L, rel, free_path, &err);
    lua_pushboolean(L, real != NULL);
    free(real);
    return 1;
}

static int not_dot(const struct dirent *e)
{
    return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* publish.fs.list(reldir) -> array of names | nil, message
 * The names in folder SRC/reldir ("" or "." for SRC), sorted bytewise,
 * without "." and "..". Names are listed as they are; reading one that is
 * a symlink leading out is refused by publish.fs.read. */
static int l_list(lua_State *L)
{
    bool free_path = false;
    const char *shown = lua_isnoneornil(L, 1) ? "" : push_relpath(L, 1, "list", &free_path);
    if (!shown[0]) {
        lua_pushliteral(L, ".");
        shown = lua_tostring(L, -1);
    }
    int err = 0;
    owned *o = push_owned(L);
    o->text = resolve(L, shown, free_path, &err);
    if (!o->text) return push_failure(L, shown, err);
    int n = scandir(o->text, &o->names, not_dot, by_name);
    if (n < 0) return push_failure(L, shown, errno);
    o->n = n;
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, o->names[i]->d_name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg fs_funcs[] = {
    {"read", l_read},
    {"exists", l_exists},
    {"list", l_list},
    {NULL, NULL},
};

int pub_luaopen_fs(lua_State *L)
{
    luaL_newlib(L, fs_funcs);
    return 1;
}
