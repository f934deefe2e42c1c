/* The output module's journal: the manifest of the last build (read at
 * begin, saved after commit, and before it moves anything when the one on
 * disk does not name every path it touches), and commit over an existing
 * DEST file by file, the way a few changed files take: staged files
 * renamed into place through folders opened one component at a time with
 * O_NOFOLLOW, files of the last build not produced again removed, folders
 * left empty removed. See output.c for how a build killed halfway is
 * repaired by the next one. */
#define _GNU_SOURCE
#include "output_impl.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/path.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- The manifest ------------------------------------------------------------- */

/* Digits of an unsigned decimal ending at `stop`; false when malformed. */
static bool parse_u64(const char **p, const char *end, char stop, int base, uint64_t *v)
{
    const char *s = *p;
    *v = 0;
    for (; s < end && *s != stop; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : 99;
        if (d >= base) return false;
        *v = *v * (uint64_t)base + (uint64_t)d;
    }
    if (s == *p || s == end) return false;
    *p = s + 1;
    return true;
}

/* Whether `rel` is a path pub_path_confine leaves as it is: no leading
 * '/', no empty, "." or ".." component. The manifest's paths are removed
 * from DEST later: a hand-edited "../x" must not walk out of it. */
static bool plain_relpath(const char *rel)
{
    for (const char *c = rel;; c++) {
        size_t n = strcspn(c, "/");
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += n;
        if (!*c) return true;
    }
}

/* A missing or damaged manifest is no manifest: commit then walks DEST
 * instead. Lines are
 * "HASH SIZE MTIME_NS PATH\0\n", so any byte but NUL may sit in PATH. */
void pub_out_load_manifest(pub_out *out)
{
    char *data;
    size_t len;
    if (pub_file_read(out->manifest, &data, &len) != 0) return;
    const char *p = data, *end = data + len;
    size_t magic = strlen(MANIFEST_MAGIC);
    bool ok = len >= magic && memcmp(data, MANIFEST_MAGIC, magic) == 0;
    if (ok) p += magic;
    while (ok && p < end) {
        uint64_t hash, size, mtime;
        const char *nul;
        ok = parse_u64(&p, end, ' ', 16, &hash) && parse_u64(&p, end, ' ', 10, &size) &&
             parse_u64(&p, end, ' ', 10, &mtime) && (nul = memchr(p, '\0', (size_t)(end - p))) &&
             nul + 1 < end && nul[1] == '\n';
        if (!ok) break;
        if (!(ok = plain_relpath(p))) break;
        entry *e = pub_out_map_add(&out->paths, p);
        if (e->old) ok = false;
        e->old = true;
        e->old_hash = hash;
        e->old_size = size;
        e->old_mtime = (int64_t)mtime;
        p = nul + 2;
    }
    free(data);
    if (ok) {
        out->had_manifest = true;
    } else {
        pub_out_map_free(&out->paths);
    }
}

/* ---- Commit ------------------------------------------------------------------- */

/* Folders of DEST opened one component at a time with O_NOFOLLOW, keeping
 * the chain of the folder opened last: files come sorted, so neighbours
 * share most of it. */
typedef struct dirstack {
    int root;      /* DEST, not owned */
    char *path;    /* the folder asked for last ("" is DEST) */
    int *fds;      /* fds[i]: open on the first i+1 components of path */
    size_t *ends;  /* ends[i]: where component i ends in path */
    size_t depth, cap;
    size_t removed; /* files removed because they stood in the way */
} dirstack;

static void ds_close(dirstack *ds, size_t keep)
{
    while (ds->depth > keep) close(ds->fds[--ds->depth]);
}

/* Removes DEST entry `name` under `parent`, a whole folder tree included,
 * without following symlinks. Returns how many non-folders went. */
static size_t remove_at(int parent, const char *name)
{
    if (unlinkat(parent, name, 0) == 0) return 1;
    if (errno != EISDIR && errno != EPERM) return 0;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    size_t removed = fd >= 0 ? pub_fs_empty(fd, NULL) : 0;
    unlinkat(parent, name, AT_REMOVEDIR);
    return removed;
}

/* Opens DEST/dir ("" for DEST). With `make`, missing folders are created
 * and whatever else stands in the way (a file, a symlink) is removed: this
 * build needs a folder there. Returns an fd the stack owns, or -1 with
 * errno set. */
static int ds_open(dirstack *ds, const char *dir, bool make)
{
    size_t keep = 0;
    while (keep < ds->depth) {
        size_t end = ds->ends[keep];
        if (strncmp(ds->path, dir, end) != 0 || (dir[end] != '/' && dir[end] != '\0')) break;
        keep++;
    }
    ds_close(ds, keep);
    free(ds->path);
    ds->path = pub_xstrdup(dir);
    size_t pos = keep ? ds->ends[keep - 1] : 0;
    int fd = keep ? ds->fds[keep - 1] : ds->root;
    while (dir[pos]) {
        if (dir[pos] == '/') pos++;
        size_t end = pos;
        while (dir[end] && dir[end] != '/') end++;
        char *name = pub_xstrndup(dir + pos, end - pos);
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && make && (errno == ENOTDIR || errno == ELOOP || errno == ENOENT)) {
            if (errno != ENOENT && unlinkat(fd, name, 0) == 0) ds->removed++;
            if (mkdirat(fd, name, 0777) == 0 || errno == EEXIST)
                next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        free(name);
        if (next < 0) {
            errno = e;
            return -1;
        }
        if (ds->depth == ds->cap) {
            ds->cap = ds->cap ? ds->cap * 2 : 16;
            ds->fds = pub_xrealloc(ds->fds, ds->cap * sizeof *ds->fds);
            ds->ends = pub_xrealloc(ds->ends, ds->cap * sizeof *ds->ends);
        }
        ds->fds[ds->depth] = next;
        ds->ends[ds->depth++] = end;
        fd = next;
        pos = end;
    }
    return fd;
}

static void ds_free(dirstack *ds)
{
    ds_close(ds, 0);
    free(ds->path);
    free(ds->fds);
    free(ds->ends);
}

/* Opens the folder holding `rel`; *base is set to rel's last component. */
static int ds_parent(dirstack *ds, const char *rel, bool make, const char **base)
{
    *base = pub_path_base(rel);
    char *dir = pub_xstrndup(rel, (size_t)(*base - rel - (*base > rel ? 1 : 0)));
    int fd = ds_open(ds, dir, make);
    int e = errno;
    free(dir);
    errno = e;
    return fd;
}

/* Whether the writers found every folder on the way to DEST/file a real
 * folder. */
static bool parents_known_real(const entry *file)
{
    for (const entry *dir = file->parent; dir; dir = dir->parent)
        if (atomic_load(&dir->dest_dir) != DIR_REAL) return false;
    return true;
}

/* Moves one staged file into its place in DEST. Returns 0 or errno. */
static int move_in(pub_out *out, dirstack *ds, entry *file)
{
    char name[32];
    pub_out_staged_name(file, name, sizeof name);
    /* The common case, a changed page in a folder DEST has: one rename
     * (opening each folder on the way costs as much again). */
    if (parents_known_real(file) &&
        renameat(out->staging_fd, name, out->dest_fd, file->rel) == 0)
        return 0;
    const char *base;
    int fd = ds_parent(ds, file->rel, true, &base);
    if (fd < 0) return errno;
    if (renameat(out->staging_fd, name, fd, base) == 0) return 0;
    if (errno != EISDIR && errno != ENOTEMPTY && errno != EEXIST) return errno;
    /* A folder of the last build (or of the user) where this build puts a
     * file: nothing of this build lives in it, since paths are claimed. */
    ds->removed += remove_at(fd, base);
    return renameat(out->staging_fd, name, fd, base) == 0 ? 0 : errno;
}

static void add_dir(char ***dirs, size_t *len, size_t *cap, const char *rel)
{
    if (*len == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *dirs = pub_xrealloc(*dirs, *cap * sizeof **dirs);
    }
    (*dirs)[(*len)++] = pub_xstrdup(rel);
}

bool pub_out_kept_name(const char *name)
{
    return strcmp(name, ".git") == 0 || strcmp(name, ".svn") == 0 || strcmp(name, ".hg") == 0 ||
           strcmp(name, STAGING_INSIDE) == 0;
}

typedef struct foreign {
    size_t count;
    char *first; /* the first path in byte order */
} foreign;

/* Counts a non-folder of DEST and keeps the first path in byte order. */
static void count_file(const char *rel, bool is_dir, void *ctx)
{
    foreign *f = ctx;
    if (is_dir) return;
    f->count++;
    if (!f->first || strcmp(rel, f->first) < 0) {
        free(f->first);
        f->first = pub_xstrdup(rel);
    }
}

pub_diag *pub_out_foreign_files(pub_out *out)
{
    if (out->had_manifest || out->dest_fd < 0) return NULL;
    foreign f = {0, NULL};
    int fd = dup(out->dest_fd);
    if (fd >= 0) pub_fs_walk_fd(fd, pub_out_kept_name, count_file, &f);
    size_t count = f.count;
    char *first = f.first;
    pub_diag *err = NULL;
    if (count == 1)
        err = pub_diag_new(PUB_ERROR, out->dest, 0, 0,
                           "'%s' was not written by publish; empty the folder or pass --clean", first);
    else if (count > 1)
        err = pub_diag_new(PUB_ERROR, out->dest, 0, 0,
                           "'%s' and %zu more file%s not written by publish; empty the folder "
                           "or pass --clean", first, count - 1, count == 2 ? " was" : "s were");
    free(first);
    return err;
}

typedef struct dest_walk {
    pub_out *out;
    char ***dirs;
    size_t *ndirs, *cap;
} dest_walk;

/* --clean: every non-folder in DEST is marked as a file of the last build
 * (so it goes unless this build produces it), and every folder becomes a
 * candidate for removal when empty. Kept names stay. */
static void mark_dest(const char *rel, bool is_dir, void *ctx)
{
    dest_walk *w = ctx;
    if (is_dir) add_dir(w->dirs, w->ndirs, w->cap, rel);
    else pub_out_map_add(&w->out->paths, rel)->old = true;
}

static int cmp_entries(const void *a, const void *b)
{
    return strcmp((*(entry *const *)a)->rel, (*(entry *const *)b)->rel);
}

static int cmp_strings_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

static void put_u64(pub_buf *b, uint64_t v, int base, int width)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % (uint64_t)base];
        v /= (uint64_t)base;
    } while (v || n < width);
    while (n) pub_buf_putc(b, digits[--n]);
}

/* Saves the manifest: this build's files, and with `with_gone` also the last
 * build's files about to be removed (what DEST may hold while commit runs).
 * Written beside and renamed over, so a reader sees one whole manifest. On
 * failure the manifest is removed: the next build then compares bytes. */
void pub_out_save_manifest(pub_out *out, bool with_gone)
{
    pub_buf b = PUB_BUF_INIT;
    pub_buf_puts(&b, MANIFEST_MAGIC);
    for (size_t i = 0; i < out->paths.cap; i++) {
        const entry *e = out->paths.slots[i];
        if (!e) continue;
        bool produced = e->claim == CLAIM_FILE;
        if (!produced && !(with_gone && e->old)) continue;
        put_u64(&b, produced ? e->hash : e->old_hash, 16, 16);
        pub_buf_putc(&b, ' ');
        put_u64(&b, produced ? e->size : e->old_size, 10, 1);
        pub_buf_putc(&b, ' ');
        put_u64(&b, (uint64_t)(produced ? e->mtime : e->old_mtime), 10, 1);
        pub_buf_putc(&b, ' ');
        pub_buf_append(&b, e->rel, strlen(e->rel) + 1);
        pub_buf_putc(&b, '\n');
    }
    /* pub_fs_write_atomic's random name, created exclusively: a symlink
     * planted at a fixed temporary name cannot make us truncate the file
     * it points to. */
    if (pub_fs_write_atomic(out->manifest, b.data, b.len, 0644) != 0) unlink(out->manifest);
    pub_buf_free(&b);
}

/* Whether the manifest on disk already names every path commit is about
 * to change, so that a build killed halfway through the renames is
 * repaired by the next one without saving a manifest first: a file moved
 * in shows an mtime the manifest does not list and is written again, a
 * file not yet removed is listed and goes when not produced. Not so for a
 * file new to DEST (the next build would take it for the user's), nor
 * without a manifest, nor with --clean (its files come from a walk). */
static bool manifest_lists_all(const pub_out *out, entry *const *staged, size_t nstaged)
{
    if (!out->had_manifest || out->clean) return false;
    for (size_t i = 0; i < nstaged; i++)
        if (!staged[i]->old) return false;
    return true;
}

/* Commit over an existing DEST: move staged files in, remove what the last
 * build made and this one did not, save the manifest. */
pub_diag *pub_out_commit_journal(pub_out *out)
{
    char **dirs = NULL;
    size_t ndirs = 0, dirs_cap = 0;
    /* publish removes only files it wrote (the manifest's), unless told
     * to empty DEST. */
    if (out->clean) {
        int fd = dup(out->dest_fd);
        dest_walk w = {out, &dirs, &ndirs, &dirs_cap};
        if (fd >= 0) pub_fs_walk_fd(fd, pub_out_kept_name, mark_dest, &w);
    }
    entry **staged = pub_xmalloc((out->paths.len + 1) * sizeof *staged);
    entry **gone = pub_xmalloc((out->paths.len + 1) * sizeof *gone);
    size_t nstaged = 0, ngone = 0;
    for (size_t i = 0; i < out->paths.cap; i++) {
        entry *e = out->paths.slots[i];
        if (!e) continue;
        if (e->claim == CLAIM_FILE && e->staged) staged[nstaged++] = e;
        if (e->claim == CLAIM_NONE && e->old) gone[ngone++] = e;
    }
    qsort(staged, nstaged, sizeof *staged, cmp_entries);
    qsort(gone, ngone, sizeof *gone, cmp_entries);
    bool dirty = !out->had_manifest || nstaged || ngone || out->by_manifest != out->files;
    if ((nstaged || ngone) && !manifest_lists_all(out, staged, nstaged)) {
        pub_out_save_manifest(out, true);
        pub_out_step("journal: manifest with both builds' files saved");
    }

    pub_diag *err = NULL;
    dirstack ds = {.root = out->dest_fd};
    for (size_t i = 0; i < nstaged && !err; i++) {
        int rc = move_in(out, &ds, staged[i]);
        if (rc) err = pub_out_write_error(out, staged[i]->rel, rc);
        else pub_out_step("journal: moved a file in");
    }
    for (size_t i = 0; i < ngone && !err; i++) {
        const char *base;
        int fd = ds_parent(&ds, gone[i]->rel, false, &base);
        if (fd < 0 || unlinkat(fd, base, 0) != 0) continue;
        pub_out_step("journal: removed a file");
        out->stats.removed++;
        char *dir = pub_xstrdup(gone[i]->rel);
        for (char *s = strrchr(dir, '/'); s; s = strrchr(dir, '/')) {
            *s = '\0';
            add_dir(&dirs, &ndirs, &dirs_cap, dir);
        }
        free(dir);
    }
    out->stats.removed += ds.removed;
    /* Children sort after their parents, so descending order empties a
     * folder before it is tried. */
    if (ndirs) qsort(dirs, ndirs, sizeof *dirs, cmp_strings_desc);
    for (size_t i = 0; i < ndirs && !err; i++) {
        if (i > 0 && strcmp(dirs[i], dirs[i - 1]) == 0) continue;
        entry *e = pub_out_map_get(&out->paths, dirs[i]);
        const char *base;
        int fd = e && e->claim == CLAIM_DIR ? -1 : ds_parent(&ds, dirs[i], false, &base);
        if (fd >= 0) unlinkat(fd, base, AT_REMOVEDIR);
    }
    for (size_t i = 0; i < ndirs; i++) free(dirs[i]);
    free(dirs);
    ds_free(&ds);
    free(staged);
    free(gone);
    pub_out_step("journal: folders removed");
    if (!err && dirty) {
        pub_out_save_manifest(out, false);
        pub_out_step("journal: manifest saved");
    }
    return err;
}
