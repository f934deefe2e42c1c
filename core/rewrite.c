/* Surgical front-matter rewrite. libyaml's event marks tell where each
 * top-level key starts and where its value ends; those lines are spliced
 * out and replaced by pub_yaml_emit output. The rewrite trusts nothing it
 * did: after each key it parses the whole file again with pub_fm_parse and
 * compares the meaning with what was intended, because line splicing cannot
 * see everything YAML can express (an alias elsewhere pointing into the
 * replaced lines, a flow mapping spread over lines, tags on keys). */
#include "rewrite.h"
#include "frontmatter.h"
#include "util/mem.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Where one top-level key lives in the file, in bytes. */
typedef struct key_span {
    char *key;
    size_t key_len;
    size_t start; /* start of the key's line */
    size_t end;   /* just after the line break ending its value */
    bool simple;  /* nothing but indentation precedes the key on its line */
} key_span;

typedef struct key_layout {
    key_span *keys;
    size_t len, cap;
    bool flow; /* the top level is a flow mapping: no line-wise edits */
} key_layout;

static void layout_free(key_layout *k)
{
    for (size_t i = 0; i < k->len; i++) free(k->keys[i].key);
    free(k->keys);
    memset(k, 0, sizeof *k);
}

/* Byte offsets of the starts of lines as libyaml counts them (it also
 * breaks lines at NEL, LS and PS), so a mark's line/column can be turned
 * back into a byte offset. */
typedef struct line_table {
    size_t *starts;
    size_t len;
} line_table;

static size_t break_width(const char *s, size_t i, size_t n)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') return 1;
    if (c == '\r') return (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
    if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85) return 2;
    if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))
        return 3;
    return 0;
}

static void lines_build(const char *s, size_t n, line_table *t)
{
    size_t cap = 16;
    t->starts = pub_xmalloc(cap * sizeof *t->starts);
    t->len = 0;
    t->starts[t->len++] = 0;
    for (size_t i = 0; i < n;) {
        size_t w = break_width(s, i, n);
        if (!w) {
            i++;
            continue;
        }
        i += w;
        if (t->len == cap) {
            cap *= 2;
            t->starts = pub_xrealloc(t->starts, cap * sizeof *t->starts);
        }
        t->starts[t->len++] = i;
    }
}

/* Byte offset of a mark within the text (column counts characters). */
static size_t mark_offset(const line_table *t, const char *s, size_t n, yaml_mark_t m)
{
    if (m.line >= t->len) return n;
    size_t i = t->starts[m.line];
    for (size_t col = 0; col < m.column && i < n; col++) {
        unsigned char c = (unsigned char)s[i];
        size_t w = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        i += w;
    }
    return i < n ? i : n;
}

/* A block scalar's end mark lies after its trailing blank lines; those
 * belong between keys unless the scalar keeps them (`|+`, `>+`). */
static bool block_keeps_trailing(const char *s, size_t n, size_t start)
{
    for (size_t i = start; i < n && s[i] != '\n' && s[i] != '#'; i++)
        if (s[i] == '+') return true;
    return false;
}

typedef struct scan {
    yaml_parser_t parser;
    const char *text;
    size_t n;
    line_table lines;
} scan;

static bool next_event(scan *sc, yaml_event_t *ev, size_t *start, size_t *end)
{
    if (!yaml_parser_parse(&sc->parser, ev)) return false;
    *start = mark_offset(&sc->lines, sc->text, sc->n, ev->start_mark);
    *end = mark_offset(&sc->lines, sc->text, sc->n, ev->end_mark);
    return true;
}

/* Consumes the node that begins with `ev` (already read; deleted here) and
 * raises *last to the end of its furthest content. */
static bool read_node(scan *sc, yaml_event_t *ev, size_t start, size_t end, size_t *last)
{
    const char *text = sc->text;
    if (ev->type == YAML_SCALAR_EVENT) {
        yaml_scalar_style_t st = ev->data.scalar.style;
        /* An empty plain scalar is marked at the next token, which may be
         * the next key: it adds nothing. */
        bool empty = ev->data.scalar.length == 0 && st == YAML_PLAIN_SCALAR_STYLE;
        if ((st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE) &&
            !block_keeps_trailing(text, sc->n, start)) {
            /* Trailing blank lines belong between keys, not to the scalar. */
            while (end > start && strchr("\r\n \t", text[end - 1])) end--;
        }
        if (!empty && end > *last) *last = end;
        yaml_event_delete(ev);
        return true;
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        if (end > *last) *last = end;
        yaml_event_delete(ev);
        return true;
    }
    if (ev->type != YAML_MAPPING_START_EVENT && ev->type != YAML_SEQUENCE_START_EVENT) {
        yaml_event_delete(ev);
        return false;
    }
    yaml_event_delete(ev);
    for (;;) {
        yaml_event_t child;
        size_t cs, ce;
        if (!next_event(sc, &child, &cs, &ce)) return false;
        if (child.type == YAML_MAPPING_END_EVENT || child.type == YAML_SEQUENCE_END_EVENT) {
            /* A flow collection ends at its bracket; a block one's end mark
             * is the next token, possibly after comments further down. */
            if (ce > cs && (text[ce - 1] == ']' || text[ce - 1] == '}') && ce > *last)
                *last = ce;
            yaml_event_delete(&child);
            return true;
        }
        if (!read_node(sc, &child, cs, ce, last)) return false;
    }
}

/* End of the line holding the byte before `pos` (after its '\n'). */
static size_t line_end(const char *text, size_t n, size_t pos)
{
    if (pos > 0 && text[pos - 1] == '\n') return pos;
    while (pos < n && text[pos] != '\n') pos++;
    return pos < n ? pos + 1 : n;
}

/* Finds the top-level keys of the YAML in s[from, to). Offsets in *out are
 * absolute in s. Returns false when libyaml cannot read the text. */
static bool layout_scan(const char *s, size_t from, size_t to, key_layout *out)
{
    memset(out, 0, sizeof *out);
    scan sc;
    sc.text = s + from;
    sc.n = to - from;
    lines_build(sc.text, sc.n, &sc.lines);
    yaml_parser_initialize(&sc.parser);
    yaml_parser_set_input_string(&sc.parser, (const unsigned char *)sc.text, sc.n);

    bool ok = false;
    yaml_event_t ev;
    size_t start, end;
    /* stream start, then a document start (or the end of an empty stream) */
    if (!next_event(&sc, &ev, &start, &end)) goto out;
    yaml_event_delete(&ev);
    if (!next_event(&sc, &ev, &start, &end)) goto out;
    if (ev.type != YAML_DOCUMENT_START_EVENT) {
        yaml_event_delete(&ev);
        ok = true;
        goto out;
    }
    yaml_event_delete(&ev);
    if (!next_event(&sc, &ev, &start, &end)) goto out;
    if (ev.type != YAML_MAPPING_START_EVENT) {
        /* An empty document (a null) has no keys; anything else is refused
         * by pub_fm_parse before we get here. */
        yaml_event_delete(&ev);
        ok = true;
        goto out;
    }
    out->flow = ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
    yaml_event_delete(&ev);
    for (;;) {
        if (!next_event(&sc, &ev, &start, &end)) goto out;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (out->len == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->keys = pub_xrealloc(out->keys, out->cap * sizeof *out->keys);
        }
        key_span *k = &out->keys[out->len++];
        memset(k, 0, sizeof *k);
        size_t ls = start;
        while (ls > 0 && sc.text[ls - 1] != '\n') ls--;
        k->start = from + ls;
        k->simple = ev.type == YAML_SCALAR_EVENT && !ev.data.scalar.anchor && !ev.data.scalar.tag;
        for (size_t i = ls; i < start; i++)
            if (sc.text[i] != ' ') k->simple = false;
        if (ev.type == YAML_SCALAR_EVENT) {
            k->key = pub_xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            k->key_len = ev.data.scalar.length;
        } else {
            k->key = pub_xstrdup("");
            k->simple = false;
        }
        size_t last = end;
        if (!read_node(&sc, &ev, start, end, &last)) goto out;
        if (!next_event(&sc, &ev, &start, &end)) goto out;
        if (!read_node(&sc, &ev, start, end, &last)) goto out;
        k->end = from + line_end(sc.text, sc.n, last);
    }
    ok = true;
out:
    yaml_parser_delete(&sc.parser);
    free(sc.lines.starts);
    if (!ok) layout_free(out);
    return ok;
}

/* ---- building the new text ---------------------------------------------- */

/* Appends `text` with every "\n" written as `eol`. */
static void put_lines(pub_buf *out, const char *text, size_t n, const char *eol)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '\n') continue;
        pub_buf_append(out, text + from, i - from);
        pub_buf_puts(out, eol);
        from = i + 1;
    }
    pub_buf_append(out, text + from, n - from);
}

/* "key: value" lines for one key, in the file's line ending. */
static void emit_key(const char *key, const pub_value *value, const char *eol, pub_buf *out)
{
    pub_value *one = pub_value_map();
    pub_map_set(one, key, strlen(key), pub_value_copy(value));
    pub_buf yaml = PUB_BUF_INIT;
    pub_yaml_emit(one, 0, &yaml);
    pub_value_free(one);
    if (yaml.len && yaml.data[yaml.len - 1] != '\n') pub_buf_putc(&yaml, '\n');
    put_lines(out, yaml.data ? yaml.data : "", yaml.len, eol);
    pub_buf_free(&yaml);
}

/* Where the body starts: after the closing fence, and never inside a BOM. */
static size_t content_start(const pub_fm *fm, size_t len)
{
    size_t at = fm->body_start;
    if (fm->bom && at < 3) at = 3;
    return at < len ? at : len;
}

/* The line ending new lines get: the file's own (the fence's, or the first
 * line's when there is no front matter). */
static const char *file_eol(const pub_fm *fm, const char *src, size_t len)
{
    if (fm->present) return fm->crlf ? "\r\n" : "\n";
    const char *nl = memchr(src, '\n', len);
    return (nl && nl > src && nl[-1] == '\r') ? "\r\n" : "\n";
}

static void value_map_remove(pub_value *map, const char *key)
{
    for (size_t i = 0; i < map->as.map.len; i++) {
        pub_pair *p = &map->as.map.pairs[i];
        if (strlen(key) != p->key_len || memcmp(p->key, key, p->key_len) != 0) continue;
        free(p->key);
        pub_value_free(p->value);
        memmove(p, p + 1, (map->as.map.len - i - 1) * sizeof *p);
        map->as.map.len--;
        return;
    }
}

static int line_of(const char *text, size_t at)
{
    int line = 1;
    for (size_t i = 0; i < at; i++) line += text[i] == '\n';
    return line;
}

/* Applies one change to `text` (already parsed as *fm) into `out`.
 * False when the change cannot be made line-wise; *dup_line is then the
 * line of a second occurrence of the key, if that was the reason (which of
 * two equal keys a script meant cannot be known). */
static bool apply_change(const char *text, size_t len, const pub_fm *fm,
                         const pub_rewrite_change *c, pub_buf *out, int *dup_line)
{
    const char *eol = file_eol(fm, text, len);
    if (!fm->present) {
        if (!c->value) {
            pub_buf_append(out, text, len);
            return true;
        }
        size_t body = content_start(fm, len);
        if (fm->bom) pub_buf_append(out, text, 3);
        pub_buf_puts(out, "---");
        pub_buf_puts(out, eol);
        emit_key(c->key, c->value, eol, out);
        pub_buf_puts(out, "---");
        pub_buf_puts(out, eol);
        pub_buf_append(out, text + body, len - body);
        return true;
    }
    key_layout lay;
    if (!layout_scan(text, fm->yaml_start, fm->yaml_end, &lay)) return false;
    bool ok = true;
    const key_span *found = NULL;
    size_t klen = strlen(c->key);
    for (size_t i = 0; ok && i < lay.len; i++) {
        const key_span *k = &lay.keys[i];
        if (k->key_len != klen || memcmp(k->key, c->key, klen) != 0) continue;
        if (found) *dup_line = line_of(text, k->start);
        if (found || !k->simple) ok = false; /* duplicate or unusual key */
        found = k;
    }
    /* Removing an absent key is nothing to do, whatever the style. */
    if (lay.flow && (found || c->value)) ok = false;
    if (ok) {
        if (found) {
            pub_buf_append(out, text, found->start);
            if (c->value) emit_key(c->key, c->value, eol, out);
            pub_buf_append(out, text + found->end, len - found->end);
        } else if (c->value) {
            pub_buf_append(out, text, fm->yaml_end);
            emit_key(c->key, c->value, eol, out);
            pub_buf_append(out, text + fm->yaml_end, len - fm->yaml_end);
        } else {
            pub_buf_append(out, text, len);
        }
    }
    layout_free(&lay);
    return ok;
}

/* True when `text` parses to exactly `meta` and `body`, with the BOM as
 * before. *fm receives the parse (caller frees) when it succeeds. */
static bool verify(const char *path, const char *text, size_t len, const pub_value *meta,
                   bool bom, const char *body, size_t body_len, pub_fm *fm)
{
    pub_diag *d = pub_fm_parse(path, text, len, fm);
    if (d) {
        pub_diag_free(d);
        return false;
    }
    size_t at = content_start(fm, len);
    bool same = fm->bom == bom && pub_value_equal(fm->meta, meta) && len - at == body_len &&
                memcmp(text + at, body, body_len) == 0;
    if (!same) pub_fm_free(fm);
    return same;
}

pub_diag *pub_rewrite(const char *path, const char *src, size_t len,
                      const pub_rewrite_change *changes, size_t nchanges,
                      const char *body, size_t body_len, pub_buf *out)
{
    pub_fm fm;
    pub_diag *d = pub_fm_parse(path, src, len, &fm);
    if (d) return d;

    size_t at = content_start(&fm, len);
    if (!body) {
        body = src + at;
        body_len = len - at;
    }
    bool bom = fm.bom;
    pub_value *expected = pub_value_copy(fm.meta);
    pub_buf cur = PUB_BUF_INIT;
    pub_buf_append(&cur, src, at);
    pub_buf_append(&cur, body, body_len);
    /* The body can only change the front matter when there was none and
     * the new body starts with a fence; the check below catches that. */
    pub_fm_free(&fm);
    if (!verify(path, cur.data, cur.len, expected, bom, body, body_len, &fm)) {
        d = pub_diag_new(PUB_ERROR, path, 0, 0,
                         "rewrite of the body would change the meaning of the front matter");
        goto fail;
    }
    for (size_t i = 0; i < nchanges; i++) {
        const pub_rewrite_change *c = &changes[i];
        pub_buf next = PUB_BUF_INIT;
        int dup_line = 0;
        bool ok = apply_change(cur.data, cur.len, &fm, c, &next, &dup_line);
        pub_fm_free(&fm);
        if (c->value)
            pub_map_set(expected, c->key, strlen(c->key), pub_value_copy(c->value));
        else
            value_map_remove(expected, c->key);
        if (dup_line) {
            pub_buf_free(&next);
            d = pub_diag_new(PUB_ERROR, path, dup_line, 1,
                             "cannot change '%s': the key is given more than once in the front "
                             "matter (remove the extra one first)", c->key);
            goto fail;
        }
        if (!ok || !verify(path, next.data, next.len, expected, bom, body, body_len, &fm)) {
            pub_buf_free(&next);
            d = pub_diag_new(PUB_ERROR, path, 0, 0,
                             "rewrite of '%s' would change the meaning of the front matter",
                             c->key);
            goto fail;
        }
        pub_buf_free(&cur);
        cur = next;
    }
    pub_fm_free(&fm);
    pub_value_free(expected);
    pub_buf_append(out, cur.data ? cur.data : "", cur.len);
    pub_buf_free(&cur);
    return NULL;
fail:
    pub_value_free(expected);
    pub_buf_free(&cur);
    return d;
}

void pub_rewrite_new_file(const pub_value *meta, const char *body, size_t body_len,
                          pub_buf *out)
{
    pub_buf_puts(out, "---\n");
    if (meta && meta->type == PUB_MAP && meta->as.map.len > 0) {
        size_t before = out->len;
        pub_yaml_emit(meta, 0, out);
        if (out->len > before && out->data[out->len - 1] != '\n') pub_buf_putc(out, '\n');
    }
    pub_buf_puts(out, "---\n");
    pub_buf_append(out, body, body_len);
}
