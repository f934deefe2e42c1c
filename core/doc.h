/* Reading one post or page: the file, its front matter, and its body as
 * HTML (Markdown rendered through the build cache when there is one) or
 * as a cmark-gfm tree for the `document` hook. It
 * does not discover documents (site.c) nor build the Lua model from them
 * (the engine). */
#ifndef PUB_DOC_H
#define PUB_DOC_H
#include "site.h"
#include <stdbool.h>

/* What pub_doc_load does with a document's body. */
typedef enum {
    PUB_LOAD_META, /* front matter only */
    PUB_LOAD_HTML, /* and Markdown rendered to doc->html (from the cache when it has it) */
    PUB_LOAD_TREE, /* and Markdown parsed to doc->tree, for `document` hooks (no cache) */
} pub_load_mode;

/* Reads and parses one document: front matter, and its body as `mode`
 * says (with `md` options), taking the HTML from `cache` when it has it
 * (NULL: no cache). A body that is not Markdown (.html) is copied to
 * doc->html in both body modes. Sets doc->error on failure. Thread-safe
 * for different docs. */
struct pub_md_options;
struct pub_cache;
void pub_doc_load(pub_site *site, pub_doc *doc, const struct pub_md_options *md,
                  pub_load_mode mode, struct pub_cache *cache);

#endif
