/* The output transaction: pages and static files are written into a staging
 * folder beside DEST (`.BASE.publish-tmp`), then swapped in as DEST with one
 * atomic rename when the whole build succeeded. A file whose bytes match the
 * previous DEST is hard-linked from there, so its inode and mtime stay put
 * and rsync or a browser cache see nothing new.
 *
 * This module decides where bytes land and that they never land outside
 * DEST; it does not decide what a page's path is (the engine does) nor
 * report errors (it returns them). Writes may come from several threads;
 * only the bookkeeping sets are locked, the file I/O runs outside the lock.
 *
 * Old files in DEST are opened one path component at a time with O_NOFOLLOW,
 * so a symlink someone left in DEST cannot make us hard-link or compare a
 * file outside it. */
#define _GNU_SOURCE
#include "output.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/path.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

enum { CHUNK = 64 * 1024 };

/* ---- A set of strings (open addressing), for paths and folders -------------- */

typedef struct strset {
    char **slots;
    size_t cap, len;
} strset;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t strset_find(const strset *set, const char *s)
{
    size_t mask = set->cap - 1, i = (size_t)hash_str(s) & mask;
    while (set->slots[i] && strcmp(set->slots[i], s) != 0) i = (i + 1) & mask;
    return i;
}

static bool strset_has(const strset *set, const char *s)
{
    return set->cap && set->slots[strset_find(set, s)] != NULL;
}

/* Adds a copy of `s`; false when it was already there. */
static bool strset_add(strset *set, const char *s)
{
    if ((set->len + 1) * 2 > set->cap) {
        strset bigger = {pub_xcalloc(set->cap ? set->cap * 2 : 64, sizeof(char *)),
                         set->cap ? set->cap * 2 : 64, set->len};
        for (size_t i = 0; i < set->cap; i++)
            if (set->slots[i]) bigger.slots[strset_find(&bigger, set->slots[i])] = set->slots[i];
        free(set->slots);
        *set = bigger;
    }
    size_t i = strset_find(set, s);
    if (set->slots[i]) return false;
    set->slots[i] = pub_xstrdup(s);
    set->len++;
    return true;
}

static void strset_free(strset *set)
{
    for (size_t i = 0; i < set->cap; i++) free(set->slots[i]);
    free(set->slots);
    memset(set, 0, sizeof *set);
}

/* ---- The transaction --------------------------------------------------------- */

struct pub_out {
    char *dest;     /* as the caller named it, for messages */
    char *target;   /* the folder actually replaced (DEST, or where its symlink points) */
    char *staging;  /* TARGET's sibling .BASE.publish-tmp */
    char *old;      /* TARGET's sibling .BASE.publish-old, for the non-atomic fallback */
    int staging_fd; /* open on the staging folder */
    int dest_fd;    /* open on the previous DEST, or -1 when there is none */
    pthread_mutex_t lock;
    strset files;   /* normalised relpaths written so far */
    strset dirs;    /* staging folders known to exist */
    pub_out_stats stats;
};

static char *sibling(const char *parent, const char *base, const char *suffix)
{
    size_t n = strlen(parent) + strlen(base) + strlen(suffix) + 3;
    char *s = pub_xmalloc(n);
    snprintf(s, n, "%s/.%s%s", parent, base, suffix);
    return s;
}

/* Splits "a/b/_site//" into parent "a/b" and base "_site" (both caller-freed). */
static void split_dest(const char *dest, char **parent, char **base)
{
    size_t n = strlen(dest);
    while (n > 1 && dest[n - 1] == '/') n--;
    char *trimmed = pub_xstrndup(dest, n);
    char *slash = strrchr(trimmed, '/');
    if (!slash) {
        *parent = pub_xstrdup(".");
        *base = trimmed;
        return;
    }
    *base = pub_xstrdup(slash + 1);
    if (slash == trimmed) slash++; /* "/x": the parent is "/" */
    *slash = '\0';
    *parent = trimmed;
}

static void out_free(pub_out *out)
{
    if (out->staging_fd >= 0) close(out->staging_fd);
    if (out->dest_fd >= 0) close(out->dest_fd);
    pthread_mutex_destroy(&out->lock);
    strset_free(&out->files);
    strset_free(&out->dirs);
    free(out->dest);
    free(out->target);
    free(out->staging);
    free(out->old);
    free(out);
}

pub_diag *pub_out_begin(const char *dest, pub_out **result)
{
    *result = NULL;
    char *target = pub_xstrdup(dest);
    struct stat st;
    bool exists = lstat(dest, &st) == 0;
    if (exists && S_ISLNK(st.st_mode)) {
        /* A DEST symlinked elsewhere (another disk, a web root) keeps its
         * link; the folder it points to is what gets replaced. */
        char *real = realpath(dest, NULL);
        if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(real);
            free(target);
            return pub_diag_new(PUB_ERROR, NULL, 0, 0, "destination '%s' is not a folder", dest);
        }
        free(target);
        target = real;
    } else if (exists && !S_ISDIR(st.st_mode)) {
        free(target);
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "destination '%s' is not a folder", dest);
    }

    char *parent, *base;
    split_dest(target, &parent, &base);
    if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0) {
        free(parent);
        free(base);
        free(target);
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot use '%s' as the destination", dest);
    }
    pub_out *out = pub_xcalloc(1, sizeof *out);
    out->dest = pub_xstrdup(dest);
    out->target = target;
    out->staging = sibling(parent, base, ".publish-tmp");
    out->old = sibling(parent, base, ".publish-old");
    out->staging_fd = out->dest_fd = -1;
    pthread_mutex_init(&out->lock, NULL);
    free(base);

    pub_diag *err = NULL;
    int rc = pub_file_mkdirs(parent);
    if (rc) {
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot create '%s': %s", parent, strerror(rc));
        goto fail;
    }
    /* A commit killed between its two renames leaves the previous output
     * only under the -old name: put it back before anything else. */
    if (!exists && lstat(out->old, &st) == 0 && S_ISDIR(st.st_mode) &&
        rename(out->old, out->target) == 0)
        exists = true;
    const char *stale = out->old;
    rc = pub_file_remove_tree(stale);
    if (!rc) rc = pub_file_remove_tree(stale = out->staging);
    if (rc) {
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot remove the stale '%s': %s", stale,
                           strerror(rc));
        goto fail;
    }
    if (mkdir(out->staging, 0777) != 0) {
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot create '%s': %s", out->staging,
                           strerror(errno));
        goto fail;
    }
    out->staging_fd = open(out->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out->staging_fd < 0) {
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot open '%s': %s", out->staging,
                           strerror(errno));
        pub_file_remove_tree(out->staging);
        goto fail;
    }
    if (exists) {
        out->dest_fd = open(out->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (out->dest_fd < 0) {
            err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot open '%s': %s", dest, strerror(errno));
            pub_file_remove_tree(out->staging);
            goto fail;
        }
    }
    free(parent);
    *result = out;
    return NULL;
fail:
    free(parent);
    out_free(out);
    return err;
}

/* ---- Writing one file ------------------------------------------------------- */

/* Validates and normalises `relpath` and claims it. On success returns the
 * normalised path (caller frees); otherwise sets *err. */
static char *claim_path(pub_out *out, const char *relpath, pub_diag **err)
{
    char *rel = pub_path_confine(relpath);
    if (!rel || !rel[0]) {
        free(rel);
        *err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "output path '%s' is outside the destination",
                            relpath);
        return NULL;
    }
    pthread_mutex_lock(&out->lock);
    bool fresh = strset_add(&out->files, rel);
    pthread_mutex_unlock(&out->lock);
    if (!fresh) {
        *err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "two pages write '%s'", rel);
        free(rel);
        return NULL;
    }
    return rel;
}

/* Makes sure the staging folder holding `rel` exists. The set remembers
 * folders already made, so a 10,000-page build does not stat the same
 * "posts/2024" over and over. Returns 0 or an errno value. */
static int make_parent(pub_out *out, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    if (!slash) return 0;
    char *dir = pub_xstrndup(rel, (size_t)(slash - rel));
    pthread_mutex_lock(&out->lock);
    bool known = strset_has(&out->dirs, dir);
    pthread_mutex_unlock(&out->lock);
    int rc = 0;
    if (!known) {
        /* Two threads may make the same folder at once; EEXIST is fine. */
        for (char *p = dir;; p++) {
            if (*p != '/' && *p != '\0') continue;
            char saved = *p;
            *p = '\0';
            if (mkdirat(out->staging_fd, dir, 0777) != 0 && errno != EEXIST) rc = errno;
            *p = saved;
            if (rc || !saved) break;
        }
        if (!rc) {
            pthread_mutex_lock(&out->lock);
            strset_add(&out->dirs, dir);
            pthread_mutex_unlock(&out->lock);
        }
    }
    free(dir);
    return rc;
}

/* Opens DEST/rel from the previous build without following any symlink.
 * Returns the file's fd (a regular file) and sets *dir_fd to its folder's
 * fd (close both), or -1 when there is no such old file. */
static int open_old(pub_out *out, const char *rel, int *dir_fd, struct stat *st)
{
    *dir_fd = -1;
    if (out->dest_fd < 0) return -1;
    int dir = dup(out->dest_fd);
    if (dir < 0) return -1;
    char *path = pub_xstrdup(rel), *name = path;
    for (char *slash; (slash = strchr(name, '/')) != NULL; name = slash + 1) {
        *slash = '\0';
        int next = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(dir);
        if (next < 0) {
            free(path);
            return -1;
        }
        dir = next;
    }
    /* O_NONBLOCK: a FIFO someone left in DEST must not hang the build. */
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    free(path);
    if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        if (fd >= 0) close(fd);
        close(dir);
        return -1;
    }
    *dir_fd = dir;
    return fd;
}

static int read_full(int fd, char *buf, size_t want, size_t *got)
{
    *got = 0;
    while (*got < want) {
        ssize_t n = read(fd, buf + *got, want - *got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) break;
        *got += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const char *bytes, size_t len)
{
    while (len) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Whether the old file's bytes equal `bytes` (when `other_fd` < 0) or the
 * rest of `other_fd`. Sizes were compared already. */
static bool same_bytes(int old_fd, const char *bytes, size_t len, int other_fd)
{
    char *a = pub_xmalloc(CHUNK), *b = other_fd >= 0 ? pub_xmalloc(CHUNK) : NULL;
    bool same = true;
    size_t done = 0;
    while (same) {
        size_t got, other;
        if (read_full(old_fd, a, CHUNK, &got) != 0) {
            same = false;
            break;
        }
        if (other_fd >= 0) {
            if (read_full(other_fd, b, CHUNK, &other) != 0 || other != got ||
                memcmp(a, b, got) != 0)
                same = false;
        } else {
            if (got > len - done || memcmp(a, bytes + done, got) != 0) same = false;
        }
        done += got;
        if (got < CHUNK) break;
    }
    if (other_fd < 0 && done != len) same = false;
    free(a);
    free(b);
    return same;
}

/* Copies the rest of `from` into `to`. Returns 0 or an errno value. */
static int copy_fd(int from, int to)
{
    char *buf = pub_xmalloc(CHUNK);
    int rc = 0;
    for (;;) {
        size_t got;
        if ((rc = read_full(from, buf, CHUNK, &got)) != 0) break;
        if ((rc = write_full(to, buf, got)) != 0) break;
        if (got < CHUNK) break;
    }
    free(buf);
    return rc;
}

/* The content of one output file: bytes in memory or an open source file. */
typedef struct content {
    const char *bytes;
    size_t len;
    int source_fd; /* -1 for bytes */
    bool executable;
} content;

static int rewind_content(const content *c)
{
    if (c->source_fd >= 0 && lseek(c->source_fd, 0, SEEK_SET) < 0) return errno;
    return 0;
}

/* Creates staging/rel with `c`. When `keep` is set, gives it that file's
 * times (a copy standing in for a failed hard link). Returns 0 or errno. */
static int create_file(pub_out *out, const char *rel, const content *c, const struct stat *keep)
{
    int rc = rewind_content(c);
    if (rc) return rc;
    int fd = openat(out->staging_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    c->executable ? 0755 : 0644);
    if (fd < 0) return errno;
    rc = c->source_fd >= 0 ? copy_fd(c->source_fd, fd) : write_full(fd, c->bytes, c->len);
    if (!rc && keep) {
        struct timespec times[2] = {keep->st_atim, keep->st_mtim};
        if (futimens(fd, times) != 0) rc = errno;
    }
    if (close(fd) != 0 && !rc) rc = errno;
    return rc;
}

/* Puts `c` at staging/rel, reusing the previous DEST file when identical.
 * Returns 0 or an errno value; sets *unchanged. */
static int place(pub_out *out, const char *rel, const content *c, bool *unchanged)
{
    *unchanged = false;
    int rc = make_parent(out, rel);
    if (rc) return rc;
    struct stat old;
    int dir_fd, old_fd = open_old(out, rel, &dir_fd, &old);
    if (old_fd >= 0) {
        bool same = (size_t)old.st_size == c->len &&
                    ((old.st_mode & 0111) != 0) == c->executable && rewind_content(c) == 0 &&
                    same_bytes(old_fd, c->bytes, c->len, c->source_fd);
        close(old_fd);
        if (same) {
            *unchanged = true;
            /* linkat without AT_SYMLINK_FOLLOW links the name itself, and
             * dir_fd was reached without following symlinks. */
            if (linkat(dir_fd, pub_path_base(rel), out->staging_fd, rel, 0) != 0)
                rc = create_file(out, rel, c, &old);
            close(dir_fd);
            return rc;
        }
        close(dir_fd);
    }
    return create_file(out, rel, c, NULL);
}

/* Names the usual clash ("a" and "a/index.html" both written) instead of
 * leaving the user with a bare "File exists": file paths are claimed once,
 * so EEXIST and ENOTDIR can only come from a folder made for another page or
 * a page sitting where a folder is needed. */
static pub_diag *write_error(const char *rel, int rc)
{
    if (rc == EEXIST)
        return pub_diag_new(PUB_ERROR, NULL, 0, 0,
                            "cannot write '%s': another page needs a folder there", rel);
    if (rc == ENOTDIR)
        return pub_diag_new(PUB_ERROR, NULL, 0, 0,
                            "cannot write '%s': another page wrote a file where a folder goes",
                            rel);
    return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot write '%s': %s", rel, strerror(rc));
}

static void count(pub_out *out, bool unchanged)
{
    pthread_mutex_lock(&out->lock);
    if (unchanged)
        out->stats.unchanged++;
    else
        out->stats.written++;
    pthread_mutex_unlock(&out->lock);
}

pub_diag *pub_out_write(pub_out *out, const char *relpath, const void *bytes, size_t len)
{
    pub_diag *err = NULL;
    char *rel = claim_path(out, relpath, &err);
    if (!rel) return err;
    content c = {bytes, len, -1, false};
    bool unchanged;
    int rc = place(out, rel, &c, &unchanged);
    if (rc)
        err = write_error(rel, rc);
    else
        count(out, unchanged);
    free(rel);
    return err;
}

pub_diag *pub_out_copy(pub_out *out, const char *relpath, const char *source)
{
    pub_diag *err = NULL;
    char *rel = claim_path(out, relpath, &err);
    if (!rel) return err;
    int fd = open(source, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    int e = fd < 0 || fstat(fd, &st) != 0 ? errno : 0;
    if (!e && !S_ISREG(st.st_mode)) e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    if (e) {
        if (fd >= 0) close(fd);
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot read '%s': %s", source, strerror(e));
        free(rel);
        return err;
    }
    content c = {NULL, (size_t)st.st_size, fd, (st.st_mode & 0111) != 0};
    bool unchanged;
    int rc = place(out, rel, &c, &unchanged);
    close(fd);
    if (rc)
        err = write_error(rel, rc);
    else
        count(out, unchanged);
    free(rel);
    return err;
}

/* ---- Commit and abort -------------------------------------------------------- */

/* Counts regular files under `dir_fd` (prefix `prefix`) not written this run.
 * Takes ownership of dir_fd. */
static size_t count_removed(pub_out *out, int dir_fd, const char *prefix)
{
    DIR *dir = fdopendir(dir_fd);
    if (!dir) {
        close(dir_fd);
        return 0;
    }
    size_t removed = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *rel = prefix[0] ? pub_path_join(prefix, e->d_name) : pub_xstrdup(e->d_name);
        struct stat st;
        if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(st.st_mode)) {
                int sub = openat(dirfd(dir), e->d_name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) removed += count_removed(out, sub, rel);
            } else if (S_ISREG(st.st_mode) && !strset_has(&out->files, rel)) {
                removed++;
            }
        }
        free(rel);
    }
    closedir(dir);
    return removed;
}

static int exchange(const char *a, const char *b)
{
#ifdef SYS_renameat2
    if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0) return 0;
    return errno;
#else
    (void)a;
    (void)b;
    return ENOSYS;
#endif
}

pub_diag *pub_out_commit(pub_out *out, pub_out_stats *stats)
{
    bool had_dest = out->dest_fd >= 0;
    if (had_dest) {
        int fd = dup(out->dest_fd);
        if (fd >= 0) out->stats.removed = count_removed(out, fd, "");
    }
    if (stats) *stats = out->stats;
    close(out->staging_fd);
    out->staging_fd = -1;
    if (out->dest_fd >= 0) close(out->dest_fd);
    out->dest_fd = -1;

    int rc = 0;
    if (!had_dest) {
        if (rename(out->staging, out->target) != 0) rc = errno;
    } else {
        rc = exchange(out->staging, out->target);
        if (rc == 0) {
            /* The previous tree now sits under the staging name. A failure
             * to delete it is not the build's failure: the next begin
             * removes it as stale. */
            pub_file_remove_tree(out->staging);
        } else if (rc == EINVAL || rc == ENOSYS || rc == ENOTSUP) {
            /* No atomic swap on this filesystem: two renames, with DEST
             * missing for an instant, and rolled back if the second fails. */
            rc = 0;
            if (rename(out->target, out->old) != 0) {
                rc = errno;
            } else if (rename(out->staging, out->target) != 0) {
                rc = errno;
                rename(out->old, out->target);
            } else {
                pub_file_remove_tree(out->old);
            }
        }
    }
    pub_diag *err = NULL;
    if (rc) {
        pub_file_remove_tree(out->staging);
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot replace '%s': %s", out->dest, strerror(rc));
    }
    out_free(out);
    return err;
}

void pub_out_abort(pub_out *out)
{
    if (!out) return;
    close(out->staging_fd);
    out->staging_fd = -1;
    pub_file_remove_tree(out->staging);
    out_free(out);
}
