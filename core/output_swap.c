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
 * Where a link or the exchange is impossible (DEST is a mount point, a
 * file system without RENAME_EXCHANGE or hard links), commit falls back to
 * moving files into DEST one by one (output_journal.c), whose crash
 * behaviour is documented there. */
#define _GNU_SOURCE
#include "output_impl.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/path.h"
#include <dirent.h>
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

/* Counts the non-folders below `fd` (taken): files dropped with a folder. */
static size_t count_below(int fd)
{
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return 0;
    }
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        int sub = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        n += sub >= 0 ? count_below(sub) : 1;
    }
    closedir(dir);
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

/* Carries DEST/prefix (open at `fd`, taken) into the tree: returns 0 or
 * the errno of a link that failed. Below a kept name (.git) everything is
 * carried. */
static int carry(swap *sw, int fd, const char *prefix, bool keep_all)
{
    pub_out *out = sw->out;
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int e = errno;
        close(fd);
        return e;
    }
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *rel = prefix[0] ? pub_path_join(prefix, e->d_name) : pub_xstrdup(e->d_name);
        bool kept = keep_all || (!prefix[0] && pub_out_kept_name(e->d_name));
        entry *en = kept ? NULL : pub_out_map_get(&out->paths, rel);
        struct stat st;
        if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            /* gone meanwhile: nothing to carry */
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = errno;
            } else if (en && en->claim == CLAIM_FILE) {
                sw->removed += count_below(sub); /* a file of this build goes there */
            } else {
                /* --clean keeps no folder of its own accord: only those
                 * this build or a kept name needs (made on the way). */
                bool make = !out->clean || kept || (en && en->claim == CLAIM_DIR);
                if (make && (rc = tree_parents(sw, rel)) == 0 &&
                    mkdirat(sw->tree_fd, rel, st.st_mode & 07777) != 0 && errno != EEXIST)
                    rc = errno;
                if (rc) close(sub);
                else rc = carry(sw, sub, rel, kept);
            }
        } else {
            bool take;
            if (kept) take = true;
            else if (!en) take = !out->clean;                       /* the user's own */
            else if (en->claim == CLAIM_FILE) take = !en->staged;   /* unchanged */
            else take = false; /* the last build's, not produced again, or a folder goes there */
            if (take) {
                rc = linkat(dirfd(dir), e->d_name, sw->tree_fd, rel, 0) == 0 ? 0 : errno;
                if (rc == ENOENT && (rc = tree_parents(sw, rel)) == 0 &&
                    linkat(dirfd(dir), e->d_name, sw->tree_fd, rel, 0) != 0)
                    rc = errno;
            } else if (!(en && en->claim == CLAIM_FILE)) {
                sw->removed++;
                note_gone_parent(sw, rel);
            }
        }
        free(rel);
    }
    closedir(dir);
    return rc;
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
    int rc = fd < 0 ? errno : carry(&sw, fd, "", false);

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
        char *tree = pub_path_join(out->staging, TREE);
        if (renameat2(AT_FDCWD, tree, AT_FDCWD, out->target, RENAME_EXCHANGE) != 0) rc = errno;
        free(tree);
    }
    if (rc) {
        unstage_tree(&sw, staged, moved);
    } else {
        out->stats.removed += sw.removed;
        pub_out_save_manifest(out, false);
    }
    for (size_t i = 0; i < sw.ngone; i++) free(sw.gone_dirs[i]);
    free(sw.gone_dirs);
    free(staged);
    close(sw.tree_fd);
    return rc;
}
