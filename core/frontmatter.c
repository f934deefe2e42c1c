/* Front matter and YAML documents. Splits a post at its `---` fences,
 * turns libyaml's event stream into a pub_value tree (tag resolution after
 * the YAML 1.2 core schema, or YAML 1.1's booleans for Jekyll sites, plus
 * the timestamps Jekyll posts use; a repeated key keeps the later value with
 * a warning, as Jekyll and common loaders do; anchors,
 * aliases and merge keys, with hard caps on depth and alias expansion), and
 * writes values back as block-style YAML that reads back equal.
 * It does not know what any key means; posts, config and data are the site
 * module's business. The surgical rewrite of single keys is not here. */
#include "frontmatter.h"
#include "util/hash.h"
#include "util/mem.h"
#include "util/utf8.h"
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* ------------------------------------------------------------------ */
/* Plain scalar resolution                                             */
/* ------------------------------------------------------------------ */

typedef enum {
    SCALAR_STRING, SCALAR_NULL, SCALAR_BOOL, SCALAR_INT, SCALAR_FLOAT, SCALAR_DATE,
    SCALAR_BAD_DATE /* looks like a timestamp but names no real instant */
} scalar_kind;

typedef struct scalar {
    bool boolean;
    long long integer;
    double number;
    pub_date date;
} scalar;

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool text_is_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != word[i]) return false;
    }
    return true;
}

static bool text_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool match_null(const char *s, size_t n)
{
    return n == 0 || text_is(s, n, "~") || text_is(s, n, "null") || text_is(s, n, "Null") ||
           text_is(s, n, "NULL");
}

/* 1 true, 0 false, -1 neither. */
static int match_bool(const char *s, size_t n)
{
    if (text_is(s, n, "true") || text_is(s, n, "True") || text_is(s, n, "TRUE")) return 1;
    if (text_is(s, n, "false") || text_is(s, n, "False") || text_is(s, n, "FALSE")) return 0;
    return -1;
}

/* YAML 1.1 as Ruby's Psych (Jekyll) reads it: yes/true/on and no/false/off
 * in any case; y and n stay strings there, so they do here. */
static int match_bool11(const char *s, size_t n)
{
    if (text_is_nocase(s, n, "yes") || text_is_nocase(s, n, "true") || text_is_nocase(s, n, "on"))
        return 1;
    if (text_is_nocase(s, n, "no") || text_is_nocase(s, n, "false") || text_is_nocase(s, n, "off"))
        return 0;
    return -1;
}

/* strtod wants a terminated string; scalars here may be slices. */
static double parse_double(const char *s, size_t n)
{
    char small[64];
    char *tmp = n < sizeof small ? small : pub_xmalloc(n + 1);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double d = strtod(tmp, NULL);
    if (tmp != small) free(tmp);
    return d;
}

/* Core-schema integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. One too big
 * for long long is still a number, so it becomes the nearest float. */
static bool match_int(const char *s, size_t n, scalar_kind *kind, scalar *out)
{
    unsigned base = 10;
    size_t i = 0;
    bool negative = false;
    if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        base = s[1] == 'o' ? 8 : 16;
        i = 2;
    } else if (n > 1 && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        i = 1;
    }
    if (i >= n) return false;
    unsigned long long acc = 0;
    double approx = 0;
    bool overflow = false;
    for (; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return false;
        if (d >= base) return false;
        approx = approx * base + d;
        if (acc > (ULLONG_MAX - d) / base) overflow = true;
        else acc = acc * base + d;
    }
    unsigned long long limit = negative ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    if (overflow || acc > limit) {
        *kind = SCALAR_FLOAT;
        out->number = base == 10 ? parse_double(s, n) : approx;
        return true;
    }
    *kind = SCALAR_INT;
    out->integer = negative ? (long long)(0 - acc) : (long long)acc;
    return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, [-+]?.inf, .nan */
static bool match_float(const char *s, size_t n, double *out)
{
    size_t i = 0;
    if (n && (s[0] == '-' || s[0] == '+')) i = 1;
    const char *r = s + i;
    size_t rn = n - i;
    if (text_is(r, rn, ".inf") || text_is(r, rn, ".Inf") || text_is(r, rn, ".INF")) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (text_is(s, n, ".nan") || text_is(s, n, ".NaN") || text_is(s, n, ".NAN")) {
        *out = NAN;
        return true;
    }
    size_t int_digits = 0, frac_digits = 0;
    while (i < n && is_digit(s[i])) i++, int_digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) i++, frac_digits++;
    }
    if (int_digits == 0 && frac_digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+')) i++;
        size_t exp_digits = 0;
        while (i < n && is_digit(s[i])) i++, exp_digits++;
        if (!exp_digits) return false;
    }
    if (i != n) return false;
    *out = parse_double(s, n);
    return true;
}

static scalar_kind resolve_plain(const char *s, size_t n, pub_yaml_version version, scalar *out)
{
    if (match_null(s, n)) return SCALAR_NULL;
    /* Every non-string plain scalar starts with one of these; most text
     * does not, so it skips the matchers cheaply. */
    char c = s[0];
    bool v11 = version == PUB_YAML_11;
    if (!(is_digit(c) || c == '-' || c == '+' || c == '.' || c == 't' || c == 'T' ||
          c == 'f' || c == 'F' ||
          (v11 && strchr("yYoOnN", c) && c != '\0')))
        return SCALAR_STRING;
    int b = v11 ? match_bool11(s, n) : match_bool(s, n);
    if (b >= 0) {
        out->boolean = b;
        return SCALAR_BOOL;
    }
    scalar_kind kind;
    if (match_int(s, n, &kind, out)) return kind;
    if (match_float(s, n, &out->number)) return SCALAR_FLOAT;
    int d = pub_date_match(s, n, &out->date);
    if (d > 0) return SCALAR_DATE;
    if (d < 0) return SCALAR_BAD_DATE;
    return SCALAR_STRING;
}

/* ------------------------------------------------------------------ */
/* Loading: libyaml events -> pub_value                                */
/* ------------------------------------------------------------------ */

typedef struct anchor {
    char *name;
    pub_value *value; /* our own copy: the tree's node may be merged away */
    size_t nodes;     /* what one alias of it costs */
    int height;       /* how much depth one alias of it adds */
    char *text;       /* a scalar's source text, so it can serve as a key */
    size_t text_len;
} anchor;

typedef struct frame {
    pub_value *node;
    char *anchor; /* registered when the node ends */
    /* Mappings only: the key waiting for its value. */
    bool have_key, key_is_merge, has_merge;
    size_t replaces; /* a duplicate key: index of the pair it replaces, + 1 */
    char *key;
    size_t key_len;
    int key_line, key_col;
    /* Keys by hash once the map is big enough for linear search to hurt. */
    size_t *index;
    size_t index_cap;
    /* Maps named by `<<`, merged in at merge_at when the mapping ends. */
    pub_value *merges;
    size_t merge_at;
} frame;

typedef struct loader {
    const char *path;
    int first_line;
    pub_yaml_version version;
    pub_diag **warnings; /* duplicate keys */
    size_t nwarnings;
    frame frames[PUB_YAML_MAX_DEPTH];
    int depth;
    anchor *anchors;
    size_t anchors_len, anchors_cap;
    size_t alias_nodes;
    pub_value *root;
    pub_diag *error;
} loader;

/* Records the first error (file line and column); later ones are noise. */
static void fail_at(loader *ld, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_at(loader *ld, int line, int col, const char *fmt, ...)
{
    if (ld->error) return;
    pub_buf msg = PUB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    pub_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    ld->error = pub_diag_new(PUB_ERROR, ld->path, line, col, "%s", pub_buf_cstr(&msg));
    pub_buf_free(&msg);
}

/* libyaml marks are 0-based and count from the start of the YAML text. */
#define fail(ld, mark, ...) \
    fail_at((ld), (int)(mark).line + (ld)->first_line, (int)(mark).column + 1, __VA_ARGS__)

static void set_pos(loader *ld, pub_value *v, yaml_mark_t mark)
{
    v->line = (int)mark.line + ld->first_line;
    v->col = (int)mark.column + 1;
}

/* Long values in messages are cut so one bad line stays one line. */
static int shown_len(size_t n) { return n > 60 ? 60 : (int)n; }

static void count_nodes(const pub_value *v, int level, size_t *nodes, int *height)
{
    (*nodes)++;
    if (level > *height) *height = level;
    if (v->type == PUB_LIST)
        for (size_t i = 0; i < v->as.list.len; i++)
            count_nodes(v->as.list.items[i], level + 1, nodes, height);
    else if (v->type == PUB_MAP)
        for (size_t i = 0; i < v->as.map.len; i++)
            count_nodes(v->as.map.pairs[i].value, level + 1, nodes, height);
}

/* Takes ownership of name. */
static void add_anchor(loader *ld, char *name, const pub_value *v, const char *text,
                       size_t text_len)
{
    if (ld->anchors_len == ld->anchors_cap) {
        ld->anchors_cap = ld->anchors_cap ? ld->anchors_cap * 2 : 8;
        ld->anchors = pub_xrealloc(ld->anchors, ld->anchors_cap * sizeof *ld->anchors);
    }
    anchor *a = &ld->anchors[ld->anchors_len++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->value = pub_value_copy(v);
    count_nodes(v, 1, &a->nodes, &a->height);
    if (text) {
        a->text = pub_xstrndup(text, text_len);
        a->text_len = text_len;
    }
}

static anchor *find_anchor(loader *ld, const char *name)
{
    /* From the end: a redefined anchor means its latest node. */
    for (size_t i = ld->anchors_len; i-- > 0;)
        if (strcmp(ld->anchors[i].name, name) == 0) return &ld->anchors[i];
    return NULL;
}

static size_t hash_key(const char *s, size_t n)
{
    return (size_t)pub_hash(s, n, 0);
}

#define INDEX_FROM 16 /* below this many keys a linear scan is faster */

static void index_insert(frame *f, size_t pair)
{
    const pub_pair *p = &f->node->as.map.pairs[pair];
    size_t mask = f->index_cap - 1;
    size_t slot = hash_key(p->key, p->key_len) & mask;
    while (f->index[slot]) slot = (slot + 1) & mask;
    f->index[slot] = pair + 1;
}

static void index_rebuild(frame *f, size_t cap)
{
    free(f->index);
    f->index = pub_xcalloc(cap, sizeof *f->index);
    f->index_cap = cap;
    for (size_t i = 0; i < f->node->as.map.len; i++) index_insert(f, i);
}

/* Index of the pair with `key`, + 1; 0 when absent. */
static size_t map_find(const frame *f, const char *key, size_t key_len)
{
    const pub_value *map = f->node;
    if (!f->index) {
        for (size_t i = 0; i < map->as.map.len; i++) {
            const pub_pair *p = &map->as.map.pairs[i];
            if (p->key_len == key_len && memcmp(p->key, key, key_len) == 0) return i + 1;
        }
        return 0;
    }
    size_t mask = f->index_cap - 1;
    for (size_t slot = hash_key(key, key_len) & mask; f->index[slot]; slot = (slot + 1) & mask) {
        const pub_pair *p = &map->as.map.pairs[f->index[slot] - 1];
        if (p->key_len == key_len && memcmp(p->key, key, key_len) == 0) return f->index[slot];
    }
    return 0;
}

static bool map_has(const frame *f, const char *key, size_t key_len)
{
    return map_find(f, key, key_len) != 0;
}

/* Appends a pair the caller knows is new; takes ownership of key and value. */
static void map_add(frame *f, char *key, size_t key_len, int key_line, int key_col,
                    pub_value *value)
{
    pub_value *map = f->node;
    if (map->as.map.len == map->as.map.cap) {
        map->as.map.cap = map->as.map.cap ? map->as.map.cap * 2 : 8;
        map->as.map.pairs =
            pub_xrealloc(map->as.map.pairs, map->as.map.cap * sizeof *map->as.map.pairs);
    }
    size_t at = map->as.map.len++;
    map->as.map.pairs[at] = (pub_pair){key, key_len, key_line, key_col, value};
    if (f->index && map->as.map.len * 2 <= f->index_cap) index_insert(f, at);
    else if (map->as.map.len >= INDEX_FROM) index_rebuild(f, f->index_cap ? f->index_cap * 2 : 64);
}

static void take_merge_source(loader *ld, frame *f, pub_value *v)
{
    if (!f->merges) f->merges = pub_value_list();
    if (v->type == PUB_MAP) {
        pub_list_push(f->merges, v);
        return;
    }
    if (v->type == PUB_LIST) {
        for (size_t i = 0; i < v->as.list.len; i++)
            if (v->as.list.items[i]->type != PUB_MAP) goto bad;
        for (size_t i = 0; i < v->as.list.len; i++) pub_list_push(f->merges, v->as.list.items[i]);
        v->as.list.len = 0;
        pub_value_free(v);
        return;
    }
bad:
    fail_at(ld, v->line, v->col, "merge value must be a mapping or a list of mappings");
    pub_value_free(v);
}

/* Hands a finished value to its parent (or makes it the document). */
static void attach(loader *ld, pub_value *v)
{
    if (ld->depth == 0) {
        ld->root = v;
        return;
    }
    frame *f = &ld->frames[ld->depth - 1];
    if (f->node->type == PUB_LIST) {
        pub_list_push(f->node, v);
        return;
    }
    f->have_key = false;
    if (f->key_is_merge) {
        f->key_is_merge = false;
        take_merge_source(ld, f, v);
        return;
    }
    if (f->replaces) {
        /* The later of two equal keys wins, in the earlier one's place. */
        pub_pair *p = &f->node->as.map.pairs[f->replaces - 1];
        pub_value_free(p->value);
        p->value = v;
        p->key_line = f->key_line;
        p->key_col = f->key_col;
        free(f->key);
        f->replaces = 0;
    } else {
        map_add(f, f->key, f->key_len, f->key_line, f->key_col, v);
    }
    f->key = NULL;
}

/* Explicit keys beat merged ones, and an earlier merged map beats a later
 * one; merged keys go where the `<<` was, so key order reads naturally. */
static void apply_merges(frame *f)
{
    pub_value *map = f->node;
    size_t before = map->as.map.len;
    for (size_t m = 0; m < f->merges->as.list.len; m++) {
        pub_value *src = f->merges->as.list.items[m];
        for (size_t i = 0; i < src->as.map.len; i++) {
            pub_pair *p = &src->as.map.pairs[i];
            if (map_has(f, p->key, p->key_len)) continue;
            map_add(f, p->key, p->key_len, p->key_line, p->key_col, p->value);
            p->key = NULL;
            p->value = NULL;
        }
    }
    size_t added = map->as.map.len - before, tail = before - f->merge_at;
    if (added && tail) {
        pub_pair *moved = pub_xmalloc(tail * sizeof *moved);
        pub_pair *pairs = map->as.map.pairs;
        memcpy(moved, pairs + f->merge_at, tail * sizeof *moved);
        memmove(pairs + f->merge_at, pairs + before, added * sizeof *pairs);
        memcpy(pairs + f->merge_at + added, moved, tail * sizeof *moved);
        free(moved);
    }
}

static void frame_clear(frame *f)
{
    free(f->anchor);
    free(f->key);
    free(f->index);
    pub_value_free(f->merges);
    memset(f, 0, sizeof *f);
}

static frame *key_frame(loader *ld)
{
    if (ld->depth == 0) return NULL;
    frame *f = &ld->frames[ld->depth - 1];
    return (f->node->type == PUB_MAP && !f->have_key) ? f : NULL;
}

/* Takes ownership of key. */
static void warn_at(loader *ld, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void warn_at(loader *ld, int line, int col, const char *fmt, ...)
{
    pub_buf msg = PUB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    pub_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    ld->warnings = pub_xrealloc(ld->warnings, (ld->nwarnings + 1) * sizeof *ld->warnings);
    ld->warnings[ld->nwarnings++] =
        pub_diag_new(PUB_WARNING, ld->path, line, col, "%s", pub_buf_cstr(&msg));
    pub_buf_free(&msg);
}

static void set_key(loader *ld, frame *f, char *key, size_t key_len, bool merge,
                    yaml_mark_t mark)
{
    if (merge && f->has_merge) {
        fail(ld, mark, "duplicate key '%.*s'", shown_len(key_len), key);
        free(key);
        return;
    }
    f->replaces = merge ? 0 : map_find(f, key, key_len);
    if (f->replaces)
        warn_at(ld, (int)mark.line + ld->first_line, (int)mark.column + 1,
                "duplicate key '%.*s' (the later value is used)", shown_len(key_len), key);
    f->have_key = true;
    f->key_is_merge = merge;
    if (merge) {
        f->has_merge = true;
        f->merge_at = f->node->as.map.len;
        free(key);
        return;
    }
    f->key = key;
    f->key_len = key_len;
    f->key_line = (int)mark.line + ld->first_line;
    f->key_col = (int)mark.column + 1;
}

static pub_value *typed_scalar(loader *ld, const char *s, size_t n, const char *tag,
                               yaml_mark_t mark)
{
    scalar sc;
    scalar_kind kind;
    if (strcmp(tag, "str") == 0) return pub_value_string(s, n);
    if (strcmp(tag, "null") == 0) {
        if (match_null(s, n)) return pub_value_null();
        fail(ld, mark, "invalid null '%.*s'", shown_len(n), s);
        return NULL;
    }
    if (strcmp(tag, "bool") == 0) {
        int b = ld->version == PUB_YAML_11 ? match_bool11(s, n) : match_bool(s, n);
        if (b >= 0) return pub_value_bool(b);
        fail(ld, mark, "invalid bool '%.*s'", shown_len(n), s);
        return NULL;
    }
    if (strcmp(tag, "int") == 0) {
        if (match_int(s, n, &kind, &sc) && kind == SCALAR_INT) return pub_value_int(sc.integer);
        fail(ld, mark, "invalid int '%.*s'", shown_len(n), s);
        return NULL;
    }
    if (strcmp(tag, "float") == 0) {
        if (match_int(s, n, &kind, &sc))
            return pub_value_float(kind == SCALAR_INT ? (double)sc.integer : sc.number);
        if (match_float(s, n, &sc.number)) return pub_value_float(sc.number);
        fail(ld, mark, "invalid float '%.*s'", shown_len(n), s);
        return NULL;
    }
    if (strcmp(tag, "timestamp") == 0) {
        if (pub_date_match(s, n, &sc.date) > 0) return pub_value_date(&sc.date);
        fail(ld, mark, "invalid date '%.*s'", shown_len(n), s);
        return NULL;
    }
    return NULL; /* another tag: the caller resolves as if untagged */
}

static pub_value *make_scalar(loader *ld, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag && strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0) {
        pub_value *v = typed_scalar(ld, s, n, tag + strlen(YAML_TAG_PREFIX), ev->start_mark);
        if (v || ld->error) return v;
    }
    /* Quoted and "!"-tagged scalars are strings; unknown tags are ignored. */
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && strcmp(tag, "!") == 0))
        return pub_value_string(s, n);
    scalar sc;
    switch (resolve_plain(s, n, ld->version, &sc)) {
    case SCALAR_NULL: return pub_value_null();
    case SCALAR_BOOL: return pub_value_bool(sc.boolean);
    case SCALAR_INT: return pub_value_int(sc.integer);
    case SCALAR_FLOAT: return pub_value_float(sc.number);
    case SCALAR_DATE: return pub_value_date(&sc.date);
    case SCALAR_BAD_DATE:
        fail(ld, ev->start_mark, "invalid date '%.*s'", shown_len(n), s);
        return NULL;
    case SCALAR_STRING: break;
    }
    return pub_value_string(s, n);
}

static char *dup_anchor(const yaml_char_t *a) { return a ? pub_xstrdup((const char *)a) : NULL; }

static void on_scalar(loader *ld, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    frame *f = key_frame(ld);
    if (f) {
        const char *tag = (const char *)ev->data.scalar.tag;
        bool merge = n == 2 && memcmp(s, "<<", 2) == 0 &&
                     ((!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) ||
                      (tag && strcmp(tag, YAML_TAG_PREFIX "merge") == 0));
        if (ev->data.scalar.anchor) {
            pub_value *k = pub_value_string(s, n);
            add_anchor(ld, dup_anchor(ev->data.scalar.anchor), k, s, n);
            pub_value_free(k);
        }
        set_key(ld, f, pub_xstrndup(s, n), n, merge, ev->start_mark);
        return;
    }
    pub_value *v = make_scalar(ld, ev);
    if (!v) return;
    set_pos(ld, v, ev->start_mark);
    if (ev->data.scalar.anchor) add_anchor(ld, dup_anchor(ev->data.scalar.anchor), v, s, n);
    attach(ld, v);
}

static void on_alias(loader *ld, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    anchor *a = find_anchor(ld, name);
    if (!a) {
        fail(ld, ev->start_mark, "undefined alias '%s'", name);
        return;
    }
    frame *f = key_frame(ld);
    if (f) {
        if (!a->text) {
            fail(ld, ev->start_mark, "mapping key must be a scalar");
            return;
        }
        set_key(ld, f, pub_xstrndup(a->text, a->text_len), a->text_len, false, ev->start_mark);
        return;
    }
    if (ld->depth + a->height > PUB_YAML_MAX_DEPTH) {
        fail(ld, ev->start_mark, "nesting deeper than %d levels", PUB_YAML_MAX_DEPTH);
        return;
    }
    if (a->nodes > PUB_YAML_MAX_ALIAS_NODES - ld->alias_nodes) {
        fail(ld, ev->start_mark, "too many alias expansions");
        return;
    }
    ld->alias_nodes += a->nodes;
    pub_value *v = pub_value_copy(a->value);
    set_pos(ld, v, ev->start_mark);
    attach(ld, v);
}

static void on_start(loader *ld, const yaml_event_t *ev, pub_value_type type,
                     const yaml_char_t *anchor_name)
{
    if (key_frame(ld)) {
        fail(ld, ev->start_mark, "mapping key must be a scalar");
        return;
    }
    if (ld->depth >= PUB_YAML_MAX_DEPTH) {
        fail(ld, ev->start_mark, "nesting deeper than %d levels", PUB_YAML_MAX_DEPTH);
        return;
    }
    frame *f = &ld->frames[ld->depth++];
    memset(f, 0, sizeof *f);
    f->node = type == PUB_MAP ? pub_value_map() : pub_value_list();
    set_pos(ld, f->node, ev->start_mark);
    f->anchor = dup_anchor(anchor_name);
}

static void on_end(loader *ld)
{
    frame *f = &ld->frames[--ld->depth];
    pub_value *v = f->node;
    if (f->merges) apply_merges(f);
    if (f->anchor) {
        add_anchor(ld, f->anchor, v, NULL, 0);
        f->anchor = NULL;
    }
    frame_clear(f);
    attach(ld, v);
}

static void lowercase(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s = (char)(*s - 'A' + 'a');
}

/* The 1-based column of a tab in the indentation of line `line` (0-based)
 * of `text`, or 0. libyaml's words for it ("found character that cannot
 * start any token") do not say what is wrong. */
static int indent_tab(const char *text, size_t len, size_t line)
{
    size_t at = 0;
    for (size_t l = 0; l < line && at < len; at++)
        if (text[at] == '\n') l++;
    for (int col = 1; at < len && (text[at] == ' ' || text[at] == '\t'); at++, col++)
        if (text[at] == '\t') return col;
    return 0;
}

/* libyaml's own wording, lowercased, at the problem's place (its marks are
 * 0-based and relative to the YAML text; reader errors only have a byte
 * offset). */
static void parser_error(loader *ld, yaml_parser_t *p, const char *text, size_t len)
{
    int tab = p->problem && p->error != YAML_READER_ERROR
                  ? indent_tab(text, len, p->problem_mark.line) : 0;
    if (tab) {
        ld->error = pub_diag_new(PUB_ERROR, ld->path, (int)p->problem_mark.line + ld->first_line, tab,
                                 "a tab indents this line: YAML is indented with spaces only");
        return;
    }
    char *msg = pub_xstrdup(p->problem ? p->problem : "out of memory while reading yaml");
    lowercase(msg);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '.') msg[--n] = '\0';
    int line = ld->first_line, col = 1;
    if (p->error == YAML_READER_ERROR) {
        size_t at = p->problem_offset < len ? p->problem_offset : len;
        pub_utf8_line_col(text, at, &line, &col);
        if (line == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 && col > 1) col--;
        line += ld->first_line - 1;
    } else if (p->problem) {
        line = (int)p->problem_mark.line + ld->first_line;
        col = (int)p->problem_mark.column + 1;
    } else if (p->context) {
        line = (int)p->context_mark.line + ld->first_line;
        col = (int)p->context_mark.column + 1;
    }
    if (p->problem && p->context && p->error != YAML_READER_ERROR) {
        /* "while scanning a quoted scalar" and where it began: the place
         * the author has to look at is often the start, not the end. */
        char *context = pub_xstrdup(p->context);
        lowercase(context);
        int from_line = (int)p->context_mark.line + ld->first_line;
        int from_col = (int)p->context_mark.column + 1;
        if (from_line == line && from_col == col)
            ld->error = pub_diag_new(PUB_ERROR, ld->path, line, col, "%s %s", msg, context);
        else
            ld->error = pub_diag_new(PUB_ERROR, ld->path, line, col, "%s %s (started at %d:%d)",
                                     msg, context, from_line, from_col);
        free(context);
    } else {
        ld->error = pub_diag_new(PUB_ERROR, ld->path, line, col, "%s", msg);
    }
    free(msg);
}

static pub_diag *utf8_error(const char *path, const char *text, size_t len, int first_line)
{
    size_t bad = pub_utf8_invalid_at(text, len);
    if (bad == len) return NULL;
    int line, col;
    pub_utf8_line_col(text, bad, &line, &col);
    /* Columns, like libyaml's, do not count a BOM. */
    if (line == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 && bad >= 3) col--;
    return pub_diag_new(PUB_ERROR, path, line + first_line - 1, col, "invalid UTF-8");
}

/* Parses one document. Warnings are handed to *warnings / *nwarnings
 * (appended; the caller owns them) whether or not it fails. */
static pub_diag *load(const char *path, const char *text, size_t len, int first_line,
                      pub_yaml_version version, pub_value **out, pub_diag ***warnings,
                      size_t *nwarnings)
{
    *out = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return pub_diag_new(PUB_ERROR, path, 0, 0, "out of memory while reading yaml");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    loader *ld = pub_xcalloc(1, sizeof *ld);
    ld->path = path;
    ld->first_line = first_line;
    ld->version = version;
    int documents = 0;
    bool done = false;
    while (!done && !ld->error) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            parser_error(ld, &parser, text, len);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) fail(ld, ev.start_mark, "expected a single document");
            break;
        case YAML_SCALAR_EVENT: on_scalar(ld, &ev); break;
        case YAML_ALIAS_EVENT: on_alias(ld, &ev); break;
        case YAML_SEQUENCE_START_EVENT:
            on_start(ld, &ev, PUB_LIST, ev.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            on_start(ld, &ev, PUB_MAP, ev.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: on_end(ld); break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);

    pub_diag *err = ld->error;
    while (ld->depth > 0) {
        frame *f = &ld->frames[--ld->depth];
        pub_value_free(f->node);
        frame_clear(f);
    }
    for (size_t i = 0; i < ld->anchors_len; i++) {
        free(ld->anchors[i].name);
        free(ld->anchors[i].text);
        pub_value_free(ld->anchors[i].value);
    }
    free(ld->anchors);
    if (ld->nwarnings) {
        *warnings = pub_xrealloc(*warnings, (*nwarnings + ld->nwarnings) * sizeof **warnings);
        memcpy(*warnings + *nwarnings, ld->warnings, ld->nwarnings * sizeof **warnings);
        *nwarnings += ld->nwarnings;
    }
    free(ld->warnings);
    if (err) {
        pub_value_free(ld->root);
    } else {
        *out = ld->root;
        if (!*out) {
            *out = pub_value_null();
            (*out)->line = first_line;
            (*out)->col = 1;
        }
    }
    free(ld);
    return err;
}

pub_diag *pub_yaml_parse_as(const char *path, const char *text, size_t len, int first_line,
                            pub_yaml_version version, pub_value **out, pub_diags *warnings)
{
    *out = NULL;
    pub_diag *err = utf8_error(path, text, len, first_line);
    if (err) return err;
    pub_diag **found = NULL;
    size_t nfound = 0;
    err = load(path, text, len, first_line, version, out, &found, &nfound);
    for (size_t i = 0; i < nfound; i++) {
        if (warnings) pub_diags_take(warnings, found[i]);
        else pub_diag_free(found[i]);
    }
    free(found);
    return err;
}

pub_diag *pub_yaml_parse(const char *path, const char *text, size_t len, int first_line,
                         pub_value **out)
{
    return pub_yaml_parse_as(path, text, len, first_line, PUB_YAML_12, out, NULL);
}

/* ------------------------------------------------------------------ */
/* Fences                                                              */
/* ------------------------------------------------------------------ */

/* `---` or `...` with nothing after it but blanks (and the CR of a CRLF). */
static bool is_fence(const char *s, size_t n, char c)
{
    if (n < 3 || s[0] != c || s[1] != c || s[2] != c) return false;
    for (size_t i = 3; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

static size_t line_end(const char *src, size_t from, size_t len)
{
    const char *nl = memchr(src + from, '\n', len - from);
    return nl ? (size_t)(nl - src) : len;
}

pub_diag *pub_fm_parse(const char *path, const char *src, size_t len, pub_fm *out)
{
    return pub_fm_parse_as(path, src, len, PUB_YAML_12, out);
}

pub_diag *pub_fm_parse_as(const char *path, const char *src, size_t len,
                          pub_yaml_version version, pub_fm *out)
{
    memset(out, 0, sizeof *out);
    pub_diag *err = utf8_error(path, src, len, 1);
    if (err) return err;
    bool bom = len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0;
    size_t start = bom ? 3 : 0;
    size_t end = line_end(src, start, len);
    bool crlf = end < len && end > start && src[end - 1] == '\r';
    if (!is_fence(src + start, end - start, '-')) {
        out->bom = bom;
        out->crlf = crlf;
        out->yaml_start = out->yaml_end = out->body_start = start;
        out->body_line = 1;
        out->meta = pub_value_map();
        return NULL;
    }
    size_t yaml_start = end < len ? end + 1 : len;
    size_t at = yaml_start, yaml_end = 0, body_start = 0;
    int line = 2;
    bool closed = false;
    while (at < len) {
        size_t e = line_end(src, at, len);
        if (is_fence(src + at, e - at, '-') || is_fence(src + at, e - at, '.')) {
            yaml_end = at;
            body_start = e < len ? e + 1 : len;
            closed = true;
            break;
        }
        line++;
        at = e + 1;
    }
    if (!closed)
        return pub_diag_new(PUB_ERROR, path, 1, 1, "unclosed front matter: no closing '---'");
    pub_value *meta;
    pub_diag **warnings = NULL;
    size_t nwarnings = 0;
    err = load(path, src + yaml_start, yaml_end - yaml_start, 2, version, &meta, &warnings,
               &nwarnings);
    if (err) {
        for (size_t i = 0; i < nwarnings; i++) pub_diag_free(warnings[i]);
        free(warnings);
        return err;
    }
    if (meta->type == PUB_NULL) {
        int l = meta->line, c = meta->col;
        pub_value_free(meta);
        meta = pub_value_map();
        meta->line = l;
        meta->col = c;
    } else if (meta->type != PUB_MAP) {
        err = pub_diag_new(PUB_ERROR, path, meta->line, meta->col,
                           "front matter must be a mapping");
        pub_value_free(meta);
        for (size_t i = 0; i < nwarnings; i++) pub_diag_free(warnings[i]);
        free(warnings);
        return err;
    }
    out->warnings = warnings;
    out->nwarnings = nwarnings;
    out->present = true;
    out->bom = bom;
    out->crlf = crlf;
    out->yaml_start = yaml_start;
    out->yaml_end = yaml_end;
    out->body_start = body_start;
    out->body_line = line + 1;
    out->meta = meta;
    return NULL;
}

void pub_fm_free(pub_fm *fm)
{
    if (!fm) return;
    pub_value_free(fm->meta);
    fm->meta = NULL;
    for (size_t i = 0; i < fm->nwarnings; i++) pub_diag_free(fm->warnings[i]);
    free(fm->warnings);
    fm->warnings = NULL;
    fm->nwarnings = 0;
}

/* ------------------------------------------------------------------ */
/* Emitting                                                            */
/* ------------------------------------------------------------------ */

/* Characters libyaml will not take raw (C0/C1 controls, DEL, non-characters)
 * or reads as line breaks or a BOM: these force double quotes. */
static bool needs_escape(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F) return true;
            i++;
            continue;
        }
        uint32_t cp;
        size_t w = pub_utf8_decode(s + i, n - i, &cp);
        if (w == 1 || cp < 0xA0 || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
            cp == 0xFFFE || cp == 0xFFFF)
            return true;
        i += w;
    }
    return false;
}

/* Whether `s` can be written without quotes and read back as the same
 * string (values) or the same key text (keys, which are never resolved). */
static bool plain_ok(const char *s, size_t n, bool key)
{
    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ') return false;
    if (s[0] != '\0' && strchr("-?:,[]{}#&*!|>'\"%@`", s[0])) return false;
    if (n >= 3 && memcmp(s, "...", 3) == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ':' && (i + 1 == n || s[i + 1] == ' ')) return false;
        if (c == '#' && s[i - 1] == ' ') return false; /* i > 0: s[0] is not '#' */
    }
    if (needs_escape(s, n)) return false;
    if (key) return !(n == 2 && memcmp(s, "<<", 2) == 0);
    scalar sc;
    /* Quoted when either YAML version would type it: `yes` written for a
     * Jekyll site must not come back as a boolean. */
    return resolve_plain(s, n, PUB_YAML_12, &sc) == SCALAR_STRING &&
           resolve_plain(s, n, PUB_YAML_11, &sc) == SCALAR_STRING;
}

static void emit_double_quoted(const char *s, size_t n, pub_buf *out)
{
    pub_buf_putc(out, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t w = pub_utf8_decode(s + i, n - i, &cp);
            if (w == 1) pub_buf_printf(out, "\\x%02X", c); /* not UTF-8: cannot round-trip */
            else if (cp == 0x85) pub_buf_puts(out, "\\N");
            else if (cp == 0x2028) pub_buf_puts(out, "\\L");
            else if (cp == 0x2029) pub_buf_puts(out, "\\P");
            else if (cp < 0xA0) pub_buf_printf(out, "\\x%02X", (unsigned)cp);
            else if (cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF)
                pub_buf_printf(out, "\\u%04X", (unsigned)cp);
            else pub_buf_append(out, s + i, w);
            i += w;
            continue;
        }
        switch (c) {
        case '"': pub_buf_puts(out, "\\\""); break;
        case '\\': pub_buf_puts(out, "\\\\"); break;
        case '\n': pub_buf_puts(out, "\\n"); break;
        case '\t': pub_buf_puts(out, "\\t"); break;
        case '\r': pub_buf_puts(out, "\\r"); break;
        case '\0': pub_buf_puts(out, "\\0"); break;
        default:
            if (c < 0x20 || c == 0x7F) pub_buf_printf(out, "\\x%02X", c);
            else pub_buf_putc(out, (char)c);
        }
        i++;
    }
    pub_buf_putc(out, '"');
}

static void emit_text(const char *s, size_t n, bool key, pub_buf *out)
{
    if (plain_ok(s, n, key)) {
        pub_buf_append(out, s, n);
    } else if (needs_escape(s, n)) {
        emit_double_quoted(s, n, out);
    } else {
        pub_buf_putc(out, '\'');
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\'') pub_buf_putc(out, '\'');
            pub_buf_putc(out, s[i]);
        }
        pub_buf_putc(out, '\'');
    }
}

/* The shortest text strtod reads back as exactly `f`, shaped so that it
 * resolves as a float again ("2.0", not "2"). */
static void emit_float(double f, pub_buf *out)
{
    if (isnan(f)) {
        pub_buf_puts(out, ".nan");
        return;
    }
    if (isinf(f)) {
        pub_buf_puts(out, f > 0 ? ".inf" : "-.inf");
        return;
    }
    char text[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, f);
        if (strtod(text, NULL) == f) break;
    }
    pub_buf_puts(out, text);
    if (!strpbrk(text, ".eE")) pub_buf_puts(out, ".0");
}

static void emit_date(const pub_date *d, pub_buf *out)
{
    pub_buf_printf(out, "%04d-%02d-%02d", d->year, d->month, d->day);
    if (!d->has_time) return;
    pub_buf_printf(out, " %02d:%02d:%02d", d->hour, d->min, d->sec);
    if (d->nsec) {
        char frac[16];
        snprintf(frac, sizeof frac, "%09d", d->nsec);
        size_t n = strlen(frac);
        while (n > 1 && frac[n - 1] == '0') n--;
        pub_buf_putc(out, '.');
        pub_buf_append(out, frac, n);
    }
    if (d->has_zone) {
        int off = d->offset_min < 0 ? -d->offset_min : d->offset_min;
        pub_buf_printf(out, " %c%02d:%02d", d->offset_min < 0 ? '-' : '+', off / 60, off % 60);
    }
}

static bool is_block(const pub_value *v)
{
    return (v->type == PUB_LIST && v->as.list.len) || (v->type == PUB_MAP && v->as.map.len);
}

/* Everything that fits on one line: scalars and empty collections. */
static void emit_inline(const pub_value *v, pub_buf *out)
{
    switch (v->type) {
    case PUB_NULL: pub_buf_puts(out, "null"); break;
    case PUB_BOOL: pub_buf_puts(out, v->as.boolean ? "true" : "false"); break;
    case PUB_INT: pub_buf_printf(out, "%lld", v->as.integer); break;
    case PUB_FLOAT: emit_float(v->as.number, out); break;
    case PUB_DATE: emit_date(&v->as.date, out); break;
    case PUB_STRING: emit_text(v->as.string.bytes, v->as.string.len, false, out); break;
    case PUB_LIST: pub_buf_puts(out, "[]"); break;
    case PUB_MAP: pub_buf_puts(out, "{}"); break;
    }
}

static void emit_indent(int indent, pub_buf *out)
{
    for (int i = 0; i < indent; i++) pub_buf_putc(out, ' ');
}

static void emit_block(const pub_value *v, int indent, bool first_inline, pub_buf *out);

/* libyaml refuses implicit keys longer than 1024 characters. */
#define LONG_KEY 1000

static void emit_map(const pub_value *v, int indent, bool first_inline, pub_buf *out)
{
    for (size_t i = 0; i < v->as.map.len; i++) {
        const pub_pair *p = &v->as.map.pairs[i];
        if (i > 0 || !first_inline) emit_indent(indent, out);
        if (p->key_len > LONG_KEY) {
            pub_buf_puts(out, "? ");
            emit_text(p->key, p->key_len, true, out);
            pub_buf_putc(out, '\n');
            emit_indent(indent, out);
        } else {
            emit_text(p->key, p->key_len, true, out);
        }
        pub_buf_putc(out, ':');
        if (is_block(p->value)) {
            pub_buf_putc(out, '\n');
            emit_block(p->value, indent + 2, false, out);
        } else {
            pub_buf_putc(out, ' ');
            emit_inline(p->value, out);
            pub_buf_putc(out, '\n');
        }
    }
}

static void emit_list(const pub_value *v, int indent, bool first_inline, pub_buf *out)
{
    for (size_t i = 0; i < v->as.list.len; i++) {
        const pub_value *item = v->as.list.items[i];
        if (i > 0 || !first_inline) emit_indent(indent, out);
        pub_buf_puts(out, "- ");
        if (is_block(item)) {
            emit_block(item, indent + 2, true, out);
        } else {
            emit_inline(item, out);
            pub_buf_putc(out, '\n');
        }
    }
}

static void emit_block(const pub_value *v, int indent, bool first_inline, pub_buf *out)
{
    if (v->type == PUB_MAP) emit_map(v, indent, first_inline, out);
    else emit_list(v, indent, first_inline, out);
}

void pub_yaml_emit(const pub_value *v, int indent, pub_buf *out)
{
    if (is_block(v)) {
        emit_block(v, indent, false, out);
        return;
    }
    emit_indent(indent, out);
    emit_inline(v, out);
    pub_buf_putc(out, '\n');
}
