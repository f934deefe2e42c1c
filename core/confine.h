/* Source confinement: the one check that decides whether a path below SRC
 * may be read. Nothing outside SRC is read through a symlink, at any level
 * (a top-level folder, a file deep in layouts/, config.yaml itself): a
 * symlink whose target stays inside SRC is followed, one that leaves it is
 * an error naming the link, unless the target lies in a folder the site
 * lists in `allow_outside`. Site discovery, data, static copies, plugins and
 * the Lua `publish.fs` functions all ask here, so the rule holds everywhere.
 *
 * The check resolves every symlink of the path itself (it does not trust a
 * single realpath of the whole), then opens the resolved path with
 * O_NOFOLLOW, so the last component cannot be swapped for a link between
 * check and open. A folder above it swapped in that window is outside this
 * module's reach (the site's owner controls SRC). */
#ifndef PUB_CONFINE_H
#define PUB_CONFINE_H
#include "diag.h"
#include <stddef.h>

typedef struct pub_confine pub_confine;

/* The confinement of the site at `src` (resolved with realpath; SRC itself
 * may be reached through a symlink: it is the user's choice of folder).
 * NULL when SRC cannot be resolved. Caller frees with pub_confine_free. */
pub_confine *pub_confine_new(const char *src);
void pub_confine_free(pub_confine *c);

/* Allows reading below `folder` (absolute, or relative to SRC, as written
 * in `allow_outside`). Returns 0, or an errno value (ENOENT: not there,
 * ENOTDIR: not a folder). */
int pub_confine_allow(pub_confine *c, const char *folder);

/* What pub_confine_resolve found. */
enum {
    PUB_CONFINE_OUTSIDE = -1 /* leaves SRC: *err names the link or the path */
};

/* Resolves SRC/`rel` (a path relative to SRC; "" is SRC). Returns 0 and
 * sets *real (absolute, no symlink left in it; caller frees; `real` may be
 * NULL), or an errno value when a part of it does not exist or cannot be
 * read (ENOENT for a dangling link too; *err stays NULL), or
 * PUB_CONFINE_OUTSIDE with *err set (caller frees): for a symlink,
 *   LINK: error: symlink leads outside the site to 'TARGET'; list the
 *         folder in 'allow_outside' to read it
 * (LINK relative to SRC), and for "../x" or "/x",
 *   ../x: error: path is outside the site
 * Thread-safe (only reads `c`). */
int pub_confine_resolve(const pub_confine *c, const char *rel, char **real, pub_diag **err);

/* pub_confine_resolve, then opens the result read-only (O_NOFOLLOW,
 * O_CLOEXEC, plus `flags` such as O_DIRECTORY). Returns 0 and sets *fd, or
 * as pub_confine_resolve (an open failure is its errno). */
int pub_confine_open(const pub_confine *c, const char *rel, int flags, int *fd, pub_diag **err);

/* Reads the whole confined file SRC/`rel`. Returns 0 and sets *data
 * (NUL-terminated, caller frees) and *len; else as pub_confine_resolve
 * (EISDIR for a folder). */
int pub_confine_read(const pub_confine *c, const char *rel, char **data, size_t *len,
                     pub_diag **err);

/* The real path of SRC (borrowed from `c`). */
const char *pub_confine_root(const pub_confine *c);

#endif
