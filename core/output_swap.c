/* Commit by exchange: the new DEST is assembled as a whole tree inside the
 * staging folder (`.BASE.publish-tmp/tree`) and switched with DEST in one
 * renameat2(RENAME_EXCHANGE), so a reader of DEST sees the old site or the
 * new one, never a mix, and a build killed at any moment leaves one of the
 * two whole. Unchanged files are hard links to DEST's own (same inode, same
 * mtime: nothing is copied and nothing looks new to rsync); changed files
 * are the staged ones, moved in; files DEST holds that publish did not
 * write are linked across too (unless --clean), so nothing of the user's
 * is lost. The old tree ends up in the staging folder and goes with it.
 *
 * This costs a link and an unlink for every file of the site, so commit
 * takes this way only when much changes or with --clean (output.c's
 * switch_whole_tree). Where a link or the exchange is impossible (DEST is
 * a mount point, a file system without RENAME_EXCHANGE or hard links),
 * commit falls back to moving files into DEST one by one
 * (output_journal.c), whose crash behaviour output.c describes. */
#define _GNU_SOURCE
#include "output_impl.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/path.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TREE "tree"

typedef struct swap {
    pub_out *out;
    int tree_fd;
    size_t removed;  /* files of DEST not carried over */
    char **gone_dirs; /* folders that lost a file: removed from the tree when empty */
    size_t ngone, cap;
    bool in_kept; /* the walk is below a kept name (.git): everything is carried */
    int rc;       /* errno of the first link that failed: the walk stops */
} swap;

static void note_gone_parent(swap *sw, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    if (!slash) return;
    if (sw->ngone == sw->cap) {
        sw->cap = sw->cap ? sw->cap * 2 : 32;
        sw->gone_dirs = pub_xrealloc(sw->gone_dirs, sw->cap * sizeof *sw->gone_dirs);
    }
    sw->gone_dirs[sw->ngone++] = pub_xstrndup(rel, (size_t)(slash - rel));
}

static pub_fs_step count_entry(const pub_fs_entry *e, void *ctx)
{
    if (e->type == S_IFDIR) return PUB_FS_ENTER;
    (*(size_t *)ctx)++;
    return PUB_FS_NEXT;
}

static void count_failed(const char *rel, int err, void *ctx)
{
    (void)err;
    if (rel[0]) (*(size_t *)ctx)++; /* a folder that cannot be opened counts as one */
}

/* Counts the non-folders below `fd` (taken): files dropped with a folder. */
static size_t count_below(int fd)
{
    size_t n = 0;
    pub_fs_walk_options o = {.visit = count_entry, .fail = count_failed, .ctx = &n};
    pub_fs_walk(fd, &o);
    return n;
}

/* Makes the folders above `rel` in the tree. */
static int tree_parents(swap *sw, const char *rel)
{
    char *dir = pub_xstrdup(rel);
    int rc = 0;
    for (char *s = strchr(dir, '/'); s && !rc; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdirat(sw->tree_fd, dir, 0777) != 0 && errno != EEXIST) rc = errno;
        *s = '/';
    }
    free(dir);
    return rc;
}

/* Carries a file of DEST into the tree, or notes that it goes. */
static int carry_file(swap *sw, const pub_fs_entry *e, entry *en, bool kept)
{
    bool take;
    if (kept) take = true;
    else if (!en) take = !sw->out->clean;                   /* the user's own */
    else if (en->claim == CLAIM_FILE) take = !en->staged;   /* unchanged */
    else take = false; /* the last build's, not produced again, or a folder goes there */
    int rc = 0;
    if (take) {
        rc = linkat(e->dirfd, e->name, sw->tree_fd, e->rel, 0) == 0 ? 0 : errno;
        if (rc == ENOENT && (rc = tree_parents(sw, e->rel)) == 0 &&
            linkat(e->dirfd, e->name, sw->tree_fd, e->rel, 0) != 0)
            rc = errno;
    } else if (!(en && en->claim == CLAIM_FILE)) {
        sw->removed++;
        note_gone_parent(sw, e->rel);
    }
    return rc;
}

/* Carries one entry of DEST into the tree (pub_fs_walk's visit). Below a
 * kept name (.git) everything is carried. */
static pub_fs_step carry_entry(const pub_fs_entry *e, void *ctx)
{
    swap *sw = ctx;
    pub_out *out = sw->out;
    if (e->depth == 0) sw->in_kept = pub_out_kept_name(e->name);
    bool kept = sw->in_kept;
    entry *en = kept ? NULL : pub_out_map_get(&out->paths, e->rel);
    if (!e->st) return PUB_FS_NEXT; /* gone meanwhile: nothing to carry */
    if (!S_ISDIR(e->st->st_mode)) {
        sw->rc = carry_file(sw, e, en, kept);
        return sw->rc ? PUB_FS_STOP : PUB_FS_NEXT;
    }
    if (en && en->claim == CLAIM_FILE) { /* a file of this build goes there */
        int sub = openat(e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) sw->rc = errno;
        else sw->removed += count_below(sub);
        return sw->rc ? PUB_FS_STOP : PUB_FS_NEXT;
    }
    /* --clean keeps no folder of its own accord: only those this build or
     * a kept name needs (made on the way). */
    bool make = !out->clean || kept || (en && en->claim == CLAIM_DIR);
    if (make && (sw->rc = tree_parents(sw, e->rel)) == 0 &&
        mkdirat(sw->tree_fd, e->rel, e->st->st_mode & 07777) != 0 && errno != EEXIST)
        sw->rc = errno;
    return sw->rc ? PUB_FS_STOP : PUB_FS_ENTER;
}

static void carry_failed(const char *rel, int err, void *ctx)
{
    (void)rel;
    ((swap *)ctx)->rc = err;
}

/* A folder that could not be opened stops the carrying. */
static pub_fs_step carry_left(const pub_fs_entry *e, void *ctx)
{
    (void)e;
    return ((swap *)ctx)->rc ? PUB_FS_STOP : PUB_FS_NEXT;
}

/* Carries DEST (open at `fd`, taken) into the tree: returns 0 or the errno
 * of a link that failed. */
static int carry(swap *sw, int fd)
{
    pub_fs_walk_options o = {.stat = true, .visit = carry_entry, .leave = carry_left,
                             .fail = carry_failed, .ctx = sw};
    pub_fs_walk(fd, &o);
    return sw->rc;
}

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* Folders of the last build left empty go, as with the journal; folders
 * that were empty already (the user's) were never noted. */
static void prune(swap *sw)
{
    if (sw->ngone > 1) qsort(sw->gone_dirs, sw->ngone, sizeof *sw->gone_dirs, cmp_desc);
    for (size_t i = 0; i < sw->ngone; i++) {
        char *dir = sw->gone_dirs[i];
        for (;;) {
            entry *en = pub_out_map_get(&sw->out->paths, dir);
            if ((en && en->claim == CLAIM_DIR) || unlinkat(sw->tree_fd, dir, AT_REMOVEDIR) != 0)
                break;
            char *slash = strrchr(dir, '/');
            if (!slash) break;
            *slash = '\0';
        }
    }
}

/* Puts the staged files back under their flat names (the exchange could
 * not be made; the journal takes over). */
static void unstage_tree(swap *sw, entry **staged, size_t n)
{
    char name[32];
    for (size_t i = 0; i < n; i++) {
        pub_out_staged_name(staged[i], name, sizeof name);
        renameat(sw->tree_fd, staged[i]->rel, sw->out->staging_fd, name);
    }
}

int pub_out_commit_swap(pub_out *out)
{
    bool change = out->clean;
    for (size_t i = 0; i < out->paths.cap && !change; i++) {
        const entry *e = out->paths.slots[i];
        change = e && ((e->claim == CLAIM_FILE && e->staged) || (e->old && e->claim != CLAIM_FILE));
    }
    if (!change) return -1; /* DEST already is this build: nothing to switch */
    if (mkdirat(out->staging_fd, TREE, 0777) != 0) return errno;
    swap sw = {.out = out};
    sw.tree_fd = openat(out->staging_fd, TREE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sw.tree_fd < 0) return errno;
    /* DEST's own permissions on the new root. */
    struct stat root;
    if (fstat(out->dest_fd, &root) == 0) fchmod(sw.tree_fd, root.st_mode & 07777);
    int fd = dup(out->dest_fd);
    int rc = fd < 0 ? errno : carry(&sw, fd);

    entry **staged = pub_xmalloc((out->paths.len + 1) * sizeof *staged);
    size_t nstaged = 0;
    for (size_t i = 0; i < out->paths.cap; i++) {
        entry *e = out->paths.slots[i];
        if (e && e->claim == CLAIM_FILE && e->staged) staged[nstaged++] = e;
    }
    size_t moved = 0;
    char name[32];
    for (; !rc && moved < nstaged; moved++) {
        pub_out_staged_name(staged[moved], name, sizeof name);
        rc = tree_parents(&sw, staged[moved]->rel);
        if (!rc && renameat(out->staging_fd, name, sw.tree_fd, staged[moved]->rel) != 0) rc = errno;
    }
    if (!rc) {
        prune(&sw);
        /* What DEST may hold while the switch happens: both builds' files. */
        pub_out_save_manifest(out, true);
        pub_out_step("swap: tree built, manifest with both builds' files saved");
        char *tree = pub_path_join(out->staging, TREE);
        if (renameat2(AT_FDCWD, tree, AT_FDCWD, out->target, RENAME_EXCHANGE) != 0) rc = errno;
        free(tree);
    }
    if (rc) {
        unstage_tree(&sw, staged, moved);
    } else {
        pub_out_step("swap: exchanged");
        out->stats.removed += sw.removed;
        pub_out_save_manifest(out, false);
        pub_out_step("swap: manifest saved");
    }
    for (size_t i = 0; i < sw.ngone; i++) free(sw.gone_dirs[i]);
    free(sw.gone_dirs);
    free(staged);
    close(sw.tree_fd);
    return rc;
}
