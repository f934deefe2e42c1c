/* Reading one post or page: the file, its front matter, and its body as
 * HTML (Markdown rendered through the build cache when there is one) or
 * as a cmark-gfm tree for the `document` hook. It
 * does not discover documents (site.c) nor build the Lua model from them
 * (the engine). */
#ifndef PUB_DOC_H
#define PUB_DOC_H
#include "site.h"
#include <stdbool.h>
#include <stdint.h>

/* What pub_doc_load does with a document's body. */
typedef enum {
    PUB_LOAD_META, /* front matter only */
    PUB_LOAD_HTML, /* and Markdown rendered (doc->html, or the store and cache: below) */
    PUB_LOAD_TREE, /* and Markdown parsed to doc->tree, for `document` hooks */
} pub_load_mode;

/* What PUB_LOAD_TREE does besides parsing, with a build cache:
 * - doc_seed (not 0; see pub_doc_cache_seed): the result of the `document`
 *   hooks of an earlier build is taken from the cache when there is one
 *   for this document: doc->html gets the HTML those hooks made,
 *   doc->effects what they set on the post (the engine's text, replayed
 *   by it), and no tree is made. On a miss the tree is made and
 *   doc->doc_key set, for pub_doc_cache_put.
 * - highlight_ahead: every fenced code block whose language the
 *   highlighter knows, and whose info string says nothing of line numbers,
 *   is highlighted with `linenos` into the cache (pub_hl_cache_key), so
 *   that the plugin that asked (the engine passes a plugin's
 *   `highlight_ahead`) finds it there: highlighting happens on the worker
 *   threads, ahead of the Lua thread, instead of in the hook. */
typedef struct pub_doc_tree_options {
    uint64_t doc_seed;
    bool highlight_ahead;
    long linenos;
    /* Post snapshots (both body modes; see pub_doc_snapshot_seed): with
     * snap_seed (not 0) and a cache, a post whose snapshot is in the cache
     * is not read at all: doc->snapshot gets it (and has_content and the
     * fields after it are set from it). A post is found by its stat, when
     * stats[i] (document i's, from the build's fingerprint; NULL: not
     * known) is not racy relative to `since_ns` (this build's start), else
     * by its bytes. On a miss, doc->snap_key says where to store the
     * post's snapshot: pub_doc_snapshot_put. */
    uint64_t snap_seed;
    const uint64_t *const *stats;
    long long since_ns;
} pub_doc_tree_options;

/* Reads and parses one document: front matter, and its body as `mode`
 * says (with `md` options). A body that is not Markdown (.html) is copied
 * to doc->html in both body modes. With a `store` (PUB_LOAD_HTML only),
 * the HTML is not kept in doc->html but left in `cache` (NULL: none; a
 * hit is not even read, a miss is rendered and put there) or copied into
 * the store: doc->has_content and the fields after it say where
 * (site.h). Sets doc->error on failure. Thread-safe for different docs.
 * `tree` (may be NULL): see above. */
struct pub_md_options;
struct pub_cache;
struct pub_content;
void pub_doc_load(pub_site *site, pub_doc *doc, const struct pub_md_options *md,
                  pub_load_mode mode, struct pub_cache *cache, const pub_doc_tree_options *tree,
                  struct pub_content *store);

/* The part of a document-cache key that is the same for every document of
 * a build: `material` (the engine's: the site config's bytes, the
 * plugins' code, the build options), the Markdown options and the engine
 * identity (pub_cache_md_key's). Never 0. */
uint64_t pub_doc_cache_seed(const void *material, size_t len, const struct pub_md_options *md);

/* Stores what the `document` hooks made of the document keyed `key`
 * (doc->doc_key): its HTML, the engine's record of their effects on the
 * post, and `hl_keys` (doc->hl_keys: the cache keys of its highlighted
 * blocks, kept in the cache by every build that takes this entry, so that
 * they are still there when the document's hooks must run again, after a
 * config change say). Thread-safe (pub_cache_put_html). */
void pub_doc_cache_put(struct pub_cache *cache, uint64_t key, const char *html, size_t html_len,
                       const char *effects, size_t effects_len, const char *hl_keys,
                       size_t hl_keys_len);

/* The part of a snapshot key that is the same for every document of a
 * build (as pub_doc_cache_seed, with its own tag). Never 0. */
uint64_t pub_doc_snapshot_seed(const void *material, size_t len, const struct pub_md_options *md);

/* Stores the snapshot `bytes` (core/lua/snapshot.h) of the post made from
 * `doc` under doc->snap_key, with what else a hit
 * must find in the cache: the document's HTML when the post's content is
 * still the loaded one (`lazy_content`; false is returned when that HTML
 * is not in the cache), and doc->keep (the document cache's entry and its
 * highlighted blocks), kept by every build that takes the snapshot.
 * Thread-safe. */
bool pub_doc_snapshot_put(struct pub_cache *cache, const pub_doc *doc, bool lazy_content,
                          const char *bytes, size_t len);

/* Each document's stat as the build's fingerprint took it (index as
 * site->docs; NULL: not known), for pub_doc_tree_options.stats. The
 * pointers are into `fp`. Caller frees the array with free(). */
struct pub_fingerprint;
const uint64_t **pub_doc_stats(const pub_site *site, const struct pub_fingerprint *fp);

/* The snapshot bytes of a hit (doc->snapshot past its header). */
const char *pub_doc_snapshot_bytes(const pub_doc *doc, size_t *len);

#endif
