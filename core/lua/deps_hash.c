/* The value hash of incremental builds' page records (core/lua/deps.lua):
 * one 64-bit hash of a Lua value, deep, with table keys in a fixed order
 * (so the hash depends neither on `pairs` order nor on the process), and a
 * tracked object (a post, page or `site` proxy) counted by its id only:
 * what a page reads through it is recorded on its own. Written in C
 * because a build hashes every field a page reads (a post's meta, its
 * date, its category list) once. Raw access only: nothing here can call
 * back into Lua code, so no C memory is live across a Lua error. */
#include "lua/deps_hash.h"
#include "util/hash.h"
#include <lauxlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 64 };

typedef struct key {
    int type;
    lua_Number number;    /* LUA_TNUMBER */
    lua_Integer integer;
    bool is_integer;
    const char *s;        /* LUA_TSTRING, kept alive by the table */
    size_t len;
    const void *p;        /* anything else: by address, within this run */
} key;

static uint64_t feed(uint64_t h, const void *bytes, size_t len)
{
    return pub_hash(bytes, len, h);
}

static uint64_t feed_tag(uint64_t h, char tag, uint64_t v)
{
    unsigned char b[9];
    b[0] = (unsigned char)tag;
    pub_hash_put_le64(b + 1, v);
    return feed(h, b, sizeof b);
}

static int key_cmp(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->type != y->type) return x->type < y->type ? -1 : 1;
    if (x->type == LUA_TSTRING) {
        size_t n = x->len < y->len ? x->len : y->len;
        int c = memcmp(x->s, y->s, n);
        if (c) return c;
        return x->len < y->len ? -1 : x->len > y->len;
    }
    if (x->type == LUA_TNUMBER) {
        lua_Number u = x->is_integer ? (lua_Number)x->integer : x->number;
        lua_Number v = y->is_integer ? (lua_Number)y->integer : y->number;
        return u < v ? -1 : u > v;
    }
    if (x->type == LUA_TBOOLEAN) return (x->integer > y->integer) - (x->integer < y->integer);
    return (x->p > y->p) - (x->p < y->p);
}

/* How many entries the table at idx has (its keys are sorted, so they
 * are gathered into an array of this size first). */
static size_t count_entries(lua_State *L, int idx)
{
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    return n;
}

static uint64_t hash_at(lua_State *L, int idx, int ids, uint64_t h, int depth);

static uint64_t hash_table(lua_State *L, int idx, int ids, uint64_t h, int depth)
{
    lua_pushvalue(L, idx);
    lua_rawget(L, ids);
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char *id = lua_tolstring(L, -1, &len);
        h = feed_tag(h, 'o', len);
        h = feed(h, id, len);
        lua_pop(L, 1);
        return h;
    }
    lua_pop(L, 1);
    if (depth >= MAX_DEPTH) return feed_tag(h, 'D', 0); /* a cycle, or absurdly deep */
    size_t n = count_entries(L, idx);
    /* Lua owns the key array (a userdata): nothing leaks if Lua raises. */
    key *keys = lua_newuserdatauv(L, (n ? n : 1) * sizeof *keys, 0);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) && i < n) {
        key *k = &keys[i++];
        memset(k, 0, sizeof *k);
        k->type = lua_type(L, -2);
        if (k->type == LUA_TSTRING) k->s = lua_tolstring(L, -2, &k->len);
        else if (k->type == LUA_TNUMBER && (k->is_integer = lua_isinteger(L, -2))) k->integer = lua_tointeger(L, -2);
        else if (k->type == LUA_TNUMBER) k->number = lua_tonumber(L, -2);
        else if (k->type == LUA_TBOOLEAN) k->integer = lua_toboolean(L, -2);
        else k->p = lua_topointer(L, -2);
        lua_pop(L, 1);
    }
    n = i;
    qsort(keys, n, sizeof *keys, key_cmp);
    h = feed_tag(h, '{', n);
    for (i = 0; i < n; i++) {
        key *k = &keys[i];
        if (k->type == LUA_TSTRING) lua_pushlstring(L, k->s, k->len);
        else if (k->type == LUA_TNUMBER && k->is_integer) lua_pushinteger(L, k->integer);
        else if (k->type == LUA_TNUMBER) lua_pushnumber(L, k->number);
        else if (k->type == LUA_TBOOLEAN) lua_pushboolean(L, (int)k->integer);
        else {
            /* A table or function key: found again by a walk (rare). */
            bool found = false;
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                lua_pop(L, 1);
                if (lua_topointer(L, -1) == k->p) {
                    found = true;
                    break;
                }
            }
            if (!found) continue;
        }
        int top = lua_gettop(L);
        h = hash_at(L, top, ids, h, depth + 1);
        lua_rawget(L, idx);
        h = hash_at(L, lua_gettop(L), ids, h, depth + 1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1); /* the key array */
    return feed_tag(h, '}', n);
}

static uint64_t hash_at(lua_State *L, int idx, int ids, uint64_t h, int depth)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return feed_tag(h, 'N', 0);
    case LUA_TBOOLEAN:
        return feed_tag(h, 'B', (uint64_t)lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) return feed_tag(h, 'i', (uint64_t)lua_tointeger(L, idx));
        {
            lua_Number v = lua_tonumber(L, idx);
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits < sizeof v ? sizeof bits : sizeof v);
            return feed_tag(h, 'f', bits);
        }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return feed(feed_tag(h, 's', len), s, len);
    }
    case LUA_TTABLE:
        luaL_checkstack(L, 8, "value too deep to hash");
        return hash_table(L, lua_absindex(L, idx), ids, h, depth);
    case LUA_TFUNCTION: {
        /* Known by where it was written; what it computes from tracked
         * objects is recorded when it reads them. */
        lua_Debug ar;
        lua_pushvalue(L, idx);
        if (!lua_getinfo(L, ">S", &ar)) return feed_tag(h, 'F', 0);
        h = feed_tag(h, 'F', (uint64_t)ar.linedefined);
        return feed(h, ar.source, strlen(ar.source));
    }
    default: {
        /* userdata (publish.null): its kind, not its address */
        const char *name = luaL_typename(L, idx);
        if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
            name = lua_tostring(L, -1);
            h = feed(feed_tag(h, 'U', strlen(name)), name, strlen(name));
            lua_pop(L, 1);
            return h;
        }
        return feed(feed_tag(h, 'U', strlen(name)), name, strlen(name));
    }
    }
}

/* Pushes `h` in hex, as string.format("%x") writes it. */
static void push_hex(lua_State *L, uint64_t h)
{
    char hex[17];
    static const char digits[] = "0123456789abcdef";
    int n = 0;
    char tmp[16];
    do {
        tmp[n++] = digits[h & 15];
        h >>= 4;
    } while (h);
    for (int i = 0; i < n; i++) hex[i] = tmp[n - 1 - i];
    lua_pushlstring(L, hex, (size_t)n);
}

int pub_lua_deps_hash_value(lua_State *L)
{
    luaL_checkany(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    push_hex(L, hash_at(L, 1, 2, 0, 0));
    return 1;
}

/* A lazy field (engine.lua's LAZY_HASH: a post's content) the backing
 * table does not hold: what stands for its value, pushed, without
 * fetching it. False, nothing pushed, for any other field. */
static bool push_lazy_hash(lua_State *L, int lazy, int backing, int field)
{
    lua_pushvalue(L, field);
    if (lua_rawget(L, lazy) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return false;
    }
    lua_pushvalue(L, field);
    if (lua_rawget(L, backing) != LUA_TNIL) {
        lua_pop(L, 2);
        return false;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, backing);
    lua_call(L, 1, 1);
    if (lua_type(L, -1) == LUA_TSTRING) return true;
    lua_pop(L, 1);
    return false;
}

/* One record line "ID\tFIELD\tHASH..." of a tracked object: true when
 * every field hashes as recorded. False for anything it does not judge
 * itself (another kind of line, an escaped name, a pseudo-field, a
 * difference): the Lua side looks again. Stack: 1 text, 2 by_id,
 * 3 backing, 4 memo, 5 verdicts, 6 ids. */
static bool line_holds(lua_State *L, const char *line, const char *end)
{
    const char *tab = memchr(line, '\t', (size_t)(end - line));
    if (!tab || memchr(line, '%', (size_t)(end - line))) return false;
    lua_pushlstring(L, line, (size_t)(tab - line));
    if (lua_rawget(L, 2) != LUA_TTABLE) {
        lua_pop(L, 1);
        return false;
    }
    int proxy = lua_gettop(L);
    lua_pushvalue(L, proxy);
    lua_rawget(L, 3);
    int backing = lua_gettop(L);
    lua_pushvalue(L, proxy);
    if (lua_rawget(L, 4) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, proxy);
        lua_pushvalue(L, -2);
        lua_rawset(L, 4);
    }
    int memo = lua_gettop(L);
    bool holds = lua_type(L, backing) == LUA_TTABLE;
    const char *p = tab + 1;
    while (holds && p < end) {
        const char *field_end = memchr(p, '\t', (size_t)(end - p));
        if (!field_end || *p == '*') {
            holds = false;
            break;
        }
        const char *hash = field_end + 1;
        const char *hash_end = memchr(hash, '\t', (size_t)(end - hash));
        if (!hash_end) hash_end = end;
        lua_pushlstring(L, p, (size_t)(field_end - p));
        int field = lua_gettop(L);
        lua_pushvalue(L, field);
        if (lua_rawget(L, memo) != LUA_TSTRING) {
            lua_pop(L, 1);
            if (!push_lazy_hash(L, 7, backing, field)) {
                lua_pushvalue(L, field);
                lua_gettable(L, backing); /* a lazy body may run Lua */
                push_hex(L, hash_at(L, lua_gettop(L), 6, 0, 0));
                lua_replace(L, -2);
            }
            lua_pushvalue(L, field);
            lua_pushvalue(L, -2);
            lua_rawset(L, memo);
        }
        size_t len;
        const char *now = lua_tolstring(L, -1, &len);
        holds = len == (size_t)(hash_end - hash) && memcmp(now, hash, len) == 0;
        lua_pop(L, 2);
        p = hash_end + 1;
    }
    lua_settop(L, proxy - 1);
    return holds;
}

/* Lines known to hold this build, by a 64-bit hash of their bytes: a set
 * in C, in a userdata in the registry, so that the lines only one page has
 * (most of a post page's record) make no Lua string and no garbage. */
#define GOOD_LINES "publish.deps_good_lines"

typedef struct good_set {
    size_t cap, len; /* cap a power of two; slot 0 means empty */
    uint64_t slots[];
} good_set;

static good_set *good_lines(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, GOOD_LINES) == LUA_TUSERDATA) {
        good_set *g = lua_touserdata(L, -1);
        lua_pop(L, 1);
        return g;
    }
    lua_pop(L, 1);
    size_t cap = 1 << 12;
    good_set *g = lua_newuserdatauv(L, sizeof *g + cap * sizeof g->slots[0], 0);
    g->cap = cap;
    g->len = 0;
    memset(g->slots, 0, cap * sizeof g->slots[0]);
    lua_setfield(L, LUA_REGISTRYINDEX, GOOD_LINES);
    return g;
}

static uint64_t line_key(const char *line, size_t len)
{
    uint64_t h = pub_hash(line, len, 0x5bd1e995u + len);
    return h ? h : 1;
}

static bool good_has(const good_set *g, uint64_t line_hash)
{
    for (size_t i = line_hash & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
        if (g->slots[i] == line_hash) return true;
        if (g->slots[i] == 0) return false;
    }
}

static void good_put(lua_State *L, uint64_t line_hash)
{
    good_set *g = good_lines(L);
    if ((g->len + 1) * 2 > g->cap) {
        size_t cap = g->cap * 2;
        good_set *n = lua_newuserdatauv(L, sizeof *n + cap * sizeof n->slots[0], 0);
        n->cap = cap;
        n->len = 0;
        memset(n->slots, 0, cap * sizeof n->slots[0]);
        for (size_t i = 0; i < g->cap; i++) {
            if (!g->slots[i]) continue;
            size_t j = g->slots[i] & (cap - 1);
            while (n->slots[j]) j = (j + 1) & (cap - 1);
            n->slots[j] = g->slots[i];
            n->len++;
        }
        lua_setfield(L, LUA_REGISTRYINDEX, GOOD_LINES);
        g = n;
    }
    size_t i = line_hash & (g->cap - 1);
    while (g->slots[i] && g->slots[i] != line_hash) i = (i + 1) & (g->cap - 1);
    if (!g->slots[i]) {
        g->slots[i] = line_hash;
        g->len++;
    }
}

int pub_lua_deps_unchanged(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    for (int i = 2; i <= 7; i++) luaL_checktype(L, i, LUA_TTABLE);
    lua_settop(L, 7);
    luaL_checkstack(L, 16, "records");
    const char *end = text + len;
    const char *line = memchr(text, '\n', len);
    if (!line) {
        lua_pushboolean(L, 0);
        return 1;
    }
    for (line++; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        uint64_t line_hash = line_key(line, (size_t)(nl - line));
        if (!good_has(good_lines(L), line_hash)) {
            /* A tracked object's fields are judged here; other lines
             * (files, the build's inputs) by the verdicts deps.lua keeps. */
            if (!line_holds(L, line, nl)) {
                lua_pushlstring(L, line, (size_t)(nl - line));
                int verdict = lua_rawget(L, 5);
                bool holds = verdict == LUA_TBOOLEAN && !lua_toboolean(L, -1);
                lua_pop(L, 1);
                if (!holds) break;
            }
            good_put(L, line_hash);
        }
        line = nl + 1;
    }
    lua_pushboolean(L, line >= end);
    return 1;
}

typedef struct name {
    const char *s;
    size_t len;
} name;

static int name_cmp(const void *a, const void *b)
{
    const name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Whether a name can stand in a record as it is (deps.lua escapes the
 * others: %, tab, newline). */
static bool plain_name(const char *s, size_t len)
{
    return !memchr(s, '%', len) && !memchr(s, '\t', len) && !memchr(s, '\n', len);
}

/* The hash of field `k` (at the top) of the object at `proxy`, as hex on
 * the top: frozen (the value the page read before setting it itself), else
 * memo, else computed and kept in memo. Stack as in pub_lua_deps_lines. */
static void push_field_hash(lua_State *L, int proxy, int k)
{
    lua_pushvalue(L, proxy);
    if (lua_rawget(L, 5) == LUA_TTABLE) {
        lua_pushvalue(L, k);
        if (lua_rawget(L, -2) == LUA_TSTRING) {
            lua_remove(L, -2);
            return;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, proxy);
    if (lua_rawget(L, 4) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, proxy);
        lua_pushvalue(L, -2);
        lua_rawset(L, 4);
    }
    int memo = lua_gettop(L);
    lua_pushvalue(L, k);
    if (lua_rawget(L, memo) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushvalue(L, proxy);
        lua_rawget(L, 3);
        if (push_lazy_hash(L, 8, lua_gettop(L), k)) {
            lua_replace(L, -2);
        } else {
            lua_pushvalue(L, k);
            lua_gettable(L, -2); /* a lazy body may run Lua */
            push_hex(L, hash_at(L, lua_gettop(L), 2, 0, 0));
            lua_replace(L, -3);
            lua_pop(L, 1);
        }
        lua_pushvalue(L, k);
        lua_pushvalue(L, -2);
        lua_rawset(L, memo);
    }
    lua_remove(L, memo);
}

/* One object's line, "ID\tF1\tH1\tF2\tH2...", pushed; false (nothing
 * pushed) when a name needs escaping or a key is not a string. The
 * object's read fields are at `fields`. */
static bool push_object_line(lua_State *L, int proxy, int fields, bool mine)
{
    lua_pushvalue(L, proxy);
    lua_rawget(L, 2);
    size_t id_len;
    const char *id = lua_tolstring(L, -1, &id_len);
    if (!id || !plain_name(id, id_len)) {
        lua_pop(L, 1);
        return false;
    }
    int id_at = lua_gettop(L);
    size_t n = count_entries(L, fields);
    name *names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
    size_t count = 0;
    bool ok = true;
    lua_pushnil(L);
    while (lua_next(L, fields)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            ok = false;
            lua_pop(L, 1);
            break;
        }
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (!plain_name(s, len)) {
            ok = false;
            lua_pop(L, 1);
            break;
        }
        bool skip = false;
        if (mine) {
            /* A field the page set on itself and had not read before. */
            lua_pushvalue(L, -1);
            skip = lua_rawget(L, 6) != LUA_TNIL;
            lua_pop(L, 1);
            if (skip) {
                lua_pushvalue(L, proxy);
                if (lua_rawget(L, 5) == LUA_TTABLE) {
                    lua_pushvalue(L, -2);
                    skip = lua_rawget(L, -2) == LUA_TNIL;
                    lua_pop(L, 1);
                }
                lua_pop(L, 1);
            }
        }
        if (!skip && count < n) names[count++] = (name){s, len};
    }
    if (!ok) {
        lua_settop(L, id_at - 1);
        return false;
    }
    if (count == 0) {
        lua_settop(L, id_at - 1);
        lua_pushliteral(L, "");
        return true;
    }
    qsort(names, count, sizeof *names, name_cmp);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, id, id_len);
    for (size_t i = 0; i < count; i++) {
        lua_pushlstring(L, names[i].s, names[i].len);
        int k = lua_gettop(L);
        push_field_hash(L, proxy, k);
        size_t hlen;
        const char *h = lua_tolstring(L, -1, &hlen);
        char hex[24];
        memcpy(hex, h, hlen < sizeof hex ? hlen : sizeof hex);
        lua_pop(L, 2);
        luaL_addchar(&b, '\t');
        luaL_addlstring(&b, names[i].s, names[i].len);
        luaL_addchar(&b, '\t');
        luaL_addlstring(&b, hex, hlen < sizeof hex ? hlen : sizeof hex);
    }
    luaL_pushresult(&b);
    lua_replace(L, id_at);
    lua_settop(L, id_at);
    return true;
}

int pub_lua_deps_lines(lua_State *L)
{
    for (int i = 1; i <= 6; i++) luaL_checktype(L, i, LUA_TTABLE);
    luaL_checkany(L, 7);
    luaL_checktype(L, 8, LUA_TTABLE);
    lua_settop(L, 8);
    luaL_checkstack(L, 24, "records");
    lua_newtable(L);
    int lines = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int fields = lua_gettop(L), proxy = fields - 1;
        if (lua_type(L, fields) != LUA_TTABLE) return 0;
        bool mine = lua_rawequal(L, proxy, 7);
        if (!push_object_line(L, proxy, fields, mine)) return 0;
        if (lua_rawlen(L, -1) > 0) lua_rawseti(L, lines, ++n);
        else lua_pop(L, 1);
        lua_pop(L, 1); /* the fields */
    }
    return 1;
}
