/* Sass: compiling a .scss/.sass document's body to CSS with libsass. The
 * site decides which files are Sass and where partials are looked up; this
 * module only compiles and turns libsass errors into diagnostics. Partials
 * are found and read here, through the site's confinement (confine.h), not
 * by libsass: an @import never reads outside SRC through a symlink or a
 * "../" path, as nothing else in a build does. */
#ifndef PUB_SASS_H
#define PUB_SASS_H
#include "diag.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct pub_sass_options {
    const char *style;        /* "expanded" (default when NULL), "nested", "compact", "compressed" */
    const char *const *load_paths; /* folders for @import, absolute or relative to the cwd; NULL-ended */
    const char *root;         /* real path of SRC: `path` is below it, and error
                                 files below it are shown relative */
    const struct pub_confine *confine; /* what @import may read (NULL: anything) */
} pub_sass_options;

/* Compiles `body` (`len` bytes; the text after the front matter, which
 * starts on line `first_line` of the file `path`, relative to SRC).
 * `indented`: the .sass syntax. On success sets *css (caller frees) and
 * *css_len and returns NULL; else "PATH:LINE:COL: error: MESSAGE" where
 * PATH is the file the problem is in (a partial, relative to SRC when it
 * is below it). Thread-safe. */
pub_diag *pub_sass_compile(const char *path, const char *body, size_t len, int first_line,
                           bool indented, const pub_sass_options *opts, char **css,
                           size_t *css_len);

/* Whether `style` names an output style. */
bool pub_sass_style_known(const char *style);

#endif
