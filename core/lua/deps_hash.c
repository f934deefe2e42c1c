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
#include "util/mem.h"
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
    uint64_t key_hash, value_hash;
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

/* Sorts a table's keys: insertion sort for the few keys most tables have
 * (qsort's merge sort costs more there than the hashing), qsort beyond. */
static void sort_keys(key *keys, size_t n)
{
    if (n > 24) {
        qsort(keys, n, sizeof *keys, key_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        key k = keys[i];
        size_t j = i;
        for (; j > 0 && key_cmp(&keys[j - 1], &k) > 0; j--) keys[j] = keys[j - 1];
        keys[j] = k;
    }
}

static uint64_t hash_at(lua_State *L, int idx, int ids, uint64_t h, int depth, pub_deps_table_memo *m);

/* One pass over the table: each entry's key and value are hashed on
 * their own as lua_next gives them (no key pushed again, no second
 * lookup), then combined in key order. Up to SMALL entries sit in a C
 * array on the stack; a larger table's go into a userdata Lua owns
 * (nothing leaks if Lua raises). */
enum { SMALL = 16 };

/* The memo's slot of table address `p`: its own or the empty one where it
 * goes. */
static pub_deps_table_slot *memo_slot(pub_deps_table_memo *m, const void *p)
{
    size_t i = ((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15u >> 20;
    for (i &= m->cap - 1;; i = (i + 1) & (m->cap - 1))
        if (m->slots[i].table == p || !m->slots[i].table) return &m->slots[i];
}

/* Keeps table `p` (at idx) with its hash; the anchor keeps it alive, so
 * that its address is not another table's while the memo lives. */
static void memo_put(lua_State *L, pub_deps_table_memo *m, int idx, const void *p, uint64_t hash)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        pub_deps_table_memo grown = {pub_xcalloc(cap, sizeof *grown.slots), cap, 0, m->anchors, false};
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].table) *memo_slot(&grown, m->slots[i].table) = m->slots[i];
        free(m->slots);
        m->slots = grown.slots;
        m->cap = cap;
    }
    pub_deps_table_slot *slot = memo_slot(m, p);
    if (!slot->table) m->len++;
    *slot = (pub_deps_table_slot){p, hash};
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, m->anchors);
}

static uint64_t hash_entries(lua_State *L, int idx, int ids, uint64_t h, int depth, pub_deps_table_memo *m);

static uint64_t hash_table(lua_State *L, int idx, int ids, uint64_t h, int depth, pub_deps_table_memo *m)
{
    if (!m || h != 0) return hash_entries(L, idx, ids, h, depth, m);
    const void *p = lua_topointer(L, idx);
    if (m->cap) {
        const pub_deps_table_slot *slot = memo_slot(m, p);
        if (slot->table) return slot->hash;
    }
    /* A hash that met the depth limit depends on the depth it started
     * at: not kept. */
    bool deep = m->deep;
    m->deep = false;
    uint64_t hash = hash_entries(L, idx, ids, h, depth, m);
    if (!m->deep) memo_put(L, m, idx, p, hash);
    m->deep = m->deep || deep;
    return hash;
}

static uint64_t hash_entries(lua_State *L, int idx, int ids, uint64_t h, int depth, pub_deps_table_memo *m)
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
    if (depth >= MAX_DEPTH) {
        if (m) m->deep = true;
        return feed_tag(h, 'D', 0); /* a cycle, or absurdly deep */
    }
    key small[SMALL];
    key *keys = small;
    size_t n = 0, cap = SMALL;
    lua_pushnil(L); /* the slot of a larger table's entries */
    int slot = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (n == cap) {
            key *more = lua_newuserdatauv(L, 2 * cap * sizeof *keys, 0);
            memcpy(more, keys, n * sizeof *keys);
            lua_replace(L, slot);
            keys = more;
            cap *= 2;
        }
        key *k = &keys[n++];
        memset(k, 0, sizeof *k);
        k->type = lua_type(L, -2);
        if (k->type == LUA_TSTRING) k->s = lua_tolstring(L, -2, &k->len);
        else if (k->type == LUA_TNUMBER && (k->is_integer = lua_isinteger(L, -2))) k->integer = lua_tointeger(L, -2);
        else if (k->type == LUA_TNUMBER) k->number = lua_tonumber(L, -2);
        else if (k->type == LUA_TBOOLEAN) k->integer = lua_toboolean(L, -2);
        else k->p = lua_topointer(L, -2);
        k->key_hash = k->type == LUA_TSTRING ? feed(feed_tag(0, 's', k->len), k->s, k->len)
                                             : hash_at(L, lua_gettop(L) - 1, ids, 0, depth + 1, m);
        k->value_hash = hash_at(L, lua_gettop(L), ids, 0, depth + 1, m);
        lua_pop(L, 1);
    }
    sort_keys(keys, n);
    h = feed_tag(h, '{', n);
    for (size_t i = 0; i < n; i++) {
        unsigned char pair[16];
        pub_hash_put_le64(pair, keys[i].key_hash);
        pub_hash_put_le64(pair + 8, keys[i].value_hash);
        h = feed(h, pair, sizeof pair);
    }
    lua_pop(L, 1); /* the slot */
    return feed_tag(h, '}', n);
}

static uint64_t hash_at(lua_State *L, int idx, int ids, uint64_t h, int depth, pub_deps_table_memo *m)
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
        return hash_table(L, lua_absindex(L, idx), ids, h, depth, m);
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

size_t pub_lua_deps_hex(uint64_t h, char hex[16])
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    char tmp[16];
    do {
        tmp[n++] = digits[h & 15];
        h >>= 4;
    } while (h);
    for (size_t i = 0; i < n; i++) hex[i] = tmp[n - 1 - i];
    return n;
}

/* Pushes `h` in hex, as string.format("%x") writes it. */
static void push_hex(lua_State *L, uint64_t h)
{
    char hex[16];
    lua_pushlstring(L, hex, pub_lua_deps_hex(h, hex));
}

uint64_t pub_lua_deps_hash_at(lua_State *L, int idx, int ids)
{
    return hash_at(L, lua_absindex(L, idx), ids, 0, 0, NULL);
}

uint64_t pub_lua_deps_hash_at_memo(lua_State *L, int idx, int ids, pub_deps_table_memo *memo)
{
    return hash_at(L, lua_absindex(L, idx), ids, 0, 0, memo);
}

int pub_lua_deps_hash_value(lua_State *L)
{
    luaL_checkany(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    push_hex(L, hash_at(L, 1, 2, 0, 0, NULL));
    return 1;
}

/* A lazy field (engine.lua's LAZY_HASH: a post's content) the backing
 * table does not hold: what stands for its value, pushed, without
 * fetching it. False, nothing pushed, for any other field. */
bool pub_lua_deps_push_lazy_hash(lua_State *L, int lazy, int backing, int field)
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
