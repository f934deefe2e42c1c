/* The persistent build cache in SRC/.publish-cache/ (a dot folder, so site
 * discovery never sees it). It holds two things:
 *
 * - Rendered Markdown. The HTML of a post body is keyed by
 *   pub_cache_md_key: a 64-bit hash of the body bytes, the Markdown options
 *   (unsafe, smart, hardbreaks, the GFM extensions), cmark-gfm's version string and the engine
 *   (PUB_VERSION and the running binary's size, mtime and inode). Editing a
 *   body, changing an option, upgrading cmark or rebuilding publish misses.
 *   A save keeps only the entries used (got or put) by that build, so the
 *   HTML of edited and deleted posts is dropped; a build that used no entry
 *   at all (one that skipped rendering) keeps them all.
 *   Highlighted code blocks (publish.highlight) are stored the same way,
 *   under their own keys (highlight.h's pub_hl_cache_key), and so is what
 *   cacheable `document` hooks made of a document (doc.h).
 *
 * - The fingerprint of the last successful build (fingerprint.h makes
 *   it), and until when the output it stands for stays good.
 *
 * What it does not see: DEST edited by hand (the output is trusted to be
 * the last build's), files a plugin reads on its own outside SRC, and the
 * clock: a site whose plugins use site.time (a "last built" stamp, "posts
 * from the last 7 days") gets its previous output on a no-op rebuild, as
 * with any build-cache generator. `--no-cache`, or deleting
 * SRC/.publish-cache, is the escape hatch.
 *
 * A cache file that is missing, truncated, corrupt or of another format
 * version is an empty cache, never an error. The file is one header, the
 * HTML blobs and an index; opening reads the header and index only (O(n)
 * in the number of entries, not in bytes of HTML), and each blob is read
 * and checked against its own hash when asked for, so the HTML of a large
 * site is never all in memory. A save appends what changed after the
 * index and then rewrites the header (a one-post edit writes ~1 MB at 10k
 * posts, not the whole file); when the bytes no index names would pass
 * the live ones, it compacts (a new file, renamed into place). Saves of
 * two processes at once (serve and a build) take turns on a lock; a save
 * killed at any step leaves the last saved cache (cache.c says how). */
#ifndef PUB_CACHE_H
#define PUB_CACHE_H
#include "diag.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pub_md_options;

/* ---- Keys (hashes are util/hash.h's pub_hash) ------------------------------- */

/* The markdown-cache key of a post body rendered with `opts` (see above). */
uint64_t pub_cache_md_key(const void *body, size_t len, const struct pub_md_options *opts);

/* ---- The cache --------------------------------------------------------------- */

typedef struct pub_cache pub_cache;

/* Opens the cache of the site at `src` (reads SRC/.publish-cache/build.cache
 * if it is there and sound; creates nothing). Never fails. Caller frees
 * with pub_cache_free. */
pub_cache *pub_cache_open(const char *src);

/* The cached HTML for `key`, NUL-terminated, its length in *len (may be
 * NULL); NULL on a miss. Caller frees with free(). Safe to call from
 * several threads at once, and alongside pub_cache_put_html. */
char *pub_cache_get_html(pub_cache *c, uint64_t key, size_t *len);

/* Whether the cache holds an entry for `key` (it is not marked used).
 * Thread-safe. */
bool pub_cache_contains(pub_cache *c, uint64_t key);
/* The two halves of pub_cache_get_html, for a caller that reads the HTML
 * later into memory of its own (the engine's internal.content reads it
 * straight into a Lua string): whether `key` is cached, and its length
 * (marks it used, like a get); then its bytes into `dst` (`len` from the
 * first), checked against their hash the first time they are read; false
 * when that fails (the entry then counts as a miss). Both thread-safe. */
bool pub_cache_html_size(pub_cache *c, uint64_t key, size_t *len);
bool pub_cache_copy_html(pub_cache *c, uint64_t key, char *dst, size_t len);

/* Marks the entry for `key`, if there is one, used by this build (so a
 * save keeps it) without reading it. Thread-safe. */
void pub_cache_keep(pub_cache *c, uint64_t key);

/* Gives the blob of `from` the key `to` (no bytes are copied): `to` is
 * marked used and `from` is not, so the save keeps the blob under `to`
 * only, unless `from` is asked for again. False when `from` is not
 * there. Thread-safe. */
bool pub_cache_move(pub_cache *c, uint64_t from, uint64_t to);

/* Stores `len` bytes of HTML for `key` (copied; the caller keeps `html`).
 * Safe from several threads. Storing a key that is already there only
 * marks it used. The bytes go to a temporary file at once, not to memory;
 * if that cannot be written, the failure is kept for pub_cache_save.
 * Returns whether the cache now holds the key (false: it cannot be
 * written, or pub_cache_save ran). */
bool pub_cache_put_html(pub_cache *c, uint64_t key, const char *html, size_t len);

/* Writes the cache when anything changed since it was opened (entries put,
 * entries left unused, fingerprint set): appended to the file, or a
 * temporary file in SRC/.publish-cache/ renamed into place (see above);
 * either way a reader finds the old cache or the new one, whole. A build that changed nothing writes
 * nothing. Returns NULL, or a warning (the build still succeeded; caller
 * frees with pub_diag_free). Call once, at the end of a build; later puts
 * are ignored. */
pub_diag *pub_cache_save(pub_cache *c);

/* For the crash tests only (tests/unit/test_cache.c): when set, a save
 * calls it after each step that writes the cache file ("append: blobs",
 * "index", "header", "rewrite: blobs", "rewrite: renamed"), so a test can
 * end the process there. NULL (the default) in publish. */
extern void (*pub_cache_step_hook)(const char *step);

/* Frees the cache and removes an unsaved temporary file. NULL is a no-op. */
void pub_cache_free(pub_cache *c);

/* ---- The build fingerprint ---------------------------------------------------- */

/* True when a fingerprint was stored, equals `fp` (not 0), and `now` (epoch
 * seconds) is before the stored `valid_until`. */
bool pub_cache_fingerprint_matches(const pub_cache *c, uint64_t fp, long long now);

/* The moment (ns since the epoch) the stored fingerprint was taken at, to
 * take the next one relative to (pub_fingerprint_final); 0 when none. */
long long pub_cache_fingerprint_since(const pub_cache *c);

/* Records `fp`, taken relative to `since_ns`, for the next build, after a
 * successful one. `valid_until`: the epoch second at which the output may
 * change by itself (earliest future post left out), LLONG_MAX when never.
 * `fp` 0 clears it (a build whose fingerprint was unusable must not leave
 * the previous one behind). */
void pub_cache_set_fingerprint(pub_cache *c, uint64_t fp, long long since_ns, long long valid_until);

#endif
