/* The Lua side of bulk edits. pub_edit_prepare records, for every post and
 * page, a snapshot of what the script sees (front matter as a pub_value,
 * the body string, the path) in a registry table; the methods the script
 * calls only update that table and the post, so nothing touches the disk
 * until pub_edit_finish compares each post with its snapshot and stages
 * the differences in one core/edit.h transaction. Snapshots live in
 * userdata with __gc, so a script that raises leaks nothing. */
#include "edit.h"
#include "../rewrite.h"
#include "../util/file.h"
#include "../util/mem.h"
#include "../util/path.h"
#include "bridge.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REG_STATE "publish.edit"            /* registry: the run's state table */
#define SNAPSHOT_TYPE "publish.EditSnapshot" /* userdata holding a snapshot */
#define POST_TYPE "publish.EditPost"         /* metatable giving posts methods */

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
    snapshot *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->meta = s->mirror = NULL;
    if (luaL_newmetatable(L, SNAPSHOT_TYPE)) {
        lua_pushcfunction(L, snapshot_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return s;
}

/* Pushes t[key] without metamethods; returns its type. */
static int rawfield(lua_State *L, int t, const char *key)
{
    t = lua_absindex(L, t);
    lua_pushstring(L, key);
    return lua_rawget(L, t);
}

static void set_rawfield(lua_State *L, int t, const char *key)
{
    t = lua_absindex(L, t);
    lua_pushstring(L, key);
    lua_insert(L, -2);
    lua_rawset(L, t);
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

static pub_value *mirror_of(lua_State *L, int post)
{
    pub_value *m = pub_value_map();
    for (size_t i = 0; i < NMIRRORS; i++) {
        pub_value *v = field_value(L, post, MIRRORS[i].field);
        if (v) pub_map_set(m, MIRRORS[i].field, strlen(MIRRORS[i].field), v);
    }
    return m;
}

static void push_state(lua_State *L) { lua_getfield(L, LUA_REGISTRYINDEX, REG_STATE); }

/* Pushes the entry of the post at `post`, raising when there is none or it
 * was deleted. Returns its absolute index. */
static int check_entry(lua_State *L, int post, const char *method)
{
    luaL_checktype(L, post, LUA_TTABLE);
    push_state(L);
    if (!lua_istable(L, -1)) return luaL_error(L, "%s: bulk edits are not enabled", method);
    rawfield(L, -1, "by_post");
    lua_pushvalue(L, post);
    lua_rawget(L, -2);
    if (!lua_istable(L, -1)) return luaL_error(L, "%s: not a post or page of this site", method);
    lua_replace(L, -3);
    lua_pop(L, 1);
    int entry = lua_gettop(L);
    rawfield(L, entry, "deleted");
    bool deleted = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (deleted) {
        rawfield(L, entry, "path");
        return luaL_error(L, "%s: '%s' was deleted", method, lua_tostring(L, -1));
    }
    return entry;
}

/* Raises unless `path` is free: not the target of another entry and not an
 * existing file other than the entry's own original. `entry` is 0 for a
 * post that has no entry yet. */
static void check_free(lua_State *L, int entry, const char *path)
{
    push_state(L);
    rawfield(L, -1, "entries");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        int other = lua_gettop(L);
        if (!entry || !lua_rawequal(L, other, entry)) {
            rawfield(L, other, "target");
            rawfield(L, other, "deleted");
            bool taken = !lua_toboolean(L, -1) && strcmp(lua_tostring(L, -2), path) == 0;
            lua_pop(L, 2);
            if (taken) luaL_error(L, "'%s' is already the path of another post", path);
        }
        lua_pop(L, 1);
    }
    rawfield(L, -2, "source");
    bool own = false;
    if (entry) {
        rawfield(L, entry, "path");
        own = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), path) == 0;
        lua_pop(L, 1);
    }
    char *full = pub_path_join(lua_tostring(L, -1), path);
    bool exists = access(full, F_OK) == 0;
    free(full);
    lua_pop(L, 3);
    if (exists && !own) luaL_error(L, "'%s' already exists", path);
}

/* Moves the entry (and post.path) to the path on top of the stack (popped). */
static void set_target(lua_State *L, int entry, int post)
{
    check_free(L, entry, lua_tostring(L, -1));
    lua_pushvalue(L, -1);
    set_rawfield(L, entry, "target");
    set_rawfield(L, post, "path");
}

/* A slug must be one plain file name. */
static bool valid_slug(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || strlen(s) != len) return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/' || s[i] == '\\' || (unsigned char)s[i] < 0x20) return false;
    return true;
}

/* Length of a "YYYY-MM-DD-" prefix of `name`, or 0. */
static size_t date_prefix(const char *name)
{
    static const char shape[] = "dddd-dd-dd-";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        char c = name[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != '-') return 0;
    }
    return sizeof shape - 1;
}

/* post:rename(slug): same folder, same date prefix and extension. */
static int l_rename(lua_State *L)
{
    size_t len;
    const char *slug = luaL_checklstring(L, 2, &len);
    int entry = check_entry(L, 1, "rename");
    if (!valid_slug(slug, len))
        return luaL_error(L, "rename: invalid slug '%s' (one file name, no '/' or leading '.')", slug);
    rawfield(L, entry, "target");
    const char *target = lua_tostring(L, -1);
    rawfield(L, entry, "kind");
    bool is_post = strcmp(lua_tostring(L, -1), "post") == 0;
    lua_pop(L, 1);
    const char *base = pub_path_base(target);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, target, (size_t)(base - target));
    if (is_post) luaL_addlstring(&b, base, date_prefix(base));
    luaL_addlstring(&b, slug, len);
    luaL_addstring(&b, pub_path_ext(base));
    luaL_pushresult(&b);
    lua_remove(L, -2);
    set_target(L, entry, 1);
    if (is_post) {
        lua_pushvalue(L, 2);
        set_rawfield(L, 1, "slug");
        /* An explicit `slug:` would override the file name: keep them agreeing. */
        if (rawfield(L, 1, "meta") == LUA_TTABLE) {
            if (rawfield(L, -1, "slug") == LUA_TSTRING) {
                lua_pushvalue(L, 2);
                set_rawfield(L, -3, "slug");
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* Pushes `dir` confined under SRC ("a/./b/" -> "a/b"), raising when it
 * climbs out. */
static void push_folder(lua_State *L, const char *dir, const char *method)
{
    char *clean = pub_path_confine(dir);
    if (!clean) luaL_error(L, "%s: folder '%s' is outside the source folder", method, dir);
    lua_pushstring(L, clean);
    free(clean);
}

/* post:move(dir): same file name, in folder `dir` (relative to SRC). */
static int l_move(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 2);
    int entry = check_entry(L, 1, "move");
    push_folder(L, dir, "move");
    rawfield(L, entry, "target");
    const char *base = pub_path_base(lua_tostring(L, -1));
    if (*lua_tostring(L, -2)) lua_pushfstring(L, "%s/%s", lua_tostring(L, -2), base);
    else lua_pushstring(L, base);
    lua_replace(L, -3);
    lua_pop(L, 1);
    set_target(L, entry, 1);
    return 0;
}

static int l_delete(lua_State *L)
{
    int entry = check_entry(L, 1, "delete");
    lua_pushboolean(L, 1);
    set_rawfield(L, entry, "deleted");
    return 0;
}

/* Gives `item` the post methods. */
static void attach_methods(lua_State *L, int item)
{
    if (lua_getmetatable(L, item)) {
        /* Not ours to replace: plain fields instead. */
        lua_pop(L, 1);
        static const luaL_Reg fields[] = {{"rename", l_rename}, {"move", l_move},
                                          {"delete", l_delete}, {NULL, NULL}};
        for (const luaL_Reg *r = fields; r->name; r++) {
            lua_pushcfunction(L, r->func);
            set_rawfield(L, item, r->name);
        }
        return;
    }
    luaL_getmetatable(L, POST_TYPE);
    lua_setmetatable(L, item);
}

/* Appends an entry for the post/page at `item` to the state at `st`. */
static void add_entry(lua_State *L, int st, int item, const char *kind, bool is_new)
{
    lua_createtable(L, 0, 8);
    int entry = lua_gettop(L);
    lua_pushvalue(L, item);
    set_rawfield(L, entry, "post");
    lua_pushstring(L, kind);
    set_rawfield(L, entry, "kind");
    rawfield(L, item, "path");
    lua_pushvalue(L, -1);
    set_rawfield(L, entry, "path");
    set_rawfield(L, entry, "target");
    rawfield(L, item, "body");
    set_rawfield(L, entry, "body");
    lua_pushboolean(L, is_new);
    set_rawfield(L, entry, "new");
    snapshot *s = push_snapshot(L);
    set_rawfield(L, entry, "snap");
    /* Filled after the userdata exists, so an allocation error in Lua
     * cannot strand the values. */
    s->meta = field_value(L, item, "meta");
    if (!s->meta || s->meta->type != PUB_MAP) {
        pub_value_free(s->meta);
        s->meta = pub_value_map();
    }
    s->mirror = mirror_of(L, item);

    rawfield(L, st, "entries");
    lua_pushvalue(L, entry);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
    rawfield(L, st, "by_post");
    lua_pushvalue(L, item);
    lua_pushvalue(L, entry);
    lua_rawset(L, -3);
    lua_pop(L, 2);
    attach_methods(L, item);
}

/* Calls publish.<module>.<name> (module NULL: publish.<name>) with the
 * value on top of the stack (replaced by the single result). */
static void call_publish(lua_State *L, const char *module, const char *name)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "publish");
    lua_remove(L, -2);
    if (module) {
        lua_getfield(L, -1, module);
        lua_remove(L, -2);
    }
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
}

/* site:new_post{title=, slug=, date=, meta=, body=, dir=} -> post */
static int l_new_post(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    push_state(L);
    int st = lua_gettop(L);
    if (!lua_istable(L, st)) return luaL_error(L, "new_post: bulk edits are not enabled");

    lua_getfield(L, 2, "title");
    int title = lua_gettop(L);
    if (!lua_isnil(L, title) && !lua_isstring(L, title))
        return luaL_error(L, "new_post: 'title' must be a string");
    lua_getfield(L, 2, "slug");
    int slug = lua_gettop(L);
    if (lua_isnil(L, slug)) {
        if (lua_isnil(L, title)) return luaL_error(L, "new_post: needs a 'title' or a 'slug'");
        lua_pushvalue(L, title);
        call_publish(L, NULL, "slugify");
        lua_replace(L, slug);
    }
    size_t slug_len;
    const char *slug_text = lua_tolstring(L, slug, &slug_len);
    if (!slug_text || !valid_slug(slug_text, slug_len))
        return luaL_error(L, "new_post: invalid slug '%s'", slug_text ? slug_text : "?");

    lua_getfield(L, 2, "date");
    int date = lua_gettop(L);
    bool date_given = !lua_isnil(L, date);
    if (lua_type(L, date) == LUA_TSTRING) {
        lua_pushvalue(L, date);
        call_publish(L, "date", "parse");
        if (lua_isnil(L, -1)) return luaL_error(L, "new_post: invalid date '%s'", lua_tostring(L, date));
        lua_replace(L, date);
    } else if (!date_given) {
        lua_pushnil(L);
        call_publish(L, "date", "now");
        lua_replace(L, date);
    }
    pub_date d;
    if (!pub_lua_to_date(L, date, &d))
        return luaL_error(L, "new_post: 'date' must be a date or a string like 2024-06-19");

    lua_getfield(L, 2, "dir");
    const char *dir = lua_isnil(L, -1) ? "posts" : luaL_checkstring(L, -1);
    push_folder(L, dir, "new_post");
    const char *folder = lua_tostring(L, -1);
    char day[32];
    snprintf(day, sizeof day, "%04d-%02d-%02d", d.year, d.month, d.day);
    lua_pushfstring(L, "%s%s%s-%s.md", folder, *folder ? "/" : "", day, slug_text);
    int path = lua_gettop(L);

    lua_getfield(L, 2, "body");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
    } else if (!lua_isstring(L, -1)) {
        return luaL_error(L, "new_post: 'body' must be a string");
    }
    int body = lua_gettop(L);

    /* meta: a copy of the given table, with title and date filled in. */
    lua_newtable(L);
    int meta = lua_gettop(L);
    lua_getfield(L, 2, "meta");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, meta);
        }
    } else if (!lua_isnil(L, -1)) {
        return luaL_error(L, "new_post: 'meta' must be a table");
    }
    lua_pop(L, 1);
    static const char *const given[] = {"title", "date"};
    int given_at[] = {lua_isnil(L, title) ? 0 : title, date_given ? date : 0};
    for (int i = 0; i < 2; i++) {
        if (!given_at[i]) continue;
        bool absent = rawfield(L, meta, given[i]) == LUA_TNIL;
        lua_pop(L, 1);
        if (absent) {
            lua_pushvalue(L, given_at[i]);
            set_rawfield(L, meta, given[i]);
        }
    }

    lua_createtable(L, 0, 12);
    int post = lua_gettop(L);
    lua_pushliteral(L, "post");
    set_rawfield(L, post, "kind");
    lua_pushvalue(L, slug);
    set_rawfield(L, post, "slug");
    lua_pushvalue(L, lua_isnil(L, title) ? slug : title);
    set_rawfield(L, post, "title");
    lua_pushvalue(L, date);
    set_rawfield(L, post, "date");
    lua_pushvalue(L, meta);
    set_rawfield(L, post, "meta");
    lua_pushvalue(L, body);
    set_rawfield(L, post, "body");
    static const char *const lists[] = {"categories", "tags"};
    for (int i = 0; i < 2; i++) {
        int t = rawfield(L, meta, lists[i]);
        if (t == LUA_TSTRING) {
            lua_createtable(L, 1, 0);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
        } else if (t != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
        }
        set_rawfield(L, post, lists[i]);
    }
    lua_pushvalue(L, path);
    set_rawfield(L, post, "path");
    check_free(L, 0, lua_tostring(L, path));
    add_entry(L, st, post, "post", true);

    if (rawfield(L, 1, "posts") == LUA_TTABLE) {
        lua_pushvalue(L, post);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, post);
    return 1;
}

/* table.sort comparator: entries by path. */
static int entry_before(lua_State *L)
{
    rawfield(L, 1, "path");
    rawfield(L, 2, "path");
    const char *a = lua_tostring(L, -2), *b = lua_tostring(L, -1);
    lua_pushboolean(L, a && b && strcmp(a, b) < 0);
    return 1;
}

int pub_edit_prepare(lua_State *L, int site_index)
{
    int site = lua_absindex(L, site_index);
    if (luaL_newmetatable(L, POST_TYPE)) {
        static const luaL_Reg methods[] = {{"rename", l_rename}, {"move", l_move},
                                           {"delete", l_delete}, {NULL, NULL}};
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);

    lua_createtable(L, 0, 4);
    int st = lua_gettop(L);
    rawfield(L, site, "source");
    set_rawfield(L, st, "source");
    lua_newtable(L);
    set_rawfield(L, st, "entries");
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    set_rawfield(L, st, "by_post");
    lua_pushvalue(L, st);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_STATE);

    static const char *const lists[] = {"posts", "pages"};
    for (int l = 0; l < 2; l++) {
        if (rawfield(L, site, lists[l]) == LUA_TTABLE) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            for (lua_Integer i = 1; i <= n; i++) {
                if (lua_rawgeti(L, -1, i) == LUA_TTABLE) {
                    int item = lua_gettop(L);
                    if (rawfield(L, item, "path") == LUA_TSTRING)
                        add_entry(L, st, item, l == 0 ? "post" : "page", false);
                    lua_pop(L, 1);
                }
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    /* Entries in path order, so the diff and the errors read in order. */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "table");
    lua_getfield(L, -1, "sort");
    rawfield(L, st, "entries");
    lua_pushcfunction(L, entry_before);
    lua_call(L, 2, 0);
    lua_pop(L, 2);

    lua_pushcfunction(L, l_new_post);
    set_rawfield(L, site, "new_post");
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

/* Stages what the script did to the entry at `entry`. */
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
    const snapshot *snap = lua_touserdata(L, -1);
    rawfield(L, entry, "body");
    int old_body = lua_gettop(L);

    pub_diag *d = NULL;
    pub_value *meta = NULL, *mirror = NULL;
    pub_rewrite_change *changes = NULL;
    char *src = NULL;
    pub_buf bytes = PUB_BUF_INIT;

    if (deleted) {
        if (!is_new) d = pub_edit_delete(ed, path);
        goto out;
    }
    if (rawfield(L, post, "meta") != LUA_TTABLE) {
        d = pub_diag_new(PUB_ERROR, path, 0, 0, "'meta' must be a table");
        goto out;
    }
    char *err = NULL;
    meta = pub_lua_to_value(L, -1, &err);
    if (!meta) {
        d = pub_diag_new(PUB_ERROR, path, 0, 0, "%s", err ? err : "cannot store front matter");
        free(err);
        goto out;
    }
    if (meta->type != PUB_MAP) { /* an empty table reads as a list */
        pub_value_free(meta);
        meta = pub_value_map();
    }
    size_t body_len = 0;
    rawfield(L, post, "body");
    const char *body = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &body_len) : NULL;
    if (!body && !lua_isnil(L, -1)) {
        d = pub_diag_new(PUB_ERROR, path, 0, 0, "'body' must be a string");
        goto out;
    }
    if (is_new) {
        pub_value *m = ordered_meta(meta);
        pub_rewrite_new_file(m, body ? body : "", body_len, &bytes);
        pub_value_free(m);
        d = pub_edit_write(ed, target, bytes.data, bytes.len);
        goto out;
    }

    mirror = mirror_of(L, post);
    for (size_t i = 0; i < NMIRRORS; i++) {
        const struct mirror *m = &MIRRORS[i];
        if (pub_value_equal(pub_map_get(snap->mirror, m->field), pub_map_get(mirror, m->field)))
            continue;
        bool meta_too = false;
        for (int k = 0; k < 3 && m->keys[k]; k++)
            meta_too = meta_too || key_changed(snap->meta, meta, m->keys[k]);
        if (!meta_too) {
            d = pub_diag_new(PUB_ERROR, path, 0, 0,
                             "'post.%s' was changed; set 'post.meta.%s' to change the front matter",
                             m->field, m->keys[0]);
            goto out;
        }
    }

    size_t nchanges;
    changes = meta_changes(snap->meta, meta, &nchanges);
    bool body_changed = body && !lua_rawequal(L, -1, old_body);
    bool rewritten = false;
    if (nchanges || body_changed) {
        size_t len;
        char *full = pub_path_join(source, path);
        int rc = pub_file_read(full, &src, &len);
        free(full);
        if (rc) {
            d = pub_diag_new(PUB_ERROR, path, 0, 0, "cannot read: %s", strerror(rc));
            goto out;
        }
        d = pub_rewrite(path, src, len, changes, nchanges, body_changed ? body : NULL, body_len,
                        &bytes);
        if (d) goto out;
        rewritten = bytes.len != len || memcmp(bytes.data, src, len) != 0;
    }
    if (strcmp(path, target) != 0)
        d = pub_edit_rename(ed, path, target, rewritten ? bytes.data : NULL, bytes.len);
    else if (rewritten)
        d = pub_edit_write(ed, path, bytes.data, bytes.len);
out:
    free(src);
    free(changes);
    pub_buf_free(&bytes);
    pub_value_free(meta);
    pub_value_free(mirror);
    lua_settop(L, top);
    return d;
}

pub_diag *pub_edit_finish(lua_State *L, int site_index, const pub_edit_options *opts,
                          pub_edit_summary *summary, pub_buf *report)
{
    (void)site_index; /* the entries know their posts, new ones included */
    if (summary) memset(summary, 0, sizeof *summary);
    int top = lua_gettop(L);
    push_state(L);
    int st = lua_gettop(L);
    if (!lua_istable(L, st)) {
        lua_settop(L, top);
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "bulk edits were not prepared");
    }
    rawfield(L, st, "source");
    const char *source = lua_tostring(L, -1);
    if (!source) source = ".";
    pub_edit *ed = pub_edit_new(source);
    pub_diag *first = NULL;
    rawfield(L, st, "entries");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n && !first; i++) {
        lua_rawgeti(L, -1, i);
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
    lua_settop(L, top);
    return first;
}
