/* publish.json: Lua values to JSON text, for search indexes, JSON feeds and
 * data attributes in templates. Output is deterministic (object keys
 * sorted) so rebuilt pages compare equal and stay unwritten. There is no
 * decoder: data files in JSON are read by the core. */
#include "lib.h"
#include "../util/buf.h"
#include "../util/utf8.h"
#include "bridge.h"
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_BOX "publish.jsonbuf"
#define JSON_MAX_DEPTH 128

/* The output and the key path live in a userdata so an error raised
 * half-way (a function value, a cycle, out of memory) frees them in __gc. */
typedef struct json_box {
    pub_buf out;
    pub_buf path; /* "posts[3].title", for messages */
} json_box;

typedef struct json {
    lua_State *L;
    json_box *box;
    const void *open[JSON_MAX_DEPTH];
    int depth;
} json;

static int box_gc(lua_State *L)
{
    json_box *box = lua_touserdata(L, 1);
    pub_buf_free(&box->out);
    pub_buf_free(&box->path);
    return 0;
}

static int fail(json *j, const char *problem)
{
    lua_State *L = j->L;
    if (j->box->path.len)
        return luaL_error(L, "cannot encode %s as JSON (key '%s')", problem,
                          pub_buf_cstr(&j->box->path));
    return luaL_error(L, "cannot encode %s as JSON", problem);
}

static void put_string(pub_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    pub_buf_putc(out, '"');
    size_t start = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char u[7];
        size_t step = 1;
        if (c >= 0x80) {
            uint32_t cp;
            step = pub_utf8_decode(s + i, len - i, &cp);
            if (step == 1) rep = "\\ufffd"; /* a byte that is not UTF-8 */
            else if (cp == 0x2028) rep = "\\u2028"; /* line breaks to JavaScript */
            else if (cp == 0x2029) rep = "\\u2029";
        } else if (c == '"') rep = "\\\"";
        else if (c == '\\') rep = "\\\\";
        else if (c == '\n') rep = "\\n";
        else if (c == '\r') rep = "\\r";
        else if (c == '\t') rep = "\\t";
        else if (c == '\b') rep = "\\b";
        else if (c == '\f') rep = "\\f";
        else if (c < 0x20 || c == 0x7F) {
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            rep = u;
        } else if (c == '/' && i > 0 && s[i - 1] == '<') {
            rep = "\\/"; /* "</script>" must not end an inline script */
        }
        if (rep) {
            pub_buf_append(out, s + start, i - start);
            pub_buf_puts(out, rep);
            start = i + step;
        }
        i += step;
    }
    pub_buf_append(out, s + start, len - start);
    pub_buf_putc(out, '"');
}

/* The shortest of %.15g..%.17g that reads back as the same double. */
static void put_float(pub_buf *out, double v)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    pub_buf_puts(out, tmp);
}

static void encode(json *j, int idx);

/* Key text for sorting and output; NULL for keys JSON cannot have. Pushes
 * nothing: numbers are formatted into tmp. */
static const char *key_text(lua_State *L, int idx, char *tmp, size_t size, size_t *len)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: return lua_tolstring(L, idx, len);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) snprintf(tmp, size, "%lld", (long long)lua_tointeger(L, idx));
        else snprintf(tmp, size, "%.14g", (double)lua_tonumber(L, idx));
        break;
    case LUA_TBOOLEAN: snprintf(tmp, size, "%s", lua_toboolean(L, idx) ? "true" : "false"); break;
    default: return NULL;
    }
    *len = strlen(tmp);
    return tmp;
}

typedef struct json_key {
    const char *text; /* anchored in the scratch table */
    size_t len;
    lua_Integer slot; /* where the original key sits in the scratch table */
} json_key;

static int key_cmp(const void *a, const void *b)
{
    const json_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->text, y->text, n);
    if (r) return r;
    return x->len < y->len ? -1 : x->len > y->len;
}

static void encode_object(json *j, int idx)
{
    lua_State *L = j->L;
    pub_buf *out = &j->box->out, *path = &j->box->path;
    /* scratch[2k-1] = key text, scratch[2k] = original key */
    lua_newtable(L);
    int scratch = lua_gettop(L);
    lua_Integer count = 0;
    char tmp[64];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        size_t len;
        const char *text = key_text(L, -1, tmp, sizeof tmp, &len);
        if (!text) fail(j, "a table with a key that is not a string or number");
        lua_pushlstring(L, text, len);
        lua_rawseti(L, scratch, 2 * count + 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, scratch, 2 * count + 2);
        count++;
    }
    json_key *keys = lua_newuserdatauv(L, (size_t)count * sizeof *keys + 1, 0);
    for (lua_Integer k = 0; k < count; k++) {
        lua_rawgeti(L, scratch, 2 * k + 1);
        keys[k].text = lua_tolstring(L, -1, &keys[k].len);
        keys[k].slot = 2 * k + 2;
        lua_pop(L, 1); /* the scratch table keeps the string alive */
    }
    qsort(keys, (size_t)count, sizeof *keys, key_cmp);
    size_t mark = path->len;
    pub_buf_putc(out, '{');
    for (lua_Integer k = 0; k < count; k++) {
        if (k) pub_buf_putc(out, ',');
        put_string(out, keys[k].text, keys[k].len);
        pub_buf_putc(out, ':');
        if (mark) pub_buf_putc(path, '.');
        pub_buf_append(path, keys[k].text, keys[k].len);
        lua_rawgeti(L, scratch, keys[k].slot);
        lua_rawget(L, idx);
        encode(j, lua_gettop(L));
        lua_pop(L, 1);
        path->len = mark;
        path->data[mark] = '\0';
    }
    pub_buf_putc(out, '}');
    lua_pop(L, 2); /* keys, scratch */
}

static void encode_table(json *j, int idx)
{
    lua_State *L = j->L;
    pub_date d;
    if (pub_lua_to_date(L, idx, &d)) {
        char iso[PUB_LUA_ISO_SIZE];
        put_string(&j->box->out, iso, pub_lua_date_iso(&d, iso));
        return;
    }
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < j->depth; i++)
        if (j->open[i] == self) fail(j, "a table that contains itself");
    if (j->depth >= JSON_MAX_DEPTH) fail(j, "tables nested this deep");
    luaL_checkstack(L, 6, "json nesting");
    j->open[j->depth++] = self;
    size_t n;
    if (pub_lua_table_is_list(L, idx, &n)) {
        pub_buf *out = &j->box->out, *path = &j->box->path;
        size_t mark = path->len;
        pub_buf_putc(out, '[');
        for (size_t i = 1; i <= n; i++) {
            if (i > 1) pub_buf_putc(out, ',');
            pub_buf_printf(path, "[%zu]", i);
            lua_rawgeti(L, idx, (lua_Integer)i);
            encode(j, lua_gettop(L));
            lua_pop(L, 1);
            path->len = mark;
            path->data[mark] = '\0';
        }
        pub_buf_putc(out, ']');
    } else {
        encode_object(j, idx);
    }
    j->depth--;
}

static void encode(json *j, int idx)
{
    lua_State *L = j->L;
    pub_buf *out = &j->box->out;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: pub_buf_puts(out, "null"); break;
    case LUA_TBOOLEAN: pub_buf_puts(out, lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            pub_buf_printf(out, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            double v = (double)lua_tonumber(L, idx);
            if (isnan(v) || isinf(v)) fail(j, "NaN or infinity");
            put_float(out, v);
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        put_string(out, s, len);
        break;
    }
    case LUA_TTABLE: encode_table(j, idx); break;
    case LUA_TLIGHTUSERDATA:
        if (pub_lua_is_null(L, idx)) {
            pub_buf_puts(out, "null");
            break;
        }
        fail(j, "a userdata");
        break;
    default: {
        char what[32];
        snprintf(what, sizeof what, "a %s", lua_typename(L, lua_type(L, idx)));
        fail(j, what);
    }
    }
}

/* publish.json.encode(v) -> string
 * Compact JSON. Tables whose keys are exactly 1..n are arrays; an empty
 * table is [] unless its metatable has __yaml = "map" (then {}), the same
 * rule as YAML (bridge.h). Object keys are sorted bytewise; number keys
 * become strings. Integers print without ".0", other numbers as the
 * shortest text that reads back exactly (up to %.17g). Strings keep UTF-8
 * as is; control characters are \uXXXX, invalid bytes \ufffd, and "</" is
 * written "<\/" so the text is safe inside <script>. Dates become their
 * ISO string, nil and publish.null null. NaN, infinity, functions,
 * userdata, non-string-or-number keys and cycles are errors. */
static int l_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    json_box *box = pub_lua_new_box(L, sizeof *box, JSON_BOX, box_gc);
    json j;
    j.L = L;
    j.box = box;
    j.depth = 0;
    encode(&j, 1);
    lua_pushlstring(L, pub_buf_cstr(&box->out), box->out.len);
    pub_buf_free(&box->out);
    pub_buf_free(&box->path);
    return 1;
}

static const luaL_Reg json_funcs[] = {
    {"encode", l_encode},
    {NULL, NULL},
};

int pub_luaopen_json(lua_State *L)
{
    luaL_newlib(L, json_funcs);
    return 1;
}
