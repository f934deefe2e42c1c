/* `publish init`: a new site from the example site built into the binary
 * (config, layouts, theme plugins, static files, the about page and, unless
 * asked not to, the example posts). It only writes files; the CLI builds
 * the new site afterwards. */
#ifndef PUB_INIT_H
#define PUB_INIT_H
#include "diag.h"
#include <stdbool.h>
#include <stddef.h>

/* Writes the example site into `dir` (created if missing; an existing one
 * must be empty but for .git). `empty`: no example posts (an empty posts/).
 * Returns NULL with *files set, or the error (caller frees with
 * pub_diag_free); files already written by a failed run are removed. */
pub_diag *pub_init_site(const char *dir, bool empty, size_t *files);

#endif
