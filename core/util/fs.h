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
#include <sys/stat.h>

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

/* The same save for a file too large to assemble in memory first: `fill`
 * writes the new bytes to `fd` (the temp file, at its start) and returns
 * 0 or an errno value, which pub_fs_write_atomic_with returns, the temp
 * file removed and `path` as it was. */
typedef int pub_fs_writer(int fd, void *ctx);
int pub_fs_write_atomic_with(const char *path, int mode, pub_fs_writer *fill, void *ctx);

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

/* One entry met by pub_fs_walk. */
typedef struct pub_fs_entry {
    const char *rel;       /* its path below the walk's root ("a/b.md") */
    const char *name;      /* its last part */
    int dirfd;             /* the open folder holding it, for the *at calls */
    int depth;             /* 0: an entry of the root */
    mode_t type;           /* S_IFDIR, S_IFREG, S_IFLNK ... as lstat says (a
                              symlink is a symlink); 0 when it cannot be looked at */
    const struct stat *st; /* its lstat, with options.stat (else NULL); NULL too
                              when it cannot be looked at */
} pub_fs_entry;

/* What to do with an entry: PUB_FS_ENTER a real folder (opened with
 * O_NOFOLLOW, so one swapped for a symlink meanwhile is not entered);
 * PUB_FS_ENTER_LINK also a symlink to a folder (the caller has checked
 * where it leads: site discovery through confine.h); PUB_FS_STOP ends the
 * whole walk at once (no more calls of any kind). Anything else, and any
 * return but PUB_FS_STOP for a file, goes on with the next entry. */
typedef enum { PUB_FS_NEXT, PUB_FS_ENTER, PUB_FS_ENTER_LINK, PUB_FS_STOP } pub_fs_step;

typedef struct pub_fs_walk_options {
    bool sorted;  /* each folder's names in strcmp order, else readdir's */
    bool stat;    /* lstat every entry (else only where readdir gives no type) */
    /* Called for each entry but "." and ".."; a folder before its contents.
     * A folder's names are all read before the first of them is visited,
     * so the visit may remove or add entries of the folder it is in. */
    pub_fs_step (*visit)(const pub_fs_entry *e, void *ctx);
    /* Called (may be NULL) with the same entry after the contents of each
     * folder the visit entered, also one that could not be opened (after
     * `fail`): the place to remove a folder emptied, or to stop after a
     * failure (PUB_FS_STOP; anything else goes on). */
    pub_fs_step (*leave)(const pub_fs_entry *e, void *ctx);
    /* Called (may be NULL) for a folder that cannot be opened or read, ""
     * for the root, with the errno value; the walk goes on without it. */
    void (*fail)(const char *rel, int err, void *ctx);
    void *ctx;
} pub_fs_walk_options;

/* The one walk of a folder tree: the folder open at `fd` (taken), by
 * descriptors, entering what `visit` says. The fingerprint (every input
 * file), serve's watches, site discovery, DEST's walks and the commit's
 * tree (output_journal.c, output_swap.c), temp sweeps and `publish init`
 * use it; each decides what to skip and enter. Returns false when a
 * callback stopped it, true when it went through. */
bool pub_fs_walk(int fd, const pub_fs_walk_options *o);

/* Removes everything below the folder open at `fd` (taken) but the names
 * `skip_top` accepts (may be NULL) at the top level, following no symlink:
 * the commit's removal of what stands in DEST's way (output_journal.c) and
 * `publish init` taking back half a site. Best effort: what cannot be
 * removed stays and the rest goes. Returns how many non-folders went. */
size_t pub_fs_empty(int fd, bool (*skip_top)(const char *name));

/* Called for each entry of a pub_fs_walk_fd: `rel` is its path below the
 * walk's root, `is_dir` says it is a real folder (a symlink to one is not).
 * A folder is visited before its contents. */
typedef void pub_fs_visit(const char *rel, bool is_dir, void *ctx);

/* pub_fs_walk in readdir order entering every real folder, for DEST's
 * walkers (output_journal.c): names `skip_top` accepts (may be NULL) are
 * left out at the top level only; an entry that cannot be looked at is
 * visited as a non-folder; a folder that cannot be opened is visited but
 * not entered. */
void pub_fs_walk_fd(int fd, bool (*skip_top)(const char *name), pub_fs_visit *visit, void *ctx);

#endif
