/* The `publish` table plugins and scripts see: the few top-level functions
 * (markdown, slugify, frontmatter, null) and the sub-modules, each opened
 * from its own lib_*.c. Nothing here keeps state between calls; run-wide
 * settings come from the registry keys in lib.h. */
#include "lib.h"
#include "../frontmatter.h"
#include "../markdown.h"
#include "../util/utf8.h"
#include "bridge.h"
#include "lib_markdown.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

static int push_owned_protected(lua_State *L)
{
    lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
    return 1;
}

/* The push runs in a protected call: a memory error there is caught, the
 * string freed, and the error raised again. Pushing a light C function,
 * a light userdata and an integer allocates nothing. */
void pub_lua_push_owned(lua_State *L, char *s, size_t len)
{
    lua_pushcfunction(L, push_owned_protected);
    lua_pushlightuserdata(L, s);
    lua_pushinteger(L, (lua_Integer)len);
    int rc = lua_pcall(L, 2, 1, 0);
    free(s);
    if (rc != LUA_OK) lua_error(L);
}

void *pub_lua_new_box(lua_State *L, size_t size, const char *type, lua_CFunction gc)
{
    void *box = lua_newuserdatauv(L, size, 0);
    memset(box, 0, size);
    if (luaL_newmetatable(L, type)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return box;
}

void pub_lua_push_diag(lua_State *L, pub_diag *d)
{
    /* Formatted in C (which aborts rather than raise on no memory), so d
     * is freed before Lua allocates anything. */
    pub_buf b = PUB_BUF_INIT;
    if (d->path) {
        pub_buf_puts(&b, d->path);
        if (d->line > 0) {
            pub_buf_printf(&b, ":%d", d->line);
            if (d->col > 0) pub_buf_printf(&b, ":%d", d->col);
        }
        pub_buf_puts(&b, ": ");
    }
    pub_buf_puts(&b, d->message ? d->message : "unknown error");
    pub_diag_free(d);
    size_t len = b.len;
    pub_lua_push_owned(L, pub_buf_detach(&b), len);
}

/* A boolean option of an options table, `dflt` when absent. */
static int opt_bool(lua_State *L, int opts, const char *name, const char *fname, int dflt)
{
    if (opts == 0) return dflt;
    lua_getfield(L, opts, name);
    int t = lua_type(L, -1);
    int v = t == LUA_TNIL ? dflt : lua_toboolean(L, -1);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
        luaL_error(L, "bad option '%s' to '%s' (boolean expected, got %s)", name, fname,
                   luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* opts.extensions: a list of extension names -> PUB_MD_* bits; `dflt`
 * when absent. */
static unsigned opt_extensions(lua_State *L, int opts, unsigned dflt)
{
    if (opts == 0) return dflt;
    int t = lua_getfield(L, opts, "extensions");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return dflt;
    }
    if (t != LUA_TTABLE)
        luaL_error(L, "bad option 'extensions' to 'markdown' (table expected, got %s)",
                   luaL_typename(L, -1));
    unsigned bits = 0;
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, -1, i);
        const char *name = lua_tostring(L, -1);
        unsigned bit = name && lua_type(L, -1) == LUA_TSTRING ? pub_md_extension_bit(name) : 0;
        if (!bit)
            luaL_error(L, "bad option 'extensions' to 'markdown' (unknown extension '%s'; known: %s)",
                       name ? name : luaL_typename(L, -1), pub_md_extension_names());
        bits |= bit;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return bits;
}

void pub_lua_set_md_options(lua_State *L, const pub_md_options *md)
{
    if (md) *(pub_md_options *)lua_newuserdatauv(L, sizeof *md, 0) = *md;
    else lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_MARKDOWN);
}

pub_md_options pub_lua_md_options(lua_State *L)
{
    pub_md_options md = {true, false, false, PUB_MD_DEFAULT_EXTENSIONS};
    lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_MARKDOWN);
    const pub_md_options *site = lua_touserdata(L, -1);
    if (site) md = *site;
    lua_pop(L, 1);
    return md;
}

/* publish.markdown(s [, opts]) -> html
 * Renders Markdown with cmark-gfm. Each option defaults to the site's
 * (pub_lua_md_options): opts.unsafe (raw HTML passes through), opts.smart
 * (curly quotes, dashes: on for a Jekyll site), opts.hardbreaks,
 * opts.extensions (list of GFM extension names). */
static int l_markdown(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int opts = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        opts = 2;
    }
    pub_md_options o = pub_lua_md_options(L);
    o.unsafe = opt_bool(L, opts, "unsafe", "markdown", o.unsafe);
    o.smart = opt_bool(L, opts, "smart", "markdown", o.smart);
    o.hardbreaks = opt_bool(L, opts, "hardbreaks", "markdown", o.hardbreaks);
    o.extensions = opt_extensions(L, opts, o.extensions);
    size_t out_len;
    char *html = pub_md_render(s, len, &o, &out_len);
    pub_lua_push_owned(L, html, out_len);
    return 1;
}

/* publish.slugify(s) -> slug
 * pub_text_slugify's rules (util/text.h): "뉴스 속보" -> "뉴스-속보". May
 * return "" (the caller decides what an empty slug means). */
static int l_slugify(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, len);
    luaL_pushresultsize(&b, pub_text_slugify(s, len, out));
    return 1;
}

/* publish.frontmatter(text [, path]) -> meta, body, body_line
 * Splits a document with pub_fm_parse: meta is the front matter as Lua
 * values (an empty table without front matter), body the text after it,
 * body_line its 1-based line. Raises "PATH:LINE:COL: MESSAGE" on bad
 * front matter; path (default "<string>") only names the text. */
static int l_frontmatter(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *path = luaL_optstring(L, 2, "<string>");
    pub_fm fm;
    pub_diag *err = pub_fm_parse(path, text, len, &fm);
    if (err) {
        pub_lua_push_diag(L, err);
        return lua_error(L);
    }
    pub_value *meta = fm.meta;
    size_t body_start = fm.body_start <= len ? fm.body_start : len;
    int body_line = fm.body_line;
    fm.meta = NULL;
    pub_fm_free(&fm);
    pub_lua_push_value_free(L, meta);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_pushlstring(L, text + body_start, len - body_start);
    lua_pushinteger(L, body_line);
    return 3;
}

static const luaL_Reg publish_funcs[] = {
    {"markdown", l_markdown},
    {"slugify", l_slugify},
    {"frontmatter", l_frontmatter},
    {NULL, NULL},
};

static const struct {
    const char *name;
    lua_CFunction open;
} publish_modules[] = {
    {"html", pub_luaopen_html}, {"utf8", pub_luaopen_utf8}, {"date", pub_luaopen_date},
    {"yaml", pub_luaopen_yaml}, {"json", pub_luaopen_json}, {"log", pub_luaopen_log},
    {"fs", pub_luaopen_fs},
    {"node", pub_luaopen_node},
    {"url", pub_luaopen_url},
    {"http", pub_luaopen_http},
};

int pub_luaopen_publish(lua_State *L)
{
    luaL_newlib(L, publish_funcs);
    pub_lua_push_null(L);
    lua_setfield(L, -2, "null");
    for (size_t i = 0; i < sizeof publish_modules / sizeof publish_modules[0]; i++) {
        lua_pushcfunction(L, publish_modules[i].open);
        lua_call(L, 0, 1);
        lua_setfield(L, -2, publish_modules[i].name);
    }
    pub_lua_highlight_register(L);
    lua_setfield(L, -2, "highlight");
    return 1;
}
