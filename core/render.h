/* Parallel rendering with forked workers. Once the page list is fixed (after
 * the `site` hook) the Lua process forks: every worker inherits the whole
 * Lua state (the site model, the plugins, their caches) copy-on-write, so
 * nothing is built twice and a `render` hook sees exactly the `site` and
 * `page` it would see in one process. Each process renders its share of
 * the pages; a worker sends each page's bytes and, at the end, its
 * diagnostics to the parent through a pipe, and the parent's reader
 * threads hand them to the output writers and the run's diagnostics.
 *
 * Forking rather than several Lua states built side by side: a second
 * state would have to run setup, every post hook and the site hook again
 * (the C copies of the documents are freed once in Lua), and plugins that
 * are not deterministic could then build different sites. A fork costs
 * one page-table copy. What a worker changes (a page's fields, a plugin's
 * module tables) stays in that worker: see docs/lua-api.md. */
#ifndef PUB_RENDER_H
#define PUB_RENDER_H
#include "deps.h"
#include "diag.h"
#include "output.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct pub_render_pool pub_render_pool;

/* Forks `n - 1` workers (n >= 2). Call with no other thread of this
 * process running Lua or holding a lock a worker needs. In the parent:
 * returns 0, and reader threads start feeding workers' pages to `out`
 * (pub_out_submit), their page records to `deps` (may be NULL: none are
 * kept) and their diagnostics to `diags`. In a worker: returns
 * its index, 1 .. n-1; it must then only render, send pages with
 * pub_render_send and end with pub_render_worker_exit. When no worker can
 * be forked at all, returns 0 with *pool NULL (render everything here).
 * Fewer workers than asked are possible: *workers says how many
 * processes share the pages (this one included). */
int pub_render_fork(int n, pub_out *out, pub_deps *deps, pub_diags *diags, pub_render_pool **pool,
                    int *workers);

/* Worker: sends one output page (copied). Returns false when the parent
 * is gone. */
bool pub_render_send(pub_render_pool *pool, const char *relpath, const char *bytes, size_t len);

/* Worker: sends the record of output page `relpath` (deps.h). Returns
 * false when the parent is gone. */
bool pub_render_send_record(pub_render_pool *pool, const char *relpath, const char *text, size_t len);

/* Worker: sends a diagnostic that is said once per run (a broken layout
 * every page meets), under `key`: see pub_render_join. */
void pub_render_send_once(pub_render_pool *pool, const char *key, const pub_diag *d);

/* Worker: sends `diags` and ends the process (exit status 0). */
_Noreturn void pub_render_worker_exit(pub_render_pool *pool, pub_diags *diags);

/* Parent: waits for every worker and frees the pool (NULL is a no-op).
 * Returns the number of pages the workers wrote; a worker that died or
 * sent a broken stream is an error in the run's diagnostics. Of the
 * diagnostics sent with one key, only the first in page order is kept:
 * none when the parent said one with that key (`parent_keys`), else the
 * lowest worker's (workers render consecutive blocks of pages). */
size_t pub_render_join(pub_render_pool *pool, const char *const *parent_keys, size_t nparent);

#endif
