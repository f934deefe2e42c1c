/* Temp files beside their targets, atomic saves, stale-temp sweeps and the
 * fd-based tree walk (fs.h). The random suffix needs no quality, only
 * variety: the exclusive create is what makes a name ours, a clash just
 * tries another. */
#define _DEFAULT_SOURCE /* d_type */
#define _XOPEN_SOURCE 700
#include "fs.h"
#include "buf.h"
#include "file.h"
#include "mem.h"
#include "path.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int pub_fs_temp_open(const char *prefix, int mode, char **path)
{
    static unsigned long counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned long r = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16) ^
                          (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 2654435761UL) ^
                          (unsigned long)(uintptr_t)path;
        char suffix[7];
        for (int i = 0; i < 6; i++) {
            suffix[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r % 36];
            r /= 36;
        }
        suffix[6] = '\0';
        pub_buf name = PUB_BUF_INIT;
        pub_buf_printf(&name, "%s%s", prefix, suffix);
        int fd = open(pub_buf_cstr(&name), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
        if (fd >= 0) {
            *path = pub_buf_detach(&name);
            return fd;
        }
        int e = errno;
        pub_buf_free(&name);
        if (e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

typedef struct bytes_arg {
    const void *bytes;
    size_t len;
} bytes_arg;

static int write_bytes(int fd, void *ctx)
{
    bytes_arg *a = ctx;
    return pub_file_write_all(fd, a->bytes, a->len);
}

int pub_fs_write_atomic(const char *path, const void *bytes, size_t len, int mode)
{
    bytes_arg a = {bytes, len};
    return pub_fs_write_atomic_with(path, mode, write_bytes, &a);
}

int pub_fs_write_atomic_with(const char *path, int mode, pub_fs_writer *fill, void *ctx)
{
    pub_buf prefix = PUB_BUF_INIT;
    pub_buf_printf(&prefix, "%s.", path);
    char *tmp = NULL;
    int fd = pub_fs_temp_open(pub_buf_cstr(&prefix), 0600, &tmp);
    pub_buf_free(&prefix);
    if (fd < 0) return errno;
    int rc = fill(fd, ctx);
    if (!rc && fchmod(fd, (mode_t)mode) != 0) rc = errno;
    if (close(fd) != 0 && !rc) rc = errno;
    if (!rc && rename(tmp, path) != 0) rc = errno;
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

typedef struct sweep {
    const char *dir;
    pub_fs_temp_test *is_temp;
    void *ctx;
    time_t cutoff; /* remove only files whose mtime is at most this; 0: any */
    int max_depth;
    size_t *removed;
    int first;     /* errno of the first removal that failed */
    char **failed;
} sweep;

static pub_fs_step sweep_entry(const pub_fs_entry *e, void *ctx)
{
    sweep *sw = ctx;
    if (!e->st) return PUB_FS_NEXT; /* gone meanwhile */
    if (S_ISREG(e->st->st_mode) && sw->is_temp(e->name, sw->ctx)) {
        if (sw->cutoff && e->st->st_mtime > sw->cutoff) return PUB_FS_NEXT;
        if (unlinkat(e->dirfd, e->name, 0) == 0) {
            if (sw->removed) (*sw->removed)++;
        } else if (!sw->first) {
            sw->first = errno;
            if (sw->failed) *sw->failed = pub_path_join(sw->dir, e->rel);
        }
        return PUB_FS_NEXT;
    }
    bool enter = S_ISDIR(e->st->st_mode) && e->name[0] != '.' && e->depth < sw->max_depth;
    return enter ? PUB_FS_ENTER : PUB_FS_NEXT;
}

int pub_fs_sweep_temps(const char *dir, pub_fs_temp_test *is_temp, void *ctx, long min_age,
                       int max_depth, size_t *removed, char **failed)
{
    if (failed) *failed = NULL;
    /* A file is old enough when now - mtime >= min_age. */
    time_t cutoff = min_age > 0 ? time(NULL) - (time_t)min_age : 0;
    sweep sw = {dir, is_temp, ctx, cutoff, max_depth, removed, 0, failed};
    /* A folder that cannot be read is skipped: no `fail`. */
    pub_fs_walk_options o = {.stat = true, .visit = sweep_entry, .ctx = &sw};
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) pub_fs_walk(fd, &o);
    return sw.first;
}

typedef struct dir_name {
    char *name;
    mode_t type; /* from readdir; 0 when it does not say */
} dir_name;

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const dir_name *)a)->name, ((const dir_name *)b)->name);
}

static mode_t dirent_type(unsigned char d_type)
{
    switch (d_type) {
    case DT_DIR: return S_IFDIR;
    case DT_REG: return S_IFREG;
    case DT_LNK: return S_IFLNK;
    case DT_FIFO: return S_IFIFO;
    case DT_SOCK: return S_IFSOCK;
    case DT_CHR: return S_IFCHR;
    case DT_BLK: return S_IFBLK;
    default: return 0;
    }
}

/* The entries of `dir` but "." and ".."; caller frees the array and each
 * name. */
static size_t read_names(DIR *dir, bool sorted, dir_name **out)
{
    dir_name *names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = pub_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = (dir_name){pub_xstrdup(e->d_name), dirent_type(e->d_type)};
    }
    /* An empty folder has no list at all: qsort(NULL, 0, ...) is undefined. */
    if (sorted && n > 1) qsort(names, n, sizeof *names, compare_names);
    *out = names;
    return n;
}

static bool visit_entry(DIR *dir, const char *name, mode_t type, pub_buf *rel, int depth,
                        const pub_fs_walk_options *o);

/* Walks the folder open at `fd` (taken); false when a callback stopped. */
static bool walk_folder(int fd, pub_buf *rel, int depth, const pub_fs_walk_options *o)
{
    DIR *dir = fdopendir(fd);
    if (!dir) {
        if (o->fail) o->fail(pub_buf_cstr(rel), errno, o->ctx);
        close(fd);
        return true;
    }
    dir_name *names;
    size_t n = read_names(dir, o->sorted, &names);
    size_t rel_len = rel->len;
    bool going = true;
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i].name;
        if (going) {
            if (rel_len) pub_buf_putc(rel, '/');
            pub_buf_puts(rel, name);
            going = visit_entry(dir, name, names[i].type, rel, depth, o);
            rel->len = rel_len;
            if (rel->data) rel->data[rel_len] = '\0';
        }
        free(names[i].name);
    }
    free(names);
    closedir(dir);
    return going;
}

/* Visits one entry (its path in `rel`), walks it if the visit says so, and
 * leaves it; false when a callback stopped. */
static bool visit_entry(DIR *dir, const char *name, mode_t type, pub_buf *rel, int depth,
                        const pub_fs_walk_options *o)
{
    struct stat st;
    bool stated = false;
    if (o->stat || !type) {
        stated = fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        type = stated ? (st.st_mode & S_IFMT) : 0;
    }
    pub_fs_entry e = {pub_buf_cstr(rel), name, dirfd(dir), depth, type, o->stat && stated ? &st : NULL};
    pub_fs_step step = o->visit(&e, o->ctx);
    if (step == PUB_FS_STOP) return false;
    bool enter = (step == PUB_FS_ENTER && type == S_IFDIR) ||
                 (step == PUB_FS_ENTER_LINK && (type == S_IFDIR || type == S_IFLNK));
    if (!enter) return true;
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (type == S_IFDIR ? O_NOFOLLOW : 0);
    int sub = openat(dirfd(dir), name, flags);
    if (sub < 0) {
        if (o->fail) o->fail(pub_buf_cstr(rel), errno, o->ctx);
    } else if (!walk_folder(sub, rel, depth + 1, o)) {
        return false;
    }
    e.rel = pub_buf_cstr(rel); /* the walk below may have moved the buffer */
    return !o->leave || o->leave(&e, o->ctx) != PUB_FS_STOP;
}

bool pub_fs_walk(int fd, const pub_fs_walk_options *o)
{
    pub_buf rel = PUB_BUF_INIT;
    bool done = true;
    if (fd < 0) {
        if (o->fail) o->fail("", EBADF, o->ctx);
    } else {
        done = walk_folder(fd, &rel, 0, o);
    }
    pub_buf_free(&rel);
    return done;
}

typedef struct fd_walk {
    bool (*skip_top)(const char *name);
    pub_fs_visit *visit;
    void *ctx;
} fd_walk;

static pub_fs_step visit_fd_entry(const pub_fs_entry *e, void *ctx)
{
    fd_walk *w = ctx;
    if (e->depth == 0 && w->skip_top && w->skip_top(e->name)) return PUB_FS_NEXT;
    w->visit(e->rel, e->type == S_IFDIR, w->ctx);
    return PUB_FS_ENTER;
}

void pub_fs_walk_fd(int fd, bool (*skip_top)(const char *name), pub_fs_visit *visit, void *ctx)
{
    fd_walk w = {skip_top, visit, ctx};
    pub_fs_walk_options o = {.visit = visit_fd_entry, .ctx = &w};
    pub_fs_walk(fd, &o);
}

typedef struct emptying {
    bool (*skip_top)(const char *name);
    size_t removed;
} emptying;

static pub_fs_step empty_entry(const pub_fs_entry *e, void *ctx)
{
    emptying *em = ctx;
    if (e->depth == 0 && em->skip_top && em->skip_top(e->name)) return PUB_FS_NEXT;
    if (unlinkat(e->dirfd, e->name, 0) == 0) {
        em->removed++;
        return PUB_FS_NEXT;
    }
    /* Linux says EISDIR for a folder, POSIX allows EPERM. */
    return errno == EISDIR || errno == EPERM ? PUB_FS_ENTER : PUB_FS_NEXT;
}

static pub_fs_step empty_left(const pub_fs_entry *e, void *ctx)
{
    (void)ctx;
    unlinkat(e->dirfd, e->name, AT_REMOVEDIR); /* fails, as it should, when something stayed */
    return PUB_FS_NEXT;
}

size_t pub_fs_empty(int fd, bool (*skip_top)(const char *name))
{
    emptying em = {skip_top, 0};
    pub_fs_walk_options o = {.visit = empty_entry, .leave = empty_left, .ctx = &em};
    pub_fs_walk(fd, &o);
    return em.removed;
}
