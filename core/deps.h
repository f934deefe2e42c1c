/* The page records of incremental builds: for every output page, what it
 * read while it rendered (core/lua/deps.lua writes and reads the record
 * text; C only stores it). They live in SRC/.publish-cache/pages, beside
 * the build cache, as one file: a header line, then for each page its
 * output path and its record, sorted by path so that the file is the same
 * for every -j. A missing, truncated or foreign file is no records (every
 * page renders), never an error.
 *
 * One build reads the last build's records (pub_deps_open), collects its
 * own as pages render, from this process and from the render workers'
 * pipes (pub_deps_put is thread-safe), and saves them after a successful
 * commit. */
#ifndef PUB_DEPS_H
#define PUB_DEPS_H
#include "diag.h"
#include <stddef.h>

typedef struct pub_deps pub_deps;

/* Reads the records of the site at `src`. Never fails. Caller frees with
 * pub_deps_free. */
pub_deps *pub_deps_open(const char *src);

/* The last build's records: count, and the i-th (borrowed until free). */
size_t pub_deps_count(const pub_deps *d);
void pub_deps_get(const pub_deps *d, size_t i, const char **output, const char **text, size_t *len);

/* The index of the last build's record of page `output`, or -1. */
long pub_deps_find(const pub_deps *d, const char *output);

/* Carries the last build's i-th record over as this build's (a page kept
 * as it was), without copying it. Thread-safe. */
void pub_deps_carry(pub_deps *d, size_t i);

/* Adds this build's record of page `output` (both copied). Thread-safe. */
void pub_deps_put(pub_deps *d, const char *output, const char *text, size_t len);

/* Replaces the stored records with this build's, atomically. Returns
 * NULL or a warning (the build still succeeded; caller frees). */
pub_diag *pub_deps_save(pub_deps *d);

/* NULL is a no-op. */
void pub_deps_free(pub_deps *d);

#endif
