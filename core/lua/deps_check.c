/* The check of incremental builds: which prepared pages' records (core/deps.h)
 * still hold, in one call over every page. A record holds when every
 * input it lists hashes now as it did (core/lua/deps.lua has the format).
 * Pages share most of what they read (a post's title is on every listing
 * that shows it), so each distinct record line is judged once per build
 * (two sets of 64-bit line hashes: lines known to hold, lines known not
 * to), and each (object, field) is hashed once (a memo of value hashes by
 * a hash of the object's id and the field's name; a table several values
 * share, such as the category tables in every post's `category_links`,
 * once per check by its address, deps_hash.h): no Lua string is made per
 * line or per hash. A line of a tracked object (a post, a page, `site`,
 * `data`) with plain field names is judged here; any other line (files,
 * the build's inputs, the environment, escaped names, the `*keys` and
 * `*len` pseudo-fields) by deps.lua's judge, once per line too. A post
 * taken from its snapshot comes with its fields' hashes (lua/snapshot.h):
 * a field nothing can have changed since (deps.lua's `touched`) is not
 * hashed again.
 *
 * The check never reads the clock or the file system itself; keeping a
 * page (claiming its output as unchanged) is the caller's `keep`. */
#include "lua/deps_check.h"
#include "lua/deps_hash.h"
#include "lua/lib.h"
#include "lua/snapshot.h"
#include "util/hash.h"
#include "util/mem.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_STATE "publish.DepsCheck"

/* Stack slots of pub_lua_deps_check's arguments. */
enum { OUTPUTS = 1, BY_ID, BACKING, IDS, LAZY_HASH, LAZY_META, LAZY_FIELDS, JUDGE, CARRIED, TOUCHED };

enum { MEMO_TEXT = 23 };

typedef struct memo_entry {
    uint64_t key; /* 0: empty */
    unsigned char len;
    char text[MEMO_TEXT]; /* the hash as a record writes it */
} memo_entry;

typedef struct set {
    uint64_t *slots; /* 0: empty; cap a power of two */
    size_t cap, len;
} set;

/* A userdata with __gc: everything malloc'd here is freed even when the
 * judge or a lazy field raises. */
typedef struct check_state {
    set good, bad;
    memo_entry *memo;
    size_t memo_cap, memo_len;
    pub_deps_table_memo tables; /* nested tables hashed once (deps_hash.h) */
} check_state;

static int state_gc(lua_State *L)
{
    check_state *cs = luaL_checkudata(L, 1, CHECK_STATE);
    free(cs->good.slots);
    free(cs->bad.slots);
    free(cs->memo);
    free(cs->tables.slots);
    memset(cs, 0, sizeof *cs);
    return 0;
}

static check_state *new_state(lua_State *L)
{
    check_state *cs = pub_lua_new_box(L, sizeof *cs, CHECK_STATE, state_gc);
    cs->good.cap = cs->bad.cap = 1 << 12;
    cs->good.slots = pub_xcalloc(cs->good.cap, sizeof *cs->good.slots);
    cs->bad.slots = pub_xcalloc(cs->bad.cap, sizeof *cs->bad.slots);
    cs->memo_cap = 1 << 14;
    cs->memo = pub_xcalloc(cs->memo_cap, sizeof *cs->memo);
    return cs;
}

static uint64_t nonzero(uint64_t h) { return h ? h : 1; }

static bool set_has(const set *s, uint64_t h)
{
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == h) return true;
        if (s->slots[i] == 0) return false;
    }
}

static void set_put(set *s, uint64_t h)
{
    if ((s->len + 1) * 2 > s->cap) {
        size_t cap = s->cap * 2;
        uint64_t *slots = pub_xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i]) continue;
            size_t j = s->slots[i] & (cap - 1);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = s->slots[i];
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t i = h & (s->cap - 1);
    while (s->slots[i] && s->slots[i] != h) i = (i + 1) & (s->cap - 1);
    if (!s->slots[i]) {
        s->slots[i] = h;
        s->len++;
    }
}

static memo_entry *memo_find(check_state *cs, uint64_t key)
{
    for (size_t i = key & (cs->memo_cap - 1);; i = (i + 1) & (cs->memo_cap - 1)) {
        if (cs->memo[i].key == key) return &cs->memo[i];
        if (cs->memo[i].key == 0) return NULL;
    }
}

static void memo_put(check_state *cs, uint64_t key, const char *text, size_t len)
{
    if (len > MEMO_TEXT) return;
    if ((cs->memo_len + 1) * 2 > cs->memo_cap) {
        size_t cap = cs->memo_cap * 2;
        memo_entry *memo = pub_xcalloc(cap, sizeof *memo);
        for (size_t i = 0; i < cs->memo_cap; i++) {
            if (!cs->memo[i].key) continue;
            size_t j = cs->memo[i].key & (cap - 1);
            while (memo[j].key) j = (j + 1) & (cap - 1);
            memo[j] = cs->memo[i];
        }
        free(cs->memo);
        cs->memo = memo;
        cs->memo_cap = cap;
    }
    size_t i = key & (cs->memo_cap - 1);
    while (cs->memo[i].key && cs->memo[i].key != key) i = (i + 1) & (cs->memo_cap - 1);
    if (!cs->memo[i].key) cs->memo_len++;
    cs->memo[i].key = key;
    cs->memo[i].len = (unsigned char)len;
    memcpy(cs->memo[i].text, text, len);
}

/* Pushes the value of field `field` (at the top) of the backing table at
 * `backing` as a page reads it through its proxy (deps.lua's field_hash):
 * raw, else the engine's lazy field, else nil without calling Lua when
 * the table's metatable is the engine's and the name no lazy field. */
static void push_field_value(lua_State *L, int backing, int field)
{
    lua_pushvalue(L, field);
    if (lua_rawget(L, backing) != LUA_TNIL) return;
    if (!lua_getmetatable(L, backing)) return; /* nil stays */
    bool plain = lua_rawequal(L, -1, LAZY_META);
    lua_pop(L, 1);
    if (plain) {
        lua_pushvalue(L, field);
        plain = lua_rawget(L, LAZY_FIELDS) == LUA_TNIL;
        lua_pop(L, 1);
        if (plain) return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, field);
    lua_gettable(L, backing); /* a lazy body or a plugin's __index may run Lua */
}

/* What the check knows of an object's snapshot (lua/snapshot.h): its
 * field hashes, and which of them may no longer stand. Made once per
 * record line of the object. */
enum { MAX_TOUCHED = 8 };

typedef struct carried {
    const char *fields; /* the snapshot's field hashes, NULL: none */
    size_t len;
    uint64_t groups;    /* bit g: a table of group g was read (GROUPS_ALL: any may be) */
    int ntouched;       /* the names noted in `touched` (borrowed from it) */
    struct {
        const char *s;
        size_t len;
    } touched[MAX_TOUCHED];
} carried;

#define GROUPS_ALL UINT64_MAX

/* Pushes the object's field hashes and touched set (nil when it has none)
 * and fills `c`: a field of a group some read table belongs to, or one set
 * since, keeps no carried hash. Two values pushed. */
static void push_carried(lua_State *L, int proxy, carried *c)
{
    c->fields = NULL;
    c->groups = 0;
    c->ntouched = 0;
    lua_pushvalue(L, proxy);
    if (lua_rawget(L, CARRIED) != LUA_TSTRING) {
        lua_pushnil(L);
        return;
    }
    c->fields = lua_tolstring(L, -1, &c->len);
    lua_pushvalue(L, proxy);
    if (lua_rawget(L, TOUCHED) != LUA_TTABLE) return;
    int touched = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, touched)) {
        lua_pop(L, 1);
        size_t tl;
        const char *t = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &tl) : NULL;
        pub_snapshot_field f;
        /* A number key: its group is not known; too many names: not kept. */
        if (!t || c->ntouched == MAX_TOUCHED) {
            c->groups = GROUPS_ALL;
            continue;
        }
        c->touched[c->ntouched].s = t;
        c->touched[c->ntouched++].len = tl;
        if (pub_lua_snapshot_field(c->fields, c->len, t, tl, &f) && (f.flags & FIELD_TABLE))
            c->groups |= f.group < 64 ? (uint64_t)1 << f.group : GROUPS_ALL;
    }
}

/* The hash the snapshot carries for field `name`, when nothing can have
 * changed the value since: neither the field itself was set or read as a
 * table, nor a table it shares. */
static bool carried_hash(const carried *c, const char *name, size_t len, uint64_t *hash)
{
    pub_snapshot_field f;
    if (!c->fields || !pub_lua_snapshot_field(c->fields, c->len, name, len, &f) || !(f.flags & FIELD_HASH))
        return false;
    if (c->groups == GROUPS_ALL || (f.group < 64 && (c->groups >> f.group & 1))) return false;
    if (f.group >= 64 && c->groups) return false;
    for (int i = 0; i < c->ntouched; i++)
        if (c->touched[i].len == len && memcmp(c->touched[i].s, name, len) == 0) return false;
    *hash = f.hash;
    return true;
}

/* The value of a record's hash (hex, as pub_lua_deps_hex writes it), or
 * false when it is not one. */
static bool parse_hex(const char *s, size_t len, uint64_t *v)
{
    if (len == 0 || len > 16 || (len > 1 && s[0] == '0')) return false;
    uint64_t h = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return false;
        h = h << 4 | (uint64_t)d;
    }
    *v = h;
    return true;
}

/* Whether field `name` of an object hashes as `hash` now. `key`: the
 * memo's key of (object, field). */
static bool field_holds(lua_State *L, check_state *cs, const carried *c, int backing, uint64_t key,
                        const char *name, size_t name_len, const char *hash, size_t hash_len)
{
    uint64_t h, recorded;
    /* A carried hash needs neither a Lua string nor the memo. */
    if (carried_hash(c, name, name_len, &h)) return parse_hex(hash, hash_len, &recorded) && recorded == h;
    const memo_entry *e = memo_find(cs, key);
    if (e) return e->len == hash_len && memcmp(e->text, hash, hash_len) == 0;
    lua_pushlstring(L, name, name_len);
    int field = lua_gettop(L);
    char hex[16];
    const char *now;
    size_t len;
    if (pub_lua_deps_push_lazy_hash(L, LAZY_HASH, backing, field)) {
        now = lua_tolstring(L, -1, &len);
    } else {
        push_field_value(L, backing, field);
        len = pub_lua_deps_hex(pub_lua_deps_hash_at_memo(L, -1, IDS, &cs->tables), hex);
        now = hex;
    }
    memo_put(cs, key, now, len);
    bool holds = len == hash_len && memcmp(now, hash, len) == 0;
    lua_settop(L, field - 1);
    return holds;
}

typedef enum { HOLDS, DIFFERS, UNKNOWN } verdict;

/* One record line "ID\tFIELD\tHASH..." of a tracked object, judged here;
 * UNKNOWN for any other line (the judge's). */
static verdict judge_object_line(lua_State *L, check_state *cs, const char *line, const char *end)
{
    const char *tab = memchr(line, '\t', (size_t)(end - line));
    if (!tab || memchr(line, '%', (size_t)(end - line))) return UNKNOWN;
    int top = lua_gettop(L);
    lua_pushlstring(L, line, (size_t)(tab - line));
    if (lua_rawget(L, BY_ID) != LUA_TTABLE) {
        lua_settop(L, top);
        return UNKNOWN;
    }
    int proxy = lua_gettop(L);
    lua_pushvalue(L, proxy);
    lua_rawget(L, BACKING); /* the proxy's backing table */
    int backing = lua_gettop(L);
    if (lua_type(L, backing) != LUA_TTABLE) {
        lua_settop(L, top);
        return UNKNOWN;
    }
    carried c;
    push_carried(L, proxy, &c);
    int base = lua_gettop(L);
    uint64_t id_hash = pub_hash(line, (size_t)(tab - line), 0);
    verdict v = HOLDS;
    for (const char *p = tab + 1; v == HOLDS && p < end;) {
        const char *field_end = memchr(p, '\t', (size_t)(end - p));
        if (!field_end || *p == '*') {
            v = UNKNOWN;
            break;
        }
        const char *hash = field_end + 1;
        const char *hash_end = memchr(hash, '\t', (size_t)(end - hash));
        if (!hash_end) hash_end = end;
        uint64_t key = nonzero(pub_hash(p, (size_t)(field_end - p), id_hash));
        if (!field_holds(L, cs, &c, backing, key, p, (size_t)(field_end - p), hash,
                         (size_t)(hash_end - hash)))
            v = DIFFERS;
        lua_settop(L, base);
        p = hash_end + 1;
    }
    lua_settop(L, top);
    return v;
}

/* Whether every input of a record (the text after its first line) hashes
 * as recorded. */
static bool record_holds(lua_State *L, check_state *cs, const char *text, size_t len)
{
    const char *end = text + len;
    const char *line = memchr(text, '\n', len);
    if (!line || line + 1 >= end) return false;
    for (line++; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        size_t n = (size_t)(nl - line);
        uint64_t h = nonzero(pub_hash(line, n, 0x5bd1e995u + n));
        if (set_has(&cs->bad, h)) return false;
        if (!set_has(&cs->good, h)) {
            verdict v = judge_object_line(L, cs, line, nl);
            if (v == UNKNOWN) {
                lua_pushvalue(L, JUDGE);
                lua_pushlstring(L, line, n);
                lua_call(L, 1, 1);
                v = lua_toboolean(L, -1) ? HOLDS : DIFFERS;
                lua_pop(L, 1);
            }
            if (v != HOLDS) {
                set_put(&cs->bad, h);
                return false;
            }
            set_put(&cs->good, h);
        }
        line = nl + 1;
    }
    return true;
}

/* The hash of a page's output bytes, the first line of its record. */
static bool output_hash(const char *text, size_t len, uint64_t *hash)
{
    const char *nl = memchr(text, '\n', len);
    return nl && parse_hex(text, (size_t)(nl - text), hash);
}

int pub_lua_deps_check(lua_State *L, pub_deps *d, pub_deps_keep_fn keep, void *ud)
{
    luaL_checktype(L, OUTPUTS, LUA_TTABLE);
    for (int i = BY_ID; i <= LAZY_HASH; i++) luaL_checktype(L, i, LUA_TTABLE);
    luaL_checktype(L, LAZY_FIELDS, LUA_TTABLE);
    luaL_checktype(L, JUDGE, LUA_TFUNCTION);
    luaL_checktype(L, CARRIED, LUA_TTABLE);
    luaL_checktype(L, TOUCHED, LUA_TTABLE);
    lua_settop(L, TOUCHED);
    luaL_checkstack(L, 24, "records");
    check_state *cs = new_state(L);
    lua_newtable(L);
    cs->tables.anchors = lua_gettop(L);
    lua_newtable(L);
    int render = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, OUTPUTS), count = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, OUTPUTS, i);
        const char *output = lua_tostring(L, -1);
        long at = output ? pub_deps_find(d, output) : -1;
        bool kept = false;
        if (at >= 0) {
            const char *o, *text;
            size_t len;
            uint64_t hash;
            pub_deps_get(d, (size_t)at, &o, &text, &len);
            kept = output_hash(text, len, &hash) && keep(ud, output, hash, false) &&
                   record_holds(L, cs, text, len) && keep(ud, output, hash, true);
            if (kept) pub_deps_carry(d, (size_t)at);
        }
        lua_pop(L, 1);
        if (!kept) {
            lua_pushinteger(L, i);
            lua_rawseti(L, render, ++count);
        }
    }
    return 1;
}
