/* Post snapshots to bytes and back (the contract is in snapshot.h). The
 * format is private to one engine build (the cache key holds the
 * engine's identity): a tag byte per value, integers and floats as 8
 * bytes little-endian, strings and userdata bytes after a 4-byte length,
 * the strings every post holds as one byte (`words`), a table as its
 * kind, its array and hash sizes (so it is made at its final size) and its
 * pairs up to an end tag; the n-th table written is reference n, and its
 * kind byte says whether a reference to it follows (only those are
 * remembered while reading). Reading makes every table at its size with
 * lua_createtable (`_doc` with room for the two fields it gets after)
 * and fills it with lua_rawseti (the array part) and lua_rawset, with no
 * string hashed twice: 10k posts come back in ~0.07 s of CPU (about 32k
 * instructions a post: a quarter setting fields, a fifth making strings,
 * a sixth making tables), where making them from the documents and
 * running their hooks again takes ten times that. After the post come its
 * fields' value hashes (snapshot.h), for the record check. */
#include "snapshot.h"
#include "bridge.h"
#include "deps_hash.h"
#include "../util/hash.h"
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    TAG_TRUE = 'T', TAG_FALSE = 'F', TAG_INT = 'I', TAG_FLOAT = 'N', TAG_STRING = 'S',
    TAG_NULL = 'U', TAG_POSITIONS = 'P', TAG_REF = 'R', TAG_TABLE = 'A', TAG_END = 'E',
    TAG_HASHES = 'H',
};
/* A table's kind: its metatable. */
enum { KIND_PLAIN, KIND_DATE, KIND_MAP, KIND_ROOT };
enum { MAX_DEPTH = 64 };

#define DATE_META "publish.Date"
#define MAP_META "publish.map"
#define DICT_KEY "publish.snapshot.words"
/* A table's kind byte has this bit when a reference to it follows. */
#define KIND_SHARED 0x80

/* Strings every post holds (field names, a date's, the usual values),
 * written as one byte: reading them then needs no hashing of the string.
 * Appending is fine; the order is part of the format (the engine's
 * identity is in every key, so a new binary never reads an old one). */
static const char *const words[] = {
    "kind", "post", "page", "path", "meta", "body_start", "body_line", "content_id", "date",
    "slug", "title", "categories", "tags", "draft", "layout", "output_ext", ".html", "url",
    "_doc", "excerpt", "excerpt_text", "positions", "name_slug", "markdown", "name_date",
    "folder_categories", "sass", "image", "description", "permalink", "author", "year",
    "month", "day", "hour", "min", "sec", "offset", "epoch", "has_time", "has_zone", "content",
    "body", "template", "category", "tag", "published", "lang", "toc", "id", "name",
};
enum { NWORDS = sizeof words / sizeof *words, TAG_WORD = 'W' };

/* Pushes the table of `words` (id -> string and string -> id), made once
 * per Lua state. */
static void push_words(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, DICT_KEY) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, NWORDS, NWORDS);
    for (int i = 0; i < NWORDS; i++) {
        lua_pushstring(L, words[i]);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, i + 1);
        lua_pushinteger(L, i + 1);
        lua_rawset(L, -3);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, DICT_KEY);
}

/* Fields left out of the post (root) and of its `_doc`: see snapshot.h. */
static const char *const root_skip[] = {"next", "previous", NULL};
static const char *const doc_skip[] = {"content_id", "content", "tree", "cache_key",
                                       "cached_effects", "highlight_keys", "keep_keys",
                                       "snapshot_id", "body", "field_hashes", NULL};

/* ---- Writing ----------------------------------------------------------------- */

enum { MAX_FIELDS = 255, NO_FIELD = -1 };

typedef struct writer {
    pub_buf *out;
    int seen;          /* stack index: table -> reference number */
    int at;            /* stack index: reference number -> offset of its kind byte */
    int words;         /* stack index: push_words's table */
    int owner;         /* stack index: reference number -> the post's field it was first under */
    int date_meta;     /* stack index: the Date metatable (or nil) */
    int map_meta;      /* stack index: the publish.map metatable (or nil) */
    uint32_t ntables;
    int field;         /* the post's field being written (its index), or NO_FIELD */
    int nfields;
    unsigned char group[MAX_FIELDS]; /* union-find over the post's fields: shared tables */
} writer;

static void put_u32(pub_buf *b, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    pub_buf_append(b, p, 4);
}

static void put_u64(pub_buf *b, uint64_t v)
{
    unsigned char p[8];
    pub_hash_put_le64(p, v);
    pub_buf_append(b, p, 8);
}

static void patch_u32(pub_buf *b, size_t at, uint32_t v)
{
    unsigned char *p = (unsigned char *)b->data + at;
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

/* Whether string key `k` (NULL: not a string) is in `skip`. */
static bool skipped(const char *k, const char *const *skip)
{
    if (!skip || !k) return false;
    for (size_t i = 0; skip[i]; i++)
        if (strcmp(k, skip[i]) == 0) return true;
    return false;
}

/* The kind of the (non-root) table at idx; -1 for a metatable not ours.
 * The metatables sit on the stack for the whole write: looking them up
 * by name in the registry cost two string lookups per table. */
static int table_kind(lua_State *L, const writer *w, int idx)
{
    if (!lua_getmetatable(L, idx)) return KIND_PLAIN;
    int kind = lua_rawequal(L, -1, w->date_meta) ? KIND_DATE : lua_rawequal(L, -1, w->map_meta) ? KIND_MAP : -1;
    lua_pop(L, 1);
    return kind;
}

/* The group of field i: the first field of those sharing a table with it. */
static int field_group(const writer *w, int i)
{
    while (w->group[i] != i) i = w->group[i];
    return i;
}

/* A table first written under field `other` is met again under the field
 * being written: the two share it (a change through one shows in the other). */
static void join_fields(writer *w, int other)
{
    if (w->field == NO_FIELD || other == NO_FIELD || other == w->field) return;
    int a = field_group(w, w->field), b = field_group(w, other);
    if (a != b) w->group[a > b ? a : b] = (unsigned char)(a < b ? a : b);
}

static bool write_value(lua_State *L, writer *w, int idx, int depth, const char *const *skip);

static bool write_table(lua_State *L, writer *w, int idx, int depth, const char *const *skip)
{
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, w->seen) == LUA_TNUMBER) {
        lua_Integer n = lua_tointeger(L, -1);
        lua_rawgeti(L, w->at, n + 1);
        w->out->data[lua_tointeger(L, -1)] |= (char)KIND_SHARED;
        pub_buf_putc(w->out, TAG_REF);
        put_u32(w->out, (uint32_t)n);
        lua_pop(L, 2);
        if (lua_rawgeti(L, w->owner, n + 1) == LUA_TNUMBER) join_fields(w, (int)lua_tointeger(L, -1));
        lua_pop(L, 1);
        return true;
    }
    lua_pop(L, 1);
    int kind = depth == 0 ? KIND_ROOT : table_kind(L, w, idx);
    if (kind < 0 || depth >= MAX_DEPTH) return false;
    /* Room for this table's key and value and a value's own lookups. */
    luaL_checkstack(L, 8, "snapshot");
    lua_pushvalue(L, idx);
    lua_pushinteger(L, (lua_Integer)w->ntables);
    lua_rawset(L, w->seen);
    lua_pushinteger(L, (lua_Integer)w->out->len + 1);
    lua_rawseti(L, w->at, (lua_Integer)++w->ntables);
    if (w->field != NO_FIELD) {
        lua_pushinteger(L, w->field);
        lua_rawseti(L, w->owner, (lua_Integer)w->ntables);
    }
    pub_buf_putc(w->out, TAG_TABLE);
    pub_buf_putc(w->out, (char)kind);
    size_t sizes = w->out->len;
    put_u32(w->out, 0);
    put_u32(w->out, 0);
    uint32_t narr = 0, nhash = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int t = lua_type(L, -2);
        /* The key's text, read once (lua_next keeps the key a string). */
        const char *k = t == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (skipped(k, skip)) {
            lua_pop(L, 1);
            continue;
        }
        const char *const *inner = NULL;
        if (depth == 0 && k && strcmp(k, "_doc") == 0) inner = doc_skip;
        /* A lazy content_id names this build's document: the reader sets it. */
        if (depth == 0 && k && strcmp(k, "content_id") == 0 && lua_type(L, -1) == LUA_TNUMBER) {
            lua_pop(L, 1);
            continue;
        }
        if (depth == 0) {
            w->field = w->nfields < MAX_FIELDS ? w->nfields : NO_FIELD;
            if (w->field != NO_FIELD) w->group[w->field] = (unsigned char)w->field;
            w->nfields++;
        }
        if ((t != LUA_TSTRING && t != LUA_TNUMBER) || !write_value(L, w, -2, depth + 1, NULL) ||
            !write_value(L, w, -1, depth + 1, inner)) {
            lua_pop(L, 2);
            return false;
        }
        lua_Integer i = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
        if (i >= 1 && i <= (lua_Integer)narr + nhash + 1) narr++;
        else nhash++;
        lua_pop(L, 1);
    }
    pub_buf_putc(w->out, TAG_END);
    patch_u32(w->out, sizes, narr);
    patch_u32(w->out, sizes + 4, nhash);
    return true;
}

static bool write_value(lua_State *L, writer *w, int idx, int depth, const char *const *skip)
{
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: pub_buf_putc(w->out, lua_toboolean(L, idx) ? TAG_TRUE : TAG_FALSE); return true;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            pub_buf_putc(w->out, TAG_INT);
            put_u64(w->out, (uint64_t)lua_tointeger(L, idx));
        } else {
            lua_Number n = lua_tonumber(L, idx);
            uint64_t bits;
            memcpy(&bits, &n, sizeof bits);
            pub_buf_putc(w->out, TAG_FLOAT);
            put_u64(w->out, bits);
        }
        return true;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (len <= 20) {
            lua_pushvalue(L, idx);
            if (lua_rawget(L, w->words) == LUA_TNUMBER) {
                pub_buf_putc(w->out, TAG_WORD);
                pub_buf_putc(w->out, (char)lua_tointeger(L, -1));
                lua_pop(L, 1);
                return true;
            }
            lua_pop(L, 1);
        }
        if (len > UINT32_MAX) return false;
        pub_buf_putc(w->out, TAG_STRING);
        put_u32(w->out, (uint32_t)len);
        pub_buf_append(w->out, s, len);
        return true;
    }
    case LUA_TLIGHTUSERDATA:
        if (!pub_lua_is_null(L, idx)) return false;
        pub_buf_putc(w->out, TAG_NULL);
        return true;
    case LUA_TUSERDATA: {
        size_t len;
        const void *bytes = pub_lua_positions_bytes(L, idx, &len);
        if (!bytes || len > UINT32_MAX) return false;
        pub_buf_putc(w->out, TAG_POSITIONS);
        put_u32(w->out, (uint32_t)len);
        pub_buf_append(w->out, bytes, len);
        return true;
    }
    case LUA_TTABLE: return write_table(L, w, idx, depth, skip);
    default: return false;
    }
}

typedef struct write_call {
    pub_buf *out;
    bool ok;
} write_call;

/* After the post: its fields' hashes (deps_hash.h), as the record check
 * computes them, so that an unchanged post's fields are not hashed again
 * (core/lua/deps_check.c; the format is in snapshot.h). The fields are
 * walked in the order write_table wrote them, so index i is field i. */
typedef struct field_entry {
    const char *name; /* the post's key, alive while the post is */
    size_t len;
    unsigned char flags, group;
    uint64_t hash;
} field_entry;

/* Names in byte order, a prefix first (pub_lua_snapshot_field stops at
 * the first name past the one it looks for). */
static int name_order(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen && blen && a[0] != b[0]) return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int entry_cmp(const void *x, const void *y)
{
    const field_entry *a = x, *b = y;
    return name_order(a->name, a->len, b->name, b->len);
}

static void write_field_hashes(lua_State *L, writer *w)
{
    if (w->nfields > MAX_FIELDS) return;
    field_entry entries[MAX_FIELDS];
    uint32_t count = 0;
    lua_newtable(L); /* ids: no table of a snapshot is a tracked object */
    int ids = lua_gettop(L), i = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int t = lua_type(L, -2);
        size_t len = 0;
        const char *name = t == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
        bool written = !skipped(name, root_skip) &&
                       !(name && strcmp(name, "content_id") == 0 && lua_type(L, -1) == LUA_TNUMBER);
        if (written && name && len <= 255 && count < MAX_FIELDS) {
            bool carried = strcmp(name, "_doc") != 0;
            entries[count++] = (field_entry){
                name, len,
                (unsigned char)((lua_type(L, -1) == LUA_TTABLE ? FIELD_TABLE : 0) | (carried ? FIELD_HASH : 0)),
                (unsigned char)field_group(w, i), carried ? pub_lua_deps_hash_at(L, -1, ids) : 0};
        }
        if (written) i++;
        lua_pop(L, 1);
    }
    qsort(entries, count, sizeof *entries, entry_cmp);
    pub_buf_putc(w->out, TAG_HASHES);
    put_u32(w->out, count);
    for (uint32_t k = 0; k < count; k++) {
        pub_buf_putc(w->out, (char)entries[k].len);
        pub_buf_append(w->out, entries[k].name, entries[k].len);
        pub_buf_putc(w->out, (char)entries[k].flags);
        pub_buf_putc(w->out, (char)entries[k].group);
        if (entries[k].flags & FIELD_HASH) put_u64(w->out, entries[k].hash);
    }
}

static int write_protected(lua_State *L)
{
    write_call *c = lua_touserdata(L, 2);
    /* Sized for a post (a dozen tables), so that they are not grown. */
    lua_createtable(L, 0, 16);
    lua_createtable(L, 16, 0);
    lua_createtable(L, 16, 0);
    push_words(L);
    luaL_getmetatable(L, DATE_META);
    luaL_getmetatable(L, MAP_META);
    int top = lua_gettop(L);
    writer w = {.out = c->out, .seen = top - 5, .at = top - 4, .owner = top - 3, .words = top - 2,
                .date_meta = top - 1, .map_meta = top, .field = NO_FIELD};
    c->ok = write_table(L, &w, 1, 0, root_skip);
    if (c->ok) write_field_hashes(L, &w);
    return 0;
}

bool pub_lua_snapshot_write(lua_State *L, int idx, pub_buf *out)
{
    if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 4)) return false;
    idx = lua_absindex(L, idx);
    write_call c = {out, false};
    lua_pushcfunction(L, write_protected);
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, &c);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        lua_pop(L, 1); /* out of memory: simply not snapshotted */
        return false;
    }
    return c.ok;
}

/* ---- Reading ----------------------------------------------------------------- */

typedef struct reader {
    const unsigned char *p, *end;
    int refs;          /* stack index: reference number -> table (shared ones only) */
    int words;         /* stack index: push_words's table */
    lua_Integer ntables;
    bool bad;
    int room;          /* hash slots to add to the next table made */
} reader;

/* The post's `_doc` gets two fields after it is read (`field_hashes`
 * here, `content_id` in build.c): made with room for them, it is not
 * grown (a rehash per post). */
enum { DOC_ROOM = 2 };

/* The byte `words` writes "_doc" as. */
static int doc_word(void)
{
    static int id;
    for (int i = 0; !id && i < NWORDS; i++)
        if (strcmp(words[i], "_doc") == 0) id = i + 1;
    return id;
}

static bool need(reader *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) r->bad = true;
    return !r->bad;
}

static uint32_t get_u32(reader *r)
{
    const unsigned char *p = r->p;
    r->p += 4;
    return pub_hash_get_le32(p);
}

static void set_kind(lua_State *L, int kind)
{
    if (kind == KIND_DATE) luaL_getmetatable(L, DATE_META);
    else if (kind == KIND_MAP) luaL_getmetatable(L, MAP_META);
    else return;
    lua_setmetatable(L, -2);
}

/* Pushes the next value; on bad bytes sets r->bad and pushes nil. */
static void read_value(lua_State *L, reader *r, int depth);

/* A table's body (after its tag): pushes the table and returns true, or
 * pushes nothing and returns false when its counts are already wrong. */
static bool read_table(lua_State *L, reader *r, int depth)
{
    if (!need(r, 9)) return false;
    int kind = *r->p++;
    uint32_t narr = get_u32(r), nhash = get_u32(r);
    if ((kind & ~KIND_SHARED) > KIND_ROOT || narr > (uint32_t)(r->end - r->p) ||
        nhash > (uint32_t)(r->end - r->p))
        return false;
    luaL_checkstack(L, 6, "snapshot");
    lua_createtable(L, (int)narr, (int)nhash + r->room);
    r->room = 0;
    ++r->ntables;
    if (kind & KIND_SHARED) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, r->refs, r->ntables);
    }
    kind &= ~KIND_SHARED;
    /* The array part comes first, keys 1, 2, ... (lua_next's order):
     * set by index, without pushing the key. */
    for (lua_Integer i = 1; i <= (lua_Integer)narr && need(r, 1) && *r->p == TAG_INT &&
                            need(r, 9) && (lua_Integer)pub_hash_get_le64(r->p + 1) == i;
         i++) {
        r->p += 9;
        read_value(L, r, depth + 1);
        if (r->bad) {
            lua_pop(L, 1);
            break;
        }
        lua_rawseti(L, -2, i);
    }
    while (!r->bad && need(r, 1) && *r->p != TAG_END) {
        bool doc = depth == 0 && *r->p == TAG_WORD && need(r, 2) && r->p[1] == doc_word();
        read_value(L, r, depth + 1);
        if (doc) r->room = DOC_ROOM;
        read_value(L, r, depth + 1);
        r->room = 0;
        if (r->bad || lua_isnil(L, -2)) {
            r->bad = true;
            lua_pop(L, 2);
            break;
        }
        lua_rawset(L, -3);
    }
    if (r->bad) return true; /* the table stands for nil: the caller drops all */
    r->p++;
    set_kind(L, kind);
    return true;
}

static void read_value(lua_State *L, reader *r, int depth)
{
    if (depth > MAX_DEPTH || !need(r, 1)) {
        r->bad = true;
        lua_pushnil(L);
        return;
    }
    int tag = *r->p++;
    switch (tag) {
    case TAG_TRUE: lua_pushboolean(L, 1); return;
    case TAG_FALSE: lua_pushboolean(L, 0); return;
    case TAG_NULL: pub_lua_push_null(L); return;
    case TAG_WORD:
        if (!need(r, 1) || *r->p == 0 || *r->p > NWORDS) break;
        lua_rawgeti(L, r->words, *r->p++);
        return;
    case TAG_INT:
    case TAG_FLOAT: {
        if (!need(r, 8)) break;
        uint64_t v = pub_hash_get_le64(r->p);
        r->p += 8;
        if (tag == TAG_INT) {
            lua_pushinteger(L, (lua_Integer)v);
        } else {
            lua_Number n;
            memcpy(&n, &v, sizeof n);
            lua_pushnumber(L, n);
        }
        return;
    }
    case TAG_STRING:
    case TAG_POSITIONS: {
        if (!need(r, 4)) break;
        uint32_t len = get_u32(r);
        if (!need(r, len)) break;
        if (tag == TAG_STRING) lua_pushlstring(L, (const char *)r->p, len);
        else pub_lua_push_positions_bytes(L, r->p, len);
        r->p += len;
        return;
    }
    case TAG_REF: {
        if (!need(r, 4)) break;
        uint32_t n = get_u32(r);
        if (n >= r->ntables || lua_rawgeti(L, r->refs, (lua_Integer)n + 1) != LUA_TTABLE) {
            lua_pop(L, 1);
            break;
        }
        return;
    }
    case TAG_TABLE:
        if (read_table(L, r, depth)) return;
        break;
    default: break;
    }
    r->bad = true;
    lua_pushnil(L);
}

typedef struct read_call {
    const void *bytes;
    size_t len;
    bool bad;
} read_call;

/* The field hashes after the post go, as they are, to its `_doc` as
 * `field_hashes` (the check reads them, pub_lua_snapshot_field). */
static void read_field_hashes(lua_State *L, reader *r)
{
    size_t len = (size_t)(r->end - r->p);
    if (!pub_lua_snapshot_field(r->p, len, NULL, 0, NULL)) {
        r->bad = true;
        return;
    }
    lua_pushliteral(L, "_doc");
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_pushliteral(L, "field_hashes");
        lua_pushlstring(L, (const char *)r->p, len);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    r->p = r->end;
}

static int read_protected(lua_State *L)
{
    read_call *c = lua_touserdata(L, 1);
    /* Sized for a post's shared tables (its date), so it is not grown. */
    lua_createtable(L, 16, 0);
    push_words(L);
    reader r = {c->bytes, (const unsigned char *)c->bytes + c->len, lua_gettop(L) - 1,
                lua_gettop(L), 0, false, 0};
    read_value(L, &r, 0);
    if (!r.bad && r.p < r.end && *r.p == TAG_HASHES && lua_istable(L, -1)) read_field_hashes(L, &r);
    c->bad = r.bad || r.p != r.end || !lua_istable(L, -1);
    return 1;
}

/* ---- Field hashes -------------------------------------------------------------- */

bool pub_lua_snapshot_field(const void *bytes, size_t len, const char *name, size_t name_len,
                            pub_snapshot_field *out)
{
    const unsigned char *p = bytes, *end = p + len;
    if (len < 5 || *p != TAG_HASHES) return false;
    uint32_t count = pub_hash_get_le32(p + 1);
    p += 5;
    for (uint32_t i = 0; i < count; i++) {
        if (end - p < 3 || end - p < 3 + p[0]) return false;
        size_t n = p[0];
        unsigned flags = p[1 + n];
        size_t size = 3 + n + (flags & FIELD_HASH ? 8 : 0);
        if ((size_t)(end - p) < size) return false;
        if (name) {
            int c = name_order((const char *)p + 1, n, name, name_len);
            if (c > 0) return false; /* sorted: it is not there */
            if (c == 0) {
                if (out)
                    *out = (pub_snapshot_field){flags, p[2 + n],
                                                flags & FIELD_HASH ? pub_hash_get_le64(p + 3 + n) : 0};
                return true;
            }
        }
        p += size;
    }
    return !name && p == end;
}

int pub_lua_snapshot_read(lua_State *L, const void *bytes, size_t len)
{
    if (!lua_checkstack(L, 4)) return -1;
    read_call c = {bytes, len, false};
    lua_pushcfunction(L, read_protected);
    lua_pushlightuserdata(L, &c);
    int rc = lua_pcall(L, 1, 1, 0);
    if (rc != LUA_OK) return rc;
    if (c.bad) {
        lua_pop(L, 1);
        return -1;
    }
    return LUA_OK;
}
