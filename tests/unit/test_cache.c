/* Tests for core/cache.c: the hash against wyhash's reference vectors, the
 * markdown cache round trip, which entries a save keeps, a build that
 * changes nothing writing nothing, damaged cache files (every byte flipped,
 * every truncation) read as an empty cache, concurrent gets and puts, the
 * fingerprint's sensitivity and its expiry, saves that append, compact,
 * run in several processes at once or are killed at each step. Works under
 * a mkdtemp folder in /tmp that is removed at the end. */
#define _GNU_SOURCE
#include "cache.h"
#include "fingerprint.h"
#include "util/hash.h"
#include "check.h"
#include "markdown.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Expects a save that succeeds. */
#define CHECK_SAVED(c) CHECK_OK(pub_cache_save(c))

/* Expects the cached HTML for `key` to be `want` (NULL: a miss). */
#define CHECK_HTML(c, key, want)                                                \
    do {                                                                        \
        size_t n_ = 0;                                                          \
        char *h_ = pub_cache_get_html(c, key, &n_);                             \
        const char *w2_ = (want);                                               \
        if (w2_) {                                                              \
            CHECK_STR(h_, w2_);                                                 \
            CHECK(h_ && n_ == strlen(w2_));                                     \
        } else {                                                                \
            CHECK(h_ == NULL);                                                  \
        }                                                                       \
        free(h_);                                                               \
    } while (0)

static char root[64];
static int site_no;

/* A fresh, empty site folder. */
static char *new_site(void)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/site%d", root, ++site_no);
    if (mkdir(path, 0777) != 0) abort();
    return path;
}

static char *cache_file(const char *site)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/.publish-cache/build.cache", site);
    return path;
}

static void put_html(pub_cache *c, uint64_t key, const char *html)
{
    pub_cache_put_html(c, key, html, strlen(html));
}

static ino_t inode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* A hash of the file's bytes (0: unreadable): whether a save wrote it,
 * now that an append keeps its inode. */
static uint64_t bytes_of(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (pub_file_read(path, &data, &len) != 0) return 0;
    uint64_t h = pub_hash(data, len, 1);
    free(data);
    return h;
}

static long long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Files in the cache folder other than the cache and its tag. */
static int stray_files(const char *site)
{
    char dir[160];
    snprintf(dir, sizeof dir, "%s/.publish-cache", site);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && strcmp(de->d_name, "build.cache") != 0 &&
            strcmp(de->d_name, "CACHEDIR.TAG") != 0)
            n++;
    closedir(d);
    return n;
}

/* ---- Hash ----------------------------------------------------------------------- */

static void test_hash_vectors(void)
{
    /* wyhash final 4 test_vector.cpp: message i hashed with seed i. */
    static const struct {
        const char *text;
        uint64_t want;
    } vectors[] = {
        {"", 0x0409638ee2bde459ull},
        {"a", 0xa8412d091b5fe0a9ull},
        {"abc", 0x32dd92e4b2915153ull},
        {"message digest", 0x8619124089a3a16bull},
        {"abcdefghijklmnopqrstuvwxyz", 0x7a43afb61d7f5f40ull},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 0xff42329b90e50d58ull},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         0xc39cab13b115aad3ull},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        CHECK(pub_hash(vectors[i].text, strlen(vectors[i].text), i) == vectors[i].want);

    /* Longer inputs cross the 48-byte rounds and the overlapping tail; an
     * exactly sized block lets ASan catch a read past the end. */
    uint64_t want[] = {0, 0, 0};
    size_t lens[] = {49, 96, 1000};
    for (size_t k = 0; k < 3; k++) {
        unsigned char *b = pub_xmalloc(lens[k]);
        for (size_t i = 0; i < lens[k]; i++) b[i] = (unsigned char)(i * 7 + 1);
        want[k] = pub_hash(b, lens[k], 0);
        free(b);
    }
    CHECK(want[0] == 0x249c35ef0af8c974ull);
    CHECK(want[1] == 0x215db7a60d3ebd58ull);
    CHECK(want[2] == 0x05bf4c9c052512deull);
}

static void test_hash_quality(void)
{
    /* Every length up to 200, each block exactly sized: no overread, and
     * flipping any one input bit changes about half the output bits. */
    double total = 0;
    int flips = 0, worst = 64;
    for (size_t len = 0; len <= 200; len++) {
        unsigned char *b = pub_xmalloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) b[i] = (unsigned char)(i * 31 + len);
        uint64_t h = pub_hash(b, len, 42);
        for (size_t i = 0; i < len; i += 3) {
            b[i] ^= (unsigned char)(1u << (i % 8));
            int changed = __builtin_popcountll(h ^ pub_hash(b, len, 42));
            b[i] ^= (unsigned char)(1u << (i % 8));
            total += changed;
            flips++;
            if (changed < worst) worst = changed;
        }
        free(b);
    }
    double mean = total / flips;
    CHECK(mean > 30 && mean < 34);
    CHECK(worst >= 12);
    CHECK(pub_hash("a", 1, 0) != pub_hash("a", 1, 1));
    CHECK(pub_hash("", 0, 0) != pub_hash("\0", 1, 0));
}

static void test_md_key(void)
{
    pub_md_options a = {true, false, false, PUB_MD_DEFAULT_EXTENSIONS}, b = a, c = a, d = a, e = a,
                   f = a;
    b.unsafe = false;
    c.smart = true;
    d.hardbreaks = true;
    e.extensions &= ~(unsigned)PUB_MD_TABLE;
    f.extensions |= PUB_MD_TAGFILTER;
    uint64_t k = pub_cache_md_key("# Hi\n", 5, &a);
    CHECK(k == pub_cache_md_key("# Hi\n", 5, &a));
    CHECK(k != pub_cache_md_key("# Hi\n", 5, &b));
    CHECK(k != pub_cache_md_key("# Hi\n", 5, &c));
    CHECK(k != pub_cache_md_key("# Hi\n", 5, &d));
    CHECK(k != pub_cache_md_key("# Hi\n", 5, &e));
    CHECK(k != pub_cache_md_key("# Hi\n", 5, &f));
    CHECK(pub_cache_md_key("# Hi\n", 5, &e) != pub_cache_md_key("# Hi\n", 5, &f));
    CHECK(k != pub_cache_md_key("# Hi!\n", 6, &a));
    CHECK(k != pub_cache_md_key("# Hi", 4, &a));
}

/* ---- The markdown cache ---------------------------------------------------------- */

static void test_round_trip(void)
{
    char *site = new_site();
    pub_cache *c = pub_cache_open(site);
    CHECK_HTML(c, 1, NULL);
    put_html(c, 1, "<p>one</p>\n");
    put_html(c, 2, "<h1>two</h1>\n");
    put_html(c, 3, "");
    CHECK_HTML(c, 1, "<p>one</p>\n"); /* read back from the new file */
    CHECK_SAVED(c);
    put_html(c, 4, "late"); /* after the save: ignored */
    pub_cache_free(c);

    c = pub_cache_open(site);
    CHECK_HTML(c, 1, "<p>one</p>\n");
    CHECK_HTML(c, 2, "<h1>two</h1>\n");
    CHECK_HTML(c, 3, "");
    CHECK_HTML(c, 4, NULL);
    /* Every entry used, nothing new: the file is not written again. */
    ino_t before = inode_of(cache_file(site));
    CHECK_SAVED(c);
    CHECK(inode_of(cache_file(site)) == before);
    pub_cache_free(c);
    CHECK(stray_files(site) == 0);

    char tag[200];
    snprintf(tag, sizeof tag, "%s/.publish-cache/CACHEDIR.TAG", site);
    CHECK(inode_of(tag) != 0);
}

static void test_stale_dropped(void)
{
    char *site = new_site();
    pub_cache *c = pub_cache_open(site);
    put_html(c, 10, "ten");
    put_html(c, 20, "twenty");
    put_html(c, 30, "thirty");
    CHECK_SAVED(c);
    pub_cache_free(c);

    /* A build that reads 10 and 30 only: 20 (a deleted post's body) is
     * dropped. */
    c = pub_cache_open(site);
    CHECK_HTML(c, 30, "thirty");
    CHECK_HTML(c, 10, "ten");
    CHECK_SAVED(c);
    pub_cache_free(c);
    c = pub_cache_open(site);
    CHECK_HTML(c, 20, NULL);
    CHECK_HTML(c, 30, "thirty");
    CHECK_HTML(c, 10, "ten");
    CHECK_SAVED(c);
    pub_cache_free(c);

    /* One that reads 10, puts 40 (an edited post) and again 10 (a second
     * post with the same body): 30 goes. */
    c = pub_cache_open(site);
    CHECK_HTML(c, 10, "ten");
    put_html(c, 40, "forty");
    put_html(c, 10, "ten"); /* already there: only marked used */
    CHECK_SAVED(c);
    pub_cache_free(c);

    c = pub_cache_open(site);
    CHECK_HTML(c, 10, "ten");
    CHECK_HTML(c, 30, NULL);
    CHECK_HTML(c, 40, "forty");
    CHECK_SAVED(c);
    pub_cache_free(c);

    /* A build that used nothing (it skipped rendering) keeps everything,
     * and without a fingerprint change writes nothing. */
    uint64_t before = bytes_of(cache_file(site));
    long long size = size_of(cache_file(site));
    c = pub_cache_open(site);
    CHECK_SAVED(c);
    pub_cache_free(c);
    CHECK(bytes_of(cache_file(site)) == before);
    /* A new fingerprint and every entry kept: only the header is written. */
    c = pub_cache_open(site);
    pub_cache_set_fingerprint(c, 77, 1, LLONG_MAX);
    CHECK_SAVED(c);
    pub_cache_free(c);
    CHECK(bytes_of(cache_file(site)) != before);
    CHECK(size_of(cache_file(site)) == size);
    c = pub_cache_open(site);
    CHECK_HTML(c, 10, "ten");
    CHECK_HTML(c, 40, "forty");
    CHECK(pub_cache_fingerprint_matches(c, 77, 0));
    pub_cache_free(c);

    /* A build that dropped every post: all entries go. */
    c = pub_cache_open(site);
    put_html(c, 50, "fifty");
    CHECK_SAVED(c);
    pub_cache_free(c);
    c = pub_cache_open(site);
    CHECK_HTML(c, 10, NULL);
    CHECK_HTML(c, 50, "fifty");
    CHECK(pub_cache_fingerprint_matches(c, 77, 0)); /* the fingerprint stays */
    pub_cache_free(c);
}

static void test_options_miss(void)
{
    char *site = new_site();
    const char *body = "\"Hello\" -- world\n";
    pub_md_options plain = {true, false, false, PUB_MD_DEFAULT_EXTENSIONS};
    pub_md_options smart = {true, true, false, PUB_MD_DEFAULT_EXTENSIONS};
    pub_cache *c = pub_cache_open(site);
    uint64_t k = pub_cache_md_key(body, strlen(body), &plain);
    size_t len;
    char *html = pub_md_render(body, strlen(body), &plain, &len);
    pub_cache_put_html(c, k, html, len);
    free(html);
    CHECK_SAVED(c);
    pub_cache_free(c);

    c = pub_cache_open(site);
    CHECK_HTML(c, pub_cache_md_key(body, strlen(body), &smart), NULL);
    CHECK_HTML(c, pub_cache_md_key(body, strlen(body), &plain), "<p>&quot;Hello&quot; -- world</p>\n");
    pub_cache_free(c);
}

static void test_unsaved_leaves_nothing(void)
{
    char *site = new_site();
    pub_cache *c = pub_cache_open(site);
    put_html(c, 1, "one");
    CHECK(stray_files(site) == 1); /* the next file, written as puts come */
    pub_cache_free(c);             /* a failed build does not save */
    CHECK(stray_files(site) == 0);
    CHECK(inode_of(cache_file(site)) == 0);
}

static void test_save_failure(void)
{
    /* SRC is a file: the cache folder cannot be made. */
    char path[128];
    snprintf(path, sizeof path, "%s/not-a-folder", root);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    close(fd);
    pub_cache *c = pub_cache_open(path);
    put_html(c, 1, "one");
    CHECK_HTML(c, 1, NULL);
    pub_diag *d = pub_cache_save(c);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->level == PUB_WARNING);
        CHECK_STR(d->path, ".publish-cache/build.cache");
        CHECK_STR(d->message, "cannot save the build cache: Not a directory");
    }
    pub_diag_free(d);
    pub_cache_free(c);
}

/* ---- Damaged files ----------------------------------------------------------------- */

/* What a possibly damaged cache may answer: the right HTML or nothing. */
static bool answers_sanely(pub_cache *c, bool *whole)
{
    static const char *const want[] = {"<p>alpha</p>\n", "<p>beta</p>\n", "<p>gamma</p>\n"};
    bool ok = true;
    *whole = pub_cache_fingerprint_matches(c, 0xfeed, 100);
    for (uint64_t k = 0; k < 3; k++) {
        size_t len = 0;
        char *h = pub_cache_get_html(c, k + 100, &len);
        if (h && (len != strlen(want[k]) || strcmp(h, want[k]) != 0)) ok = false;
        if (!h) *whole = false;
        free(h);
    }
    /* A fingerprint other than the stored one never matches. */
    if (pub_cache_fingerprint_matches(c, 0xbeef, 100)) ok = false;
    return ok;
}

static void test_damaged_files(void)
{
    char *site = new_site();
    pub_cache *c = pub_cache_open(site);
    put_html(c, 100, "<p>alpha</p>\n");
    put_html(c, 101, "<p>beta</p>\n");
    put_html(c, 102, "<p>gamma</p>\n");
    pub_cache_set_fingerprint(c, 0xfeed, 77, 1000);
    CHECK_SAVED(c);
    pub_cache_free(c);
    const char *file = cache_file(site);
    size_t len;
    char *good = check_fixture(file, &len);
    CHECK(len == 80 + 38 + 3 * 32);

    c = pub_cache_open(site);
    bool whole;
    CHECK(answers_sanely(c, &whole) && whole);
    pub_cache_free(c);

    /* Every truncation: an empty cache. */
    int bad_truncations = 0;
    for (size_t n = 0; n < len; n++) {
        check_write_file(file, good, n, 0644);
        c = pub_cache_open(site);
        if (!answers_sanely(c, &whole) || pub_cache_fingerprint_matches(c, 0xfeed, 100) ||
            pub_cache_get_html(c, 100, NULL))
            bad_truncations++;
        pub_cache_free(c);
    }
    CHECK(bad_truncations == 0);

    /* A bit of every byte flipped: never wrong HTML, never a crash. A
     * flip in a blob loses that entry only; anywhere else, everything. */
    char *copy = pub_xmalloc(len);
    int insane = 0, survived = 0;
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, good, len);
        copy[i] ^= (char)(1 << (i % 8));
        check_write_file(file, copy, len, 0644);
        c = pub_cache_open(site);
        if (!answers_sanely(c, &whole)) insane++;
        if (whole) survived++;
        pub_cache_free(c);
    }
    CHECK(insane == 0);
    CHECK(survived == 0);

    /* A bad blob is dropped at the next save; the rest is kept. */
    memcpy(copy, good, len);
    copy[80] ^= 1; /* first byte of the first blob */
    check_write_file(file, copy, len, 0644);
    c = pub_cache_open(site);
    CHECK_HTML(c, 100, NULL);
    CHECK_HTML(c, 101, "<p>beta</p>\n");
    CHECK_HTML(c, 102, "<p>gamma</p>\n");
    CHECK(pub_cache_fingerprint_matches(c, 0xfeed, 100));
    uint64_t before = bytes_of(file);
    CHECK_SAVED(c);
    pub_cache_free(c);
    CHECK(bytes_of(file) != before);
    c = pub_cache_open(site);
    CHECK_HTML(c, 100, NULL);
    CHECK_HTML(c, 101, "<p>beta</p>\n");
    put_html(c, 100, "<p>alpha</p>\n"); /* rendered again */
    CHECK_HTML(c, 100, "<p>alpha</p>\n");
    pub_cache_free(c);

    /* Garbage, another format version, a folder in the file's place. */
    static const char garbage[] = "PUBCACHE\3\0\0\0 and then some bytes that are not a cache at all";
    check_write_file(file, garbage, sizeof garbage, 0644);
    c = pub_cache_open(site);
    CHECK(answers_sanely(c, &whole) && !pub_cache_get_html(c, 101, NULL));
    pub_cache_free(c);
    memcpy(copy, good, len);
    copy[8] = 2; /* the format before appending saves */
    check_write_file(file, copy, len, 0644);
    c = pub_cache_open(site);
    CHECK(!pub_cache_get_html(c, 101, NULL) && !pub_cache_fingerprint_matches(c, 0xfeed, 100));
    pub_cache_free(c);
    unlink(file);
    mkdir(file, 0777);
    c = pub_cache_open(site);
    CHECK(!pub_cache_get_html(c, 101, NULL));
    put_html(c, 1, "x");
    pub_diag *d = pub_cache_save(c); /* cannot rename over a folder: a warning */
    CHECK(d && d->level == PUB_WARNING);
    pub_diag_free(d);
    pub_cache_free(c);
    CHECK(stray_files(site) == 0); /* the next file was removed */
    rmdir(file);
    free(copy);
    free(good);
}

/* ---- Threads ------------------------------------------------------------------------- */

enum { THREAD_KEYS = 600, THREADS = 4 };

typedef struct worker {
    pub_cache *c;
    int id;
    int wrong;
} worker;

static void html_for(uint64_t key, char *buf, size_t size)
{
    snprintf(buf, size, "<p>post %llu</p>\n%.*s", (unsigned long long)key, (int)(key % 200),
             "................................................................................"
             "................................................................................"
             "........................................");
}

static void *work(void *arg)
{
    worker *w = arg;
    char want[512];
    /* Threads walk the keys from different starts, so the same key is put
     * by one and read or put again by another at about the same time. */
    for (int n = 0; n < THREAD_KEYS; n++) {
        uint64_t key = (uint64_t)((n + w->id * 97) % THREAD_KEYS);
        html_for(key, want, sizeof want);
        size_t len;
        char *got = pub_cache_get_html(w->c, key, &len);
        if (got) {
            if (strcmp(got, want) != 0 || len != strlen(want)) w->wrong++;
            free(got);
        } else {
            pub_cache_put_html(w->c, key, want, strlen(want));
        }
    }
    return NULL;
}

static void test_threads(void)
{
    char *site = new_site();
    for (int round = 0; round < 2; round++) {
        pub_cache *c = pub_cache_open(site);
        pthread_t t[THREADS];
        worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (worker){c, i, 0};
            pthread_create(&t[i], NULL, work, &w[i]);
        }
        int wrong = 0;
        for (int i = 0; i < THREADS; i++) {
            pthread_join(t[i], NULL);
            wrong += w[i].wrong;
        }
        CHECK(wrong == 0);
        CHECK_SAVED(c);
        pub_cache_free(c);
    }
    pub_cache *c = pub_cache_open(site);
    int missing = 0;
    char want[512];
    for (uint64_t key = 0; key < THREAD_KEYS; key++) {
        html_for(key, want, sizeof want);
        char *got = pub_cache_get_html(c, key, NULL);
        if (!got || strcmp(got, want) != 0) missing++;
        free(got);
    }
    CHECK(missing == 0);
    pub_cache_free(c);
}

/* ---- Fingerprint ----------------------------------------------------------------------- */

static const long long later = 4000000000LL * 1000000000LL; /* long after any file time */

static struct stat fake_stat(void)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_size = 1234;
    st.st_mode = S_IFREG | 0644;
    st.st_ino = 99;
    st.st_mtim.tv_sec = 1700000000;
    st.st_mtim.tv_nsec = 123456789;
    st.st_ctim = st.st_mtim;
    return st;
}

static uint64_t fingerprint_of(const char *dest, bool drafts, const char *name, const struct stat *st)
{
    pub_fingerprint fp;
    pub_fingerprint_init(&fp);
    pub_fingerprint_add_str(&fp, dest);
    pub_fingerprint_add_int(&fp, drafts);
    pub_fingerprint_add_file(&fp, "config.yaml", "/nonexistent/config.yaml", st);
    pub_fingerprint_add_file(&fp, name, "/nonexistent/post.md", st);
    uint64_t result = pub_fingerprint_final(&fp, later);
    pub_fingerprint_free(&fp);
    return result;
}

static void test_fingerprint(void)
{
    struct stat st = fake_stat();
    uint64_t base = fingerprint_of("/out", false, "posts/a.md", &st);
    CHECK(base != 0);
    CHECK(base == fingerprint_of("/out", false, "posts/a.md", &st));
    CHECK(base != fingerprint_of("/out", true, "posts/a.md", &st));
    CHECK(base != fingerprint_of("/out2", false, "posts/a.md", &st));
    CHECK(base != fingerprint_of(NULL, false, "posts/a.md", &st));
    CHECK(base != fingerprint_of("/out", false, "posts/b.md", &st)); /* renamed */
    struct stat changed = st;
    changed.st_mtim.tv_nsec++;
    CHECK(base != fingerprint_of("/out", false, "posts/a.md", &changed));
    changed = st;
    changed.st_ctim.tv_sec++;
    CHECK(base != fingerprint_of("/out", false, "posts/a.md", &changed));
    changed = st;
    changed.st_size++;
    CHECK(base != fingerprint_of("/out", false, "posts/a.md", &changed));
    changed = st;
    changed.st_ino++;
    CHECK(base != fingerprint_of("/out", false, "posts/a.md", &changed));
    changed = st;
    changed.st_mode |= 0100;
    CHECK(base != fingerprint_of("/out", false, "posts/a.md", &changed));

    /* NULL and "" differ; parts do not run into each other. */
    pub_fingerprint a, b;
    pub_fingerprint_init(&a);
    pub_fingerprint_init(&b);
    pub_fingerprint_add_str(&a, "ab");
    pub_fingerprint_add_str(&a, "c");
    pub_fingerprint_add_str(&b, "a");
    pub_fingerprint_add_str(&b, "bc");
    CHECK(pub_fingerprint_final(&a, later) != pub_fingerprint_final(&b, later));
    pub_fingerprint_free(&a);
    pub_fingerprint_free(&b);
    pub_fingerprint_init(&a);
    pub_fingerprint_init(&b);
    pub_fingerprint_add_str(&a, "");
    pub_fingerprint_add_str(&b, NULL);
    CHECK(pub_fingerprint_final(&a, later) != pub_fingerprint_final(&b, later));

    pub_fingerprint_free(&a);
    pub_fingerprint_free(&b);

    /* A file changed within the clock's tick of the moment counts by its
     * contents: an unreadable one voids the fingerprint, a readable one
     * gives the same answer whatever its times, and another on new bytes. */
    char path[256];
    snprintf(path, sizeof path, "%s/racy.md", root);
    check_write_text(path, "same bytes\n", 0644);
    pub_fingerprint_init(&a);
    pub_fingerprint_add_file(&a, "posts/a.md", "/nonexistent/a.md", &st);
    long long file_ns = (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    long long soon = file_ns + 10000000, after = file_ns + 1000000000;
    CHECK(pub_fingerprint_final(&a, soon) == 0);
    CHECK(pub_fingerprint_final(&a, after) != 0);
    pub_fingerprint_free(&a);
    pub_fingerprint_init(&a);
    pub_fingerprint_add_file(&a, "posts/a.md", path, &st);
    uint64_t by_contents = pub_fingerprint_final(&a, soon);
    CHECK(by_contents != 0 && by_contents != pub_fingerprint_final(&a, after));
    pub_fingerprint_free(&a);
    changed = st;
    changed.st_mtim.tv_nsec += 5; /* other times, same bytes */
    changed.st_ctim.tv_nsec += 7;
    pub_fingerprint_init(&a);
    pub_fingerprint_add_file(&a, "posts/a.md", path, &changed);
    CHECK(pub_fingerprint_final(&a, soon) == by_contents);
    check_write_text(path, "other bytes\n", 0644);
    CHECK(pub_fingerprint_final(&a, soon) != by_contents);
    pub_fingerprint_free(&a);
    /* Whole-second file times (a coarse file system) widen the window. */
    struct stat coarse = st;
    coarse.st_mtim.tv_nsec = coarse.st_ctim.tv_nsec = 0;
    pub_fingerprint_init(&a);
    pub_fingerprint_add_file(&a, "posts/a.md", "/nonexistent/a.md", &coarse);
    long long coarse_ns = (long long)coarse.st_mtim.tv_sec * 1000000000;
    CHECK(pub_fingerprint_final(&a, coarse_ns + 1500000000LL) == 0);
    CHECK(pub_fingerprint_final(&a, coarse_ns + 2500000000LL) != 0);
    pub_fingerprint_free(&a);
}

static void test_fingerprint_stored(void)
{
    char *site = new_site();
    pub_cache *c = pub_cache_open(site);
    CHECK(!pub_cache_fingerprint_matches(c, 5, 0));
    CHECK(pub_cache_fingerprint_since(c) == 0);
    pub_cache_set_fingerprint(c, 5, 123456789012345LL, 1000);
    CHECK(!pub_cache_fingerprint_matches(c, 5, 0)); /* only what the last build stored */
    CHECK_SAVED(c);
    pub_cache_free(c);

    c = pub_cache_open(site);
    CHECK(pub_cache_fingerprint_matches(c, 5, 999));
    CHECK(pub_cache_fingerprint_since(c) == 123456789012345LL);
    CHECK(!pub_cache_fingerprint_matches(c, 5, 1000)); /* a future post is due */
    CHECK(!pub_cache_fingerprint_matches(c, 6, 999));
    CHECK(!pub_cache_fingerprint_matches(c, 0, 999));
    /* Same fingerprint and expiry again: nothing to write. */
    ino_t before = inode_of(cache_file(site));
    pub_cache_set_fingerprint(c, 5, 123456789012345LL, 1000);
    CHECK_SAVED(c);
    CHECK(inode_of(cache_file(site)) == before);
    pub_cache_free(c);

    c = pub_cache_open(site);
    pub_cache_set_fingerprint(c, 5, 1, LLONG_MAX);
    CHECK_SAVED(c);
    pub_cache_free(c);
    c = pub_cache_open(site);
    CHECK(pub_cache_fingerprint_matches(c, 5, LLONG_MAX - 1));
    pub_cache_set_fingerprint(c, 0, 0, 0); /* an unusable fingerprint clears it */
    CHECK_SAVED(c);
    pub_cache_free(c);
    c = pub_cache_open(site);
    CHECK(!pub_cache_fingerprint_matches(c, 5, 0));
    pub_cache_free(c);
}

static void write_text(const char *site, const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", site, rel);
    check_write_text(path, text, 0644);
}

static uint64_t tree_fingerprint(const char *site, const char *skip, long long since_ns)
{
    pub_fingerprint fp;
    pub_fingerprint_init(&fp);
    pub_fingerprint_add_tree(&fp, site, skip);
    uint64_t result = pub_fingerprint_final(&fp, since_ns);
    pub_fingerprint_free(&fp);
    return result;
}

static void test_fingerprint_tree(void)
{
    char *site = new_site();
    char path[256], dest[256];
    snprintf(path, sizeof path, "%s/posts", site);
    mkdir(path, 0777);
    snprintf(dest, sizeof dest, "%s/_site", site);
    mkdir(dest, 0777);
    write_text(site, "config.yaml", "title: t\n");
    write_text(site, "posts/2024-01-01-a.md", "---\ntitle: a\n---\nA\n");
    write_text(site, "_site/index.html", "old");

    /* Files just written count by their contents: an edit that keeps
     * every time and the size still shows. */
    long long now = pub_fingerprint_now();
    uint64_t racy = tree_fingerprint(site, dest, now);
    CHECK(racy != 0 && racy == tree_fingerprint(site, dest, now));
    snprintf(path, sizeof path, "%s/posts/2024-01-01-a.md", site);
    struct stat before;
    stat(path, &before);
    write_text(site, "posts/2024-01-01-a.md", "---\ntitle: a\n---\nB\n");
    struct timespec same[2] = {before.st_atim, before.st_mtim};
    utimensat(AT_FDCWD, path, same, 0);
    CHECK(racy != tree_fingerprint(site, dest, now));
    write_text(site, "posts/2024-01-01-a.md", "---\ntitle: a\n---\nA\n");
    uint64_t base = tree_fingerprint(site, dest, later);
    CHECK(base != 0);
    CHECK(base == tree_fingerprint(site, dest, later));

    /* DEST, dot files and the cache itself do not count. */
    write_text(site, "_site/index.html", "new");
    write_text(site, ".hidden", "x");
    pub_cache *c = pub_cache_open(site);
    put_html(c, 1, "one");
    CHECK_SAVED(c);
    pub_cache_free(c);
    CHECK(base == tree_fingerprint(site, dest, later));
    CHECK(base != tree_fingerprint(site, NULL, later));

    /* One nanosecond of mtime, a rename, a new file. */
    snprintf(path, sizeof path, "%s/posts/2024-01-01-a.md", site);
    struct stat st;
    stat(path, &st);
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    t[1].tv_nsec = (t[1].tv_nsec + 1) % 1000000000;
    utimensat(AT_FDCWD, path, t, 0);
    uint64_t touched = tree_fingerprint(site, dest, later);
    CHECK(touched != 0 && touched != base);
    char renamed[256];
    snprintf(renamed, sizeof renamed, "%s/posts/2024-01-01-b.md", site);
    rename(path, renamed);
    uint64_t moved = tree_fingerprint(site, dest, later);
    CHECK(moved != touched && moved != base);
    write_text(site, "posts/2024-01-02-c.md", "C\n");
    CHECK(moved != tree_fingerprint(site, dest, later));
    CHECK(tree_fingerprint("/nonexistent/site", NULL, later) == 0);
}


/* ---- Appending saves ------------------------------------------------------------------ */

/* The HTML of key `k` in round `round` of the tests below. */
static void text_for(uint64_t k, char *buf, size_t size)
{
    snprintf(buf, size, "<p>entry %llu</p>\n%.*s", (unsigned long long)k, (int)(k % 97),
             "=================================================================================="
             "==================");
}

/* Whether the cache holds exactly keys [from, to) (each with its right
 * bytes) among [0, limit). */
static bool holds_exactly(pub_cache *c, uint64_t from, uint64_t to, uint64_t limit)
{
    bool ok = true;
    for (uint64_t k = 0; k < limit; k++) {
        char want[256];
        text_for(k, want, sizeof want);
        size_t len = 0;
        char *got = pub_cache_get_html(c, k, &len);
        bool in = k >= from && k < to;
        if (in ? !got || len != strlen(want) || strcmp(got, want) != 0 : got != NULL) ok = false;
        free(got);
    }
    return ok;
}

/* A save after a small change appends (same inode, the old bytes as they
 * were, the file longer); after many, when garbage would pass the live
 * bytes, it compacts (a new, shorter file). Every state in between loads
 * with exactly the entries of the last save. */
static void test_append_and_compact(void)
{
    enum { LIVE = 200, ROUNDS = 150 };
    char *site = new_site();
    const char *file = cache_file(site);
    pub_cache *c = pub_cache_open(site);
    char html[256];
    for (uint64_t k = 0; k < LIVE; k++) {
        text_for(k, html, sizeof html);
        put_html(c, k, html);
    }
    CHECK_SAVED(c);
    pub_cache_free(c);
    long long first_size = size_of(file);
    int appends = 0, compactions = 0, wrong = 0;
    long long largest = 0;
    /* Each round drops the oldest key and adds one (a post edited). */
    for (uint64_t r = 1; r <= ROUNDS; r++) {
        ino_t ino = inode_of(file);
        long long size = size_of(file);
        char *head = NULL;
        size_t head_len = 0;
        CHECK(pub_file_read(file, &head, &head_len) == 0);
        c = pub_cache_open(site);
        if (!holds_exactly(c, r - 1, r - 1 + LIVE, r + LIVE)) wrong++;
        pub_cache_free(c);
        c = pub_cache_open(site);
        for (uint64_t k = r; k < r - 1 + LIVE; k++) pub_cache_keep(c, k);
        text_for(r - 1 + LIVE, html, sizeof html);
        put_html(c, r - 1 + LIVE, html);
        pub_cache_set_fingerprint(c, r, 1, LLONG_MAX);
        CHECK_SAVED(c);
        pub_cache_free(c);
        if (inode_of(file) == ino) {
            /* An append: nothing before the old index's end changed but
             * the header (80 bytes). */
            char *now = NULL;
            size_t now_len = 0;
            CHECK(pub_file_read(file, &now, &now_len) == 0);
            CHECK(now_len > head_len && memcmp(now + 80, head + 80, head_len - 80) == 0);
            free(now);
            appends++;
        } else {
            CHECK(size_of(file) < size);
            compactions++;
        }
        free(head);
        if (size_of(file) > largest) largest = size_of(file);
        CHECK(stray_files(site) == 0);
    }
    c = pub_cache_open(site);
    CHECK(holds_exactly(c, ROUNDS, ROUNDS + LIVE, ROUNDS + LIVE));
    CHECK(pub_cache_fingerprint_matches(c, ROUNDS, 0));
    pub_cache_free(c);
    CHECK(wrong == 0);
    CHECK(appends > 0 && compactions > 0);
    /* Garbage never passes the live bytes (the index counts as neither). */
    CHECK(largest < 3 * first_size);
}

enum { CRASHED = 42, SAVED = 43 };
static int crash_at, crash_steps;

static void crash_hook(const char *name)
{
    (void)name;
    if (++crash_steps == crash_at) _exit(CRASHED);
}

/* The cache of `site` before a save: keys [0, 40), fingerprint 1. The
 * save: keeps [keep_from, 40), puts [40, 40 + added), fingerprint 2.
 * Killed after each of its steps in turn, it leaves the old cache or the
 * new one, whole; the next save over it gives the right cache. Returns
 * how many steps the save had. */
static int crash_each_save_step(uint64_t keep_from, uint64_t added)
{
    char html[256];
    int k = 1;
    for (;; k++) {
        char *site = new_site();
        pub_cache *c = pub_cache_open(site);
        for (uint64_t i = 0; i < 40; i++) {
            text_for(i, html, sizeof html);
            put_html(c, i, html);
        }
        pub_cache_set_fingerprint(c, 1, 1, LLONG_MAX);
        CHECK_SAVED(c);
        pub_cache_free(c);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            crash_at = k;
            pub_cache_step_hook = crash_hook;
            c = pub_cache_open(site);
            for (uint64_t i = keep_from; i < 40; i++) pub_cache_keep(c, i);
            for (uint64_t i = 40; i < 40 + added; i++) {
                text_for(i, html, sizeof html);
                put_html(c, i, html);
            }
            pub_cache_set_fingerprint(c, 2, 1, LLONG_MAX);
            pub_diag *d = pub_cache_save(c);
            _exit(d ? 1 : SAVED);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        CHECK(code == CRASHED || code == SAVED);
        c = pub_cache_open(site);
        bool was_old = pub_cache_fingerprint_matches(c, 1, 0) && holds_exactly(c, 0, 40, 40 + added);
        pub_cache_free(c);
        c = pub_cache_open(site);
        bool is_new = pub_cache_fingerprint_matches(c, 2, 0) &&
                      holds_exactly(c, keep_from, 40 + added, 40 + added);
        pub_cache_free(c);
        CHECK(code == SAVED ? is_new : was_old || is_new);
        /* The next build's save, over what the killed one left. */
        c = pub_cache_open(site);
        for (uint64_t i = 0; i < 40 + added; i++) pub_cache_keep(c, i);
        text_for(99, html, sizeof html);
        put_html(c, 99, html);
        pub_cache_set_fingerprint(c, 3, 1, LLONG_MAX);
        CHECK_SAVED(c);
        pub_cache_free(c);
        c = pub_cache_open(site);
        CHECK(pub_cache_fingerprint_matches(c, 3, 0));
        CHECK_HTML(c, 99, html);
        uint64_t lo = is_new ? keep_from : 0, hi = is_new ? 40 + added : 40;
        CHECK(holds_exactly(c, lo, hi, 40 + added));
        pub_cache_free(c);
        CHECK(stray_files(site) <= (code == CRASHED ? 1 : 0)); /* a killed save's next file */
        if (code == SAVED) break;
    }
    return k - 1;
}

static void test_crash_during_save(void)
{
    /* One entry replaced: an append (blobs, index, header). */
    CHECK(crash_each_save_step(1, 1) == 3);
    /* Most entries dropped: a compaction (blobs, index, header, rename). */
    CHECK(crash_each_save_step(35, 2) == 4);
    /* Nothing new, nothing dropped: the header alone. */
    CHECK(crash_each_save_step(0, 0) == 1);
}

/* Widens each step of a save, so saves running at once overlap: without
 * the lock, a slow appender's blobs are overwritten by a quick one's
 * before its header names them. */
static useconds_t slow_us;

static void slow_hook(const char *name)
{
    (void)name;
    usleep(slow_us);
}

/* Four processes save over one cache at the same moment: all append, or
 * two append and two rewrite. The lock makes them take turns: the file loads with exactly
 * one process's entries (the last one's), each whole, and no temporary
 * file is left behind. */
static void test_concurrent_saves(void)
{
    enum { PROCS = 4, EACH = 30 };
    char html[256];
    for (int round = 0; round < 5; round++) {
        char *site = new_site();
        pub_cache *c = pub_cache_open(site);
        for (uint64_t i = 0; i < 100; i++) {
            text_for(i, html, sizeof html);
            put_html(c, i, html);
        }
        CHECK_SAVED(c);
        pub_cache_free(c);
        int go[2];
        CHECK(pipe(go) == 0);
        fflush(NULL);
        pid_t pids[PROCS];
        for (int p = 0; p < PROCS; p++) {
            pids[p] = fork();
            if (pids[p] != 0) continue;
            close(go[1]);
            slow_us = p == 0 ? 40000 : 5000;
            pub_cache_step_hook = slow_hook;
            c = pub_cache_open(site);
            /* In the first rounds all append; then even processes keep
             * the old entries (append), odd ones drop them (compaction). */
            if (round < 3 || p % 2 == 0)
                for (uint64_t i = 0; i < 100; i++) pub_cache_keep(c, i);
            uint64_t base = 1000 + (uint64_t)p * 100;
            for (uint64_t i = base; i < base + EACH; i++) {
                text_for(i, html, sizeof html);
                put_html(c, i, html);
            }
            char byte;
            if (read(go[0], &byte, 1) != 0) _exit(2); /* all start together */
            pub_diag *d = pub_cache_save(c);
            pub_cache_free(c);
            _exit(d ? 1 : 0);
        }
        close(go[0]);
        close(go[1]);
        int failed = 0;
        for (int p = 0; p < PROCS; p++) {
            int status = 0;
            if (waitpid(pids[p], &status, 0) != pids[p] || !WIFEXITED(status) ||
                WEXITSTATUS(status) != 0)
                failed++;
        }
        CHECK(failed == 0);
        c = pub_cache_open(site);
        int complete = 0, wrong = 0;
        for (int p = 0; p < PROCS; p++) {
            uint64_t base = 1000 + (uint64_t)p * 100;
            int found = 0;
            for (uint64_t i = base; i < base + EACH; i++) {
                size_t len = 0;
                char *got = pub_cache_get_html(c, i, &len);
                text_for(i, html, sizeof html);
                if (got && strcmp(got, html) != 0) wrong++;
                found += got != NULL;
                free(got);
            }
            if (found == EACH) {
                complete++;
                int old = 0;
                for (uint64_t i = 0; i < 100; i++) {
                    char *got = pub_cache_get_html(c, i, NULL);
                    text_for(i, html, sizeof html);
                    if (got && strcmp(got, html) != 0) wrong++;
                    old += got != NULL;
                    free(got);
                }
                CHECK(old == (round < 3 || p % 2 == 0 ? 100 : 0));
            } else {
                CHECK(found == 0);
            }
        }
        pub_cache_free(c);
        CHECK(complete == 1 && wrong == 0);
        CHECK(stray_files(site) == 0);
    }
}

/* A lock held and never given back (a saver stopped with Ctrl-Z): a load
 * reads without it, a save rewrites (no lock needed), each after a
 * bounded wait; the cache answers right. */
static void test_lock_held(void)
{
    char *site = new_site();
    const char *file = cache_file(site);
    pub_cache *c = pub_cache_open(site);
    put_html(c, 1, "one");
    CHECK_SAVED(c);
    pub_cache_free(c);
    int holder = open(file, O_RDONLY);
    CHECK(holder >= 0 && flock(holder, LOCK_EX) == 0);
    ino_t before = inode_of(file);
    c = pub_cache_open(site);
    CHECK_HTML(c, 1, "one");
    put_html(c, 2, "two");
    CHECK_SAVED(c);
    pub_cache_free(c);
    CHECK(inode_of(file) != before); /* rewritten, not appended */
    close(holder);
    c = pub_cache_open(site);
    CHECK_HTML(c, 1, "one");
    CHECK_HTML(c, 2, "two");
    pub_cache_free(c);
    CHECK(stray_files(site) == 0);
}

int main(void)
{
    check_temp_dir(root, "cache");
    test_hash_vectors();
    test_hash_quality();
    test_md_key();
    test_round_trip();
    test_stale_dropped();
    test_options_miss();
    test_unsaved_leaves_nothing();
    test_save_failure();
    test_damaged_files();
    test_threads();
    test_append_and_compact();
    test_crash_during_save();
    test_concurrent_saves();
    test_lock_held();
    test_fingerprint();
    test_fingerprint_stored();
    test_fingerprint_tree();
    pub_file_remove_tree(root);
    return check_finish();
}
