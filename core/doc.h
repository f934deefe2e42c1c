/* Reading one post or page: the file, its front matter, and its body as
 * HTML (Markdown rendered through the build cache when there is one). It
 * does not discover documents (site.c) nor build the Lua model from them
 * (the engine). */
#ifndef PUB_DOC_H
#define PUB_DOC_H
#include "site.h"
#include <stdbool.h>

/* Reads and parses one document: front matter, and Markdown when
 * `render_markdown` (with `md` options), taking the HTML from `cache` when
 * it has it (NULL: no cache). Sets doc->error on failure. Thread-safe for
 * different docs. */
struct pub_md_options;
struct pub_cache;
void pub_doc_load(pub_site *site, pub_doc *doc, const struct pub_md_options *md,
                  bool render_markdown, struct pub_cache *cache);

#endif
