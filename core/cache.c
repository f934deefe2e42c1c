/* The build cache file (the contract is in cache.h).
 *
 * File layout, all integers little-endian:
 *   header (80 bytes): "PUBCACHE", u32 format version, u32 zero,
 *     u64 fingerprint, i64 valid_until, u64 flags (bit 0: fingerprint set),
 *     u64 entry count, u64 index offset, u64 hash of the index,
 *     i64 the fingerprint's moment (ns), u64 hash of the 72 bytes before it
 *   the HTML blobs, back to back
 *   the index: per entry u64 key, u64 offset, u64 length, u64 hash of the blob
 * The header names the index in force; the file may go on after it. Puts
 * stream blobs into a temporary file while the build runs. A save then
 * either appends (the usual case: a few posts changed) or rewrites:
 *
 * - Append: the new blobs, then the new index, are written after the end
 *   of the index in force, then the header is written over the old one
 *   in place. Bytes before that end never change, so a process that
 *   loaded the file earlier (serve, a build running alongside) still
 *   reads its blobs right, and a save killed before the header leaves
 *   the last one in force (what it wrote after is garbage the next save
 *   writes over). At 10k posts this writes ~1 MB (the index) where a
 *   rewrite copied 58 MB.
 * - Rewrite (compaction): the kept old blobs, the index and the header go
 *   to the temporary file, which is renamed over the file. When there is
 *   no file yet, when most bytes are new, and when the garbage (blobs no
 *   index names, old indexes) would pass the live bytes.
 *
 * Saves take an exclusive flock on the file in force (and check that the
 * name still leads to it: a rewrite may have replaced it meanwhile);
 * loading takes a shared one while it reads the header and index, so it
 * never sees a header being written. Neither waits for a lock longer
 * than LOCK_WAIT_MS (a process stopped with Ctrl-Z in the middle of a
 * save must not stall every later build): past that a load reads without
 * it (the hashes still catch a torn header) and a save rewrites, which
 * needs no lock (the rename is atomic; an append in flight to the old
 * file is lost with it). Blobs are checked against their hash
 * when read, so opening never touches them.
 *
 * No save calls fsync: it is a cache. After a power cut a header may
 * outlive the index it names; the index hash then fails and the cache
 * loads empty (the next build renders everything), never wrong HTML.
 *
 * This module does not render Markdown or decide when a build may be
 * skipped: build.c asks, and does. */
#define _GNU_SOURCE
#include "cache.h"
#include "fingerprint.h"
#include "util/hash.h"
#include "markdown.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/path.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_DIR ".publish-cache"
#define CACHE_FILE "build.cache"
#define CACHE_MAGIC "PUBCACHE"
/* Bump when the file layout, pub_hash or what a key covers changes
 * (3: the file may go on after the index; saves append). */
#define CACHE_VERSION 3
#define HEADER_SIZE 80
#define INDEX_ENTRY 32
/* A temporary file this old was left by a killed build. */
#define STALE_TEMP_SECONDS 3600

void (*pub_cache_step_hook)(const char *step) = NULL;

static void step(const char *name)
{
    if (pub_cache_step_hook) pub_cache_step_hook(name);
}

/* How long a load or a save waits for the file's lock (see the top). */
#define LOCK_WAIT_MS 1000

/* Takes flock `op` on `fd` within LOCK_WAIT_MS; false when it cannot. */
static bool lock_within(int fd, int op)
{
    for (int waited = 0;; waited += 5) {
        if (flock(fd, op | LOCK_NB) == 0) return true;
        if (errno != EWOULDBLOCK && errno != EINTR) return false;
        if (waited >= LOCK_WAIT_MS) return false;
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    }
}

/* Little-endian loads of `n` (1..8) bytes, whatever the host order (the
 * cache file's layout). */

uint64_t pub_cache_md_key(const void *body, size_t len, const pub_md_options *opts)
{
    unsigned char flags[16] = "md-cache:";
    flags[9] = (unsigned char)('0' + opts->unsafe);
    flags[10] = (unsigned char)('0' + opts->smart);
    flags[11] = (unsigned char)('0' + opts->hardbreaks);
    flags[12] = (unsigned char)(opts->extensions & 0xff);
    flags[13] = (unsigned char)(opts->extensions >> 8 & 0xff);
    uint64_t seed = pub_hash(flags, 14, pub_fingerprint_engine_id(NULL));
    return pub_hash(body, len, seed);
}

/* ---- I/O helpers ------------------------------------------------------------------ */

/* Copies `len` bytes between files, in the kernel where it can. */
static bool copy_range(int from, uint64_t from_off, int to, uint64_t to_off, uint64_t len)
{
    while (len > 0) {
        loff_t in = (loff_t)from_off, out = (loff_t)to_off;
        ssize_t n = copy_file_range(from, &in, to, &out, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        from_off += (uint64_t)n;
        to_off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    char buf[65536];
    while (len > 0) {
        size_t n = len < sizeof buf ? (size_t)len : sizeof buf;
        if (pub_file_pread_all(from, buf, n, from_off) || pub_file_pwrite_all(to, buf, n, to_off)) return false;
        from_off += n;
        to_off += n;
        len -= n;
    }
    return true;
}

/* ---- The cache ------------------------------------------------------------------------ */

typedef struct entry {
    uint64_t key, offset, len, hash;
    bool fresh; /* the blob is in the new (temporary) file: put by this build */
    bool used;  /* got or put by this build */
    bool bad;   /* its blob did not match its hash */
    bool checked; /* its blob was read and matched its hash */
} entry;

struct pub_cache {
    char *dir, *path;
    int old_fd;            /* the file loaded; -1 when none */
    uint64_t old_end;      /* where its index in force ends */
    uint64_t old_count, old_index_off, old_index_hash; /* that index, as its header says */
    entry *entries;        /* [0, loaded) from the file, then puts */
    size_t len, cap, loaded;
    size_t *slots;         /* open addressing: entry index + 1, 0 when empty */
    size_t nslots;         /* a power of two, at least twice len */
    bool any_used;
    bool has_fp, old_has_fp;
    uint64_t fp, old_fp;
    long long valid_until, old_valid_until;
    long long since, old_since;  /* the moment each fingerprint was taken */
    char *tmp_path;        /* the next file, created by the first put or the save */
    int tmp_fd;
    uint64_t tmp_end;
    int write_errno;       /* first failure to write the next file */
    bool saved;
    bool made_dir;         /* the cache folder is this run's: gone again unless saved */
    bool path_written;     /* the save renamed the next file into place */
    pthread_mutex_t lock;
};

static entry *find(pub_cache *c, uint64_t key)
{
    for (size_t i = (size_t)key & (c->nslots - 1);; i = (i + 1) & (c->nslots - 1)) {
        size_t s = c->slots[i];
        if (s == 0) return NULL;
        if (c->entries[s - 1].key == key) return &c->entries[s - 1];
    }
}

static void place(pub_cache *c, size_t index)
{
    size_t i = (size_t)c->entries[index].key & (c->nslots - 1);
    while (c->slots[i]) i = (i + 1) & (c->nslots - 1);
    c->slots[i] = index + 1;
}

/* Makes room for `n` entries in all. */
static void reserve(pub_cache *c, size_t n)
{
    if (n * 2 > c->nslots) {
        size_t slots = c->nslots;
        while (n * 2 > slots) slots *= 2;
        free(c->slots);
        c->nslots = slots;
        c->slots = pub_xcalloc(c->nslots, sizeof *c->slots);
        for (size_t i = 0; i < c->len; i++) place(c, i);
    }
    if (n > c->cap) {
        c->cap = n > c->cap * 2 ? n : c->cap * 2;
        c->entries = pub_xrealloc(c->entries, c->cap * sizeof *c->entries);
    }
}

static entry *add_entry(pub_cache *c, const entry *e)
{
    reserve(c, c->len + 1);
    c->entries[c->len] = *e;
    place(c, c->len);
    return &c->entries[c->len++];
}

/* The index a header names, when the header is sound and the index lies
 * within `size` bytes: its offset, entry count and end. */
static bool header_index(const unsigned char *h, uint64_t size, uint64_t *off, uint64_t *count,
                         uint64_t *end)
{
    *count = pub_hash_get_le64(h + 40);
    *off = pub_hash_get_le64(h + 48);
    if (memcmp(h, CACHE_MAGIC, 8) != 0 || pub_hash_get_le32(h + 8) != CACHE_VERSION ||
        pub_hash_get_le64(h + 72) != pub_hash(h, 72, CACHE_VERSION) || *off < HEADER_SIZE || *off > size ||
        *count > (size - *off) / INDEX_ENTRY)
        return false;
    *end = *off + *count * INDEX_ENTRY;
    return true;
}

/* Reads the header and the index in force (under a shared lock: a save
 * running alongside writes its header whole first); leaves the cache
 * empty on any doubt. */
static void load(pub_cache *c)
{
    int fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    bool locked = lock_within(fd, LOCK_SH);
    struct stat st;
    unsigned char h[HEADER_SIZE];
    unsigned char *index = NULL;
    uint64_t index_off, count, end;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < HEADER_SIZE ||
        pub_file_pread_all(fd, h, HEADER_SIZE, 0) ||
        !header_index(h, (uint64_t)st.st_size, &index_off, &count, &end))
        goto empty;
    size_t index_len = (size_t)(end - index_off);
    index = pub_xmalloc(index_len ? index_len : 1);
    if (pub_file_pread_all(fd, index, index_len, index_off) ||
        pub_hash(index, index_len, CACHE_VERSION) != pub_hash_get_le64(h + 56))
        goto empty;
    if (locked) flock(fd, LOCK_UN);
    reserve(c, (size_t)count);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *p = index + i * INDEX_ENTRY;
        entry e = {pub_hash_get_le64(p),      pub_hash_get_le64(p + 8),
                   pub_hash_get_le64(p + 16), pub_hash_get_le64(p + 24),
                   false, false, false, false};
        if (e.offset < HEADER_SIZE || e.offset > index_off || e.len > index_off - e.offset ||
            e.len >= SIZE_MAX)
            goto empty;
        if (!find(c, e.key)) add_entry(c, &e);
    }
    free(index);
    c->loaded = c->len;
    c->old_has_fp = c->has_fp = (pub_hash_get_le64(h + 32) & 1) != 0;
    c->old_fp = c->fp = pub_hash_get_le64(h + 16);
    c->old_valid_until = c->valid_until = (long long)pub_hash_get_le64(h + 24);
    c->old_since = c->since = (long long)pub_hash_get_le64(h + 64);
    c->old_end = end;
    c->old_count = count;
    c->old_index_off = index_off;
    c->old_index_hash = pub_hash_get_le64(h + 56);
    c->old_fd = fd;
    return;
empty:
    free(index);
    c->len = 0;
    memset(c->slots, 0, c->nslots * sizeof *c->slots);
    close(fd);
}

pub_cache *pub_cache_open(const char *src)
{
    pub_cache *c = pub_xcalloc(1, sizeof *c);
    c->dir = pub_path_join(src, CACHE_DIR);
    c->path = pub_path_join(c->dir, CACHE_FILE);
    c->old_fd = c->tmp_fd = -1;
    c->nslots = 64;
    c->slots = pub_xcalloc(c->nslots, sizeof *c->slots);
    pthread_mutex_init(&c->lock, NULL);
    /* A planted symlink must not make the cache read or write elsewhere:
     * only a real folder is used (its files are opened by name in it). */
    struct stat st;
    if (lstat(c->dir, &st) == 0 && !S_ISDIR(st.st_mode))
        c->write_errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
    else
        load(c);
    return c;
}

bool pub_cache_html_size(pub_cache *c, uint64_t key, size_t *len)
{
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    bool found = e && !e->bad;
    if (found) {
        e->used = c->any_used = true;
        *len = (size_t)e->len;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

bool pub_cache_copy_html(pub_cache *c, uint64_t key, char *dst, size_t len)
{
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    /* After a save the offsets name places in the saved file, not in the
     * fds this reads: nothing reads then, and if it did it must miss. */
    if (!e || e->bad || e->len != len || c->saved) {
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    entry copy = *e;
    size_t index = (size_t)(e - c->entries);
    int fd = e->fresh ? c->tmp_fd : c->old_fd;
    pthread_mutex_unlock(&c->lock);

    /* Read outside the lock: the fds stay open until pub_cache_free and a
     * blob, once written, never changes (a save writes a new file). A
     * blob is checked once per build, however often it is read. */
    bool ok = pub_file_pread_all(fd, dst, len, copy.offset) == 0 &&
              (copy.checked || pub_hash(dst, len, 0) == copy.hash);
    pthread_mutex_lock(&c->lock);
    if (ok) c->entries[index].checked = true;
    else c->entries[index].bad = true;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

char *pub_cache_get_html(pub_cache *c, uint64_t key, size_t *len)
{
    size_t n;
    if (!pub_cache_html_size(c, key, &n)) return NULL;
    char *html = pub_xmalloc(n + 1);
    if (!pub_cache_copy_html(c, key, html, n)) {
        free(html);
        return NULL;
    }
    html[n] = '\0';
    if (len) *len = n;
    return html;
}

bool pub_cache_contains(pub_cache *c, uint64_t key)
{
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    bool found = e && !e->bad;
    pthread_mutex_unlock(&c->lock);
    return found;
}

void pub_cache_keep(pub_cache *c, uint64_t key)
{
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    if (e && !e->bad) e->used = c->any_used = true;
    pthread_mutex_unlock(&c->lock);
}

bool pub_cache_move(pub_cache *c, uint64_t from, uint64_t to)
{
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, from);
    bool ok = e && !e->bad && from != to && !c->saved;
    if (ok) {
        entry moved = *e;
        e->used = false; /* dropped by the save, unless asked for again */
        moved.key = to;
        moved.used = c->any_used = true;
        entry *there = find(c, to);
        if (!there) add_entry(c, &moved);
        else if (there->bad) *there = moved;
        else there->used = true;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static const char cachedir_tag[] =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This folder is publish's build cache; it can be deleted at any time.\n";

/* Creates the next file (and the cache folder, with a CACHEDIR.TAG so
 * backup tools skip it). Under the lock. */
static bool ensure_tmp(pub_cache *c)
{
    if (c->tmp_fd >= 0) return true;
    if (c->write_errno) return false;
    struct stat st;
    if (lstat(c->dir, &st) != 0) {
        int rc = pub_file_mkdirs(c->dir);
        if (rc != 0) {
            c->write_errno = rc;
            return false;
        }
        c->made_dir = true;
        char *tag = pub_path_join(c->dir, "CACHEDIR.TAG");
        int fd = open(tag, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if (pub_file_pwrite_all(fd, cachedir_tag, sizeof cachedir_tag - 1, 0)) {
                /* Only a hint for backup tools: the cache works without it. */
            }
            close(fd);
        }
        free(tag);
    }
    pub_buf name = PUB_BUF_INIT;
    pub_buf_printf(&name, "%s/%s.", c->dir, CACHE_FILE);
    char *path = NULL;
    int fd = pub_fs_temp_open(pub_buf_cstr(&name), 0600, &path);
    pub_buf_free(&name);
    if (fd < 0) {
        c->write_errno = errno;
        return false;
    }
    fchmod(fd, 0644);
    c->tmp_path = path;
    c->tmp_fd = fd;
    c->tmp_end = HEADER_SIZE;
    return true;
}

bool pub_cache_put_html(pub_cache *c, uint64_t key, const char *html, size_t len)
{
    uint64_t hash = pub_hash(html, len, 0);
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    if (c->saved || (e && !e->bad) || !ensure_tmp(c)) {
        bool there = e && !e->bad;
        if (there) e->used = c->any_used = true;
        pthread_mutex_unlock(&c->lock);
        return there;
    }
    /* Reserve the bytes, write them unlocked, then publish the entry. */
    uint64_t offset = c->tmp_end;
    c->tmp_end += len;
    pthread_mutex_unlock(&c->lock);
    int err = pub_file_pwrite_all(c->tmp_fd, html, len, offset);
    bool ok = err == 0;
    pthread_mutex_lock(&c->lock);
    if (!ok) {
        if (!c->write_errno) c->write_errno = err;
    } else {
        entry fresh = {key, offset, len, hash, true, true, false, false};
        e = find(c, key); /* another thread may have put it meanwhile */
        if (!e)
            add_entry(c, &fresh);
        else if (e->bad)
            *e = fresh;
        else
            e->used = true;
        c->any_used = true;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

bool pub_cache_fingerprint_matches(const pub_cache *c, uint64_t fp, long long now)
{
    return fp != 0 && c->old_has_fp && c->old_fp == fp && now < c->old_valid_until;
}

long long pub_cache_fingerprint_since(const pub_cache *c)
{
    return c->old_has_fp ? c->old_since : 0;
}

void pub_cache_set_fingerprint(pub_cache *c, uint64_t fp, long long since_ns, long long valid_until)
{
    c->has_fp = fp != 0;
    c->fp = fp;
    c->since = fp != 0 ? since_ns : 0;
    c->valid_until = fp != 0 ? valid_until : 0;
}

static int compare_offsets(const void *a, const void *b)
{
    const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool is_cache_temp(const char *name, void *ctx)
{
    (void)ctx;
    return strncmp(name, CACHE_FILE ".", strlen(CACHE_FILE ".")) == 0;
}

/* Removes temporary files that killed builds left behind. */
static void sweep_stale(const char *dir)
{
    pub_fs_sweep_temps(dir, is_cache_temp, NULL, STALE_TEMP_SECONDS, 0, NULL, NULL);
}

/* Copies the blobs `list` (n, in file order) from `from` to `to` at *at,
 * in runs (after a one-post edit a couple of copies, not one per post),
 * and gives them their new offsets. */
static bool copy_blobs(int from, int to, entry **list, size_t n, uint64_t *at)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        uint64_t end = list[i]->offset + list[i]->len;
        while (j < n && list[j]->offset == end) end += list[j++]->len;
        uint64_t start = list[i]->offset;
        if (!copy_range(from, start, to, *at, end - start)) return false;
        for (size_t k = i; k < j; k++) list[k]->offset = list[k]->offset - start + *at;
        *at += end - start;
        i = j;
    }
    return true;
}

/* The header of this save, naming `count` entries at `index_off` whose
 * index bytes hash to `index_hash`. */
static void make_header(const pub_cache *c, unsigned char *h, uint64_t count, uint64_t index_off,
                        uint64_t index_hash)
{
    memset(h, 0, HEADER_SIZE);
    memcpy(h, CACHE_MAGIC, 8);
    pub_hash_put_le64(h + 8, CACHE_VERSION);
    pub_hash_put_le64(h + 16, c->has_fp ? c->fp : 0);
    pub_hash_put_le64(h + 24, (uint64_t)(c->has_fp ? c->valid_until : 0));
    pub_hash_put_le64(h + 32, c->has_fp ? 1 : 0);
    pub_hash_put_le64(h + 40, count);
    pub_hash_put_le64(h + 48, index_off);
    pub_hash_put_le64(h + 56, index_hash);
    pub_hash_put_le64(h + 64, (uint64_t)(c->has_fp ? c->since : 0));
    pub_hash_put_le64(h + 72, pub_hash(h, 72, CACHE_VERSION));
}

/* Writes the index of `kept` at `at` in `fd`, then the header naming it;
 * the file then ends at the index's end. */
static bool write_index(pub_cache *c, int fd, entry **kept, size_t count, uint64_t at)
{
    size_t index_len = count * INDEX_ENTRY;
    unsigned char *index = pub_xmalloc(index_len ? index_len : 1);
    for (size_t i = 0; i < count; i++) {
        unsigned char *p = index + i * INDEX_ENTRY;
        pub_hash_put_le64(p, kept[i]->key);
        pub_hash_put_le64(p + 8, kept[i]->offset);
        pub_hash_put_le64(p + 16, kept[i]->len);
        pub_hash_put_le64(p + 24, kept[i]->hash);
    }
    unsigned char h[HEADER_SIZE];
    make_header(c, h, count, at, pub_hash(index, index_len, CACHE_VERSION));
    bool ok = pub_file_pwrite_all(fd, index, index_len, at) == 0;
    free(index);
    if (!ok) return false;
    step("index");
    /* Only now the header: until it is written the old one is in force. */
    if (pub_file_pwrite_all(fd, h, HEADER_SIZE, 0) != 0) return false;
    step("header");
    struct stat st;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > at + index_len)
        (void)ftruncate(fd, (off_t)(at + index_len)); /* garbage of a killed save */
    return true;
}

/* The kept entries split: old blobs (in file order) first, then the
 * fresh ones (in file order too); returns how many are old. */
static size_t split_kept(entry **kept, size_t nkept, uint64_t *old_bytes, uint64_t *fresh_bytes)
{
    size_t nold = 0;
    *old_bytes = *fresh_bytes = 0;
    entry **fresh = pub_xmalloc((nkept ? nkept : 1) * sizeof *fresh);
    size_t nfresh = 0;
    for (size_t i = 0; i < nkept; i++) {
        if (kept[i]->fresh) {
            fresh[nfresh++] = kept[i];
            *fresh_bytes += kept[i]->len;
        } else {
            kept[nold++] = kept[i];
            *old_bytes += kept[i]->len;
        }
    }
    memcpy(kept + nold, fresh, nfresh * sizeof *fresh);
    free(fresh);
    if (nold > 1) qsort(kept, nold, sizeof *kept, compare_offsets);
    if (nfresh > 1) qsort(kept + nold, nfresh, sizeof *kept, compare_offsets);
    return nold;
}

/* Rewrites: the kept old blobs after the fresh ones in the next file,
 * the index, the header, then the rename over the file. */
static bool rewrite(pub_cache *c, entry **kept, size_t nkept, size_t nold)
{
    if (!ensure_tmp(c) || c->write_errno) return false;
    if (!copy_blobs(c->old_fd, c->tmp_fd, kept, nold, &c->tmp_end)) return false;
    step("rewrite: blobs");
    if (!write_index(c, c->tmp_fd, kept, nkept, c->tmp_end) || rename(c->tmp_path, c->path) != 0)
        return false;
    step("rewrite: renamed");
    free(c->tmp_path);
    c->tmp_path = NULL;
    return true;
}

/* Opens the file in force and takes its exclusive lock; -1 when there is
 * none, or its lock is not to be had within LOCK_WAIT_MS. A rewrite that
 * renamed a new file into place while this waited left the lock on a
 * file no one opens any more: then again, on the new one. */
static int lock_current(const pub_cache *c)
{
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(c->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return -1;
        if (!lock_within(fd, LOCK_EX)) {
            close(fd);
            return -1;
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && lstat(c->path, &now) == 0 &&
            held.st_ino == now.st_ino && held.st_dev == now.st_dev)
            return fd;
        close(fd);
    }
    return -1;
}

/* Where an append to `fd` (the file in force, locked) starts: the end of
 * its index in force; 0 when this save must rewrite instead (see the top
 * of the file). Sets *same_index when the file is still as loaded. */
static uint64_t append_at(const pub_cache *c, int fd, uint64_t old_bytes, uint64_t fresh_bytes,
                          bool *same_index)
{
    struct stat held, loaded;
    unsigned char h[HEADER_SIZE];
    uint64_t off, count, end;
    if (c->old_fd < 0 || fstat(fd, &held) != 0 || fstat(c->old_fd, &loaded) != 0 ||
        held.st_ino != loaded.st_ino || held.st_dev != loaded.st_dev ||
        pub_file_pread_all(fd, h, HEADER_SIZE, 0) ||
        !header_index(h, (uint64_t)held.st_size, &off, &count, &end) || end < c->old_end)
        return 0;
    /* Garbage: everything before the end in force that no kept entry holds.
     * Two keys may share one blob (pub_cache_move), which old_bytes counts
     * twice: the difference is clamped rather than let wrap. */
    uint64_t used = HEADER_SIZE + old_bytes;
    uint64_t garbage = end > used ? end - used : 0;
    if (fresh_bytes > old_bytes || garbage > old_bytes + fresh_bytes) return 0;
    *same_index = end == c->old_end;
    return end;
}

/* Writes this build's cache (see the top of the file); errno or 0. */
static int save_file(pub_cache *c, entry **kept, size_t nkept)
{
    if (c->write_errno) return c->write_errno;
    uint64_t old_bytes, fresh_bytes;
    size_t nold = split_kept(kept, nkept, &old_bytes, &fresh_bytes);
    int fd = lock_current(c);
    bool same_index = false;
    uint64_t at = fd >= 0 ? append_at(c, fd, old_bytes, fresh_bytes, &same_index) : 0;
    /* Only a failure from here on may name the cause (lock_current's
     * ENOENT for a first save is not one); a short read sets none: EIO. */
    errno = 0;
    bool ok;
    if (at == 0) {
        ok = rewrite(c, kept, nkept, nold);
    } else if (same_index && nold == nkept && nkept == c->old_count && c->len == c->loaded) {
        /* Every entry kept where it was: only the header changes (a new
         * fingerprint after a build that rendered nothing new). */
        unsigned char h[HEADER_SIZE];
        make_header(c, h, c->old_count, c->old_index_off, c->old_index_hash);
        ok = pub_file_pwrite_all(fd, h, HEADER_SIZE, 0) == 0;
        if (ok) step("header");
    } else {
        ok = copy_blobs(c->tmp_fd, fd, kept + nold, nkept - nold, &at);
        if (ok) step("append: blobs");
        ok = ok && write_index(c, fd, kept, nkept, at);
    }
    int err = ok ? 0 : errno ? errno : EIO;
    if (fd >= 0) close(fd); /* the lock goes with it */
    return err;
}

pub_diag *pub_cache_save(pub_cache *c)
{
    if (c->saved) return NULL;
    pthread_mutex_lock(&c->lock);
    c->saved = true;
    pthread_mutex_unlock(&c->lock);

    /* A build that used nothing skipped rendering: keep what was there. */
    bool keep_all = !c->any_used;
    entry **kept = pub_xmalloc((c->len ? c->len : 1) * sizeof *kept);
    size_t nkept = 0;
    bool changed = c->len > c->loaded || c->write_errno || c->has_fp != c->old_has_fp ||
                   (c->has_fp && (c->fp != c->old_fp || c->valid_until != c->old_valid_until ||
                                   c->since != c->old_since));
    for (size_t i = 0; i < c->loaded; i++) {
        entry *e = &c->entries[i];
        if (e->bad || e->fresh || !(e->used || keep_all)) changed = true;
    }
    /* Blobs put by this build, old ones it used, and old blobs under a
     * key pub_cache_move gave them. */
    for (size_t i = 0; i < c->len; i++) {
        entry *e = &c->entries[i];
        if (!e->bad && (e->fresh || e->used || (keep_all && i < c->loaded))) kept[nkept++] = e;
    }
    pub_diag *warning = NULL;
    if (changed) {
        int err = save_file(c, kept, nkept);
        if (err == 0) {
            c->path_written = true;
            if (c->tmp_path) { /* appended: the next file is done with */
                unlink(c->tmp_path);
                free(c->tmp_path);
                c->tmp_path = NULL;
            }
            sweep_stale(c->dir);
        } else if (err == ELOOP) {
            warning = pub_diag_new(PUB_WARNING, CACHE_DIR, 0, 0,
                                   "symlink not followed; the build is not cached");
        } else {
            warning = pub_diag_new(PUB_WARNING, CACHE_DIR "/" CACHE_FILE, 0, 0,
                                   "cannot save the build cache: %s", strerror(err));
        }
    }
    free(kept);
    return warning;
}

void pub_cache_free(pub_cache *c)
{
    if (!c) return;
    if (c->old_fd >= 0) close(c->old_fd);
    if (c->tmp_fd >= 0) close(c->tmp_fd);
    if (c->tmp_path) unlink(c->tmp_path);
    if (c->made_dir && !c->path_written) {
        /* A run that failed (a config error found by the engine, after
         * the loaders had cached Markdown) leaves no cache folder behind:
         * nothing half-written. */
        char *tag = pub_path_join(c->dir, "CACHEDIR.TAG");
        unlink(tag);
        free(tag);
        rmdir(c->dir);
    }
    free(c->tmp_path);
    free(c->entries);
    free(c->slots);
    free(c->dir);
    free(c->path);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
