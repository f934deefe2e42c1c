/* publish.html: escaping text for HTML, getting the readable text back
 * out of HTML (for excerpts, meta descriptions, search indexes), and
 * cutting HTML to a number of visible characters (excerpts). The scanners
 * are forgiving, not HTML parsers: they never fail, and what they cannot
 * read as a tag they keep as text. */
#include "lib.h"
#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Escapes argument 1 by `kind` (util/text.h) and pushes the result: nil
 * gives "", non-strings are converted with tostring (numbers, dates), and
 * a string with nothing to escape is returned as it is. Shared with
 * lib_url.c. */
int pub_lua_push_escaped(lua_State *L, pub_text_escape_kind kind)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t len;
    const char *s = luaL_tolstring(L, 1, &len);
    /* HTML escaping (templates' every {{ }}) changes only these five bytes:
     * runs of others are passed over without asking about each byte. */
    static const bool html_special[256] = {['&'] = true, ['<'] = true, ['>'] = true,
                                           ['"'] = true, ['\''] = true};
    bool html = kind == PUB_ESC_HTML;
    char rep[8];
    size_t i = 0;
    if (html)
        while (i < len && !html_special[(unsigned char)s[i]]) i++;
    else
        while (i < len && pub_text_escape_byte(kind, (unsigned char)s[i], rep) < 0) i++;
    if (i == len) return 1;
    luaL_Buffer b;
    luaL_buffinitsize(L, &b, len + len / 8 + 16);
    size_t start = 0;
    for (; i < len; i++) {
        if (html && !html_special[(unsigned char)s[i]]) continue;
        int n = pub_text_escape_byte(kind, (unsigned char)s[i], rep);
        if (n < 0) continue;
        luaL_addlstring(&b, s + start, i - start);
        luaL_addlstring(&b, rep, (size_t)n);
        start = i + 1;
    }
    luaL_addlstring(&b, s + start, len - start);
    luaL_pushresult(&b);
    return 1;
}

/* publish.html.escape(s) -> string
 * Escapes & < > " ' as &amp; &lt; &gt; &quot; &#39;. Non-strings are
 * converted with tostring (numbers, dates); nil gives "". Returns s itself
 * when nothing needs escaping. */
static int l_escape(lua_State *L)
{
    return pub_lua_push_escaped(L, PUB_ESC_HTML);
}

/* publish.html.escape_xml(s) -> string
 * publish.html.escape, and the control characters XML 1.0 forbids even
 * escaped (U+0000-U+001F but tab, LF, CR) dropped: for feeds and sitemaps. */
static int l_escape_xml(lua_State *L)
{
    return pub_lua_push_escaped(L, PUB_ESC_XML);
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

/* ------------------------------------------------------------ truncate */

/* The rules below are those the excerpt plugin had in Lua, kept exactly
 * (byte for byte the same output), so the Lua patterns they came from are
 * named in the comments: %s is is_space, %a is_alpha, %w is_alnum. */

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

static int is_cont(unsigned char c)
{
    return c >= 0x80 && c <= 0xBF;
}

/* Length of the entity "&#?%w+;" at s[i] == '&' (up to end), or 0. */
static size_t entity_len(const char *s, size_t end, size_t i)
{
    size_t j = i + 1;
    if (j < end && s[j] == '#') j++;
    size_t w = j;
    while (j < end && is_alnum((unsigned char)s[j])) j++;
    if (j == w || j >= end || s[j] != ';') return 0;
    return j + 1 - i;
}

/* The end (exclusive) of the text unit at s[i], i < end: an entity, a run
 * of whitespace, or one UTF-8 character (a lead byte and every
 * continuation byte after it); any other byte is a unit alone. */
static size_t next_unit(const char *s, size_t end, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '&') {
        size_t n = entity_len(s, end, i);
        if (n) return i + n;
    }
    if (is_space(c)) {
        while (i < end && is_space((unsigned char)s[i])) i++;
        return i;
    }
    i++;
    if (c < 0x80 || (c >= 0xC2 && c <= 0xF4))
        while (i < end && is_cont((unsigned char)s[i])) i++;
    return i;
}

/* The length of the UTF-8 sequence at s[i] as Lua's utf8.len accepts it
 * (strict: no overlong forms, surrogates or code points past U+10FFFF),
 * or 0 when it rejects it. */
static size_t utf8_valid_len(const char *s, size_t end, size_t i)
{
    static const uint32_t limits[] = {~(uint32_t)0, 0x80, 0x800, 0x10000u, 0x200000u, 0x4000000u};
    unsigned int c = (unsigned char)s[i];
    if (c < 0x80) return 1;
    uint32_t res = 0;
    size_t count = 0;
    for (; c & 0x40; c <<= 1) {
        if (count == 5) return 0; /* a sixth continuation: too long anyway */
        count++;
        unsigned char cc = i + count < end ? (unsigned char)s[i + count] : 0;
        if ((cc & 0xC0) != 0x80) return 0;
        res = (res << 6) | (cc & 0x3F);
    }
    res |= (uint32_t)(c & 0x7F) << (count * 5);
    if (res > 0x7FFFFFFFu || res < limits[count]) return 0;
    if (res > 0x10FFFF || (res >= 0xD800 && res <= 0xDFFF)) return 0;
    return count + 1;
}

/* The units a text run counts for when deciding whether the limit falls in
 * it: as the plugin did, entities become one byte and whitespace runs one
 * space, then utf8.len of that, or its byte length when it is not valid
 * UTF-8 (replacing ASCII by ASCII keeps validity, so the run itself is
 * checked). */
static lua_Integer run_units(const char *s, size_t i, size_t end)
{
    lua_Integer units = 0, bytes = 0;
    int valid = 1;
    size_t v = i; /* validity is checked up to here */
    while (i < end) {
        size_t e = next_unit(s, end, i);
        unsigned char c = (unsigned char)s[i];
        int one_byte = is_space(c) || (c == '&' && entity_len(s, end, i));
        units++;
        bytes += one_byte ? 1 : (lua_Integer)(e - i);
        while (valid && v < e) {
            size_t n = utf8_valid_len(s, end, v);
            if (!n) valid = 0;
            v += n;
        }
        i = e;
    }
    return valid ? units : bytes;
}

/* Offset of the first "-->" in s[from, len), or len. */
static size_t find_comment_end(const char *s, size_t len, size_t from)
{
    while (from + 3 <= len) {
        const char *d = memchr(s + from, '-', len - from - 2);
        if (!d) return len;
        size_t at = (size_t)(d - s);
        if (s[at + 1] == '-' && s[at + 2] == '>') return at;
        from = at + 1;
    }
    return len;
}

/* Is there visible text at or after s[from]? As the plugin decided it:
 * comments "<!--...-->" removed first, then every "<...>" (up to the first
 * '>', quotes or not) from what is left, then any non-space byte. One
 * forward pass that stops at the first visible byte. */
static int text_follows(const char *s, size_t len, size_t p)
{
    int in_tag = 0, comments_closed = 0;
    while (p < len) {
        unsigned char c = (unsigned char)s[p];
        if (c == '<' && !comments_closed && len - p >= 4 && memcmp(s + p, "<!--", 4) == 0) {
            size_t close = find_comment_end(s, len, p + 4);
            if (close < len) {
                p = close + 3;
                continue;
            }
            comments_closed = 1; /* none closes further on either */
        }
        if (in_tag) {
            if (c == '>') in_tag = 0;
        } else if (c == '<') {
            in_tag = 1;
        } else if (!is_space(c)) {
            return 1;
        }
        p++;
    }
    return in_tag; /* a '<' with no '>' after it stays, and is visible */
}

/* What the scans for the end of a tag have learnt: a scan outside quotes
 * that enters s[lo, hi] fails (there is no quote or '>' in s[lo, hi), and
 * s[hi] is a quote never closed, or hi is the end), so "a < b < c ..."
 * costs one pass, not one per '<'. */
typedef struct tag_scan {
    size_t lo, hi;
    int known;
} tag_scan;

/* The offset of the '>' ending the tag that starts at s[i] == '<', quoted
 * attribute values honoured ('"' or '\'' anywhere opens one); (size_t)-1
 * when it never ends. */
static size_t tag_end_quoted(const char *s, size_t len, size_t i, tag_scan *memo)
{
    size_t p = i + 1;
    for (;;) {
        /* Stop where a known failing stretch starts: from there on the
         * scan would fail again. */
        size_t stop = len;
        if (memo->known && p <= memo->hi) stop = memo->lo > p ? memo->lo : p;
        size_t q = p;
        while (q < stop && s[q] != '>' && s[q] != '"' && s[q] != '\'') q++;
        if (q == stop && stop < len) return (size_t)-1;
        if (q == len) {
            memo->lo = p, memo->hi = len, memo->known = 1;
            return (size_t)-1;
        }
        if (s[q] == '>') return q;
        const char *close = q + 1 < len ? memchr(s + q + 1, s[q], len - q - 1) : NULL;
        if (!close) {
            memo->lo = p, memo->hi = q, memo->known = 1;
            return (size_t)-1;
        }
        p = (size_t)(close - s) + 1;
    }
}

/* The end (exclusive) of the first "</NAME%s*>" (NAME compared byte for
 * byte) in s[from, len), or 0 when there is none. */
static size_t find_close(const char *s, size_t len, size_t from, const char *name, size_t n)
{
    while (from < len) {
        const char *lt = memchr(s + from, '<', len - from);
        if (!lt) return 0;
        size_t at = (size_t)(lt - s);
        if (len - at >= n + 3 && s[at + 1] == '/' && memcmp(s + at + 2, name, n) == 0) {
            size_t j = at + 2 + n;
            while (j < len && is_space((unsigned char)s[j])) j++;
            if (j < len && s[j] == '>') return j + 1;
        }
        from = at + 1;
    }
    return 0;
}

static int name_is(const char *s, size_t n, const char *lower)
{
    return strlen(lower) == n && strncasecmp(s, lower, n) == 0;
}

static int is_void_element(const char *s, size_t n)
{
    static const char *const voids[] = {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "param", "source", "track", "wbr",
    };
    for (size_t k = 0; k < sizeof voids / sizeof voids[0]; k++)
        if (name_is(s, n, voids[k])) return 1;
    return 0;
}

/* The elements left open, as offsets of their names in the input. A
 * userdata so that a memory error raised by the buffer frees it too. */
typedef struct open_tag {
    size_t at, len;
} open_tag;

typedef struct tag_stack {
    open_tag *items;
    size_t len, cap;
    open_tag inline_items[32];
} tag_stack;

#define TAG_STACK_META "publish.html.tag_stack"

static int tag_stack_gc(lua_State *L)
{
    tag_stack *st = luaL_checkudata(L, 1, TAG_STACK_META);
    if (st->items != st->inline_items) free(st->items);
    st->items = st->inline_items;
    st->len = 0;
    return 0;
}

static void tag_stack_push(lua_State *L, tag_stack *st, size_t at, size_t len)
{
    if (st->len == st->cap) {
        size_t cap = st->cap * 2;
        open_tag *items = malloc(cap * sizeof *items);
        if (!items) luaL_error(L, "out of memory");
        memcpy(items, st->items, st->len * sizeof *items);
        if (st->items != st->inline_items) free(st->items);
        st->items = items;
        st->cap = cap;
    }
    st->items[st->len].at = at;
    st->items[st->len].len = len;
    st->len++;
}

/* Adds "</name>" with the name in lower case, as the plugin wrote it. */
static void add_close(luaL_Buffer *b, const char *s, const open_tag *t)
{
    luaL_addstring(b, "</");
    for (size_t k = 0; k < t->len; k++) {
        char c = s[t->at + k];
        luaL_addchar(b, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
    }
    luaL_addchar(b, '>');
}

/* What l_truncate carries through the text and the markup. */
typedef struct truncation {
    const char *s;
    size_t len;
    luaL_Buffer *b;
    tag_stack *st;
    tag_scan memo;
    size_t lower_none_from[3]; /* no "</script%s*>" etc. from here */
    lua_Integer count, limit;  /* units kept so far, and the most */
    bool has_limit;
    const char *ellipsis;
    size_t ell_len;
} truncation;

/* The text run [i, lt) into the result; true when the cut falls in it
 * (what is kept of it and the ellipsis are added then). */
static bool text_run(truncation *t, size_t i, size_t lt)
{
    const char *s = t->s;
    if (lt > i && t->has_limit) {
        lua_Integer n = run_units(s, i, lt);
        if (t->count + n >= t->limit) {
            /* The limit falls in this run: keep whole units up to it,
             * and cut only if visible text follows. */
            size_t keep = i;
            while (t->count < t->limit && keep < lt) {
                keep = next_unit(s, lt, keep);
                t->count++;
            }
            if (text_follows(s, t->len, keep)) {
                size_t plen = keep - i;
                const char *piece = s + i;
                /* Mid-word: back up to the word's start when that
                 * loses little, so cards end on "the" not "categ". */
                if (keep < t->len && !is_space((unsigned char)s[keep]) && s[keep] != '<') {
                    size_t k = plen;
                    while (k > 0 && !is_space((unsigned char)piece[k - 1])) k--;
                    if (k > 0 && (double)k > (double)plen * 0.8) plen = k - 1;
                }
                while (plen > 0 && is_space((unsigned char)piece[plen - 1])) plen--;
                luaL_addlstring(t->b, piece, plen);
                luaL_addlstring(t->b, t->ellipsis, t->ell_len);
                return true;
            }
            /* Only whitespace and tags remain: keep them all. */
            t->has_limit = false;
        } else {
            t->count += n;
        }
    }
    luaL_addlstring(t->b, s + i, lt - i);
    return false;
}

/* The markup at s[i] == '<' (a comment, a tag, or a '<' that starts
 * none) into the result as l_truncate says; returns where text goes on. */
static size_t markup(lua_State *L, truncation *t, size_t i)
{
    static const char *const dropped[] = {"script", "style", "template"};
    const char *s = t->s;
    size_t len = t->len;
    if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
        size_t close = find_comment_end(s, len, i + 4);
        return close < len ? close + 3 : len;
    }
    size_t j = i + 1;
    int closing = j < len && s[j] == '/';
    if (closing) j++;
    size_t name = j, name_len = 0, e = (size_t)-1;
    if (j < len && is_alpha((unsigned char)s[j])) {
        j++;
        while (j < len && (is_alnum((unsigned char)s[j]) || s[j] == ':' || s[j] == '-')) j++;
        name_len = j - name;
        e = tag_end_quoted(s, len, i, &t->memo);
    }
    if (e == (size_t)-1) {
        /* Not a tag ("a < b" in raw HTML): it is text. */
        luaL_addstring(t->b, "&lt;");
        t->count++;
        return i + 1;
    }
    int drop = -1;
    for (int k = 0; k < 3 && !closing; k++)
        if (name_is(s + name, name_len, dropped[k])) drop = k;
    if (drop >= 0) {
        size_t end = 0;
        if (e + 1 < t->lower_none_from[drop]) {
            end = find_close(s, len, e + 1, dropped[drop], name_len);
            if (!end) t->lower_none_from[drop] = e + 1;
        }
        if (!end) end = find_close(s, len, e + 1, s + name, name_len);
        return end ? end : len;
    }
    tag_stack *st = t->st;
    if (closing) {
        /* Close the innermost matching element, and whatever was left
         * open inside it; a close tag with no opener is dropped. */
        for (size_t k = st->len; k > 0; k--) {
            open_tag *o = &st->items[k - 1];
            if (o->len == name_len && strncasecmp(s + o->at, s + name, name_len) == 0) {
                while (st->len > k) add_close(t->b, s, &st->items[--st->len]);
                st->len--;
                luaL_addlstring(t->b, s + i, e + 1 - i);
                break;
            }
        }
        return e + 1;
    }
    luaL_addlstring(t->b, s + i, e + 1 - i);
    if (!is_void_element(s + name, name_len) && s[e - 1] != '/')
        tag_stack_push(L, st, name, name_len);
    return e + 1;
}

/* publish.html.truncate(html, limit [, ellipsis]) -> html, cut
 * Copies html keeping at most `limit` units of visible text and closing
 * every element left open; for excerpts. A unit is an entity, a run of
 * whitespace, or one UTF-8 character (an invalid byte alone), so a cut
 * never splits any of them. Along the way, always (even when nothing is
 * cut): comments are dropped; <script>, <style> and <template> are dropped
 * with their content; a close tag that closes nothing is dropped, and one
 * that does first closes what was left open inside it; void elements and
 * self-closing tags "<x/>" are not closed; a '<' that starts no tag is
 * written "&lt;" and counts as a unit. The cut is made only when visible
 * text follows it (else everything is kept, and `cut` is false); then a
 * cut inside a word backs up to the last whitespace of the kept text of
 * that text run when that loses at most 20% of it, trailing whitespace is
 * dropped, and `ellipsis` (default "…") is added before the close tags.
 * A nil limit means no cut, the tidying only. */
static int l_truncate(lua_State *L)
{
    truncation t = {0};
    t.s = luaL_checklstring(L, 1, &t.len);
    if (!lua_isnoneornil(L, 2)) {
        if (lua_isinteger(L, 2)) {
            t.limit = lua_tointeger(L, 2);
            t.has_limit = true;
        } else {
            /* Counts are whole, so count < 2.5 is count < 3; NaN and huge
             * limits never cut. */
            lua_Number d = luaL_checknumber(L, 2);
            if (d < 4e18) {
                t.has_limit = true;
                t.limit = d <= -4e18 ? (lua_Integer)-4e18 : (lua_Integer)ceil(d);
            }
        }
    }
    t.ellipsis = luaL_optlstring(L, 3, "\xE2\x80\xA6", &t.ell_len);
    lua_settop(L, 3);
    tag_stack *st = lua_newuserdatauv(L, sizeof *st, 0);
    st->items = st->inline_items;
    st->len = 0;
    st->cap = sizeof st->inline_items / sizeof st->inline_items[0];
    luaL_setmetatable(L, TAG_STACK_META);
    t.st = st;

    luaL_Buffer b;
    luaL_buffinit(L, &b);
    t.b = &b;
    for (int k = 0; k < 3; k++) t.lower_none_from[k] = t.len;
    bool cut = false;
    size_t i = 0;
    while (i < t.len && !cut) {
        const char *ltp = memchr(t.s + i, '<', t.len - i);
        size_t lt = ltp ? (size_t)(ltp - t.s) : t.len;
        cut = text_run(&t, i, lt);
        i = cut || !ltp ? t.len : markup(L, &t, lt);
    }
    while (st->len > 0) add_close(&b, t.s, &st->items[--st->len]);
    luaL_pushresult(&b);
    lua_pushboolean(L, cut);
    return 2;
}

static const luaL_Reg html_funcs[] = {
    {"escape", l_escape},
    {"escape_xml", l_escape_xml},
    {"text", l_text},
    {"truncate", l_truncate},
    {NULL, NULL},
};

int pub_luaopen_html(lua_State *L)
{
    if (luaL_newmetatable(L, TAG_STACK_META)) {
        lua_pushcfunction(L, tag_stack_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, html_funcs);
    return 1;
}
