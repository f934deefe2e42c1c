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
 * The trade-off of moving files one by one instead of swapping whole trees:
 * a build killed during commit may leave DEST with a mix of old and new
 * files, each one whole (rename is atomic). Before it moves anything, commit
 * saves a manifest listing both the new files and the ones it is about to
 * remove, so the next build repairs the mix: a file whose DEST mtime is not
 * what the manifest says is written again, and a listed file not produced
 * is removed. Nothing is fsync'ed: this guards against a killed process, not
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
 * swapped in while the build runs is not guarded against.) */
#define _GNU_SOURCE
#include "output.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/mem.h"
#include "util/path.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CHUNK = 64 * 1024, QUEUE_FILES = 1024 };
#define QUEUE_BYTES ((size_t)64 << 20)
#define MANIFEST_MAGIC "publish-manifest 2\n"


/* ---- Paths known to this build ------------------------------------------------ */

enum { CLAIM_NONE, CLAIM_FILE, CLAIM_DIR };
enum { DIR_UNKNOWN, DIR_REAL, DIR_NOT_REAL };

/* One path: a file of the last build, a file or folder of this one, or both.
 * The map owns entries; their addresses stay put while the map grows, so a
 * writer thread may fill in its own entry's "new" fields without the lock. */
typedef struct entry {
    char *rel;
    unsigned char claim; /* what this build puts here (under the lock) */
    bool old;            /* a file of the last build (manifest, or the walk) */
    bool staged;         /* new bytes wait in staging */
    struct entry *parent; /* the folder holding a claimed path (set at claim) */
    /* CLAIM_DIR: what DEST/rel is and whether it is made in a mirrored
     * staging folder. Writers set these without the lock, since the map
     * may be growing under it; they are caches of what the disk says, so
     * two writers setting one at once agree. */
    _Atomic unsigned char dest_dir, staged_dir;
    uint64_t old_size, old_hash;
    int64_t old_mtime;
    uint64_t size, hash; /* this build's file */
    int64_t mtime;
    size_t id;           /* its name in a flat staging folder */
} entry;

typedef struct entry_map {
    entry **slots;
    size_t cap, len;
} entry_map;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: paths are short */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t map_slot(entry **slots, size_t cap, const char *rel)
{
    size_t mask = cap - 1, i = (size_t)hash_str(rel) & mask;
    while (slots[i] && strcmp(slots[i]->rel, rel) != 0) i = (i + 1) & mask;
    return i;
}

static entry *map_get(const entry_map *map, const char *rel)
{
    return map->cap ? map->slots[map_slot(map->slots, map->cap, rel)] : NULL;
}

/* The entry for `rel`, added (zeroed) when missing. */
static entry *map_add(entry_map *map, const char *rel)
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

static void map_free(entry_map *map)
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

typedef struct job {
    struct job *next;
    entry *file;
    char *bytes;
    size_t len;
} job;

struct pub_out {
    char *dest;       /* as the caller named it, for messages */
    char *target;     /* the folder written (DEST, or where its symlink points) */
    char *staging;    /* TARGET's sibling .BASE.publish-tmp */
    char *manifest;   /* TARGET's sibling .BASE.publish-manifest */
    int staging_fd;   /* open on the staging folder */
    int dest_fd;      /* open on DEST, or -1 when there is none yet */
    bool mirrored;    /* no DEST: staging mirrors the tree and becomes DEST */
    bool had_manifest;
    pthread_mutex_t lock; /* paths (the map and claims), next_id, counts */
    entry_map paths;
    size_t next_id;
    size_t files;       /* files claimed */
    size_t by_manifest; /* unchanged files told by the manifest alone */
    pub_out_stats stats;

    /* The writer pool, all under `qlock` (taken alone, never with `lock`). */
    int jobs, started;
    pthread_t *threads;
    pthread_mutex_t qlock;
    pthread_cond_t has_work, has_room;
    job *head, *tail;
    job *done; /* written jobs, freed by the submitting thread */
    size_t queued_files, queued_bytes;
    int idle_writers, waiting_submitters; /* so nobody is woken for nothing */
    bool closing, dropping;
    pub_diag *failure; /* the first writer error */
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
    pthread_mutex_destroy(&out->qlock);
    pthread_cond_destroy(&out->has_work);
    pthread_cond_destroy(&out->has_room);
    map_free(&out->paths);
    pub_diag_free(out->failure);
    free(out->threads);
    free(out->dest);
    free(out->target);
    free(out->staging);
    free(out->manifest);
    free(out);
}

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

/* Reads the last build's manifest into the map. A missing or damaged one
 * is no manifest: commit then walks DEST instead. Lines are
 * "HASH SIZE MTIME_NS PATH\0\n", so any byte but NUL may sit in PATH. */
static void load_manifest(pub_out *out)
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
        entry *e = map_add(&out->paths, p);
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
        map_free(&out->paths);
    }
}

pub_diag *pub_out_begin_jobs(const char *dest, int jobs, pub_out **result)
{
    *result = NULL;
    char *target = pub_xstrdup(dest);
    struct stat st;
    bool exists = lstat(dest, &st) == 0;
    if (exists && S_ISLNK(st.st_mode)) {
        /* A DEST symlinked elsewhere (another disk, a web root) keeps its
         * link; the folder it points to is what gets written. */
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
    out->manifest = sibling(parent, base, ".publish-manifest");
    out->staging_fd = out->dest_fd = -1;
    out->jobs = jobs;
    pthread_mutex_init(&out->lock, NULL);
    pthread_mutex_init(&out->qlock, NULL);
    pthread_cond_init(&out->has_work, NULL);
    pthread_cond_init(&out->has_room, NULL);
    free(base);

    pub_diag *err = NULL;
    int rc = pub_file_mkdirs(parent);
    if (rc) {
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot create '%s': %s", parent, strerror(rc));
        goto fail;
    }
    rc = pub_file_remove_tree(out->staging);
    if (rc) {
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot remove the stale '%s': %s", out->staging,
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
        load_manifest(out);
    } else {
        out->mirrored = true;
    }
    free(parent);
    *result = out;
    return NULL;
fail:
    free(parent);
    out_free(out);
    return err;
}

pub_diag *pub_out_begin(const char *dest, pub_out **out)
{
    return pub_out_begin_jobs(dest, 1, out);
}

/* ---- Claiming a path ---------------------------------------------------------- */

/* Validates and normalises `relpath` and claims it as a file, its parents as
 * folders. Clashes are found here, in the caller's thread, so they are
 * reported at once and the staging folder never sees them. Returns the
 * file's entry, or NULL with *err set. */
static entry *claim(pub_out *out, const char *relpath, pub_diag **err)
{
    char *rel = pub_path_confine(relpath);
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
        entry *dir = map_get(&out->paths, rel);
        *s = '/';
        if (dir && dir->claim == CLAIM_FILE) problem = "another page wrote a file where a folder goes";
    }
    entry *file = map_get(&out->paths, rel);
    if (!problem && file && file->claim == CLAIM_FILE) problem = "";
    if (!problem && file && file->claim == CLAIM_DIR) problem = "another page needs a folder there";
    if (!problem) {
        entry *parent = NULL;
        for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
            *s = '\0';
            entry *dir = map_add(&out->paths, rel);
            /* Writers may be reading a folder claimed before: only a new
             * one gets its parent set. */
            if (dir->claim != CLAIM_DIR) {
                dir->claim = CLAIM_DIR;
                dir->parent = parent;
            }
            parent = dir;
            *s = '/';
        }
        file = map_add(&out->paths, rel);
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

/* Whether DEST/rel (parents checked) is a regular file holding `bytes`. */
static bool same_as_old(pub_out *out, const char *rel, const char *bytes, size_t len,
                        bool executable, struct stat *st)
{
    /* O_NONBLOCK: a FIFO someone left in DEST must not hang the build. */
    int fd = openat(out->dest_fd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    bool same = fstat(fd, st) == 0 && S_ISREG(st->st_mode) && (uint64_t)st->st_size == len &&
                ((st->st_mode & 0111) != 0) == executable;
    if (same) {
        char *buf = pub_xmalloc(len < CHUNK ? len + 1 : CHUNK);
        size_t done = 0, got;
        /* One byte past the end too: the file may have grown since fstat. */
        while (same) {
            size_t want = len - done < CHUNK ? len - done + 1 : CHUNK;
            if (read_full(fd, buf, want, &got) != 0 || got > len - done ||
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

static void staged_name(const entry *file, char *name, size_t size)
{
    snprintf(name, size, "%zu", file->id);
}

/* Writes the new bytes into staging. Returns 0 or an errno value. */
static int stage(pub_out *out, entry *file, const char *bytes, size_t len, bool executable)
{
    char name[32];
    const char *path = name;
    if (out->mirrored) {
        int rc = make_staging_dir(out, file->parent);
        if (rc) return rc;
        path = file->rel;
    } else {
        staged_name(file, name, sizeof name);
    }
    int fd = openat(out->staging_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    executable ? 0755 : 0644);
    if (fd < 0) return errno;
    struct stat st;
    int rc = write_full(fd, bytes, len);
    if (!rc && fstat(fd, &st) != 0) rc = errno;
    if (close(fd) != 0 && !rc) rc = errno;
    if (!rc) {
        /* rename keeps the mtime, so this is what DEST will show. */
        file->mtime = mtime_ns(&st);
        file->staged = true;
    }
    return rc;
}

enum { WROTE, SAME_BY_MANIFEST, SAME_BY_BYTES };

/* Puts `bytes` at file->rel: nothing to do when DEST already holds them,
 * otherwise a new file in staging. Returns 0 or an errno value; sets *how. */
static int place(pub_out *out, entry *file, const char *bytes, size_t len, bool executable,
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
                mtime_ns(&st) == file->old_mtime && ((st.st_mode & 0111) != 0) == executable) {
                file->mtime = file->old_mtime;
                *how = SAME_BY_MANIFEST;
                return 0;
            }
        } else if (same_as_old(out, file->rel, bytes, len, executable, &st)) {
            file->mtime = mtime_ns(&st);
            *how = SAME_BY_BYTES;
            return 0;
        }
    }
    *how = WROTE;
    return stage(out, file, bytes, len, executable);
}

/* Counts placed files (`counts` indexed by WROTE, SAME_BY_...). */
static void tally(pub_out *out, const size_t counts[3])
{
    pthread_mutex_lock(&out->lock);
    out->stats.written += counts[WROTE];
    out->stats.unchanged += counts[SAME_BY_MANIFEST] + counts[SAME_BY_BYTES];
    out->by_manifest += counts[SAME_BY_MANIFEST];
    pthread_mutex_unlock(&out->lock);
}

static pub_diag *write_error(const char *rel, int rc)
{
    return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot write '%s': %s", rel, strerror(rc));
}

static pub_diag *place_now(pub_out *out, entry *file, const char *bytes, size_t len,
                           bool executable)
{
    int how;
    int rc = place(out, file, bytes, len, executable, &how);
    if (rc) return write_error(file->rel, rc);
    size_t counts[3] = {0};
    counts[how]++;
    tally(out, counts);
    return NULL;
}

pub_diag *pub_out_write(pub_out *out, const char *relpath, const void *bytes, size_t len)
{
    pub_diag *err = NULL;
    entry *file = claim(out, relpath, &err);
    return file ? place_now(out, file, bytes, len, false) : err;
}

pub_diag *pub_out_copy(pub_out *out, const char *relpath, const char *source)
{
    pub_diag *err = NULL;
    entry *file = claim(out, relpath, &err);
    if (!file) return err;
    int fd = open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    int e = fd < 0 || fstat(fd, &st) != 0 ? errno : 0;
    if (!e && !S_ISREG(st.st_mode)) e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    char *bytes = NULL;
    size_t len = 0;
    if (!e) {
        bytes = pub_xmalloc((size_t)st.st_size + 1);
        e = read_full(fd, bytes, (size_t)st.st_size, &len);
    }
    if (fd >= 0) close(fd);
    if (e)
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot read '%s': %s", source, strerror(e));
    else
        err = place_now(out, file, bytes, len, (st.st_mode & 0111) != 0);
    free(bytes);
    return err;
}

/* ---- The writer pool ---------------------------------------------------------- */

enum { BATCH = 64, WAKE_FILES = 64 };
#define WAKE_BYTES ((size_t)1 << 20)

static void *writer_main(void *arg)
{
    pub_out *out = arg;
    job *batch[BATCH];
    pthread_mutex_lock(&out->qlock);
    for (;;) {
        while (!out->head && !out->closing) {
            out->idle_writers++;
            pthread_cond_wait(&out->has_work, &out->qlock);
            out->idle_writers--;
        }
        if (!out->head) break;
        size_t n = 0;
        for (; out->head && n < BATCH; out->head = out->head->next) batch[n++] = out->head;
        if (!out->head) out->tail = NULL;
        /* After a failure or an abort the build is lost: drain, skip I/O. */
        bool skip = out->failure || out->dropping;
        pthread_mutex_unlock(&out->qlock);

        size_t counts[3] = {0}, bytes = 0;
        int rc = 0;
        const entry *failed = NULL;
        for (size_t i = 0; i < n; i++) {
            int how;
            if (!skip && !rc) {
                rc = place(out, batch[i]->file, batch[i]->bytes, batch[i]->len, false, &how);
                if (rc)
                    failed = batch[i]->file;
                else
                    counts[how]++;
            }
            bytes += batch[i]->len;
        }
        tally(out, counts);

        pthread_mutex_lock(&out->qlock);
        /* The pages were malloc'd by the submitting thread: freeing them
         * here would fight it for its malloc arena's lock. */
        for (size_t i = 0; i < n; i++) {
            batch[i]->next = out->done;
            out->done = batch[i];
        }
        out->queued_files -= n;
        out->queued_bytes -= bytes;
        if (out->waiting_submitters) pthread_cond_broadcast(&out->has_room);
        if (rc && !out->failure) out->failure = write_error(failed->rel, rc);
    }
    pthread_mutex_unlock(&out->qlock);
    return NULL;
}

/* Starts the writers on first use; call with qlock held. Returns false
 * when none could start (the caller then writes itself). */
static bool writers_running(pub_out *out)
{
    if (!out->threads && out->jobs > 0) {
        out->threads = pub_xcalloc((size_t)out->jobs, sizeof *out->threads);
        while (out->started < out->jobs &&
               pthread_create(&out->threads[out->started], NULL, writer_main, out) == 0)
            out->started++;
    }
    return out->started > 0;
}

static void free_jobs(job *j)
{
    while (j) {
        job *next = j->next;
        free(j->bytes);
        free(j);
        j = next;
    }
}

/* Lets the writers finish the queue (or, with `drop`, throw it away) and
 * waits for them. */
static void stop_writers(pub_out *out, bool drop)
{
    pthread_mutex_lock(&out->qlock);
    out->closing = true;
    if (drop) out->dropping = true;
    pthread_cond_broadcast(&out->has_work);
    pthread_mutex_unlock(&out->qlock);
    for (int i = 0; i < out->started; i++) pthread_join(out->threads[i], NULL);
    out->started = 0;
    free_jobs(out->done);
    out->done = NULL;
}

pub_diag *pub_out_submit(pub_out *out, const char *relpath, char *bytes, size_t len)
{
    pub_diag *err = NULL;
    entry *file = claim(out, relpath, &err);
    if (!file) {
        free(bytes);
        return err;
    }
    pthread_mutex_lock(&out->qlock);
    if (!writers_running(out)) {
        pthread_mutex_unlock(&out->qlock);
        err = place_now(out, file, bytes, len, false);
        free(bytes);
        pthread_mutex_lock(&out->qlock);
        if (err && !out->failure)
            out->failure = err;
        else
            pub_diag_free(err);
        pthread_mutex_unlock(&out->qlock);
        return NULL;
    }
    /* Bounded, so memory stays flat when pages come faster than disks. */
    while (out->queued_files >= QUEUE_FILES ||
           (out->queued_files > 0 && out->queued_bytes + len > QUEUE_BYTES)) {
        out->waiting_submitters++;
        pthread_cond_wait(&out->has_room, &out->qlock);
        out->waiting_submitters--;
    }
    job *j = pub_xmalloc(sizeof *j);
    *j = (job){NULL, file, bytes, len};
    if (out->tail)
        out->tail->next = j;
    else
        out->head = j;
    out->tail = j;
    out->queued_files++;
    out->queued_bytes += len;
    /* Waking a writer is a futex call that costs as much as a small page's
     * whole write; wake one per batch. Commit wakes them for the rest. */
    if (out->idle_writers && (out->queued_files >= WAKE_FILES || out->queued_bytes >= WAKE_BYTES))
        pthread_cond_signal(&out->has_work);
    job *done = out->done;
    out->done = NULL;
    pthread_mutex_unlock(&out->qlock);
    free_jobs(done);
    return NULL;
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
    size_t removed = 0;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                removed += remove_at(dirfd(dir), e->d_name);
        closedir(dir);
    } else if (fd >= 0) {
        close(fd);
    }
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
    staged_name(file, name, sizeof name);
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

/* The first build over an existing DEST: every non-folder in it is marked
 * as a file of the last build, and every folder becomes a candidate for
 * removal when empty. Takes ownership of `fd`. */
static void walk_dest(pub_out *out, int fd, const char *prefix, char ***dirs, size_t *ndirs,
                      size_t *cap)
{
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *rel = prefix[0] ? pub_path_join(prefix, e->d_name) : pub_xstrdup(e->d_name);
        bool is_dir = e->d_type == DT_DIR;
        struct stat st;
        if (e->d_type == DT_UNKNOWN)
            is_dir = fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISDIR(st.st_mode);
        if (is_dir) {
            add_dir(dirs, ndirs, cap, rel);
            int sub = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) walk_dest(out, sub, rel, dirs, ndirs, cap);
        } else {
            map_add(&out->paths, rel)->old = true;
        }
        free(rel);
    }
    closedir(dir);
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
static void save_manifest(pub_out *out, bool with_gone)
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
    size_t n = strlen(out->manifest) + 5;
    char *tmp = pub_xmalloc(n);
    snprintf(tmp, n, "%s.tmp", out->manifest);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? errno : write_full(fd, b.data, b.len);
    if (fd >= 0 && close(fd) != 0 && !rc) rc = errno;
    if (!rc && rename(tmp, out->manifest) != 0) rc = errno;
    if (rc) {
        unlink(tmp);
        unlink(out->manifest);
    }
    free(tmp);
    pub_buf_free(&b);
}

/* Commit over an existing DEST: move staged files in, remove what the last
 * build made and this one did not, save the manifest. */
static pub_diag *commit_journal(pub_out *out)
{
    char **dirs = NULL;
    size_t ndirs = 0, dirs_cap = 0;
    if (!out->had_manifest) {
        int fd = dup(out->dest_fd);
        if (fd >= 0) walk_dest(out, fd, "", &dirs, &ndirs, &dirs_cap);
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
    if (nstaged || ngone) save_manifest(out, true);

    pub_diag *err = NULL;
    dirstack ds = {.root = out->dest_fd};
    for (size_t i = 0; i < nstaged && !err; i++) {
        int rc = move_in(out, &ds, staged[i]);
        if (rc) err = write_error(staged[i]->rel, rc);
    }
    for (size_t i = 0; i < ngone && !err; i++) {
        const char *base;
        int fd = ds_parent(&ds, gone[i]->rel, false, &base);
        if (fd < 0 || unlinkat(fd, base, 0) != 0) continue;
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
        entry *e = map_get(&out->paths, dirs[i]);
        const char *base;
        int fd = e && e->claim == CLAIM_DIR ? -1 : ds_parent(&ds, dirs[i], false, &base);
        if (fd >= 0) unlinkat(fd, base, AT_REMOVEDIR);
    }
    for (size_t i = 0; i < ndirs; i++) free(dirs[i]);
    free(dirs);
    ds_free(&ds);
    free(staged);
    free(gone);
    if (!err && dirty) save_manifest(out, false);
    return err;
}

pub_diag *pub_out_commit(pub_out *out, pub_out_stats *stats)
{
    stop_writers(out, false);
    pub_diag *err = out->failure;
    out->failure = NULL;
    if (!err && out->mirrored) {
        close(out->staging_fd);
        out->staging_fd = -1;
        if (rename(out->staging, out->target) == 0)
            save_manifest(out, false);
        else
            err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot replace '%s': %s", out->dest,
                               strerror(errno));
    } else if (!err) {
        err = commit_journal(out);
    }
    if (stats) *stats = out->stats;
    pub_file_remove_tree(out->staging);
    out_free(out);
    return err;
}

void pub_out_abort(pub_out *out)
{
    if (!out) return;
    stop_writers(out, true);
    pub_file_remove_tree(out->staging);
    out_free(out);
}
