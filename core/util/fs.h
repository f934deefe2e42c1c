/* Temp files, their sweeps and a tree walk: the one way the engine
 * creates a file beside the one it will replace (exclusively, under a
 * fresh random name, so a symlink planted at a guessable name cannot
 * redirect the write), the write-then-rename save, the removal of the temp
 * files a killed run left behind, and a walk of a folder tree by
 * descriptors. The build cache (cache.c), the output manifest and DEST's
 * walks (output_journal.c) and bulk edits (edit.c) use it; each caller
 * owns its temp names and what a walk does, this module only the
 * mechanics. Errors are errno values. */
#ifndef PUB_UTIL_FS_H
#define PUB_UTIL_FS_H
#include <stdbool.h>
#include <stddef.h>

/* Creates and opens (read-write, close-on-exec) a new file named `prefix`
 * followed by six random letters and digits, with `mode` (& ~umask). On
 * success returns the fd and sets *path (caller frees); on failure returns
 * -1 with errno set. */
int pub_fs_temp_open(const char *prefix, int mode, char **path);

/* Replaces `path` with `bytes` in one step: written to a temp file beside
 * it ("PATH.XXXXXX"), given `mode` (exactly, whatever the umask), then
 * renamed over. A reader sees the old file or the whole new one. Returns 0
 * or an errno value; on failure the temp file is gone and `path` is as it
 * was. */
int pub_fs_write_atomic(const char *path, const void *bytes, size_t len, int mode);

/* Says whether `name` (a file name, no folder) is one of the caller's temp
 * files. */
typedef bool pub_fs_temp_test(const char *name, void *ctx);

/* Removes the regular files in `dir` that `is_temp` accepts and, when
 * `min_age` > 0, whose mtime is at least `min_age` seconds old (younger ones
 * may belong to a run still going). Goes `max_depth` folders down (0: `dir`
 * alone), never into a symlink or a folder whose name starts with '.'. Adds
 * the count of removed files to *removed (may be NULL). Returns 0, or the
 * errno of the first removal that failed with *failed (caller frees) set to
 * that file's path when `failed` is not NULL; a folder that cannot be read
 * is skipped. */
int pub_fs_sweep_temps(const char *dir, pub_fs_temp_test *is_temp, void *ctx, long min_age,
                       int max_depth, size_t *removed, char **failed);

/* Called for each entry of a pub_fs_walk_fd: `rel` is its path below the
 * walk's root, `is_dir` says it is a real folder (a symlink to one is not).
 * A folder is visited before its contents. */
typedef void pub_fs_visit(const char *rel, bool is_dir, void *ctx);

/* Walks the folder open at `fd` (taken), in readdir order, entering real
 * folders only: each is opened with O_NOFOLLOW, so one swapped for a
 * symlink meanwhile is not entered. Names `skip_top` accepts (may be NULL)
 * are left out at the top level only. An entry that cannot be looked at
 * is visited as a non-folder; a folder that cannot be opened is visited
 * but not entered. DEST's walkers (output_journal.c) use it. */
void pub_fs_walk_fd(int fd, bool (*skip_top)(const char *name), pub_fs_visit *visit, void *ctx);

#endif
