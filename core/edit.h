/* Bulk-edit transactions on the source tree: new contents, renames,
 * creations and deletions are staged in memory, then either shown as a
 * unified diff (--dry-run) or committed all-or-nothing. Commit writes every
 * new file to a temp file in its own folder (".NAME.publish-edit-XXXXXX"),
 * flushes it to disk with the original's mode, and only when all are ready
 * renames them into place; a failure before that removes the temp files and
 * leaves every original as it was. Interrupted at any moment, each file is
 * wholly old or wholly new, and pub_edit_cleanup removes the strays.
 * Knows nothing of front matter or Lua: bytes in, bytes out. */
#ifndef PUB_EDIT_H
#define PUB_EDIT_H
#include "diag.h"
#include "util/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* What a run changed (or, with --dry-run, would change). A renamed file
 * whose bytes also changed counts once, as renamed. */
typedef struct pub_edit_summary {
    size_t changed; /* files rewritten in place */
    size_t renamed; /* files moved to a new path */
    size_t created; /* new files */
    size_t deleted; /* files removed */
} pub_edit_summary;

typedef struct pub_edit pub_edit;

/* Starts a transaction on files below `src` (copied). Paths given to the
 * staging functions are relative to `src`. Caller frees with pub_edit_free. */
pub_edit *pub_edit_new(const char *src);
void pub_edit_free(pub_edit *edit);

/* Stages `relpath` to hold `len` bytes (copied): a changed file when it
 * exists at commit time, else a created one (folders are made as needed).
 * Errors: "path 'P' is outside the source folder", "'P' is edited twice". */
pub_diag *pub_edit_write(pub_edit *edit, const char *relpath, const void *bytes, size_t len);

/* Stages moving `from` to `to`; `bytes` (copied) are the moved file's new
 * contents, or NULL to keep them. `to` must not exist. Same errors. */
pub_diag *pub_edit_rename(pub_edit *edit, const char *from, const char *to,
                          const void *bytes, size_t len);

/* Stages removing `relpath`. Same errors. */
pub_diag *pub_edit_delete(pub_edit *edit, const char *relpath);

/* True when nothing is staged. */
bool pub_edit_empty(const pub_edit *edit);

/* Counts the staged operations. */
void pub_edit_count(const pub_edit *edit, pub_edit_summary *summary);

/* Appends a git-style unified diff (3 lines of context) of every staged
 * operation against the files on disk, in staging order: "--- a/P" /
 * "+++ b/P" hunks, "rename from"/"rename to", new files from /dev/null,
 * deletions in full. Runs the same checks as commit (a rename onto an
 * existing file, a vanished source) so a dry run fails where the real run
 * would. Writes nothing. */
pub_diag *pub_edit_diff(const pub_edit *edit, pub_buf *out);

/* Commits and reports what was done in *summary (may be NULL). On error
 * nothing was renamed unless the error says so (a failure while renaming
 * into place, e.g. the disk vanished, can leave some files new and some
 * old: each is still whole). The error's path is the file concerned,
 * relative to `src`. Does not free `edit`. */
pub_diag *pub_edit_commit(pub_edit *edit, pub_edit_summary *summary);

/* Removes ".*.publish-edit-*" temp files a killed run left anywhere below
 * `src` (hidden folders are not entered). Sets *removed (may be NULL) to
 * how many. Returns the first error that stopped a removal, or NULL. */
pub_diag *pub_edit_cleanup(const char *src, size_t *removed);

/* Test hook: makes the commit fail with EIO when it is about to write its
 * `nth` temp file (1-based; 0 turns the fault off), as a full disk would. */
void pub_edit_inject_fault(pub_edit *edit, size_t nth);

#endif
