/* The page records of incremental builds (see deps.h). The file:
 *   "publish-pages 2\n", then per page
 *   u32 path length, path, NUL, u32 record length, record   (little-endian)
 * It is mapped, not read (9 MB at 10k pages, 90 MB at 100k): the NUL after
 * each path lets the last build's records point into the mapping as it
 * is. A save writes a new file and renames it over (never in place), so a
 * mapping of the old one stays whole. This module neither reads nor
 * judges a record's text: that is core/lua/deps.lua's.
 *
 * This build's records are held in a content store (content.h), not one
 * allocation each: at 100k pages they are ~90 MB the parent would hold
 * until the commit, on top of its Lua heap; past a few MB they go to the
 * store's unlinked temporary file. The save streams them out through a
 * small buffer for the same reason. */
#define _GNU_SOURCE
#include "deps.h"
#include "content.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/path.h"
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEPS_MAGIC "publish-pages 2\n"

typedef struct record {
    char *output;
    const char *text; /* a last build's record carried over: points into `old` */
    pub_content_ref stored; /* else this build's, in `texts` */
    size_t len;
    bool borrowed; /* `text` and `output` point into `old` */
} record;

/* Bytes of this build's records kept in memory before the store writes
 * to its file. */
#define RECORDS_MEMORY ((size_t)4 << 20)

struct pub_deps {
    char *dir;      /* SRC/.publish-cache */
    char *file;     /* its "pages" */
    char *old;      /* the file's bytes: the last build's records point in */
    size_t old_len;
    bool mapped;    /* `old` is a mapping (else read into memory) */
    record *last;   /* output and text borrowed from `old` (text not NUL-ended) */
    size_t nlast;
    pthread_mutex_t lock;
    record *now;    /* this build's, owned */
    size_t nnow, cap;
    pub_content *texts; /* this build's record texts (`stored`) */
};

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Splits the file into records; false when it is not sound (then none). */
static bool parse(pub_deps *d, size_t len)
{
    size_t magic = strlen(DEPS_MAGIC);
    if (len < magic || memcmp(d->old, DEPS_MAGIC, magic) != 0) return false;
    size_t at = magic, cap = 0;
    const unsigned char *p = (const unsigned char *)d->old;
    while (at < len) {
        if (len - at < 4) return false;
        uint32_t plen = pub_hash_get_le32(p + at);
        if (plen == 0 || len - at - 4 < (size_t)plen + 5) return false;
        char *output = d->old + at + 4;
        if (output[plen] != '\0' || memchr(output, '\0', plen)) return false;
        uint32_t tlen = pub_hash_get_le32(p + at + 5 + plen);
        size_t text_at = at + 9 + plen;
        if (len - text_at < tlen) return false;
        if (d->nlast == cap) {
            cap = cap ? cap * 2 : 256;
            d->last = pub_xrealloc(d->last, cap * sizeof *d->last);
        }
        d->last[d->nlast++] = (record){output, d->old + text_at, {NULL, 0, 0}, tlen, true};
        at = text_at + tlen;
    }
    return true;
}

static int by_output(const void *a, const void *b)
{
    return strcmp(((const record *)a)->output, ((const record *)b)->output);
}

/* Whether the records are in output order, as pub_deps_save writes
 * them (pub_deps_find searches by halves). */
static bool sorted(const pub_deps *d)
{
    for (size_t i = 1; i < d->nlast; i++)
        if (strcmp(d->last[i - 1].output, d->last[i].output) >= 0) return false;
    return true;
}

/* Whether the cache folder is a real folder or absent: a planted symlink
 * is neither read nor written through (the build cache says so). */
static bool dir_ok(const pub_deps *d)
{
    struct stat st;
    return lstat(d->dir, &st) != 0 ? errno == ENOENT : S_ISDIR(st.st_mode);
}

/* The file's bytes into d->old: mapped, or read when it cannot be. */
static bool load(pub_deps *d)
{
    int fd = open(d->file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return false;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
        close(fd);
        d->old = map;
        d->old_len = len;
        d->mapped = true;
        return true;
    }
    return pub_file_read_fd(fd, &d->old, &d->old_len) == 0;
}

pub_deps *pub_deps_open(const char *src)
{
    pub_deps *d = pub_xcalloc(1, sizeof *d);
    d->dir = pub_path_join(src, ".publish-cache");
    d->file = pub_path_join(d->dir, "pages");
    d->texts = pub_content_new(RECORDS_MEMORY);
    pthread_mutex_init(&d->lock, NULL);
    if (dir_ok(d) && load(d) && (!parse(d, d->old_len) || !sorted(d))) {
        free(d->last);
        d->last = NULL;
        d->nlast = 0;
    }
    return d;
}

size_t pub_deps_count(const pub_deps *d) { return d ? d->nlast : 0; }

void pub_deps_get(const pub_deps *d, size_t i, const char **output, const char **text, size_t *len)
{
    *output = d->last[i].output;
    *text = d->last[i].text;
    *len = d->last[i].len;
}

long pub_deps_find(const pub_deps *d, const char *output)
{
    size_t lo = 0, hi = d ? d->nlast : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(d->last[mid].output, output);
        if (c == 0) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static void add(pub_deps *d, record r)
{
    pthread_mutex_lock(&d->lock);
    if (d->nnow == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->now = pub_xrealloc(d->now, d->cap * sizeof *d->now);
    }
    d->now[d->nnow++] = r;
    pthread_mutex_unlock(&d->lock);
}

void pub_deps_put(pub_deps *d, const char *output, const char *text, size_t len)
{
    pub_content_ref ref = pub_content_add(d->texts, text, len);
    add(d, (record){pub_xstrdup(output), NULL, ref, len, false});
}

void pub_deps_carry(pub_deps *d, size_t i)
{
    add(d, d->last[i]);
}

/* Writes the records, sorted, to `fd` through a buffer of its own. */
typedef struct saving {
    pub_deps *d;
    char *buf;
    size_t used, size;
} saving;

static int flush(int fd, saving *s)
{
    int rc = pub_file_write_all(fd, s->buf, s->used);
    s->used = 0;
    return rc;
}

/* Room for `n` more bytes in the buffer (a record larger than the buffer
 * grows it). */
static int room(int fd, saving *s, size_t n)
{
    if (s->size - s->used >= n) return 0;
    int rc = flush(fd, s);
    if (rc == 0 && n > s->size) {
        s->size = n;
        s->buf = pub_xrealloc(s->buf, n);
    }
    return rc;
}

static int write_records(int fd, void *ctx)
{
    saving *s = ctx;
    pub_deps *d = s->d;
    size_t magic = strlen(DEPS_MAGIC);
    memcpy(s->buf, DEPS_MAGIC, magic);
    s->used = magic;
    for (size_t i = 0; i < d->nnow; i++) {
        const record *r = &d->now[i];
        size_t plen = strlen(r->output);
        int rc = room(fd, s, 9 + plen + r->len);
        if (rc) return rc;
        char *p = s->buf + s->used;
        put_u32((unsigned char *)p, (uint32_t)plen);
        memcpy(p + 4, r->output, plen + 1); /* with its NUL */
        put_u32((unsigned char *)p + 5 + plen, (uint32_t)r->len);
        p += 9 + plen;
        if (r->borrowed) memcpy(p, r->text, r->len);
        else if ((rc = pub_content_read(d->texts, &r->stored, p, r->len)) != 0) return rc;
        s->used += 9 + plen + r->len;
    }
    return flush(fd, s);
}

pub_diag *pub_deps_save(pub_deps *d)
{
    if (!dir_ok(d)) return NULL;
    if (d->nnow) qsort(d->now, d->nnow, sizeof *d->now, by_output);
    saving s = {d, pub_xmalloc(1 << 20), 0, 1 << 20};
    int rc = pub_file_mkdirs(d->dir);
    if (rc == 0) rc = pub_fs_write_atomic_with(d->file, 0644, write_records, &s);
    free(s.buf);
    if (rc == 0) return NULL;
    return pub_diag_new(PUB_WARNING, d->file, 0, 0, "cannot save the page records: %s", strerror(rc));
}

void pub_deps_free(pub_deps *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->nnow; i++) {
        if (!d->now[i].borrowed) free(d->now[i].output);
    }
    pub_content_free(d->texts);
    free(d->now);
    free(d->last);
    if (d->mapped) munmap(d->old, d->old_len);
    else free(d->old);
    free(d->dir);
    free(d->file);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
