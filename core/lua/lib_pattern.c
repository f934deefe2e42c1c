/* string.find, string.match, string.gmatch and string.gsub for sandboxed
 * states: Lua's pattern language, matched by a backtracking matcher that
 * counts its steps and checks the per-call time limit (limits.h) every
 * few thousand of them. Lua's own matcher cannot be stopped: it is C, so
 * the count hook never fires inside it, and a pattern such as "(.-)*$"
 * over a long subject backtracks for hours.
 *
 * The semantics are the reference manual's (§6.4.1): classes, sets,
 * quantifiers * + - ?, anchors, captures and position captures, %b, %f
 * and back-references; errors use Lua's wording. On a time-out the matcher
 * raises from wherever it is: its frames hold no resources. */
#include "lib.h"
#include "limits.h"
#include <ctype.h>
#include <lauxlib.h>
#include <string.h>

#define MAX_CAPTURES 32
#define MAX_DEPTH 200
#define CHECK_EVERY 4096
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define ESC '%'
#define SPECIALS "^$*+?.([%-"

typedef struct matcher {
    const char *src, *src_end, *pat_end;
    lua_State *L;
    int depth;
    unsigned steps;
    int level;
    struct {
        const char *start;
        ptrdiff_t len;
    } cap[MAX_CAPTURES];
} matcher;

static const char *match(matcher *m, const char *s, const char *p);

static void tick(matcher *m)
{
    if (++m->steps % CHECK_EVERY == 0 && pub_limits_expired(m->L)) pub_limits_raise(m->L);
}

/* Where the single-character class at p ends. */
static const char *class_end(matcher *m, const char *p)
{
    char c = *p++;
    if (c == ESC) {
        if (p >= m->pat_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (*p == '^') p++;
        do {
            if (p >= m->pat_end) luaL_error(m->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == ESC && p < m->pat_end) p++;
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

/* Does c belong to class letter cl (%a, %d, ...; upper case negates)? */
static bool in_class(int c, int cl)
{
    bool r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    default: return cl == c;
    }
    return isupper(cl) ? !r : r;
}

/* c against the set [ ... ] from p (at '[') to ec (at ']'). */
static bool in_set(int c, const char *p, const char *ec)
{
    bool want = true;
    if (*++p == '^') {
        want = false;
        p++;
    }
    for (; p < ec; p++) {
        if (*p == ESC) {
            p++;
            if (in_class(c, (unsigned char)*p)) return want;
        } else if (p[1] == '-' && p + 2 < ec) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return want;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

static bool single(matcher *m, const char *s, const char *p, const char *ep)
{
    if (s >= m->src_end) return false;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return true;
    case ESC: return in_class(c, (unsigned char)p[1]);
    case '[': return in_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

static const char *balance(matcher *m, const char *s, const char *p)
{
    if (p >= m->pat_end - 1) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != *p) return NULL;
    int open = *p, close = p[1], depth = 1;
    while (++s < m->src_end) {
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

/* p* and p+ (greedy): the longest run first, then shorter ones. */
static const char *greedy(matcher *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (single(m, s + n, p, ep)) n++;
    for (; n >= 0; n--) {
        tick(m);
        const char *r = match(m, s + n, ep + 1);
        if (r) return r;
    }
    return NULL;
}

/* p- (lazy): the shortest run first. */
static const char *lazy(matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        tick(m);
        const char *r = match(m, s, ep + 1);
        if (r) return r;
        if (!single(m, s, p, ep)) return NULL;
        s++;
    }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t what)
{
    if (m->level >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
    m->cap[m->level].start = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = match(m, s, p);
    if (!r) m->level--;
    return r;
}

static const char *close_capture(matcher *m, const char *s, const char *p)
{
    int l = m->level - 1;
    while (l >= 0 && m->cap[l].len != CAP_UNFINISHED) l--;
    if (l < 0) luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].start;
    const char *r = match(m, s, p);
    if (!r) m->cap[l].len = CAP_UNFINISHED;
    return r;
}

static const char *back_reference(matcher *m, const char *s, int digit)
{
    int l = digit - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED)
        luaL_error(m->L, "invalid capture index %%%d", l + 1);
    size_t len = (size_t)m->cap[l].len;
    if ((size_t)(m->src_end - s) >= len && memcmp(m->cap[l].start, s, len) == 0) return s + len;
    return NULL;
}

static const char *frontier(matcher *m, const char *s, const char *p)
{
    p += 2;
    if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
    const char *ep = class_end(m, p);
    int prev = s == m->src ? 0 : (unsigned char)s[-1];
    int cur = s < m->src_end ? (unsigned char)*s : 0;
    if (!in_set(prev, p, ep - 1) && in_set(cur, p, ep - 1)) return match(m, s, ep);
    return NULL;
}

/* The end of the match of pattern p at s, or NULL. */
static const char *match(matcher *m, const char *s, const char *p)
{
    if (m->depth-- == 0) luaL_error(m->L, "pattern too complex");
    tick(m);
    while (p != m->pat_end) {
        if (*p == '(') {
            s = p[1] == ')' ? open_capture(m, s, p + 2, CAP_POSITION)
                            : open_capture(m, s, p + 1, CAP_UNFINISHED);
            break;
        }
        if (*p == ')') {
            s = close_capture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m->pat_end) {
            if (s != m->src_end) s = NULL;
            break;
        }
        if (*p == ESC && p[1] == 'b') {
            s = balance(m, s, p + 2);
            if (s) {
                p += 4;
                continue;
            }
            break;
        }
        if (*p == ESC && p[1] == 'f') {
            s = frontier(m, s, p);
            break;
        }
        if (*p == ESC && isdigit((unsigned char)p[1])) {
            s = back_reference(m, s, (unsigned char)p[1]);
            if (s) {
                p += 2;
                continue;
            }
            break;
        }
        const char *ep = class_end(m, p);
        char q = *ep;
        if (!single(m, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') {
                p = ep + 1; /* zero repetitions are allowed */
                continue;
            }
            s = NULL;
            break;
        }
        if (q == '?') {
            const char *r = match(m, s + 1, ep + 1);
            if (r) {
                s = r;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (q == '+') {
            s = greedy(m, s + 1, p, ep);
            break;
        }
        if (q == '*') {
            s = greedy(m, s, p, ep);
            break;
        }
        if (q == '-') {
            s = lazy(m, s, p, ep);
            break;
        }
        s++;
        p = ep;
    }
    m->depth++;
    return s;
}

/* The first position at or after s where a match of p (unanchored) can
 * start, or NULL when there is none: when p opens with a single-character
 * item that must match at least once (no * ? - after it), positions whose
 * character it refuses are passed over here, with memchr for a plain
 * character, instead of entering the matcher at each (the scans a plugin
 * makes over a whole page, such as find("<p[%s>]"), are mostly misses). */
static const char *next_start(matcher *m, const char *s, const char *p)
{
    if (p == m->pat_end || *p == '(' || *p == ')' || *p == '.') return s;
    if (*p == '$' && p + 1 == m->pat_end) return s;
    if (*p == ESC && p + 1 < m->pat_end &&
        (p[1] == 'b' || p[1] == 'f' || isdigit((unsigned char)p[1])))
        return s;
    const char *ep = class_end(m, p);
    if (ep < m->pat_end && (*ep == '*' || *ep == '?' || *ep == '-')) return s;
    if (*p != ESC && *p != '[') return memchr(s, *p, (size_t)(m->src_end - s));
    while (s < m->src_end && !single(m, s, p, ep)) s++;
    return s < m->src_end ? s : NULL;
}

static void prepare(matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    m->L = L;
    m->src = s;
    m->src_end = s + ls;
    m->pat_end = p + lp;
    m->depth = MAX_DEPTH;
    m->steps = 0;
}

static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_UNFINISHED) luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION)
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].start - m->src) + 1);
    else
        lua_pushlstring(m->L, m->cap[i].start, (size_t)len);
}

/* Pushes the captures (or the whole match when there are none, and
 * `whole`). Returns how many. */
static int push_captures(matcher *m, const char *s, const char *e, bool whole)
{
    int n = (m->level == 0 && whole) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_capture(m, i, s, e);
    return n;
}

/* A 1-based, possibly negative start position -> 0-based offset, or
 * len + 1 past the end. */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0) return (size_t)pos - 1 > len ? len + 1 : (size_t)pos - 1;
    if (pos == 0) return 0;
    if ((size_t)-pos > len) return 0;
    return len - (size_t)-pos;
}

static bool has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (strchr(SPECIALS, p[i]) && p[i]) return true;
    return false;
}

static const char *find_plain(const char *s, size_t ls, const char *p, size_t lp)
{
    if (lp == 0) return s;
    while (ls >= lp) {
        const char *hit = memchr(s, *p, ls - lp + 1);
        if (!hit) return NULL;
        if (memcmp(hit + 1, p + 1, lp - 1) == 0) return hit;
        ls -= (size_t)(hit + 1 - s);
        s = hit + 1;
    }
    return NULL;
}

static int find_or_match(lua_State *L, bool find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *hit = find_plain(s + init, ls - init, p, lp);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
        return 2;
    }
    matcher m;
    bool anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    prepare(&m, L, s, ls, p, lp);
    const char *at = s + init;
    if (!anchored && !(at = next_start(&m, at, p))) {
        luaL_pushfail(L);
        return 1;
    }
    do {
        m.level = 0;
        const char *e = match(&m, at, p);
        if (e) {
            if (!find) return push_captures(&m, at, e, true);
            lua_pushinteger(L, (lua_Integer)(at - s) + 1);
            lua_pushinteger(L, (lua_Integer)(e - s));
            return push_captures(&m, NULL, NULL, false) + 2;
        }
    } while (!anchored && at++ < m.src_end && (at = next_start(&m, at, p)));
    luaL_pushfail(L);
    return 1;
}

static int l_find(lua_State *L) { return find_or_match(L, true); }
static int l_match(lua_State *L) { return find_or_match(L, false); }

/* gmatch's iterator: upvalues subject, pattern, and a userdata holding
 * the position and the end of the last match. */
typedef struct gmatch_state {
    size_t pos;
    size_t last_end;
    bool has_last;
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    matcher m;
    prepare(&m, L, s, ls, p, lp);
    for (const char *at = s + g->pos; at <= m.src_end; at++) {
        if (!(at = next_start(&m, at, p))) break;
        m.level = 0;
        const char *e = match(&m, at, p);
        if (e && !(g->has_last && (size_t)(e - s) == g->last_end)) {
            g->pos = g->last_end = (size_t)(e - s);
            g->has_last = true;
            return push_captures(&m, at, e, true);
        }
    }
    g->pos = ls + 1;
    return 0;
}

static int l_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    gmatch_state *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->pos = init;
    g->last_end = 0;
    g->has_last = false;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* Appends the replacement string `repl` for the match s..e. */
static void add_string(matcher *m, luaL_Buffer *b, const char *s, const char *e, int repl)
{
    size_t len;
    const char *r = lua_tolstring(m->L, repl, &len);
    for (size_t i = 0; i < len; i++) {
        if (r[i] != ESC) {
            luaL_addchar(b, r[i]);
            continue;
        }
        i++;
        if (i < len && r[i] == ESC) {
            luaL_addchar(b, ESC);
        } else if (i < len && isdigit((unsigned char)r[i])) {
            if (r[i] == '0') {
                luaL_addlstring(b, s, (size_t)(e - s));
            } else {
                push_capture(m, r[i] - '1', s, e);
                luaL_tolstring(m->L, -1, NULL);
                lua_remove(m->L, -2);
                luaL_addvalue(b);
            }
        } else {
            luaL_error(m->L, "invalid use of '%c' in replacement string", ESC);
        }
    }
}

/* Appends the replacement for the match s..e: a string with %0-%9, a
 * table indexed by the first capture, or a function of the captures. */
static void add_value(matcher *m, luaL_Buffer *b, const char *s, const char *e, int repl_type)
{
    lua_State *L = m->L;
    if (repl_type == LUA_TSTRING || repl_type == LUA_TNUMBER) {
        add_string(m, b, s, e, 3);
        return;
    }
    if (repl_type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e, true);
        lua_call(L, n, 1);
    } else {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return;
    }
    if (!lua_isstring(L, -1)) luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
}

static int l_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int repl_type = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING ||
                            repl_type == LUA_TFUNCTION || repl_type == LUA_TTABLE,
                     3, "string/function/table");
    bool anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    matcher m;
    prepare(&m, L, src, ls, p, lp);
    /* Bytes no match covers are copied in runs, from `copied` on. */
    const char *s = src, *last = NULL, *copied = src;
    lua_Integer n = 0;
    while (n < max_n) {
        if (!anchored) {
            const char *at = next_start(&m, s, p);
            if (!at) break;
            s = at;
        }
        m.level = 0;
        const char *e = match(&m, s, p);
        if (e && e != last) {
            n++;
            luaL_addlstring(&b, copied, (size_t)(s - copied));
            add_value(&m, &b, s, e, repl_type);
            s = last = copied = e;
        } else if (s < m.src_end) {
            s++;
        } else {
            break;
        }
        if (anchored) break;
    }
    luaL_addlstring(&b, copied, (size_t)(m.src_end - copied));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

/* Replaces find, match, gmatch and gsub in the `string` table on the
 * stack top (strings' methods come from that table too). */
void pub_pattern_install(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"find", l_find}, {"match", l_match}, {"gmatch", l_gmatch}, {"gsub", l_gsub}, {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
}
