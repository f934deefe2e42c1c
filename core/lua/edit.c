/* The C half of bulk edits (the Lua half, the methods a script calls and
 * their bookkeeping, is core/lua/edit.lua). Here: the snapshot of what the
 * script first sees of each post (front matter and the fields derived from
 * it, as pub_values in a userdata with __gc, so a script that raises leaks
 * nothing), and pub_lua_edit_finish, which compares each entry's post with
 * its snapshot, rewrites the changed keys and bodies surgically
 * (core/rewrite.h) and stages everything in one core/edit.h transaction. */
#include "edit.h"
#include "../rewrite.h"
#include "../util/file.h"
#include "../util/mem.h"
#include "../util/path.h"
#include "bridge.h"
#include "lib.h"
#include "embedded.h"
#include "runtime.h"
#include <assert.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REG_EDIT "publish.edit"             /* registry: core/lua/edit.lua's module */
#define SNAPSHOT_TYPE "publish.EditSnapshot" /* userdata holding a snapshot */
#define TRANSACTION_TYPE "publish.EditTransaction" /* userdata holding a pub_edit* */

/* Post fields derived from front matter: changing one of them without the
 * front matter would be silently lost, so finish refuses it. */
static const struct mirror {
    const char *field;
    const char *keys[3]; /* the front-matter keys it is read from */
} MIRRORS[] = {
    {"title", {"title", NULL, NULL}},
    {"date", {"date", NULL, NULL}},
    {"categories", {"categories", "category", NULL}},
    {"tags", {"tags", "tag", NULL}},
};
#define NMIRRORS (sizeof MIRRORS / sizeof MIRRORS[0])

typedef struct snapshot {
    pub_value *meta;   /* the front matter as the script first saw it */
    pub_value *mirror; /* map of the MIRRORS fields as first seen */
} snapshot;

static int snapshot_gc(lua_State *L)
{
    snapshot *s = luaL_checkudata(L, 1, SNAPSHOT_TYPE);
    pub_value_free(s->meta);
    pub_value_free(s->mirror);
    s->meta = s->mirror = NULL;
    return 0;
}

/* Pushes an empty snapshot userdata. */
static snapshot *push_snapshot(lua_State *L)
{
    snapshot *s = pub_lua_new_box(L, sizeof *s, SNAPSHOT_TYPE, snapshot_gc);
    return s;
}

/* Pushes t[key] without metamethods; returns its type. */
static int rawfield(lua_State *L, int t, const char *key)
{
    t = lua_absindex(L, t);
    lua_pushstring(L, key);
    return lua_rawget(L, t);
}

/* t[field] as a pub_value, or NULL when absent or not representable. */
static pub_value *field_value(lua_State *L, int t, const char *field)
{
    pub_value *v = NULL;
    if (rawfield(L, t, field) != LUA_TNIL) {
        char *err = NULL;
        v = pub_lua_to_value(L, -1, &err);
        free(err);
    }
    lua_pop(L, 1);
    return v;
}

/* s->mirror := the post's MIRRORS fields. Built in place: the map is
 * owned by the snapshot userdata (on the stack) while Lua runs, so a
 * memory error cannot strand it. */
static void take_mirror(lua_State *L, int post, snapshot *s)
{
    s->mirror = pub_value_map();
    for (size_t i = 0; i < NMIRRORS; i++) {
        pub_value *v = field_value(L, post, MIRRORS[i].field);
        if (v) pub_map_set(s->mirror, MIRRORS[i].field, strlen(MIRRORS[i].field), v);
    }
}

/* c.snapshot(post) -> userdata: post.meta and the MIRRORS fields frozen
 * as pub_values, for finish to compare against. */
static int l_snapshot(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    snapshot *s = push_snapshot(L);
    /* Filled after the userdata exists, so an allocation error in Lua
     * cannot strand the values. */
    s->meta = field_value(L, 1, "meta");
    if (!s->meta || s->meta->type != PUB_MAP) {
        pub_value_free(s->meta);
        s->meta = pub_value_map();
    }
    take_mirror(L, 1, s);
    return 1;
}

/* c.exists(relpath) -> boolean: a file (or anything) is at SRC/relpath.
 * SRC is the closure's upvalue. */
static int l_exists(lua_State *L)
{
    const char *rel = luaL_checkstring(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, lua_tostring(L, lua_upvalueindex(1)));
    luaL_addchar(&b, '/');
    luaL_addstring(&b, rel);
    luaL_pushresult(&b);
    lua_pushboolean(L, access(lua_tostring(L, -1), F_OK) == 0);
    return 1;
}

/* c.confine(dir) -> dir normalised below SRC ("a/./b/" -> "a/b"), or nil
 * when it climbs out. */
static int l_confine(lua_State *L)
{
    char *clean = pub_path_confine(luaL_checkstring(L, 1));
    if (!clean) return 0;
    lua_pushstring(L, clean); /* cannot fail short of memory: then a leak, not a crash */
    free(clean);
    return 1;
}

/* Loads core/lua/edit.lua (once per state) and pushes its module. */
static void push_edit_module(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, REG_EDIT) == LUA_TTABLE) return;
    lua_pop(L, 1);
    const pub_embedded_file *f = pub_runtime_find_embedded("core/lua/edit.lua");
    if (!f) luaL_error(L, "edit.lua is missing from the build");
    if (luaL_loadbufferx(L, f->bytes, f->len, "@core/lua/edit.lua", "t") != LUA_OK) lua_error(L);
    lua_call(L, 0, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_EDIT);
}

int pub_lua_edit_prepare(lua_State *L, int site_index)
{
    int site = lua_absindex(L, site_index);
    push_edit_module(L);
    lua_getfield(L, -1, "prepare");
    lua_pushvalue(L, site);
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, l_snapshot);
    lua_setfield(L, -2, "snapshot");
    if (rawfield(L, site, "source") != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, ".");
    }
    lua_pushcclosure(L, l_exists, 1);
    lua_setfield(L, -2, "exists");
    lua_pushcfunction(L, l_confine);
    lua_setfield(L, -2, "confine");
    lua_call(L, 2, 0);
    lua_pop(L, 1);
    return 0;
}

/* ---- finish ------------------------------------------------------------- */

static bool key_changed(const pub_value *before, const pub_value *after, const char *key)
{
    return !pub_value_equal(pub_map_get(before, key), pub_map_get(after, key));
}

/* The changes turning `before` into `after`: removals and changes in the
 * file's order, then additions. Values are borrowed from `after`. */
static pub_rewrite_change *meta_changes(const pub_value *before, const pub_value *after,
                                        size_t *count)
{
    size_t n = 0, cap = before->as.map.len + after->as.map.len;
    pub_rewrite_change *c = pub_xcalloc(cap ? cap : 1, sizeof *c);
    for (size_t i = 0; i < before->as.map.len; i++) {
        const pub_pair *p = &before->as.map.pairs[i];
        const pub_value *now = pub_map_get(after, p->key);
        if (!now) c[n++] = (pub_rewrite_change){p->key, NULL};
        else if (!pub_value_equal(p->value, now)) c[n++] = (pub_rewrite_change){p->key, now};
    }
    for (size_t i = 0; i < after->as.map.len; i++) {
        const pub_pair *p = &after->as.map.pairs[i];
        if (!pub_map_get(before, p->key)) c[n++] = (pub_rewrite_change){p->key, p->value};
    }
    *count = n;
    return c;
}

/* A new post's front matter: title and date first, the rest as given. */
static pub_value *ordered_meta(const pub_value *meta)
{
    pub_value *m = pub_value_map();
    static const char *const first[] = {"title", "date"};
    for (int i = 0; i < 2; i++) {
        const pub_value *v = pub_map_get(meta, first[i]);
        if (v) pub_map_set(m, first[i], strlen(first[i]), pub_value_copy(v));
    }
    for (size_t i = 0; i < meta->as.map.len; i++) {
        const pub_pair *p = &meta->as.map.pairs[i];
        if (strcmp(p->key, "title") && strcmp(p->key, "date"))
            pub_map_set(m, p->key, p->key_len, pub_value_copy(p->value));
    }
    return m;
}

/* A new post: its whole file, title and date first. */
static pub_diag *stage_new(const pub_value *meta, const char *body, size_t body_len,
                           const char *target, pub_edit *ed)
{
    pub_buf bytes = PUB_BUF_INIT;
    pub_value *m = ordered_meta(meta);
    pub_rewrite_new_file(m, body ? body : "", body_len, &bytes);
    pub_value_free(m);
    pub_diag *d = pub_edit_write(ed, target, bytes.data, bytes.len);
    pub_buf_free(&bytes);
    return d;
}

/* A field derived from front matter (post.title, post.tags, ...) changed
 * without the front matter would be silently lost: refused. */
static pub_diag *check_mirrors(lua_State *L, int post, const snapshot *snap, snapshot *now,
                               const char *path)
{
    take_mirror(L, post, now);
    const pub_value *mirror = now->mirror, *meta = now->meta;
    pub_diag *d = NULL;
    for (size_t i = 0; i < NMIRRORS && !d; i++) {
        const struct mirror *m = &MIRRORS[i];
        if (pub_value_equal(pub_map_get(snap->mirror, m->field), pub_map_get(mirror, m->field)))
            continue;
        bool meta_too = false;
        for (int k = 0; k < 3 && m->keys[k]; k++)
            meta_too = meta_too || key_changed(snap->meta, meta, m->keys[k]);
        if (!meta_too)
            d = pub_diag_new(PUB_ERROR, path, 0, 0,
                             "'post.%s' was changed; set 'post.meta.%s' to change the front matter",
                             m->field, m->keys[0]);
    }
    return d;
}

/* An existing file: the changed keys and body rewritten in place (only
 * their lines), then written or moved to `target`. */
static pub_diag *stage_existing(const snapshot *snap, const pub_value *meta, const char *body,
                                size_t body_len, bool body_changed, const char *source,
                                const char *path, const char *target, pub_edit *ed)
{
    size_t nchanges;
    pub_rewrite_change *changes = meta_changes(snap->meta, meta, &nchanges);
    pub_buf bytes = PUB_BUF_INIT;
    char *src = NULL;
    pub_diag *d = NULL;
    bool rewritten = false;
    if (nchanges || body_changed) {
        size_t len;
        char *full = pub_path_join(source, path);
        int rc = pub_file_read(full, &src, &len);
        free(full);
        if (rc)
            d = pub_diag_new(PUB_ERROR, path, 0, 0, "cannot read: %s", strerror(rc));
        else
            d = pub_rewrite(path, src, len, changes, nchanges, body_changed ? body : NULL, body_len,
                            &bytes);
        rewritten = !d && (bytes.len != len || memcmp(bytes.data, src, len) != 0);
    }
    if (!d && strcmp(path, target) != 0)
        d = pub_edit_rename(ed, path, target, rewritten ? bytes.data : NULL, bytes.len);
    else if (!d && rewritten)
        d = pub_edit_write(ed, path, bytes.data, bytes.len);
    free(src);
    free(changes);
    pub_buf_free(&bytes);
    return d;
}

/* The post's front matter as a map, or NULL with *d set. */
static pub_value *post_meta(lua_State *L, int post, const char *path, pub_diag **d)
{
    if (rawfield(L, post, "meta") != LUA_TTABLE) {
        lua_pop(L, 1);
        *d = pub_diag_new(PUB_ERROR, path, 0, 0, "'meta' must be a table");
        return NULL;
    }
    char *err = NULL;
    pub_value *meta = pub_lua_to_value(L, -1, &err);
    lua_pop(L, 1);
    if (!meta) {
        *d = pub_diag_new(PUB_ERROR, path, 0, 0, "%s", err ? err : "cannot store front matter");
        free(err);
        return NULL;
    }
    if (meta->type != PUB_MAP) { /* an empty table reads as a list */
        pub_value_free(meta);
        meta = pub_value_map();
    }
    return meta;
}

/* Stages what the script did to the entry at `entry` (an edit.lua entry:
 * post, path, target, deleted, new, snap, body). */
static pub_diag *finish_entry(lua_State *L, int entry, const char *source, pub_edit *ed)
{
    int top = lua_gettop(L);
    rawfield(L, entry, "post");
    int post = lua_gettop(L);
    rawfield(L, entry, "path");
    const char *path = lua_tostring(L, -1);
    rawfield(L, entry, "target");
    const char *target = lua_tostring(L, -1);
    rawfield(L, entry, "deleted");
    bool deleted = lua_toboolean(L, -1);
    rawfield(L, entry, "new");
    bool is_new = lua_toboolean(L, -1);
    rawfield(L, entry, "snap");
    const snapshot *snap = luaL_checkudata(L, -1, SNAPSHOT_TYPE);
    rawfield(L, entry, "body");
    int old_body = lua_gettop(L);
    assert(path && target);

    /* The post as it is now, held by a snapshot userdata: no C memory of
     * ours is live across the Lua calls below (diagnostics are made only
     * after the last of them for each path). */
    snapshot *now = push_snapshot(L);
    pub_diag *d = NULL;
    if (deleted) {
        if (!is_new) d = pub_edit_delete(ed, path);
    } else if ((now->meta = post_meta(L, post, path, &d))) {
        size_t body_len = 0;
        rawfield(L, post, "body");
        const char *body = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &body_len) : NULL;
        bool body_changed = body && !lua_rawequal(L, -1, old_body);
        if (!body && !lua_isnil(L, -1))
            d = pub_diag_new(PUB_ERROR, path, 0, 0, "'body' must be a string");
        else if (is_new)
            d = stage_new(now->meta, body, body_len, target, ed);
        else if (!(d = check_mirrors(L, post, snap, now, path)))
            d = stage_existing(snap, now->meta, body, body_len, body_changed, source, path, target,
                               ed);
    }
    lua_settop(L, top);
    return d;
}

static int transaction_gc(lua_State *L)
{
    pub_edit **box = luaL_checkudata(L, 1, TRANSACTION_TYPE);
    pub_edit_free(*box);
    *box = NULL;
    return 0;
}

/* Pushes a userdata that owns a new edit transaction on `source` (freed
 * by __gc too, should Lua raise while it is open). */
static pub_edit **push_transaction(lua_State *L, const char *source)
{
    pub_edit **box = pub_lua_new_box(L, sizeof *box, TRANSACTION_TYPE, transaction_gc);
    *box = pub_edit_new(source);
    return box;
}

pub_diag *pub_lua_edit_finish(lua_State *L, int site_index, const pub_lua_edit_options *opts,
                              pub_edit_summary *summary, pub_buf *report)
{
    if (summary) memset(summary, 0, sizeof *summary);
    int top = lua_gettop(L);
    int site = lua_absindex(L, site_index);
    if (lua_getfield(L, LUA_REGISTRYINDEX, REG_EDIT) != LUA_TTABLE) {
        lua_settop(L, top);
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "bulk edits were not prepared");
    }
    lua_getfield(L, -1, "entries");
    lua_call(L, 0, 1);
    int entries = lua_gettop(L);
    rawfield(L, site, "source");
    const char *source = lua_tostring(L, -1);
    if (!source) source = ".";
    pub_edit **box = push_transaction(L, source);
    pub_edit *ed = *box;
    pub_diag *first = NULL;
    lua_Integer n = lua_istable(L, entries) ? (lua_Integer)lua_rawlen(L, entries) : 0;
    for (lua_Integer i = 1; i <= n && !first; i++) {
        lua_rawgeti(L, entries, i);
        first = finish_entry(L, lua_gettop(L), source, ed);
        lua_pop(L, 1);
    }
    if (!first) {
        if (opts && opts->dry_run) {
            first = pub_edit_diff(ed, report);
            if (!first && summary) pub_edit_count(ed, summary);
        } else {
            pub_diag_free(pub_edit_cleanup(source, NULL));
            first = pub_edit_commit(ed, summary);
        }
    }
    pub_edit_free(ed);
    *box = NULL;
    lua_settop(L, top);
    return first;
}
