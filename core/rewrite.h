/* Surgical front-matter rewrite for bulk edits: given a file's bytes and the
 * keys that changed, produce new bytes in which only the lines of those keys
 * differ. Every other byte (BOM, line endings, comments, blank lines, key
 * order and quoting, a missing final newline, the body) is kept. The result
 * is parsed again and compared with what was intended, so a rewrite that
 * would change the meaning of anything else (an alias to a replaced anchor,
 * a flow-style top level) is refused instead of written. Knows nothing of
 * posts, Lua or the disk. */
#ifndef PUB_REWRITE_H
#define PUB_REWRITE_H
#include "diag.h"
#include "util/buf.h"
#include "value.h"
#include <stddef.h>

/* One top-level key to set or remove. */
typedef struct pub_rewrite_change {
    const char *key;         /* NUL-terminated key text as the map holds it */
    const pub_value *value;  /* the new value; NULL removes the key */
} pub_rewrite_change;

/* Applies `changes` (in order; at most one per key) and, when `body` is not
 * NULL, replaces the body with `body_len` bytes. A changed key keeps its
 * place: the lines from its key through the end of its value (continuation
 * lines of block scalars and nested blocks, a trailing comment on the last
 * line) are replaced by block YAML for the new value. A new key is appended
 * just before the closing fence; a file without front matter gets one
 * (after its BOM, with its line ending). Removing a key that is absent is
 * not an error.
 * On success appends the new file to `out` and returns NULL. On failure
 * `out` is left as it was and the error (path `path`) is either the parse
 * error of the original, or "rewrite of 'KEY' would change the meaning of
 * the front matter". Caller frees the error with pub_diag_free. */
pub_diag *pub_rewrite(const char *path, const char *src, size_t len,
                      const pub_rewrite_change *changes, size_t nchanges,
                      const char *body, size_t body_len, pub_buf *out);

/* Writes a whole new file: "---", `meta` as block YAML (keys in the map's
 * order), "---", then `body` (all with "\n" line endings). `meta` must be a
 * map; an empty map still gets both fences. */
void pub_rewrite_new_file(const pub_value *meta, const char *body, size_t body_len,
                          pub_buf *out);

#endif
