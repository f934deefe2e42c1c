/* The bridge between pub_value trees and Lua values: front matter, config
 * and data files going to plugins, and post.meta tables coming back from
 * bulk edits. Also the publish.Date metatable, because dates are the one
 * value kind that needs behaviour (ISO tostring, comparison by instant).
 * It does not parse or print YAML; frontmatter.c does. */
#include "bridge.h"
#include "../frontmatter.h"
#include "../util/buf.h"
#include "../util/mem.h"
#include "../util/utf8.h"
#include <lauxlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATE_META "publish.Date"
#define MAP_META "publish.map"

/* Its address is the identity of `publish.null`. */
static const char null_sentinel = 0;

void pub_lua_push_null(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&null_sentinel);
}

int pub_lua_is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA &&
           lua_touserdata(L, idx) == (const void *)&null_sentinel;
}

/* -------------------------------------------------------------- positions */

/* The userdata's bytes: for each key, a record header then the key's
 * bytes (unaligned; read with memcpy). */
#define POSITIONS_META "publish.positions"
typedef struct key_record {
    uint32_t key_len;
    int32_t at[4]; /* value line, value col, key line, key col */
} key_record;

static int positions_index(lua_State *L)
{
    size_t key_len;
    const char *key = lua_tolstring(L, 2, &key_len);
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    const char *p = lua_touserdata(L, 1);
    const char *end = p + lua_rawlen(L, 1);
    const char *found = NULL;
    while (p < end) {
        key_record r;
        memcpy(&r, p, sizeof r);
        if (r.key_len == key_len && memcmp(p + sizeof r, key, key_len) == 0) found = p;
        p += sizeof r + r.key_len;
    }
    if (!found) return 0;
    key_record r;
    memcpy(&r, found, sizeof r);
    lua_createtable(L, 4, 0);
    for (int i = 0; i < 4; i++) {
        lua_pushinteger(L, r.at[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

void pub_lua_push_key_positions(lua_State *L, const pub_value *meta)
{
    size_t n = meta && meta->type == PUB_MAP ? meta->as.map.len : 0, size = 0;
    for (size_t i = 0; i < n; i++) size += sizeof(key_record) + meta->as.map.pairs[i].key_len;
    char *p = lua_newuserdatauv(L, size, 0);
    for (size_t i = 0; i < n; i++) {
        const pub_pair *pair = &meta->as.map.pairs[i];
        int line = pair->value ? pair->value->line : pair->key_line;
        int col = pair->value ? pair->value->col : pair->key_col;
        key_record r = {(uint32_t)pair->key_len,
                        {line, col, pair->key_line ? pair->key_line : line,
                         pair->key_line ? pair->key_col : col}};
        memcpy(p, &r, sizeof r);
        memcpy(p + sizeof r, pair->key, pair->key_len);
        p += sizeof r + pair->key_len;
    }
    if (luaL_newmetatable(L, POSITIONS_META)) {
        lua_pushcfunction(L, positions_index);
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
}

const void *pub_lua_positions_bytes(lua_State *L, int idx, size_t *len)
{
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return NULL;
    luaL_getmetatable(L, POSITIONS_META);
    bool ours = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!ours) return NULL;
    *len = lua_rawlen(L, idx);
    return lua_touserdata(L, idx);
}

void pub_lua_push_positions_bytes(lua_State *L, const void *bytes, size_t len)
{
    void *p = lua_newuserdatauv(L, len, 0);
    if (len) memcpy(p, bytes, len);
    if (luaL_newmetatable(L, POSITIONS_META)) {
        lua_pushcfunction(L, positions_index);
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
}

/* ------------------------------------------------------------------ dates */

size_t pub_lua_date_iso(const pub_date *d, char *out)
{
    int off = d->offset_min;
    char sign = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    int n = snprintf(out, PUB_LUA_ISO_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                     d->year, d->month, d->day, d->hour, d->min, d->sec, sign,
                     off / 60, off % 60);
    if (n < 0) n = 0;
    if (n >= PUB_LUA_ISO_SIZE) n = PUB_LUA_ISO_SIZE - 1;
    return (size_t)n;
}

/* Raw reads, so that neither metamethods nor odd field types can raise:
 * pub_lua_to_date runs inside pub_lua_to_value, which must never raise. */
static lua_Integer raw_int(lua_State *L, int idx, const char *key, lua_Integer dflt)
{
    lua_pushstring(L, key);
    lua_rawget(L, idx);
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    return isnum ? v : dflt;
}

static int raw_bool(lua_State *L, int idx, const char *key, int dflt)
{
    lua_pushstring(L, key);
    lua_rawget(L, idx);
    int v = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static int clamp_int(lua_Integer v)
{
    if (v > 1000000000) return 1000000000;
    if (v < -1000000000) return -1000000000;
    return (int)v;
}

int pub_lua_to_date(lua_State *L, int idx, pub_date *d)
{
    if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 3)) return 0;
    idx = lua_absindex(L, idx);
    if (!lua_getmetatable(L, idx)) return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, DATE_META);
    int is_date = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!is_date) return 0;
    if (d) {
        memset(d, 0, sizeof *d);
        d->year = clamp_int(raw_int(L, idx, "year", 1970));
        d->month = clamp_int(raw_int(L, idx, "month", 1));
        d->day = clamp_int(raw_int(L, idx, "day", 1));
        d->hour = clamp_int(raw_int(L, idx, "hour", 0));
        d->min = clamp_int(raw_int(L, idx, "min", 0));
        d->sec = clamp_int(raw_int(L, idx, "sec", 0));
        d->offset_min = clamp_int(raw_int(L, idx, "offset", 0));
        d->has_time = raw_bool(L, idx, "has_time", 1);
        d->has_zone = raw_bool(L, idx, "has_zone", 1);
    }
    return 1;
}

/* A date operand of a metamethod, or an error naming what it was. */
static pub_date check_date(lua_State *L, int idx)
{
    pub_date d;
    if (!pub_lua_to_date(L, idx, &d)) luaL_typeerror(L, idx, DATE_META);
    return d;
}

static int date_tostring(lua_State *L)
{
    pub_date d = check_date(L, 1);
    char iso[PUB_LUA_ISO_SIZE];
    size_t n = pub_lua_date_iso(&d, iso);
    lua_pushlstring(L, iso, n);
    return 1;
}

/* Comparisons use the fields, not the cached epoch, so a date a script
 * edited (d.day = d.day + 1) still compares right. */
static int date_eq(lua_State *L)
{
    pub_date a, b;
    if (!pub_lua_to_date(L, 1, &a) || !pub_lua_to_date(L, 2, &b)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushboolean(L, pub_date_epoch(&a) == pub_date_epoch(&b));
    return 1;
}

/* Both operands of < or <=, or the error Lua gives for other types. */
static void compare_operands(lua_State *L, pub_date *a, pub_date *b)
{
    int da = pub_lua_to_date(L, 1, a), db = pub_lua_to_date(L, 2, b);
    if (!da || !db)
        luaL_error(L, "attempt to compare %s with %s", da ? DATE_META : luaL_typename(L, 1),
                   db ? DATE_META : luaL_typename(L, 2));
}

static int date_lt(lua_State *L)
{
    pub_date a, b;
    compare_operands(L, &a, &b);
    lua_pushboolean(L, pub_date_epoch(&a) < pub_date_epoch(&b));
    return 1;
}

static int date_le(lua_State *L)
{
    pub_date a, b;
    compare_operands(L, &a, &b);
    lua_pushboolean(L, pub_date_epoch(&a) <= pub_date_epoch(&b));
    return 1;
}

static const luaL_Reg date_meta[] = {
    {"__tostring", date_tostring},
    {"__eq", date_eq},
    {"__lt", date_lt},
    {"__le", date_le},
    {NULL, NULL},
};

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

void pub_lua_push_date(lua_State *L, const pub_date *src)
{
    pub_date d = *src;
    /* A zoneless date means local time in the site's zone; the offset
     * is filled in for epoch and tostring, and has_zone stays false so
     * converting back writes it without a zone, as the author did. */
    if (!d.has_zone) pub_date_localize(&d);
    luaL_checkstack(L, 3, "date");
    lua_createtable(L, 0, 10);
    set_int(L, "year", d.year);
    set_int(L, "month", d.month);
    set_int(L, "day", d.day);
    set_int(L, "hour", d.hour);
    set_int(L, "min", d.min);
    set_int(L, "sec", d.sec);
    set_int(L, "offset", d.offset_min);
    set_int(L, "epoch", pub_date_epoch(&d));
    lua_pushboolean(L, d.has_time);
    lua_setfield(L, -2, "has_time");
    lua_pushboolean(L, d.has_zone);
    lua_setfield(L, -2, "has_zone");
    if (luaL_newmetatable(L, DATE_META)) {
        luaL_setfuncs(L, date_meta, 0);
        lua_pushliteral(L, DATE_META);
        lua_setfield(L, -2, "__name");
    }
    lua_setmetatable(L, -2);
}

/* ----------------------------------------------------------- value -> Lua */

/* The shared metatable that keeps an empty map a map on the way back. */
static void set_map_marker(lua_State *L)
{
    if (luaL_newmetatable(L, MAP_META)) {
        lua_pushliteral(L, "map");
        lua_setfield(L, -2, "__yaml");
    }
    lua_setmetatable(L, -2);
}

void pub_lua_push_value(lua_State *L, const pub_value *v)
{
    luaL_checkstack(L, 4, "value nesting");
    if (!v) {
        lua_pushnil(L);
        return;
    }
    switch (v->type) {
    case PUB_NULL: lua_pushnil(L); break;
    case PUB_BOOL: lua_pushboolean(L, v->as.boolean); break;
    case PUB_INT: lua_pushinteger(L, (lua_Integer)v->as.integer); break;
    case PUB_FLOAT: lua_pushnumber(L, v->as.number); break;
    case PUB_STRING: lua_pushlstring(L, v->as.string.bytes, v->as.string.len); break;
    case PUB_DATE: pub_lua_push_date(L, &v->as.date); break;
    case PUB_LIST: {
        size_t n = v->as.list.len;
        lua_createtable(L, n > 0x7fffffff ? 0x7fffffff : (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            const pub_value *item = v->as.list.items[i];
            if (!item || item->type == PUB_NULL) pub_lua_push_null(L);
            else pub_lua_push_value(L, item);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case PUB_MAP: {
        size_t n = v->as.map.len, kept = 0;
        lua_createtable(L, 0, n > 0x7fffffff ? 0x7fffffff : (int)n);
        for (size_t i = 0; i < n; i++) {
            const pub_pair *p = &v->as.map.pairs[i];
            if (!p->value || p->value->type == PUB_NULL) continue;
            lua_pushlstring(L, p->key, p->key_len);
            pub_lua_push_value(L, p->value);
            lua_rawset(L, -3);
            kept++;
        }
        if (!kept) set_map_marker(L);
        break;
    }
    }
}

static int push_value_protected(lua_State *L)
{
    pub_lua_push_value(L, lua_touserdata(L, 1));
    return 1;
}

/* The push runs in a protected call, as pub_lua_push_owned's: v is freed
 * whatever happens, and a memory error is raised again after. */
void pub_lua_push_value_free(lua_State *L, pub_value *v)
{
    lua_pushcfunction(L, push_value_protected);
    lua_pushlightuserdata(L, v);
    int rc = lua_pcall(L, 1, 1, 0);
    pub_value_free(v);
    if (rc != LUA_OK) lua_error(L);
}

/* ----------------------------------------------------------- Lua -> value */

int pub_lua_table_is_list(lua_State *L, int idx, size_t *len)
{
    if (len) *len = 0;
    if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 3)) return 0;
    idx = lua_absindex(L, idx);
    if (lua_getmetatable(L, idx)) {
        lua_pushliteral(L, "__yaml");
        lua_rawget(L, -2);
        size_t n = 0;
        const char *mark = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        int is_map = mark && n == 3 && memcmp(mark, "map", 3) == 0;
        lua_pop(L, 2);
        if (is_map) return 0;
    }
    /* Keys exactly 1..n: every key a positive integer and the largest
     * equal to the count. One pass, no length operator (which could be
     * any border with holes). */
    lua_Integer count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        lua_Integer k = lua_tointeger(L, -1);
        if (k < 1) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > max) max = k;
        count++;
    }
    if (max != count) return 0;
    if (len) *len = (size_t)count;
    return 1;
}

typedef struct conv {
    lua_State *L;
    const char *what; /* "front matter", "YAML", ... for messages */
    char **error;
    pub_buf path;     /* the key path for messages: "links[2].url" */
    const void *open[PUB_YAML_MAX_DEPTH + 1]; /* tables being converted */
    int depth;
} conv;

/* Sets *error to "<problem> in <what> (key '<path>')"; returns NULL. */
static pub_value *fail(conv *c, const char *problem, const char *name)
{
    pub_buf msg = PUB_BUF_INIT;
    pub_buf_printf(&msg, "%s%s in %s", problem, name ? name : "", c->what);
    if (c->path.len) pub_buf_printf(&msg, " (key '%s')", pub_buf_cstr(&c->path));
    *c->error = pub_buf_detach(&msg);
    return NULL;
}

typedef struct entry {
    char *key;
    size_t key_len;
    pub_value *value;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int r = memcmp(x->key, y->key, n);
    if (r) return r;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* The text a non-string key becomes, written without lua_tolstring (which
 * would change the key in place and break lua_next). NULL for keys that
 * have no sensible text. */
static char *key_text(lua_State *L, int idx, size_t *len)
{
    char tmp[64];
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        const char *s = lua_tolstring(L, idx, len);
        return pub_xstrndup(s, *len);
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
        else snprintf(tmp, sizeof tmp, "%.14g", (double)lua_tonumber(L, idx));
        break;
    case LUA_TBOOLEAN:
        snprintf(tmp, sizeof tmp, "%s", lua_toboolean(L, idx) ? "true" : "false");
        break;
    default:
        return NULL;
    }
    *len = strlen(tmp);
    return pub_xstrdup(tmp);
}

static pub_value *convert(conv *c, int idx);

static pub_value *convert_table(conv *c, int idx)
{
    lua_State *L = c->L;
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < c->depth; i++)
        if (c->open[i] == self) return fail(c, "cannot store a table that contains itself", NULL);
    if (c->depth >= PUB_YAML_MAX_DEPTH)
        return fail(c, "cannot store tables nested this deep", NULL);
    if (!lua_checkstack(L, 4)) return fail(c, "cannot store tables nested this deep", NULL);
    c->open[c->depth++] = self;
    size_t mark = c->path.len;
    size_t n;
    pub_value *out;
    if (pub_lua_table_is_list(L, idx, &n)) {
        out = pub_value_list();
        for (size_t i = 1; i <= n; i++) {
            pub_buf_printf(&c->path, "[%zu]", i);
            lua_rawgeti(L, idx, (lua_Integer)i);
            pub_value *item = convert(c, lua_gettop(L));
            lua_pop(L, 1);
            c->path.len = mark;
            c->path.data[mark] = '\0';
            if (!item) {
                pub_value_free(out);
                out = NULL;
                break;
            }
            pub_list_push(out, item);
        }
    } else {
        entry *entries = NULL;
        size_t len = 0, cap = 0;
        int ok = 1;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            size_t klen = 0;
            char *key = key_text(L, -2, &klen);
            if (!key) {
                ok = 0;
                fail(c, "cannot use a key of type ", lua_typename(L, lua_type(L, -2)));
                lua_pop(L, 2);
                break;
            }
            if (c->path.len) pub_buf_putc(&c->path, '.');
            pub_buf_append(&c->path, key, klen);
            pub_value *v = convert(c, lua_gettop(L));
            c->path.len = mark;
            if (c->path.data) c->path.data[mark] = '\0';
            lua_pop(L, 1);
            if (!v) {
                free(key);
                lua_pop(L, 1);
                ok = 0;
                break;
            }
            if (len == cap) {
                cap = cap ? cap * 2 : 8;
                entries = pub_xrealloc(entries, cap * sizeof *entries);
            }
            entries[len++] = (entry){key, klen, v};
        }
        if (len > 1) qsort(entries, len, sizeof *entries, entry_cmp);
        out = ok ? pub_value_map() : NULL;
        for (size_t i = 0; i < len; i++) {
            if (out) pub_map_set(out, entries[i].key, entries[i].key_len, entries[i].value);
            else pub_value_free(entries[i].value);
            free(entries[i].key);
        }
        free(entries);
    }
    c->depth--;
    return out;
}

static pub_value *convert(conv *c, int idx)
{
    lua_State *L = c->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: return pub_value_null();
    case LUA_TBOOLEAN: return pub_value_bool(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) return pub_value_int((long long)lua_tointeger(L, idx));
        return pub_value_float((double)lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (pub_utf8_invalid_at(s, len) != len)
            return fail(c, "cannot store invalid UTF-8", NULL);
        return pub_value_string(s, len);
    }
    case LUA_TLIGHTUSERDATA:
        if (pub_lua_is_null(L, idx)) return pub_value_null();
        return fail(c, "cannot store a ", "userdata");
    case LUA_TTABLE: {
        pub_date d;
        if (pub_lua_to_date(L, idx, &d)) return pub_value_date(&d);
        return convert_table(c, idx);
    }
    default:
        return fail(c, "cannot store a ", lua_typename(L, lua_type(L, idx)));
    }
}

pub_value *pub_lua_to_value_as(lua_State *L, int idx, const char *what, char **error)
{
    conv c;
    char *ignored = NULL;
    c.L = L;
    c.what = what;
    c.error = error ? error : &ignored;
    *c.error = NULL;
    c.path = (pub_buf)PUB_BUF_INIT;
    c.depth = 0;
    if (!lua_checkstack(L, 4)) {
        *c.error = pub_xstrdup("out of Lua stack space");
        return NULL;
    }
    pub_value *v = convert(&c, lua_absindex(L, idx));
    pub_buf_free(&c.path);
    free(ignored);
    return v;
}

pub_value *pub_lua_to_value(lua_State *L, int idx, char **error)
{
    return pub_lua_to_value_as(L, idx, "front matter", error);
}
