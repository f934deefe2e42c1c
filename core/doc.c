/* Reading one document (the contract is in doc.h). A post that makes
 * libyaml or cmark slow (a pathological input) is named with its time, so
 * a slow build can be traced to the file. */
#define _DEFAULT_SOURCE
#include "doc.h"
#include "cache.h"
#include "confine.h"
#include "content.h"
#include "fingerprint.h"
#include "highlight.h"
#include "markdown.h"
#include "sass.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/mem.h"
#include "util/path.h"
#include <cmark-gfm.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void load_document(pub_site *site, pub_doc *doc, const pub_md_options *md,
                          pub_load_mode mode, pub_cache *cache, const pub_doc_tree_options *tree,
                          pub_content *store);

void pub_doc_load(pub_site *site, pub_doc *doc, const pub_md_options *md, pub_load_mode mode,
                  pub_cache *cache, const pub_doc_tree_options *tree, pub_content *store)
{
    double start = pub_clock_now();
    load_document(site, doc, md, mode, cache, tree, store);
    double took = pub_clock_now() - start;
    if (took >= site->slow_seconds && !doc->error)
        doc->warning = pub_diag_new(PUB_WARNING, doc->path, 0, 0,
                                    "slow to read: %.2f s (front matter and Markdown)", took);
}

/* ---- The document cache ------------------------------------------------------ */

/* An entry is "EFFECTS_LEN KEYS_LEN\n", the highlighted blocks' keys, the
 * effects, then the HTML: one blob, so that they are never out of step. */

uint64_t pub_doc_cache_seed(const void *material, size_t len, const pub_md_options *md)
{
    static const char tag[] = "document-cache:";
    uint64_t h = pub_hash(material, len, pub_cache_md_key(tag, sizeof tag - 1, md));
    return h ? h : 1;
}

/* The key of one document: the seed, its path (the post's URL and
 * fields come from it) and every byte of the file (front matter and
 * body). */
static uint64_t doc_cache_key(uint64_t seed, const pub_doc *doc)
{
    uint64_t h = pub_hash(doc->path, strlen(doc->path) + 1, seed);
    return pub_hash(doc->text, doc->len, h);
}

void pub_doc_cache_put(pub_cache *cache, uint64_t key, const char *html, size_t html_len,
                       const char *effects, size_t effects_len, const char *hl_keys,
                       size_t hl_keys_len)
{
    pub_buf blob = PUB_BUF_INIT;
    hl_keys_len -= hl_keys_len % 8;
    pub_buf_printf(&blob, "%zu %zu\n", effects_len, hl_keys_len);
    if (hl_keys_len) pub_buf_append(&blob, hl_keys, hl_keys_len);
    pub_buf_append(&blob, effects, effects_len);
    pub_buf_append(&blob, html, html_len);
    pub_cache_put_html(cache, key, blob.data, blob.len);
    pub_buf_free(&blob);
}

/* doc->keep: the document-cache entry `key` and its highlighted blocks'
 * keys, for a post snapshot to keep in the cache (doc.h). */
static void set_keep(pub_doc *doc, uint64_t key, const char *hl_keys, size_t hl_keys_len)
{
    free(doc->keep);
    doc->keep = pub_xmalloc(8 + hl_keys_len);
    pub_hash_put_le64((unsigned char *)doc->keep, key);
    if (hl_keys_len) memcpy(doc->keep + 8, hl_keys, hl_keys_len);
    doc->keep_len = 8 + hl_keys_len;
}

/* A cached result into doc->html and doc->effects, its highlighted
 * blocks kept in the cache; false when there is none (or it is not one of
 * ours). */
static bool doc_cache_get(pub_cache *cache, uint64_t key, pub_doc *doc)
{
    size_t len;
    char *blob = pub_cache_get_html(cache, key, &len);
    if (!blob) return false;
    char *end, *end2;
    unsigned long long effects_len = strtoull(blob, &end, 10);
    unsigned long long keys_len = strtoull(end, &end2, 10);
    size_t head = (size_t)(end2 - blob) + 1;
    if (end == blob || *end != ' ' || end2 == end + 1 || *end2 != '\n' || keys_len % 8 ||
        keys_len > len - head || effects_len > len - head - keys_len) {
        free(blob);
        return false;
    }
    for (size_t i = 0; i < keys_len; i += 8)
        pub_cache_keep(cache, pub_hash_get_le64((const unsigned char *)blob + head + i));
    set_keep(doc, key, blob + head, (size_t)keys_len);
    head += (size_t)keys_len;
    doc->effects = pub_xstrndup(blob + head, (size_t)effects_len);
    doc->effects_len = (size_t)effects_len;
    doc->html_len = len - head - (size_t)effects_len;
    memmove(blob, blob + head + effects_len, doc->html_len + 1); /* with the NUL */
    doc->html = blob;
    return true;
}

/* ---- Post snapshots ---------------------------------------------------------- */

/* An entry is a header of four 64-bit words (the content's cache key, 0
 * when the snapshot holds its content itself; its length; where the body
 * starts in the file; the number of keys to keep), the keys to keep, then
 * the snapshot (core/lua/snapshot.h). Its key is the document's stat key
 * when its stat can vouch for its bytes, else its bytes key: one entry
 * per post either way. */
enum { SNAP_HEAD = 32 };

uint64_t pub_doc_snapshot_seed(const void *material, size_t len, const pub_md_options *md)
{
    static const char tag[] = "post-snapshot:";
    uint64_t h = pub_hash(material, len, pub_cache_md_key(tag, sizeof tag - 1, md));
    return h ? h : 1;
}

/* By the document's stat: its path and the fingerprint's 7 numbers. */
static uint64_t snap_stat_key(uint64_t seed, const pub_doc *doc, const uint64_t *stat)
{
    unsigned char b[8 * 7];
    for (size_t i = 0; i < 7; i++) pub_hash_put_le64(b + 8 * i, stat[i]);
    uint64_t h = pub_hash(doc->path, strlen(doc->path) + 1, ~seed);
    return pub_hash(b, sizeof b, h);
}

/* A snapshot entry into doc (see pub_doc_tree_options); false when there
 * is none, or what it needs is no longer in the cache. */
static bool snapshot_get(pub_cache *cache, uint64_t key, pub_doc *doc)
{
    size_t len;
    char *blob = pub_cache_get_html(cache, key, &len);
    if (!blob) return false;
    const unsigned char *p = (const unsigned char *)blob;
    uint64_t nkeep = len >= SNAP_HEAD ? pub_hash_get_le64(p + 24) : UINT64_MAX;
    uint64_t content_key = 0, content_len = 0;
    bool ok = nkeep <= (len - SNAP_HEAD) / 8;
    if (ok) {
        content_key = pub_hash_get_le64(p);
        content_len = pub_hash_get_le64(p + 8);
        size_t have;
        ok = !content_key || (pub_cache_html_size(cache, content_key, &have) && have == content_len);
    }
    if (!ok) {
        free(blob);
        return false;
    }
    for (uint64_t i = 0; i < nkeep; i++) pub_cache_keep(cache, pub_hash_get_le64(p + SNAP_HEAD + 8 * i));
    if (content_key) {
        doc->has_content = doc->content_cached = true;
        doc->content_key = content_key;
        doc->content_len = (size_t)content_len;
    }
    doc->body_start = (size_t)pub_hash_get_le64(p + 16);
    doc->snapshot = blob;
    doc->snapshot_len = len;
    return true;
}

const char *pub_doc_snapshot_bytes(const pub_doc *doc, size_t *len)
{
    uint64_t nkeep = pub_hash_get_le64((const unsigned char *)doc->snapshot + 24);
    size_t head = SNAP_HEAD + 8 * (size_t)nkeep;
    *len = doc->snapshot_len - head;
    return doc->snapshot + head;
}

/* Before the file is read: a post whose stat vouches for it (not racy)
 * is looked up by it; doc->snap_key is then where to store it. */
static bool snapshot_by_stat(pub_site *site, pub_doc *doc, pub_cache *cache,
                             const pub_doc_tree_options *o)
{
    const uint64_t *stat = o->stats ? o->stats[doc - site->docs] : NULL;
    if (!stat || pub_fingerprint_is_racy(stat, o->since_ns)) return false;
    doc->snap_key = snap_stat_key(o->snap_seed, doc, stat);
    return snapshot_get(cache, doc->snap_key, doc);
}

/* After it was read: by its bytes (stored so while it was racy). A hit
 * moves to the stat key when there is one, so that the next build need
 * not read the file; on a miss doc->snap_key stays where to store it
 * (the stat key, else the bytes key). */
static bool snapshot_by_bytes(pub_doc *doc, pub_cache *cache, const pub_doc_tree_options *o)
{
    uint64_t key = pub_hash(doc->path, strlen(doc->path) + 1, o->snap_seed);
    key = pub_hash(doc->text, doc->len, key);
    if (!snapshot_get(cache, key, doc)) {
        if (!doc->snap_key) doc->snap_key = key;
        return false;
    }
    if (doc->snap_key) pub_cache_move(cache, key, doc->snap_key);
    doc->snap_key = 0;
    free(doc->text);
    doc->text = NULL;
    doc->len = 0;
    return true;
}

bool pub_doc_snapshot_put(pub_cache *cache, const pub_doc *doc, bool lazy_content,
                          const char *bytes, size_t len)
{
    if (!doc->snap_key || (lazy_content && !doc->content_cached)) return false;
    const char *keep = doc->keep;
    size_t keep_len = doc->keep_len;
    unsigned char head[SNAP_HEAD];
    pub_hash_put_le64(head, lazy_content ? doc->content_key : 0);
    pub_hash_put_le64(head + 8, lazy_content ? doc->content_len : 0);
    pub_hash_put_le64(head + 16, doc->body_start);
    pub_hash_put_le64(head + 24, keep_len / 8);
    pub_buf blob = PUB_BUF_INIT;
    pub_buf_append(&blob, head, SNAP_HEAD);
    if (keep_len) pub_buf_append(&blob, keep, keep_len);
    pub_buf_append(&blob, bytes, len);
    bool ok = pub_cache_put_html(cache, doc->snap_key, blob.data, blob.len);
    pub_buf_free(&blob);
    return ok;
}

const uint64_t **pub_doc_stats(const pub_site *site, const pub_fingerprint *fp)
{
    /* An open-addressed table of the fingerprint's files by path; a path
     * listed twice (a symlink and its target) is known by neither. */
    size_t cap = 16;
    while (cap < 2 * fp->nfiles) cap *= 2;
    size_t *slot = pub_xcalloc(cap, sizeof *slot); /* file index + 1; 0: empty */
    bool *twice = pub_xcalloc(fp->nfiles ? fp->nfiles : 1, sizeof *twice);
    for (size_t i = 0; i < fp->nfiles; i++) {
        const char *rel = fp->files[i].rel;
        size_t h = (size_t)pub_hash(rel, strlen(rel), 0) & (cap - 1);
        while (slot[h] && strcmp(fp->files[slot[h] - 1].rel, rel) != 0) h = (h + 1) & (cap - 1);
        if (slot[h]) twice[slot[h] - 1] = true;
        else slot[h] = i + 1;
    }
    const uint64_t **stats = pub_xcalloc(site->ndocs ? site->ndocs : 1, sizeof *stats);
    for (size_t d = 0; d < site->ndocs; d++) {
        const char *path = site->docs[d].path;
        size_t h = (size_t)pub_hash(path, strlen(path), 0) & (cap - 1);
        while (slot[h] && strcmp(fp->files[slot[h] - 1].rel, path) != 0) h = (h + 1) & (cap - 1);
        if (slot[h] && !twice[slot[h] - 1]) stats[d] = fp->files[slot[h] - 1].stat;
    }
    free(twice);
    free(slot);
    return stats;
}

/* ---- Highlighting ahead ------------------------------------------------------ */

/* Whether a fence's info string has a word about line numbers
 * ("linenos", "linenos=10"): such a block is left to the plugin, which
 * reads it. */
static bool mentions_linenos(const char *info)
{
    for (const char *p = info; (p = strstr(p, "linenos")); p += 7)
        if (p == info || p[-1] == ' ' || p[-1] == '\t') return true;
    return false;
}

/* Highlights the tree's fenced code into the cache (see doc.h). The
 * language is the info string's first word, as publish.Node's `lang`. */
static void highlight_ahead(pub_doc *doc, cmark_node *root, pub_cache *cache, long linenos)
{
    pub_hl_options opts = {linenos};
    pub_buf keys = PUB_BUF_INIT;
    cmark_iter *iter = cmark_iter_new(root);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(iter);
        if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(n) != CMARK_NODE_CODE_BLOCK) continue;
        const char *info = cmark_node_get_fence_info(n);
        size_t lang_len = info ? strcspn(info, " \t\n{") : 0;
        if (!lang_len || lang_len > 64 || mentions_linenos(info)) continue;
        char lang[65];
        memcpy(lang, info, lang_len);
        lang[lang_len] = '\0';
        const char *code = cmark_node_get_literal(n);
        size_t len = code ? strlen(code) : 0;
        uint64_t key = pub_hl_cache_key(code ? code : "", len, lang, &opts);
        if (!key) continue;
        unsigned char le[8];
        pub_hash_put_le64(le, key);
        pub_buf_append(&keys, le, 8);
        if (pub_cache_contains(cache, key)) continue;
        size_t html_len;
        char *html = pub_hl_render(code ? code : "", len, lang, &opts, &html_len, NULL);
        if (html) pub_cache_put_html(cache, key, html, html_len);
        free(html); /* a failure is the plugin's to report, when it asks */
    }
    cmark_iter_free(iter);
    doc->hl_keys_len = keys.len;
    doc->hl_keys = keys.len ? pub_buf_detach(&keys) : NULL;
    pub_buf_free(&keys);
}

/* Keys the engine and bundled plugins read as booleans. */
static const char *const boolean_keys[] = {"published", "draft", "sitemap",
                                           "render_with_liquid"};

/* `published: no` is the string "no" in YAML 1.2 (native sites) but false
 * in Jekyll's YAML 1.1: an author who meant false is told, not surprised. */
static void warn_yaml11_booleans(pub_doc *doc)
{
    const pub_value *meta = doc->fm.meta;
    for (size_t i = 0; i < sizeof boolean_keys / sizeof *boolean_keys; i++) {
        const pub_value *v = pub_map_get(meta, boolean_keys[i]);
        const char *text = pub_value_str(v);
        if (!text) continue;
        static const char *const words[] = {"yes", "no", "on", "off", "y", "n"};
        size_t w = 0;
        while (w < 6 && strcasecmp(text, words[w]) != 0) w++;
        if (w == 6) continue;
        bool meant = w == 0 || w == 2 || w == 4;
        pub_fm *fm = &doc->fm;
        fm->warnings = pub_xrealloc(fm->warnings, (fm->nwarnings + 1) * sizeof *fm->warnings);
        fm->warnings[fm->nwarnings++] = pub_diag_new(
            PUB_WARNING, doc->path, v->line, v->col,
            "'%s: %s' is read as the string '%s' (YAML 1.2), not as %s; write '%s: %s'",
            boolean_keys[i], text, text, meant ? "true" : "false", boolean_keys[i],
            meant ? "true" : "false");
    }
}

/* With a store: the HTML stays in the cache (read only when the engine
 * asks for it), or goes into the store. */
static void keep_content(pub_doc *doc, const pub_md_options *md, pub_md_known known,
                         pub_cache *cache, pub_content *store, const char *body, size_t body_len)
{
    doc->has_content = true;
    doc->body_start = doc->fm.body_start;
    if (doc->markdown && cache) {
        doc->content_key = pub_cache_md_key(body, body_len, md);
        if (pub_cache_html_size(cache, doc->content_key, &doc->content_len)) {
            doc->content_cached = true;
            return;
        }
        doc->html = pub_md_render_known(body, body_len, md, known, &doc->html_len);
        doc->content_cached = pub_cache_put_html(cache, doc->content_key, doc->html, doc->html_len);
    } else if (doc->markdown) {
        doc->html = pub_md_render_known(body, body_len, md, known, &doc->html_len);
    }
    if (!doc->content_cached) doc->content = pub_content_add(store, doc->html, doc->html_len);
    doc->content_len = doc->html_len;
    free(doc->html);
    doc->html = NULL;
}

static void load_document(pub_site *site, pub_doc *doc, const pub_md_options *md,
                          pub_load_mode mode, pub_cache *cache, const pub_doc_tree_options *tree,
                          pub_content *store)
{
    bool snap = cache && tree && tree->snap_seed && doc->kind == PUB_DOC_POST && mode != PUB_LOAD_META;
    if (snap && snapshot_by_stat(site, doc, cache, tree)) return;
    int rc = pub_confine_read(site->confine, doc->path, &doc->text, &doc->len, &doc->error);
    if (rc == PUB_CONFINE_OUTSIDE) return;
    if (rc != 0) {
        doc->error = pub_diag_new(PUB_ERROR, doc->path, 0, 0, "cannot read: %s", strerror(rc));
        return;
    }
    if (snap && snapshot_by_bytes(doc, cache, tree)) return;
    doc->error = pub_fm_parse_as(doc->path, doc->text, doc->len, site->yaml, &doc->fm);
    if (doc->error) return;
    if (site->yaml == PUB_YAML_12) warn_yaml11_booleans(doc);
    if (mode == PUB_LOAD_META) return;
    const char *body = doc->text + doc->fm.body_start;
    size_t body_len = doc->len - doc->fm.body_start;
    const char *over = doc->markdown ? pub_md_over_limits(body, body_len) : NULL;
    if (over) {
        pub_fm *fm = &doc->fm;
        fm->warnings = pub_xrealloc(fm->warnings, (fm->nwarnings + 1) * sizeof *fm->warnings);
        fm->warnings[fm->nwarnings++] = pub_diag_new(
            PUB_WARNING, doc->path, 0, 0,
            "Markdown past publish's limits (%s): the excess is shown as text", over);
    }
    /* pub_fm_parse_as checked every byte of the file: valid UTF-8. */
    pub_md_known known = {true, over == NULL};
    if (doc->markdown && mode == PUB_LOAD_TREE) {
        uint64_t key = cache && tree && tree->doc_seed ? doc_cache_key(tree->doc_seed, doc) : 0;
        if (key && doc_cache_get(cache, key, doc)) return;
        doc->doc_key = key;
        doc->tree = pub_md_parse_known(body, body_len, md, known);
        if (cache && tree && tree->highlight_ahead) highlight_ahead(doc, doc->tree, cache, tree->linenos);
        if (key) set_keep(doc, key, doc->hl_keys, doc->hl_keys_len);
    } else if (doc->markdown && store) {
        keep_content(doc, md, known, cache, store, body, body_len);
    } else if (doc->markdown) {
        doc->html = pub_md_render_known(body, body_len, md, known, &doc->html_len);
    } else if (doc->sass) {
        pub_sass_options opts = {site->sass_style, (const char *const *)site->sass_load_paths,
                                 pub_confine_root(site->confine), site->confine};
        doc->error = pub_sass_compile(doc->path, body, body_len, doc->fm.body_line,
                                      strcmp(pub_path_ext(doc->path), ".sass") == 0, &opts,
                                      &doc->html, &doc->html_len);
    } else {
        doc->html = pub_xstrndup(body, body_len);
        doc->html_len = body_len;
    }
    if (doc->html && store) keep_content(doc, md, known, NULL, store, body, body_len);
}
