/* Path strings: joining, normalising and the confinement check that keeps
 * every output under DEST. Pure string work; never touches the disk. */
#ifndef PUB_UTIL_PATH_H
#define PUB_UTIL_PATH_H
#include <stdbool.h>

/* "a" + "b" -> "a/b" (no doubled slash; b absolute is still appended).
 * Caller frees. */
char *pub_path_join(const char *a, const char *b);

/* Collapses "//", "." and ".." in a relative path. Returns NULL when the
 * path is absolute or climbs above its start ("../x", "a/../../x"), and ""
 * for a path that names its start. Caller frees. */
char *pub_path_confine(const char *relative);

/* Whether pub_path_confine would give `relative` back as it is (no
 * leading or doubled '/', no "." or ".." part, no trailing '/'): such a
 * path can be used without a normalised copy. */
bool pub_path_is_confined(const char *relative);

/* The part after the last '/' (borrowed from `path`). */
const char *pub_path_base(const char *path);

/* The extension including the dot (".md"), or "" (borrowed). */
const char *pub_path_ext(const char *path);

#endif
