/* Writing the built site: every path confined under DEST, written into a
 * staging folder beside DEST and swapped in only when the whole build
 * succeeded. A file whose bytes did not change is hard-linked from the
 * previous DEST, so its mtime stays put. */
#ifndef PUB_OUTPUT_H
#define PUB_OUTPUT_H
#include "diag.h"
#include <stddef.h>

typedef struct pub_out pub_out;

typedef struct pub_out_stats {
    size_t written;   /* files whose bytes are new or changed */
    size_t unchanged; /* files identical to the previous build */
    size_t removed;   /* files of the previous build not produced again */
} pub_out_stats;

/* Starts an output transaction for `dest` (created at commit if missing).
 * Removes a stale staging folder left by a killed build. */
pub_diag *pub_out_begin(const char *dest, pub_out **out);

/* Writes `bytes` to `relpath` under DEST. `relpath` must stay under DEST
 * after normalising; otherwise the error is
 * "output path 'PATH' is outside the destination" (no path/line set: the
 * caller knows which page asked). Two writes to one path are an error
 * "two pages write 'PATH'". Safe to call from several threads. */
pub_diag *pub_out_write(pub_out *out, const char *relpath, const void *bytes, size_t len);

/* Copies the file at `source` (a static file) to `relpath`. Same rules. */
pub_diag *pub_out_copy(pub_out *out, const char *relpath, const char *source);

/* Swaps the staged tree in as DEST and frees `out`. On error DEST is as it
 * was and the staging folder is removed. */
pub_diag *pub_out_commit(pub_out *out, pub_out_stats *stats);

/* Drops the staged tree, leaves DEST untouched, frees `out` (NULL is ok). */
void pub_out_abort(pub_out *out);

#endif
