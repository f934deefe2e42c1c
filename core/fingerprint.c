/* The build fingerprint and the engine's identity (the contract is in
 * fingerprint.h). It reads file contents only for racy files; it does not
 * store the fingerprint (cache.c does) nor decide to skip a build (build.c). */
#define _GNU_SOURCE
#include "fingerprint.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/mem.h"
#include <cmark-gfm.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Engine identity --------------------------------------------------------------- */

/* A rebuilt publish, whose embedded plugins may have changed, never trusts
 * what an older one stored. */
static struct {
    uint64_t id;
    bool known;
} engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void engine_init(void)
{
    const char *cm = cmark_version_string();
    uint64_t h = pub_hash(PUB_VERSION, strlen(PUB_VERSION), 0x7075626c697368ull);
    h = pub_hash(cm, strlen(cm), h);
    struct stat st;
    if (stat("/proc/self/exe", &st) == 0) {
        uint64_t v[5] = {(uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
                         (uint64_t)st.st_mtim.tv_nsec, (uint64_t)st.st_ino, (uint64_t)st.st_dev};
        engine.id = pub_hash(v, sizeof v, h);
        engine.known = true;
    } else {
        /* Unknown binary: an id no other run shares, so nothing is reused. */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        uint64_t v[3] = {(uint64_t)t.tv_sec, (uint64_t)t.tv_nsec, (uint64_t)getpid()};
        engine.id = pub_hash(v, sizeof v, h);
        engine.known = false;
    }
}

uint64_t pub_fingerprint_engine_id(bool *known)
{
    pthread_once(&engine_once, engine_init);
    if (known) *known = engine.known;
    return engine.id;
}

/* ---- Fingerprint --------------------------------------------------------------------- */

void pub_fingerprint_init(pub_fingerprint *fp)
{
    bool known;
    memset(fp, 0, sizeof *fp);
    fp->hash = pub_fingerprint_engine_id(&known);
    fp->unusable = !known;
}

void pub_fingerprint_free(pub_fingerprint *fp)
{
    if (!fp) return;
    for (size_t i = 0; i < fp->nfiles; i++) {
        free(fp->files[i].rel);
        free(fp->files[i].path);
    }
    free(fp->files);
    fp->files = NULL;
    fp->nfiles = fp->cap = 0;
}

void pub_fingerprint_add_bytes(pub_fingerprint *fp, const void *bytes, size_t len)
{
    /* Chained through the seed; the length is part of each hash, so parts
     * cannot run into each other ("ab"+"c" is not "a"+"bc"). */
    fp->hash = pub_hash(bytes, len, fp->hash);
}

void pub_fingerprint_add_str(pub_fingerprint *fp, const char *s)
{
    if (s) {
        pub_fingerprint_add_bytes(fp, s, strlen(s));
    } else {
        fp->hash = pub_hash("\0null", 5, ~fp->hash); /* not any string's hash */
    }
}

void pub_fingerprint_add_int(pub_fingerprint *fp, long long v)
{
    unsigned char b[8];
    pub_hash_put_le64(b, (uint64_t)v);
    pub_fingerprint_add_bytes(fp, b, sizeof b);
}

void pub_fingerprint_add_file(pub_fingerprint *fp, const char *rel, const char *path,
                              const struct stat *st)
{
    if (fp->nfiles == fp->cap) {
        fp->cap = fp->cap ? fp->cap * 2 : 256;
        fp->files = pub_xrealloc(fp->files, fp->cap * sizeof *fp->files);
    }
    pub_fingerprint_file *f = &fp->files[fp->nfiles++];
    f->rel = pub_xstrdup(rel);
    f->path = pub_xstrdup(path);
    uint64_t v[7] = {(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec,
                     (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ctim.tv_sec,
                     (uint64_t)st->st_ctim.tv_nsec, (uint64_t)st->st_ino, (uint64_t)st->st_mode};
    memcpy(f->stat, v, sizeof v);
}

long long pub_fingerprint_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* File times come from a coarse clock (a jiffy; a whole second on some
 * file systems): an edit in the same tick as the last one keeps the times,
 * so a file that new cannot vouch for its contents by its times. */
bool pub_fingerprint_is_racy(const uint64_t stat[7], long long since_ns)
{
    long long m = (long long)stat[1] * 1000000000 + (long long)stat[2];
    long long c = (long long)stat[3] * 1000000000 + (long long)stat[4];
    long long window = stat[2] == 0 || stat[4] == 0 ? 2000000000LL : 50000000LL;
    return m > since_ns - window || c > since_ns - window;
}

static bool is_racy(const pub_fingerprint_file *f, long long since_ns)
{
    return pub_fingerprint_is_racy(f->stat, since_ns);
}

/* Adds one file's part: its name, then either its stat or (racy) its size,
 * mode and a hash of its contents. False when a racy file cannot be read. */
static bool add_file_part(uint64_t *hash, const pub_fingerprint_file *f, long long since_ns)
{
    *hash = pub_hash(f->rel, strlen(f->rel), *hash);
    unsigned char b[8 * 7];
    if (!is_racy(f, since_ns)) {
        for (size_t i = 0; i < 7; i++) pub_hash_put_le64(b + 8 * i, f->stat[i]);
        *hash = pub_hash(b, sizeof b, *hash);
        return true;
    }
    char *data = NULL;
    size_t len = 0;
    if (pub_file_read(f->path, &data, &len) != 0) return false;
    pub_hash_put_le64(b, (uint64_t)len);
    pub_hash_put_le64(b + 8, f->stat[6]);
    pub_hash_put_le64(b + 16, pub_hash(data, len, 0x72616379ull)); /* "racy" */
    free(data);
    *hash = pub_hash(b, 24, ~*hash); /* never equal to a stat part */
    return true;
}

enum { MAX_TREE_DEPTH = 64 };

typedef struct tree_walk {
    pub_fingerprint *fp;
    const char *src;
    const struct stat *skip; /* DEST inside SRC: output, not input */
} tree_walk;

static pub_fs_step add_entry(const pub_fs_entry *e, void *ctx)
{
    tree_walk *t = ctx;
    if (e->name[0] == '.') return PUB_FS_NEXT;
    const struct stat *st = e->st;
    if (!st) {
        t->fp->unusable = true; /* gone while we looked: something is changing */
        return PUB_FS_NEXT;
    }
    if (S_ISDIR(st->st_mode)) {
        if (t->skip && st->st_dev == t->skip->st_dev && st->st_ino == t->skip->st_ino)
            return PUB_FS_NEXT;
        if (e->depth >= MAX_TREE_DEPTH) {
            t->fp->unusable = true;
            return PUB_FS_NEXT;
        }
        return PUB_FS_ENTER;
    }
    pub_buf path = PUB_BUF_INIT;
    pub_buf_puts(&path, t->src);
    pub_buf_putc(&path, '/');
    pub_buf_puts(&path, e->rel);
    pub_fingerprint_add_file(t->fp, e->rel, pub_buf_cstr(&path), st);
    struct stat target;
    if (S_ISLNK(st->st_mode) && fstatat(e->dirfd, e->name, &target, 0) == 0 && S_ISREG(target.st_mode))
        pub_fingerprint_add_file(t->fp, e->rel, pub_buf_cstr(&path), &target);
    pub_buf_free(&path);
    return PUB_FS_NEXT;
}

static void walk_failed(const char *rel, int err, void *ctx)
{
    (void)rel;
    (void)err;
    ((tree_walk *)ctx)->fp->unusable = true;
}

void pub_fingerprint_add_tree(pub_fingerprint *fp, const char *src, const char *skip)
{
    struct stat skip_st;
    bool have_skip = skip && stat(skip, &skip_st) == 0;
    tree_walk t = {fp, src, have_skip ? &skip_st : NULL};
    pub_fs_walk_options o = {.sorted = true, .stat = true, .visit = add_entry, .fail = walk_failed,
                             .ctx = &t};
    pub_fs_walk(open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC), &o);
}

uint64_t pub_fingerprint_final(const pub_fingerprint *fp, long long since_ns)
{
    if (fp->unusable) return 0;
    uint64_t hash = fp->hash;
    for (size_t i = 0; i < fp->nfiles; i++)
        if (!add_file_part(&hash, &fp->files[i], since_ns)) return 0;
    return hash ? hash : 1;
}
