/* The rendered HTML of a build's documents, held in C until the engine asks
 * for it (internal.content), so a large site's HTML never sits in the Lua
 * heap all at once. HTML the build cache holds is not copied here: the
 * document keeps its cache key and the bytes are read from the cache file
 * when asked (cache.h). What is here: the HTML of a build without a cache
 * (--no-cache, or a cache that cannot be written) and of bodies that are
 * not Markdown (.html pages, Sass). The bytes go into large blocks, not one
 * allocation per document: a build's worth is freed at once, and forked
 * render workers share the blocks untouched (copy-on-write pages nobody
 * writes stay shared). */
#ifndef PUB_CONTENT_H
#define PUB_CONTENT_H
#include <stddef.h>

typedef struct pub_content pub_content;

/* An empty store. Caller frees with pub_content_free. */
pub_content *pub_content_new(void);

/* Copies `len` bytes into the store; returns the copy, which stays valid
 * until pub_content_free. Safe from several threads at once. */
const char *pub_content_add(pub_content *c, const char *html, size_t len);

/* Bytes held (the sum of what was added), for PUBLISH_TIMINGS. */
size_t pub_content_bytes(pub_content *c);

/* Frees the store and every copy in it. NULL is a no-op. */
void pub_content_free(pub_content *c);

#endif
