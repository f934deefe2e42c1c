/* publish.html: escaping text for HTML, and getting the readable text back
 * out of HTML (for excerpts, meta descriptions, search indexes). The text
 * extraction is a forgiving scanner, not an HTML parser: it never fails,
 * and what it cannot read as a tag it keeps as text. */
#include "lib.h"
#include <lauxlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* The replacement for an escaped byte, or NULL. */
static const char *escape_of(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

/* publish.html.escape(s) -> string
 * Escapes & < > " ' as &amp; &lt; &gt; &quot; &#39;. Non-strings are
 * converted with tostring (numbers, dates); nil gives "". Returns s itself
 * when nothing needs escaping. */
static int l_escape(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t len;
    const char *s = luaL_tolstring(L, 1, &len);
    size_t i = 0;
    while (i < len && !escape_of((unsigned char)s[i])) i++;
    if (i == len) return 1;
    luaL_Buffer b;
    luaL_buffinitsize(L, &b, len + len / 8 + 16);
    size_t start = 0;
    for (; i < len; i++) {
        const char *rep = escape_of((unsigned char)s[i]);
        if (!rep) continue;
        luaL_addlstring(&b, s + start, i - start);
        luaL_addstring(&b, rep);
        start = i + 1;
    }
    luaL_addlstring(&b, s + start, len - start);
    luaL_pushresult(&b);
    return 1;
}

/* ---------------------------------------------------------------- text */

typedef struct text_out {
    luaL_Buffer b;
    int space;   /* whitespace seen since the last text */
    int started; /* some text was written (so leading space is dropped) */
} text_out;

static void put_text(text_out *t, const char *s, size_t n)
{
    if (!n) return;
    if (t->space && t->started) luaL_addchar(&t->b, ' ');
    t->space = 0;
    t->started = 1;
    luaL_addlstring(&t->b, s, n);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t encode_utf8(uint32_t cp, char *out)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static const struct {
    const char *name;
    uint32_t cp;
} entities[] = {
    {"amp", '&'},        {"lt", '<'},         {"gt", '>'},         {"quot", '"'},
    {"apos", '\''},      {"nbsp", ' '},       {"hellip", 0x2026},  {"mdash", 0x2014},
    {"ndash", 0x2013},   {"lsquo", 0x2018},   {"rsquo", 0x2019},   {"ldquo", 0x201C},
    {"rdquo", 0x201D},   {"laquo", 0xAB},     {"raquo", 0xBB},     {"copy", 0xA9},
    {"reg", 0xAE},       {"trade", 0x2122},   {"middot", 0xB7},    {"bull", 0x2022},
};

/* Decodes the entity at s[0] == '&'; returns its length and sets *cp, or
 * returns 0 when it is not one we know (it is then kept as text). */
static size_t decode_entity(const char *s, size_t len, uint32_t *cp)
{
    size_t max = len < 12 ? len : 12;
    size_t end = 1;
    while (end < max && s[end] != ';') end++;
    if (end >= max) return 0;
    if (s[1] == '#') {
        size_t i = 2;
        int hex = i < end && (s[i] == 'x' || s[i] == 'X');
        if (hex) i++;
        if (i == end) return 0;
        uint32_t v = 0;
        for (; i < end; i++) {
            unsigned char c = (unsigned char)s[i];
            int d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else return 0;
            v = v * (hex ? 16 : 10) + (uint32_t)d;
            if (v > 0x10FFFF) v = 0x110000; /* stays invalid, never wraps */
        }
        *cp = v;
        return end + 1;
    }
    for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
        size_t n = strlen(entities[k].name);
        if (n == end - 1 && memcmp(s + 1, entities[k].name, n) == 0) {
            *cp = entities[k].cp;
            return end + 1;
        }
    }
    return 0;
}

/* Tags after which text reads as a new word ("<p>a</p><p>b</p>" is "a b");
 * inline tags join ("<em>a</em>b" is "ab"). */
static int is_block_tag(const char *name, size_t n)
{
    static const char *const blocks[] = {
        "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
        "h5", "h6", "tr", "td", "th", "table", "thead", "tbody", "blockquote", "pre",
        "hr", "section", "article", "header", "footer", "nav", "aside", "main",
        "figure", "figcaption", "img", "title", "option", "address", "details",
        "summary",
    };
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++)
        if (strlen(blocks[k]) == n && strncasecmp(blocks[k], name, n) == 0) return 1;
    return 0;
}

/* The offset just past the '>' that ends the tag starting at s[i] == '<',
 * skipping '>' inside quoted attribute values; len when it never ends. */
static size_t tag_end(const char *s, size_t len, size_t i)
{
    char quote = 0;
    for (i++; i < len; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return i + 1;
        }
    }
    return len;
}

/* The offset past "</name ...>" from i on (case-insensitive), or len. */
static size_t skip_raw_text(const char *s, size_t len, size_t i, const char *name)
{
    size_t n = strlen(name);
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (!lt) return len;
        size_t at = (size_t)(lt - s);
        if (at + 2 + n <= len && s[at + 1] == '/' && strncasecmp(s + at + 2, name, n) == 0)
            return tag_end(s, len, at);
        i = at + 1;
    }
    return len;
}

/* publish.html.text(html) -> string
 * The readable text of an HTML fragment: tags and comments removed, the
 * contents of <script> and <style> dropped, the common entities decoded
 * (&amp; &lt; &gt; &quot; &#39; &apos; numeric ones, &nbsp; as a plain
 * space, and typographic ones such as &hellip; &mdash; &rsquo;), runs of
 * whitespace collapsed to one space and the ends trimmed. Block-level tags
 * (p, li, br, h1, ...) separate words. A '<' that does not start a tag is
 * kept. */
static int l_text(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    text_out t;
    t.space = t.started = 0;
    luaL_buffinitsize(L, &t.b, len);
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<') {
            if (i + 3 < len && memcmp(s + i, "<!--", 4) == 0) {
                size_t j = i + 4;
                i = len;
                for (; j + 3 <= len; j++)
                    if (memcmp(s + j, "-->", 3) == 0) {
                        i = j + 3;
                        break;
                    }
                continue;
            }
            size_t j = i + 1;
            int closing = j < len && s[j] == '/';
            if (closing) j++;
            if (j < len && (is_alpha((unsigned char)s[j]) || (!closing && (s[j] == '!' || s[j] == '?')))) {
                size_t name = j;
                while (j < len && (is_alpha((unsigned char)s[j]) || (s[j] >= '0' && s[j] <= '9'))) j++;
                size_t name_len = j - name;
                size_t end = tag_end(s, len, i);
                int self_closing = end >= 2 && s[end - 2] == '/';
                if (is_block_tag(s + name, name_len)) t.space = 1;
                i = end;
                if (!closing && !self_closing) {
                    if (name_len == 6 && strncasecmp(s + name, "script", 6) == 0)
                        i = skip_raw_text(s, len, i, "script");
                    else if (name_len == 5 && strncasecmp(s + name, "style", 5) == 0)
                        i = skip_raw_text(s, len, i, "style");
                }
                continue;
            }
            put_text(&t, "<", 1);
            i++;
            continue;
        }
        if (c == '&') {
            uint32_t cp;
            size_t n = decode_entity(s + i, len - i, &cp);
            if (n) {
                if (cp == ' ') {
                    t.space = 1;
                } else {
                    char u[4];
                    put_text(&t, u, encode_utf8(cp, u));
                }
                i += n;
            } else {
                put_text(&t, "&", 1);
                i++;
            }
            continue;
        }
        if (is_space(c)) {
            t.space = 1;
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && s[i] != '<' && s[i] != '&' && !is_space((unsigned char)s[i])) i++;
        put_text(&t, s + start, i - start);
    }
    luaL_pushresult(&t.b);
    return 1;
}

static const luaL_Reg html_funcs[] = {
    {"escape", l_escape},
    {"text", l_text},
    {NULL, NULL},
};

int pub_luaopen_html(lua_State *L)
{
    luaL_newlib(L, html_funcs);
    return 1;
}
