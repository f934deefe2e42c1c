/* The rendered HTML of a build's documents, held outside the Lua heap until
 * the engine asks for it (internal.content), so a large site's HTML never
 * sits in the Lua heap all at once. HTML the build cache holds is not
 * copied here: the document keeps its cache key and the bytes are read
 * from the cache file when asked (cache.h). What is here: the HTML of a
 * build without a cache (--no-cache, or a cache that cannot be written)
 * and of bodies that are not Markdown (.html pages, Sass).
 *
 * The first PUB_CONTENT_MEMORY bytes go into large blocks in memory (not
 * one allocation per document: a build's worth is freed at once, and
 * forked render workers share the blocks untouched). What comes after is
 * written to a temporary file (unlinked as soon as it is made, in TMPDIR
 * or /tmp) and read back with pread when asked, as the cache does: at
 * 100,000 posts the HTML is some 380 MB the process would otherwise hold.
 * Where no such file can be made or written, the bytes stay in memory. */
#ifndef PUB_CONTENT_H
#define PUB_CONTENT_H
#include <stddef.h>
#include <stdint.h>

/* Bytes a store holds in memory before it writes to its file. */
#define PUB_CONTENT_MEMORY ((size_t)32 << 20)

typedef struct pub_content pub_content;

/* Where one copy is: at `bytes` in memory (valid until pub_content_free),
 * or, when `bytes` is NULL, at `offset` in the store's file. `hash` is
 * pub_hash of the bytes (seed 0), taken when they were added. */
typedef struct pub_content_ref {
    const char *bytes;
    uint64_t offset;
    uint64_t hash;
} pub_content_ref;

/* An empty store; `memory` is how many bytes it keeps in memory before it
 * writes to a file (PUB_CONTENT_MEMORY; SIZE_MAX: never a file). Caller
 * frees with pub_content_free. */
pub_content *pub_content_new(size_t memory);

/* Copies `len` bytes into the store and says where they are. Safe from
 * several threads at once. */
pub_content_ref pub_content_add(pub_content *c, const char *html, size_t len);

/* Copies the `len` bytes `ref` stands for into `dst`. Returns 0, or an
 * errno value when the store's file could not be read (the caller renders
 * the document again). Safe from several threads, and in forked render
 * workers (the file is shared, read by offset). */
int pub_content_read(pub_content *c, const pub_content_ref *ref, char *dst, size_t len);

/* Bytes held (the sum of what was added), for PUBLISH_TIMINGS. */
size_t pub_content_bytes(pub_content *c);

/* Frees the store and every copy in it, and closes its file. NULL is a
 * no-op. */
void pub_content_free(pub_content *c);

#endif
