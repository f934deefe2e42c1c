/* The output transaction. Pages and static files that are new or changed
 * are written into a staging folder beside DEST (`.BASE.publish-tmp`); a
 * file whose bytes DEST already holds is not touched at all, so its inode
 * and mtime stay put and rsync or a browser cache see nothing new. Only
 * when the whole build succeeded does commit move each staged file into
 * DEST with rename(2), then remove the files of the previous build that were
 * not produced again (and the folders that leaves empty). A failed build
 * removes the staging folder and never touches DEST. When DEST does not
 * exist yet, the staging folder mirrors the tree and commit is one rename.
 *
 * "Unchanged" is told by a manifest beside DEST (`.BASE.publish-manifest`,
 * never inside DEST, which gets deployed): for each file of the last
 * successful build its size, mtime and 64-bit hash (util/hash.h). A page is unchanged when
 * the manifest has its path with the same size and hash and an lstat of the
 * DEST file still shows that size and mtime, so a file edited or deleted by
 * hand is written again. Without a manifest entry the old file's bytes are
 * compared. The manifest also says what the last build produced: files added
 * to DEST by hand since then are left alone. With no manifest at all (the
 * first build over an existing DEST) one walk of DEST finds what to remove,
 * and everything the build does not produce goes, as with Jekyll.
 *
 * Commit over an existing DEST has two ways (switch_whole_tree says
 * which). When few files change (a one-post edit), the staged files are
 * renamed into DEST one by one and the last build's files not produced
 * again are removed (output_journal.c): the cost is that of the change,
 * not of the site. When many change (more than one in SWAP_SHARE: a
 * template edit), or with --clean, commit assembles the new tree in the
 * staging folder (unchanged files hard-linked, changed ones moved in,
 * files the user added carried over) and exchanges it with DEST in one
 * renameat2(RENAME_EXCHANGE) (output_swap.c), so readers see the old site
 * or the new one; where that cannot be done (no hard links or exchange
 * across the file systems involved), it goes file by file too. A build
 * killed while files are moved in one by one leaves DEST with a mix of
 * old and new files, each one whole (rename is atomic), which the next
 * build repairs: the manifest on disk names every path the commit
 * touches, each with what the last build left there, or, when a file is
 * new to DEST, commit first saves one listing both builds' files. A file
 * whose DEST mtime is not what the manifest says is then written again
 * (pub_out_keep refuses it too), and a listed file not produced is
 * removed. Nothing is fsync'ed: this guards against a killed process, not
 * a power cut.
 *
 * This module decides where bytes land and that they never land outside
 * DEST; it does not decide what a page's path is (the engine does) nor
 * report errors (it returns them). pub_out_submit hands the I/O to writer
 * threads through a bounded queue; the path bookkeeping is one mutex-guarded
 * map, and no I/O runs under the lock. Before a path-based stat, open or
 * rename under DEST, every folder on the way has been seen to be a real
 * folder (lstat, top down, once per build), or the folders are opened one
 * component at a time with O_NOFOLLOW, so a symlink someone left in DEST
 * cannot make us compare, replace or remove a file outside it. (A symlink
 * swapped in while the build runs is not guarded against.)
 *
 * The staging folder is DEST's sibling, so renames out of it stay on one
 * file system; when DEST is a mount point it is DEST/.publish-tmp instead
 * (skipped by every walk of DEST, like .git), and commit goes file by
 * file.
 *
 * The module is four files: this one (the path claims, placing one file,
 * begin/commit/abort), output_pool.c (the writer threads),
 * output_swap.c (commit by exchange) and output_journal.c (the manifest
 * and commit file by file); their shared state is in output_impl.h. A
 * janitor process (util/janitor.h) removes the staging folder if the build
 * dies before commit. */
#define _GNU_SOURCE
#include "output_impl.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/mem.h"
#include "util/path.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* CHUNK: bytes compared at a time. SWAP_SHARE: commit switches the whole
 * tree when more than one file in SWAP_SHARE changes (switch_whole_tree). */
enum { CHUNK = 64 * 1024, SWAP_SHARE = 4 };

void (*pub_out_step_hook)(const char *step) = NULL;

/* ---- Paths known to this build ------------------------------------------------ */

static size_t map_slot(entry **slots, size_t cap, const char *rel)
{
    size_t mask = cap - 1, i = (size_t)pub_hash(rel, strlen(rel), 0) & mask;
    while (slots[i] && strcmp(slots[i]->rel, rel) != 0) i = (i + 1) & mask;
    return i;
}

entry *pub_out_map_get(const entry_map *map, const char *rel)
{
    return map->cap ? map->slots[map_slot(map->slots, map->cap, rel)] : NULL;
}

/* The entry for `rel`, added (zeroed) when missing. */
entry *pub_out_map_add(entry_map *map, const char *rel)
{
    if ((map->len + 1) * 2 > map->cap) {
        size_t cap = map->cap ? map->cap * 2 : 256;
        entry **slots = pub_xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < map->cap; i++)
            if (map->slots[i]) slots[map_slot(slots, cap, map->slots[i]->rel)] = map->slots[i];
        free(map->slots);
        map->slots = slots;
        map->cap = cap;
    }
    size_t i = map_slot(map->slots, map->cap, rel);
    if (!map->slots[i]) {
        entry *e = pub_xcalloc(1, sizeof *e);
        e->rel = pub_xstrdup(rel);
        map->slots[i] = e;
        map->len++;
    }
    return map->slots[i];
}

void pub_out_map_free(entry_map *map)
{
    for (size_t i = 0; i < map->cap; i++) {
        if (!map->slots[i]) continue;
        free(map->slots[i]->rel);
        free(map->slots[i]);
    }
    free(map->slots);
    memset(map, 0, sizeof *map);
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* ---- The transaction ---------------------------------------------------------- */

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
    pub_janitor_dismiss(&out->janitor);
    if (out->staging_fd >= 0) close(out->staging_fd);
    if (out->dest_fd >= 0) close(out->dest_fd);
    pthread_mutex_destroy(&out->lock);
    pthread_mutex_destroy(&out->qlock);
    pthread_cond_destroy(&out->has_work);
    pthread_cond_destroy(&out->has_room);
    pub_out_map_free(&out->paths);
    pub_diag_free(out->failure);
    free(out->threads);
    free(out->dest);
    free(out->target);
    free(out->staging);
    free(out->manifest);
    free(out);
}

/* The folder DEST names: DEST itself, or where a symlinked DEST points;
 * *target set (caller frees) and *exists whether there is one yet. */
static pub_diag *resolve_target(const char *dest, char **target, bool *exists)
{
    *target = NULL;
    struct stat st;
    *exists = lstat(dest, &st) == 0;
    if (*exists && S_ISLNK(st.st_mode)) {
        /* A DEST symlinked elsewhere (another disk, a web root) keeps its
         * link; the folder it points to is what gets written. */
        char *real = realpath(dest, NULL);
        if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(real);
            return pub_diag_new(PUB_ERROR, NULL, 0, 0, "destination '%s' is not a folder", dest);
        }
        *target = real;
        return NULL;
    }
    if (*exists && !S_ISDIR(st.st_mode))
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "destination '%s' is not a folder", dest);
    *target = pub_xstrdup(dest);
    return NULL;
}

/* A fresh, empty staging folder beside DEST (in `parent`, made when
 * missing), open as out->staging_fd. */
static pub_diag *make_staging(pub_out *out, const char *parent)
{
    int rc = pub_file_mkdirs(parent);
    if (rc) return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot create '%s': %s", parent, strerror(rc));
    rc = pub_file_remove_tree(out->staging);
    if (rc)
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot remove the stale '%s': %s", out->staging,
                            strerror(rc));
    if (mkdir(out->staging, 0777) != 0)
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot create '%s': %s", out->staging,
                            strerror(errno));
    out->staging_fd = open(out->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (out->staging_fd < 0) {
        pub_diag *err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot open '%s': %s", out->staging,
                                     strerror(errno));
        pub_file_remove_tree(out->staging);
        return err;
    }
    return NULL;
}

/* An existing DEST: opened, its manifest loaded, its foreign files
 * refused unless `clean`. */
static pub_diag *open_dest(pub_out *out, const char *dest, bool clean)
{
    out->dest_fd = open(out->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out->dest_fd < 0)
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot open '%s': %s", dest, strerror(errno));
    pub_out_load_manifest(out);
    out->clean = clean;
    return clean ? NULL : pub_out_foreign_files(out);
}

pub_diag *pub_out_begin_jobs(const char *dest, int jobs, bool clean, pub_out **result)
{
    *result = NULL;
    char *target;
    bool exists;
    pub_diag *err = resolve_target(dest, &target, &exists);
    if (err) return err;

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
    struct stat pst, dst;
    if (exists && stat(parent, &pst) == 0 && stat(target, &dst) == 0 && pst.st_dev != dst.st_dev) {
        /* DEST is a mount point: a rename from beside it would cross file
         * systems (EXDEV), so the staging folder goes inside it, under a
         * name every walk of DEST leaves alone (pub_out_kept_name). */
        free(out->staging);
        out->staging = pub_path_join(target, STAGING_INSIDE);
        out->staging_inside = true;
    }
    out->manifest = sibling(parent, base, ".publish-manifest");
    out->staging_fd = out->dest_fd = -1;
    out->janitor.fd = out->janitor.pid = -1;
    out->jobs = jobs;
    pthread_mutex_init(&out->lock, NULL);
    pthread_mutex_init(&out->qlock, NULL);
    pthread_cond_init(&out->has_work, NULL);
    pthread_cond_init(&out->has_room, NULL);
    free(base);

    err = make_staging(out, parent);
    free(parent);
    if (err) {
        out_free(out);
        return err;
    }
    /* A build killed from here on (or ended by os.exit) leaves no staging
     * folder behind: the janitor removes it. */
    pub_janitor_start(&out->janitor, out->staging);
    if (exists) {
        err = open_dest(out, dest, clean);
        if (err) {
            pub_file_remove_tree(out->staging);
            out_free(out);
            return err;
        }
    } else {
        out->mirrored = true;
    }
    *result = out;
    return NULL;
}

pub_diag *pub_out_begin(const char *dest, pub_out **out)
{
    return pub_out_begin_jobs(dest, 1, false, out);
}

/* ---- Claiming a path ---------------------------------------------------------- */

/* Validates and normalises `relpath` and claims it as a file, its parents as
 * folders. Clashes are found here, in the caller's thread, so they are
 * reported at once and the staging folder never sees them. Returns the
 * file's entry, or NULL with *err set. */
entry *pub_out_claim(pub_out *out, const char *relpath, pub_diag **err)
{
    /* The engine's paths are normal already: a copy, not a confinement
     * (claiming 10k kept pages confined each one twice). */
    char *rel = pub_path_is_confined(relpath) ? pub_xstrdup(relpath) : pub_path_confine(relpath);
    if (!rel || !rel[0]) {
        free(rel);
        *err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "output path '%s' is outside the destination",
                            relpath);
        return NULL;
    }
    const char *problem = NULL;
    pthread_mutex_lock(&out->lock);
    for (char *s = strchr(rel, '/'); s && !problem; s = strchr(s + 1, '/')) {
        *s = '\0';
        entry *dir = pub_out_map_get(&out->paths, rel);
        *s = '/';
        if (dir && dir->claim == CLAIM_FILE) problem = "another page wrote a file where a folder goes";
    }
    entry *file = pub_out_map_get(&out->paths, rel);
    if (!problem && file && file->claim == CLAIM_FILE) problem = "";
    if (!problem && file && file->claim == CLAIM_DIR) problem = "another page needs a folder there";
    if (!problem) {
        entry *parent = NULL;
        for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
            *s = '\0';
            entry *dir = pub_out_map_add(&out->paths, rel);
            /* Writers may be reading a folder claimed before: only a new
             * one gets its parent set. */
            if (dir->claim != CLAIM_DIR) {
                dir->claim = CLAIM_DIR;
                dir->parent = parent;
            }
            parent = dir;
            *s = '/';
        }
        file = pub_out_map_add(&out->paths, rel);
        assert(file->claim == CLAIM_NONE); /* the clash checks above */
        file->claim = CLAIM_FILE;
        file->parent = parent;
        file->id = out->next_id++;
        out->files++;
    }
    pthread_mutex_unlock(&out->lock);
    if (problem) {
        *err = problem[0] ? pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot write '%s': %s", rel, problem)
                          : pub_diag_new(PUB_ERROR, NULL, 0, 0, "two pages write '%s'", rel);
        file = NULL;
    }
    free(rel);
    return file;
}

/* ---- Writing one file ------------------------------------------------------- */

/* Whether DEST/dir and every folder above it is a real folder (not a
 * symlink), so a path-based stat or open below it stays inside DEST. Each
 * folder is looked at once per build, top down. */
static bool dest_dir_real(pub_out *out, entry *dir)
{
    if (!dir) return true;
    unsigned char state = atomic_load(&dir->dest_dir);
    if (state != DIR_UNKNOWN) return state == DIR_REAL;
    if (!dest_dir_real(out, dir->parent)) return false;
    struct stat st;
    bool real = fstatat(out->dest_fd, dir->rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    atomic_store(&dir->dest_dir, real ? DIR_REAL : DIR_NOT_REAL);
    return real;
}

/* Makes `dir` and the folders above it in a mirrored staging folder. Two
 * writers may make one at once: EEXIST is fine. Returns 0 or errno. */
static int make_staging_dir(pub_out *out, entry *dir)
{
    if (!dir || atomic_load(&dir->staged_dir)) return 0;
    int rc = make_staging_dir(out, dir->parent);
    if (rc) return rc;
    if (mkdirat(out->staging_fd, dir->rel, 0777) != 0 && errno != EEXIST) return errno;
    atomic_store(&dir->staged_dir, 1);
    return 0;
}

/* Whether a DEST file's permissions stand for `mode`: the same executable
 * bits and nothing more than `mode` grants. */
static bool mode_fits(mode_t have, unsigned mode)
{
    return ((have & 0111) != 0) == ((mode & 0111) != 0) && (have & 0777 & ~(mode_t)mode) == 0;
}

/* Whether DEST/rel (parents checked) is a regular file holding `bytes`. */
static bool same_as_old(pub_out *out, const char *rel, const char *bytes, size_t len,
                        unsigned mode, struct stat *st)
{
    /* O_NONBLOCK: a FIFO someone left in DEST must not hang the build. */
    int fd = openat(out->dest_fd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    bool same = fstat(fd, st) == 0 && S_ISREG(st->st_mode) && (uint64_t)st->st_size == len &&
                mode_fits(st->st_mode, mode);
    if (same) {
        char *buf = pub_xmalloc(len < CHUNK ? len + 1 : CHUNK);
        size_t done = 0, got;
        /* One byte past the end too: the file may have grown since fstat. */
        while (same) {
            size_t want = len - done < CHUNK ? len - done + 1 : CHUNK;
            if (pub_file_read_upto(fd, buf, want, &got) != 0 || got > len - done ||
                memcmp(buf, bytes + done, got) != 0)
                same = false;
            done += got;
            if (got < want) break;
        }
        if (done != len) same = false;
        free(buf);
    }
    close(fd);
    return same;
}

/* Writes the new bytes into staging. Returns 0 or an errno value. */
static int stage(pub_out *out, entry *file, const char *bytes, size_t len, unsigned mode)
{
    char name[32];
    const char *path = name;
    if (out->mirrored) {
        int rc = make_staging_dir(out, file->parent);
        if (rc) return rc;
        path = file->rel;
    } else {
        pub_out_staged_name(file, name, sizeof name);
    }
    int fd = openat(out->staging_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    (mode_t)mode);
    if (fd < 0) return errno;
    struct stat st;
    int rc = pub_file_write_all(fd, bytes, len);
    if (!rc && fstat(fd, &st) != 0) rc = errno;
    if (close(fd) != 0 && !rc) rc = errno;
    if (!rc) {
        /* rename keeps the mtime, so this is what DEST will show. */
        file->mtime = mtime_ns(&st);
        file->staged = true;
    }
    return rc;
}

/* Puts `bytes` at file->rel: nothing to do when DEST already holds them,
 * otherwise a new file in staging. Returns 0 or an errno value; sets *how. */
int pub_out_place(pub_out *out, entry *file, const char *bytes, size_t len, unsigned mode,
                 int *how)
{
    file->size = len;
    file->hash = pub_hash(bytes, len, 0);
    if (out->dest_fd >= 0 && dest_dir_real(out, file->parent)) {
        struct stat st;
        if (file->old) {
            /* Same bytes as last time, and DEST still shows what we left. */
            if (file->old_size == len && file->old_hash == file->hash &&
                fstatat(out->dest_fd, file->rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISREG(st.st_mode) && (uint64_t)st.st_size == len &&
                mtime_ns(&st) == file->old_mtime && mode_fits(st.st_mode, mode)) {
                file->mtime = file->old_mtime;
                *how = SAME_BY_MANIFEST;
                return 0;
            }
        } else if (same_as_old(out, file->rel, bytes, len, mode, &st)) {
            file->mtime = mtime_ns(&st);
            *how = SAME_BY_BYTES;
            return 0;
        }
    }
    *how = WROTE;
    return stage(out, file, bytes, len, mode);
}

void pub_out_tally(pub_out *out, const size_t counts[3])
{
    pthread_mutex_lock(&out->lock);
    out->stats.written += counts[WROTE];
    out->stats.unchanged += counts[SAME_BY_MANIFEST] + counts[SAME_BY_BYTES];
    out->by_manifest += counts[SAME_BY_MANIFEST];
    pthread_mutex_unlock(&out->lock);
}

pub_diag *pub_out_write_error(const pub_out *out, const char *rel, int rc)
{
    /* At the file it could not write (under DEST as the user named it), so
     * "No space left on device" says where. */
    char *path = pub_path_join(out->dest, rel);
    pub_diag *d = pub_diag_new(PUB_ERROR, path, 0, 0, "cannot write: %s", strerror(rc));
    free(path);
    return d;
}

pub_diag *pub_out_place_now(pub_out *out, entry *file, const char *bytes, size_t len,
                           unsigned mode)
{
    assert(file->claim == CLAIM_FILE); /* claimed by this build, not given back */
    int how;
    int rc = pub_out_place(out, file, bytes, len, mode, &how);
    if (rc) return pub_out_write_error(out, file->rel, rc);
    size_t counts[3] = {0};
    counts[how]++;
    pub_out_tally(out, counts);
    return NULL;
}

pub_diag *pub_out_write(pub_out *out, const char *relpath, const void *bytes, size_t len)
{
    pub_diag *err = NULL;
    entry *file = pub_out_claim(out, relpath, &err);
    return file ? pub_out_place_now(out, file, bytes, len, PUB_OUT_PAGE_MODE) : err;
}

bool pub_out_may_keep(pub_out *out, const char *relpath, uint64_t hash)
{
    if (out->dest_fd < 0) return false;
    bool normal = pub_path_is_confined(relpath);
    char *own = normal ? NULL : pub_path_confine(relpath);
    const char *rel = normal ? relpath : own;
    pthread_mutex_lock(&out->lock);
    entry *old = rel && rel[0] ? pub_out_map_get(&out->paths, rel) : NULL;
    bool known = old && old->old && old->claim == CLAIM_NONE && old->old_hash == hash;
    pthread_mutex_unlock(&out->lock);
    free(own);
    return known;
}

bool pub_out_keep(pub_out *out, const char *relpath, uint64_t hash)
{
    if (!pub_out_may_keep(out, relpath, hash)) return false;
    pub_diag *err = NULL;
    entry *file = pub_out_claim(out, relpath, &err);
    if (!file) {
        pub_diag_free(err);
        return false;
    }
    struct stat st;
    if (dest_dir_real(out, file->parent) &&
        fstatat(out->dest_fd, file->rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size == file->old_size && mtime_ns(&st) == file->old_mtime &&
        mode_fits(st.st_mode, PUB_OUT_PAGE_MODE)) {
        file->size = file->old_size;
        file->hash = file->old_hash;
        file->mtime = file->old_mtime;
        size_t counts[3] = {0};
        counts[SAME_BY_MANIFEST]++;
        pub_out_tally(out, counts);
        return true;
    }
    /* DEST no longer shows it: the page renders and claims it again. */
    pthread_mutex_lock(&out->lock);
    assert(file->claim == CLAIM_FILE);
    file->claim = CLAIM_NONE;
    out->files--;
    pthread_mutex_unlock(&out->lock);
    return false;
}

pub_diag *pub_out_copy(pub_out *out, const char *relpath, const char *source)
{
    pub_diag *err = NULL;
    entry *file = pub_out_claim(out, relpath, &err);
    if (!file) return err;
    int fd = open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    int e = fd < 0 || fstat(fd, &st) != 0 ? errno : 0;
    if (!e && !S_ISREG(st.st_mode)) e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    char *bytes = NULL;
    size_t len = 0;
    if (!e) {
        bytes = pub_xmalloc((size_t)st.st_size + 1);
        e = pub_file_read_upto(fd, bytes, (size_t)st.st_size, &len);
    }
    if (fd >= 0) close(fd);
    if (e)
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot read '%s': %s", source, strerror(e));
    else
        /* No more permission than the source had, and never more than
         * 0644 (0755 for an executable): a copy must not widen access. */
        err = pub_out_place_now(out, file, bytes, len,
                                (unsigned)st.st_mode & ((st.st_mode & 0111) ? 0755u : 0644u));
    free(bytes);
    return err;
}

/* Whether commit over an existing DEST assembles and switches in a whole
 * new tree rather than moving the changed files in one by one. The switch
 * costs a hard link and an unlink per file of the site, changed or not
 * (0.3 s at 10k pages); the journal costs one rename per changed file.
 * What the switch buys is that a reader of DEST (a web server) never sees
 * old and new pages side by side. That matters when much changes (a
 * template edit: every page, for as long as thousands of renames take)
 * and is worth paying for then, when the build itself was long; a
 * one-post edit changes a handful of files in microseconds. --clean
 * switches too: it is asked for rarely and walks DEST anyway. */
static bool switch_whole_tree(const pub_out *out)
{
    if (out->staging_inside) return false; /* DEST cannot be exchanged with its own child */
    if (out->clean) return true;
    size_t changed = 0, total = 0;
    for (size_t i = 0; i < out->paths.cap; i++) {
        const entry *e = out->paths.slots[i];
        if (!e || (e->claim != CLAIM_FILE && !e->old)) continue;
        total++;
        if (e->claim == CLAIM_FILE ? e->staged : true) changed++;
    }
    return changed * SWAP_SHARE > total;
}

pub_diag *pub_out_commit(pub_out *out, pub_out_stats *stats)
{
    pub_out_stop_writers(out, false);
    pub_diag *err = out->failure;
    out->failure = NULL;
    if (!err && out->mirrored) {
        close(out->staging_fd);
        out->staging_fd = -1;
        if (rename(out->staging, out->target) == 0)
            pub_out_save_manifest(out, false);
        else
            err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot replace '%s': %s", out->dest,
                               strerror(errno));
    } else if (!err) {
        /* A few changed files are moved in one by one; a build that
         * changes much (or --clean) switches the whole tree where the file
         * system allows it, and goes file by file where it does not. */
        if (!switch_whole_tree(out) || pub_out_commit_swap(out) != 0)
            err = pub_out_commit_journal(out);
    }
    pub_out_step("commit: done");
    if (stats) *stats = out->stats;
    pub_file_remove_tree(out->staging);
    out_free(out);
    return err;
}

void pub_out_abort(pub_out *out)
{
    if (!out) return;
    pub_out_stop_writers(out, true);
    pub_file_remove_tree(out->staging);
    out_free(out);
}
