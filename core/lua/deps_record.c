/* Recording what a page reads (core/lua/deps.lua, incremental builds),
 * in C. While a page renders, every field a template reads from a post,
 * a page, `site` or `site.data` comes through the proxies' __index; a
 * 10k-post build does that some 200,000 times, so a read must cost next
 * to nothing. The read set is a C hash set of (object, field) by address,
 * stamped with the page's generation (a new page empties it without
 * clearing it); the objects and field names it holds are anchored in two
 * Lua arrays, so no address is reused while the page renders. At the end
 * of the page its record lines are built from the set in one call, with
 * deps.lua's memo of value hashes. What is not a plain string field (a
 * number key, a name that needs escaping, the `*keys`/`*len`
 * pseudo-fields) makes the page take deps.lua's own way, from the same
 * set as a Lua table. Nothing here holds malloc'd memory across a Lua
 * call that can raise: the recorder's arrays belong to its userdata. */
#include "lua/deps_record.h"
#include "lua/deps_hash.h"
#include "lua/lib.h"
#include "util/mem.h"
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One slot of an open-addressing set keyed by two addresses; a slot is
 * taken only when its `gen` is the current page's. */
typedef struct slot {
    const void *a, *b;
    uint32_t gen, value;
} slot;

typedef struct set {
    slot *slots;
    uint32_t cap, n; /* cap: a power of two, or 0 */
} set;

/* A field read: its object and name by anchor index, the name's bytes
 * (kept alive by the anchor). */
typedef struct entry {
    uint32_t obj, key;
    const char *name;
    size_t len;
} entry;

typedef struct recorder {
    uint32_t gen;
    bool active; /* a page is rendering */
    bool odd;    /* it read a key that is not a string (deps.lua's way) */
    size_t interned; /* names up to this length have one address */
    set pairs, objs, keys;
    entry *entries;
    uint32_t nentries, cap;
} recorder;

#define RECORDER "publish.Recorder"
/* Lua interns strings up to this length (LUAI_MAXSHORTLEN, 40 in a stock
 * Lua 5.4): one address per name. A longer name may come as several
 * copies. The limit is not in Lua's API, so each recorder checks it
 * (interned_up_to) and trusts addresses only as far as it holds. */
enum { SHORT_NAME = 40 };

/* Upvalues shared by the recorder's functions. */
enum { UP_REC = 1, UP_OBJS, UP_KEYS, UP_EXTRA, UP_BACKING, UP_DIRTY, UP_LUA_INDEX };
#define UP(i) lua_upvalueindex(i)

static int recorder_gc(lua_State *L)
{
    recorder *r = lua_touserdata(L, 1);
    free(r->pairs.slots);
    free(r->objs.slots);
    free(r->keys.slots);
    free(r->entries);
    memset(r, 0, sizeof *r);
    return 0;
}

static uint32_t mix(const void *a, const void *b)
{
    uint64_t h = ((uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15u) ^ ((uint64_t)(uintptr_t)b * 0xC2B2AE3D27D4EB4Fu);
    return (uint32_t)(h >> 32);
}

/* The slot of (a, b): taken (found) or the empty one where it goes. */
static slot *probe(set *s, uint32_t gen, const void *a, const void *b)
{
    uint32_t mask = s->cap - 1, i = mix(a, b) & mask;
    for (;;) {
        slot *at = &s->slots[i];
        if (at->gen != gen || (at->a == a && at->b == b)) return at;
        i = (i + 1) & mask;
    }
}

/* Room for one more in `s` (at most half full). */
static void reserve(set *s, uint32_t gen)
{
    if (s->cap && (s->n + 1) * 2 <= s->cap) return;
    set grown = {pub_xcalloc(s->cap ? 2 * (size_t)s->cap : 64, sizeof *s->slots), s->cap ? 2 * s->cap : 64, s->n};
    for (uint32_t i = 0; i < s->cap; i++) {
        slot *old = &s->slots[i];
        if (old->gen == gen) *probe(&grown, gen, old->a, old->b) = *old;
    }
    free(s->slots);
    *s = grown;
}

/* The anchor index of `p` in `s`, anchoring the value at `idx` in the
 * array at `anchors` when it is new. May raise (memory): nothing is
 * taken then. */
static uint32_t anchored(lua_State *L, recorder *r, set *s, const void *p, int idx, int anchors)
{
    reserve(s, r->gen);
    slot *at = probe(s, r->gen, p, NULL);
    if (at->gen == r->gen) return at->value;
    lua_pushvalue(L, idx);
    lua_rawseti(L, anchors, (lua_Integer)s->n + 1);
    *at = (slot){p, NULL, r->gen, ++s->n};
    return at->value;
}

/* Notes that the page read string field `k` (at kidx, bytes `name`) of
 * the object at tidx. */
static void note_pair(lua_State *L, recorder *r, int tidx, int kidx, const char *name, size_t len)
{
    const void *o = lua_topointer(L, tidx);
    reserve(&r->pairs, r->gen);
    if (probe(&r->pairs, r->gen, o, name)->gen == r->gen) return;
    uint32_t obj = anchored(L, r, &r->objs, o, tidx, UP(UP_OBJS));
    uint32_t key = anchored(L, r, &r->keys, name, kidx, UP(UP_KEYS));
    if (r->nentries == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->entries = pub_xrealloc(r->entries, r->cap * sizeof *r->entries);
    }
    r->entries[r->nentries++] = (entry){obj, key, name, len};
    slot *at = probe(&r->pairs, r->gen, o, name);
    *at = (slot){o, name, r->gen, 0};
    r->pairs.n++;
}

/* A key that is not a string: noted in the extra table (proxy -> {key =
 * true}), and the page's record is made by deps.lua. */
static void note_odd(lua_State *L, recorder *r, int tidx, int kidx)
{
    r->odd = true;
    lua_pushvalue(L, tidx);
    if (lua_rawget(L, UP(UP_EXTRA)) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 2);
        lua_pushvalue(L, tidx);
        lua_pushvalue(L, -2);
        lua_rawset(L, UP(UP_EXTRA));
    }
    lua_pushvalue(L, kidx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static void note(lua_State *L, recorder *r, int tidx, int kidx)
{
    if (lua_type(L, kidx) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, kidx, &len);
        note_pair(L, r, tidx, kidx, name, len);
    } else {
        note_odd(L, r, tidx, kidx);
    }
}

/* The proxies' __index, the hot path: a field read for the first time
 * in this page is checked (a field some page set while rendering, and
 * `time`, go to deps.lua's index) and noted; then backing[t][k]. */
static int rec_index(lua_State *L)
{
    recorder *r = lua_touserdata(L, UP(UP_REC));
    lua_settop(L, 2);
    if (r->active && !lua_isnil(L, 2)) {
        bool string = lua_type(L, 2) == LUA_TSTRING;
        size_t len = 0;
        const char *name = string ? lua_tolstring(L, 2, &len) : NULL;
        bool known = false;
        if (string && r->pairs.cap) {
            known = probe(&r->pairs, r->gen, lua_topointer(L, 1), name)->gen == r->gen;
        }
        if (!known) {
            lua_pushvalue(L, 1);
            bool rare = lua_rawget(L, UP(UP_DIRTY)) != LUA_TNIL || (len == 4 && memcmp(name, "time", 4) == 0);
            lua_pop(L, 1);
            if (rare) {
                lua_pushvalue(L, UP(UP_LUA_INDEX));
                lua_insert(L, 1);
                lua_call(L, 2, 1);
                return 1;
            }
            if (string) note_pair(L, r, 1, 2, name, len);
            else note_odd(L, r, 1, 2);
        }
    }
    lua_pushvalue(L, 1);
    lua_rawget(L, UP(UP_BACKING));
    lua_pushvalue(L, 2);
    lua_gettable(L, -2); /* the backing table's own metatable: lazy fields */
    return 1;
}

/* note(t, k): the page read field k of t (deps.lua's index, pairs, #). */
static int rec_note(lua_State *L)
{
    recorder *r = lua_touserdata(L, UP(UP_REC));
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    if (r->active && lua_type(L, 1) == LUA_TTABLE && !lua_isnil(L, 2)) note(L, r, 1, 2);
    return 0;
}

/* has(t, k) -> whether the page read field k of t. */
static int rec_has(lua_State *L)
{
    recorder *r = lua_touserdata(L, UP(UP_REC));
    lua_settop(L, 2);
    bool read = false;
    if (!r->active || lua_type(L, 1) != LUA_TTABLE) {
        read = false;
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, 2, &len);
        const void *o = lua_topointer(L, 1);
        read = r->pairs.cap && probe(&r->pairs, r->gen, o, name)->gen == r->gen;
        /* A long string (not interned) may be another copy of a name read. */
        for (uint32_t i = 0; !read && len > r->interned && i < r->nentries; i++) {
            const entry *e = &r->entries[i];
            if (e->len == len && memcmp(e->name, name, len) == 0) {
                lua_rawgeti(L, UP(UP_OBJS), e->obj);
                read = lua_rawequal(L, -1, 1);
                lua_pop(L, 1);
            }
        }
    } else if (!lua_isnil(L, 2)) {
        lua_pushvalue(L, 1);
        if (lua_rawget(L, UP(UP_EXTRA)) == LUA_TTABLE) {
            lua_pushvalue(L, 2);
            read = lua_rawget(L, -2) != LUA_TNIL;
        }
    }
    lua_pushboolean(L, read);
    return 1;
}

/* begin(): a page starts rendering, with nothing read. */
static int rec_begin(lua_State *L)
{
    recorder *r = lua_touserdata(L, UP(UP_REC));
    if (++r->gen == 0) {
        /* After 2^32 pages every stamp could look current: start over. */
        memset(r->pairs.slots, 0, r->pairs.cap * sizeof *r->pairs.slots);
        memset(r->objs.slots, 0, r->objs.cap * sizeof *r->objs.slots);
        memset(r->keys.slots, 0, r->keys.cap * sizeof *r->keys.slots);
        r->gen = 1;
    }
    r->pairs.n = r->objs.n = r->keys.n = r->nentries = 0;
    if (r->odd) {
        /* Emptied in place: every function of the recorder holds it. */
        lua_pushnil(L);
        while (lua_next(L, UP(UP_EXTRA))) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, UP(UP_EXTRA));
        }
    }
    r->odd = false;
    r->active = true;
    return 0;
}

/* stop(): the page is done (recorded or failed). */
static int rec_stop(lua_State *L)
{
    recorder *r = lua_touserdata(L, UP(UP_REC));
    r->active = false;
    return 0;
}

/* reads() -> proxy -> {field = true}: what the page read, for deps.lua's
 * own way of writing a record. */
static int rec_reads(lua_State *L)
{
    recorder *r = lua_touserdata(L, UP(UP_REC));
    lua_newtable(L);
    int reads = lua_gettop(L);
    for (uint32_t i = 0; i < r->nentries; i++) {
        lua_rawgeti(L, UP(UP_OBJS), r->entries[i].obj);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, reads) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            lua_rawset(L, reads);
        }
        lua_rawgeti(L, UP(UP_KEYS), r->entries[i].key);
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
        lua_pop(L, 2);
    }
    lua_pushnil(L);
    while (lua_next(L, UP(UP_EXTRA))) {
        int fields = lua_gettop(L), t = fields - 1;
        lua_pushvalue(L, t);
        if (lua_rawget(L, reads) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, t);
            lua_pushvalue(L, -2);
            lua_rawset(L, reads);
        }
        int into = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, fields)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushboolean(L, 1);
            lua_rawset(L, into);
        }
        lua_settop(L, t);
    }
    return 1;
}

/* ---- Record lines ------------------------------------------------------------ */

/* Stack slots of rec_lines's arguments. */
enum { L_IDS = 1, L_BACKING, L_MEMO, L_FROZEN, L_OWN, L_PAGE, L_LAZY };

static int entry_cmp(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    if (a->obj != b->obj) return a->obj < b->obj ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Whether a name stands in a record as it is: deps.lua escapes %, tab and
 * newline, and judges the pseudo-fields (`*keys`, `*len`) itself. */
static bool plain(const char *s, size_t len, bool field)
{
    if (field && len > 0 && s[0] == '*') return false;
    return !memchr(s, '%', len) && !memchr(s, '\t', len) && !memchr(s, '\n', len);
}

/* The hash (hex) of field `k` (at k) of an object, pushed: frozen (the
 * value the page read before setting it itself: the object's frozen
 * table at `frozen`, or 0), else its memo's (at `memo`), else computed
 * from its backing table (at `backing`) and kept in the memo (deps.lua's
 * field_hash). */
static void push_field_hash(lua_State *L, int frozen, int memo, int backing, int k)
{
    if (frozen) {
        lua_pushvalue(L, k);
        if (lua_rawget(L, frozen) == LUA_TSTRING) return;
        lua_pop(L, 1);
    }
    lua_pushvalue(L, k);
    if (lua_rawget(L, memo) == LUA_TSTRING) return;
    lua_pop(L, 1);
    if (!pub_lua_deps_push_lazy_hash(L, L_LAZY, backing, k)) {
        lua_pushvalue(L, k);
        lua_gettable(L, backing); /* a lazy body may run Lua */
        char hex[16];
        lua_pushlstring(L, hex, pub_lua_deps_hex(pub_lua_deps_hash_at(L, -1, L_IDS), hex));
        lua_remove(L, -2);
    }
    lua_pushvalue(L, k);
    lua_pushvalue(L, -2);
    lua_rawset(L, memo);
}

/* Whether field `k` (at k) of the page itself is left out of its record:
 * the page set it while rendering without reading it first. */
static bool own_unread(lua_State *L, int frozen, int k)
{
    lua_pushvalue(L, k);
    bool own = lua_rawget(L, L_OWN) != LUA_TNIL;
    lua_pop(L, 1);
    if (own && frozen) {
        lua_pushvalue(L, k);
        own = lua_rawget(L, frozen) == LUA_TNIL;
        lua_pop(L, 1);
    }
    return own;
}

/* The line of the object whose entries are e[0..n) (sorted by name),
 * "ID\tF1\tH1...", pushed; false, nothing pushed, when its id needs
 * escaping. Pushes "" when every field is left out. */
static bool push_line(lua_State *L, const entry *e, uint32_t n)
{
    lua_rawgeti(L, UP(UP_OBJS), e[0].obj);
    int proxy = lua_gettop(L);
    lua_pushvalue(L, proxy);
    lua_rawget(L, L_IDS);
    size_t id_len;
    const char *id = lua_tolstring(L, -1, &id_len);
    if (!id || !plain(id, id_len, false)) {
        lua_settop(L, proxy - 1);
        return false;
    }
    /* The object's frozen hashes (or 0), memo and backing table, looked
     * up once for all its fields. */
    lua_pushvalue(L, proxy);
    int frozen = lua_rawget(L, L_FROZEN) == LUA_TTABLE ? lua_gettop(L) : 0;
    lua_pushvalue(L, proxy);
    if (lua_rawget(L, L_MEMO) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, (int)n);
        lua_pushvalue(L, proxy);
        lua_pushvalue(L, -2);
        lua_rawset(L, L_MEMO);
    }
    int memo = lua_gettop(L);
    lua_pushvalue(L, proxy);
    lua_rawget(L, L_BACKING);
    int backing = lua_gettop(L);
    bool mine = lua_rawequal(L, proxy, L_PAGE);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    bool any = false;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && entry_cmp(&e[i - 1], &e[i]) == 0) continue; /* two long strings alike */
        lua_rawgeti(L, UP(UP_KEYS), e[i].key);
        int k = lua_gettop(L);
        if (mine && own_unread(L, frozen, k)) {
            lua_pop(L, 1);
            continue;
        }
        push_field_hash(L, frozen, memo, backing, k);
        size_t hlen;
        const char *h = lua_tolstring(L, -1, &hlen);
        char hex[24];
        if (hlen > sizeof hex) hlen = sizeof hex;
        memcpy(hex, h, hlen);
        lua_pop(L, 2);
        if (!any) luaL_addlstring(&b, id, id_len);
        any = true;
        luaL_addchar(&b, '\t');
        luaL_addlstring(&b, e[i].name, e[i].len);
        luaL_addchar(&b, '\t');
        luaL_addlstring(&b, hex, hlen);
    }
    luaL_pushresult(&b);
    lua_replace(L, proxy);
    lua_settop(L, proxy);
    return true;
}

/* lines(ids, backing, memo, frozen, own, page, lazy) -> the page's record
 * lines, one per object it read (unsorted), or nil when deps.lua must
 * write them (a name that needs escaping, a key that is not a string). */
static int rec_lines(lua_State *L)
{
    recorder *r = lua_touserdata(L, UP(UP_REC));
    for (int i = L_IDS; i <= L_OWN; i++) luaL_checktype(L, i, LUA_TTABLE);
    luaL_checkany(L, L_PAGE);
    luaL_checktype(L, L_LAZY, LUA_TTABLE);
    lua_settop(L, L_LAZY);
    luaL_checkstack(L, 24, "records");
    if (r->odd) return 0;
    for (uint32_t i = 0; i < r->nentries; i++)
        if (!plain(r->entries[i].name, r->entries[i].len, true)) return 0;
    qsort(r->entries, r->nentries, sizeof *r->entries, entry_cmp);
    lua_createtable(L, (int)r->objs.n, 0);
    int lines = lua_gettop(L);
    lua_Integer n = 0;
    for (uint32_t i = 0, j; i < r->nentries; i = j) {
        for (j = i + 1; j < r->nentries && r->entries[j].obj == r->entries[i].obj; j++) {}
        if (!push_line(L, &r->entries[i], j - i)) return 0;
        if (lua_rawlen(L, -1) > 0) lua_rawseti(L, lines, ++n);
        else lua_pop(L, 1);
    }
    return 1;
}

/* SHORT_NAME if this Lua interns strings that long (two copies made
 * apart are one string), else 0: every name is then compared by bytes. */
static size_t interned_up_to(lua_State *L)
{
    char a[SHORT_NAME], b[SHORT_NAME];
    memset(a, 'k', sizeof a);
    memcpy(b, a, sizeof b);
    lua_pushlstring(L, a, sizeof a);
    lua_pushlstring(L, b, sizeof b);
    bool one = lua_topointer(L, -1) == lua_topointer(L, -2);
    lua_pop(L, 2);
    return one ? SHORT_NAME : 0;
}

int pub_lua_deps_recorder(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_settop(L, 3);
    recorder *r = pub_lua_new_box(L, sizeof *r, RECORDER, recorder_gc);
    r->interned = interned_up_to(L);
    int rec = lua_gettop(L);
    lua_newtable(L); /* objects read */
    lua_newtable(L); /* field names read */
    lua_newtable(L); /* extra: other keys */
    static const struct {
        const char *name;
        lua_CFunction fn;
    } fns[] = {{"index", rec_index}, {"note", rec_note}, {"has", rec_has}, {"begin", rec_begin},
               {"stop", rec_stop}, {"reads", rec_reads}, {"lines", rec_lines}};
    lua_createtable(L, 0, (int)(sizeof fns / sizeof *fns));
    int out = lua_gettop(L);
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        for (int u = 0; u < 4; u++) lua_pushvalue(L, rec + u);
        for (int u = 1; u <= 3; u++) lua_pushvalue(L, u);
        lua_pushcclosure(L, fns[i].fn, 7);
        lua_setfield(L, out, fns[i].name);
    }
    return 1;
}
