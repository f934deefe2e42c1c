/* Tests for core/output.c: the staging folder, confined paths, unchanged
 * files left alone (inode and mtime) through the manifest, the journal
 * commit, writer threads and their failures, and the untouched DEST on
 * abort. Everything happens under a mkdtemp folder in /tmp that is removed
 * at the end. */
#define _GNU_SOURCE
#include "check.h"
#include "output.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/mem.h"
#include "util/path.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];

static char *at(const char *rel)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", root, rel);
    return p;
}

/* The file's contents ("<missing>" when missing: tests then fail on the
 * compare; caller frees). */
static char *slurp(const char *path)
{
    char *data = check_read_file(path, NULL);
    return data ? data : pub_xstrdup("<missing>");
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void set_past_mtimes_in(const char *dir);

static int past_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    (void)st;
    if (flag == FTW_F) {
        struct timespec t[2] = {{946684800, 0}, {946684800, 0}}; /* 2000-01-01 */
        utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
    }
    return 0;
}

static void set_past_mtimes_in(const char *dir)
{
    nftw(dir, past_entry, 16, FTW_PHYS);
}

/* A listing of a tree with each file's inode, mtime and bytes, sorted, so
 * two snapshots compare equal only when nothing at all changed. */
static char **snap_lines;
static size_t snap_len;
static size_t snap_root_len;

static int snap_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    pub_buf line = PUB_BUF_INIT;
    pub_buf_printf(&line, "%s %o %lu %ld.%09ld", path + snap_root_len, (unsigned)st->st_mode,
                   (unsigned long)st->st_ino, (long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    if (flag == FTW_F) {
        char *data = slurp(path);
        pub_buf_printf(&line, " [%s]", data);
        free(data);
    }
    snap_lines = pub_xrealloc(snap_lines, (snap_len + 1) * sizeof *snap_lines);
    snap_lines[snap_len++] = pub_buf_detach(&line);
    return 0;
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *snapshot(const char *dir)
{
    snap_lines = NULL;
    snap_len = 0;
    snap_root_len = strlen(dir);
    nftw(dir, snap_entry, 16, FTW_PHYS);
    qsort(snap_lines, snap_len, sizeof *snap_lines, cmp_lines);
    pub_buf all = PUB_BUF_INIT;
    for (size_t i = 0; i < snap_len; i++) {
        pub_buf_puts(&all, snap_lines[i]);
        pub_buf_putc(&all, '\n');
        free(snap_lines[i]);
    }
    free(snap_lines);
    return pub_buf_detach(&all);
}

static size_t count_files(const char *dir);
static size_t counted;
static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)ftw;
    if (flag == FTW_F) counted++;
    return 0;
}

static size_t count_files(const char *dir)
{
    counted = 0;
    nftw(dir, count_entry, 16, FTW_PHYS);
    return counted;
}

static void write_ok(pub_out *out, const char *rel, const char *text)
{
    CHECK_OK(pub_out_write(out, rel, text, strlen(text)));
}

/* ---- Tests --------------------------------------------------------------------- */

static void test_first_and_second_build(void)
{
    char dest[512]; /* the parent "site" does not exist yet */
    snprintf(dest, sizeof dest, "%s", at("site/_site"));
    check_write_text(at("style.css"), "body{}", 0644);
    check_write_text(at("tool.sh"), "#!/bin/sh\n", 0755);

    pub_out *out;
    CHECK_OK(pub_out_begin(dest, &out));
    CHECK(exists(at("site/._site.publish-tmp")));
    write_ok(out, "index.html", "<h1>home</h1>");
    write_ok(out, "posts/2024/a/index.html", "post a");
    write_ok(out, "posts/2024/b/index.html", "post b");
    write_ok(out, "about", "about");
    CHECK_OK(pub_out_copy(out, "css/style.css", at("style.css")));
    CHECK_OK(pub_out_copy(out, "bin/tool.sh", at("tool.sh")));
    pub_out_stats stats;
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 6 && stats.unchanged == 0 && stats.removed == 0);
    CHECK(!exists(at("site/._site.publish-tmp")));
    CHECK(exists(at("site/._site.publish-manifest")) && count_files(at("site/_site")) == 6);
    CHECK_FILE(at("site/_site/index.html"), "<h1>home</h1>");
    CHECK_FILE(at("site/_site/posts/2024/b/index.html"), "post b");
    CHECK_FILE(at("site/_site/css/style.css"), "body{}");
    struct stat st;
    CHECK(stat(at("site/_site/index.html"), &st) == 0 && (st.st_mode & 0111) == 0);
    CHECK(stat(at("site/_site/bin/tool.sh"), &st) == 0 && (st.st_mode & 0100) != 0);

    /* Backdated by hand, the files no longer match the manifest's mtimes;
     * without a manifest (--clean: DEST's files are not publish's) the
     * bytes are compared, and the old files kept. */
    set_past_mtimes_in(dest);
    CHECK(unlink(at("site/._site.publish-manifest")) == 0);
    CHECK_OK(pub_out_begin_jobs(dest, 1, true, &out));
    write_ok(out, "index.html", "<h1>home</h1>");
    write_ok(out, "posts/2024/a/index.html", "post a");
    write_ok(out, "posts/2024/b/index.html", "post b");
    write_ok(out, "about", "about");
    CHECK_OK(pub_out_copy(out, "css/style.css", at("style.css")));
    CHECK_OK(pub_out_copy(out, "bin/tool.sh", at("tool.sh")));
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 0 && stats.unchanged == 6 && stats.removed == 0);

    /* Second build, by the manifest: home and css unchanged, a changed, b
     * gone, c new. */
    struct stat home0, css0, a0;
    stat(at("site/_site/index.html"), &home0);
    stat(at("site/_site/css/style.css"), &css0);
    stat(at("site/_site/posts/2024/a/index.html"), &a0);
    CHECK(home0.st_mtim.tv_sec == 946684800);

    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "index.html", "<h1>home</h1>");
    write_ok(out, "posts/2024/a/index.html", "post a, edited");
    write_ok(out, "posts/2024/c/index.html", "post c");
    write_ok(out, "about", "about");
    CHECK_OK(pub_out_copy(out, "css/style.css", at("style.css")));
    CHECK_OK(pub_out_copy(out, "bin/tool.sh", at("tool.sh")));
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 2 && stats.unchanged == 4 && stats.removed == 1);

    struct stat home1, css1, a1;
    stat(at("site/_site/index.html"), &home1);
    stat(at("site/_site/css/style.css"), &css1);
    stat(at("site/_site/posts/2024/a/index.html"), &a1);
    CHECK(home1.st_ino == home0.st_ino && home1.st_mtim.tv_sec == 946684800 &&
          home1.st_mtim.tv_nsec == home0.st_mtim.tv_nsec);
    CHECK(css1.st_ino == css0.st_ino && css1.st_mtim.tv_sec == 946684800);
    CHECK(home1.st_nlink == 1);
    CHECK(a1.st_mtim.tv_sec > 946684800);
    CHECK_FILE(at("site/_site/posts/2024/a/index.html"), "post a, edited");
    CHECK_FILE(at("site/_site/posts/2024/c/index.html"), "post c");
    CHECK(!exists(at("site/_site/posts/2024/b")) && exists(at("site/_site/posts/2024/c")));
    CHECK(!exists(at("site/._site.publish-tmp")));

    /* Editing an output file must not reach the static source. */
    check_write_text(at("site/_site/css/style.css"), "changed", 0644);
    CHECK_FILE(at("style.css"), "body{}");
}

static void test_traversal(void)
{
    pub_out *out;
    CHECK_OK(pub_out_begin(at("trav"), &out));
    const char *bad[] = {"../x", "a/../../x", "/etc/passwd", "a/./../../b", "", "a/..", ".",
                         "..", "./../trav/x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char want[128];
        snprintf(want, sizeof want, "output path '%s' is outside the destination", bad[i]);
        CHECK_ERR(pub_out_write(out, bad[i], "x", 1), NULL, want);
        CHECK_ERR(pub_out_copy(out, bad[i], at("style.css")), NULL, want);
    }
    /* Normalised paths that stay inside are fine. */
    write_ok(out, "a/./b/../c.html", "c");
    pub_out_stats stats;
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 1);
    CHECK_FILE(at("trav/a/c.html"), "c");
    CHECK(!exists(at("x")) && !exists(at("b")) && count_files(at("trav")) == 1);
}

static void test_duplicates_and_conflicts(void)
{
    pub_out *out;
    CHECK_OK(pub_out_begin(at("dup"), &out));
    write_ok(out, "x/y.html", "1");
    CHECK_ERR(pub_out_write(out, "x//./y.html", "2", 1), NULL, "two pages write 'x/y.html'");
    CHECK_ERR(pub_out_copy(out, "x/y.html", at("style.css")), NULL, "two pages write 'x/y.html'");
    write_ok(out, "page", "a file");
    CHECK_ERR(pub_out_write(out, "page/index.html", "x", 1), NULL,
              "cannot write 'page/index.html': another page wrote a file where a folder goes");
    write_ok(out, "dir/index.html", "i");
    CHECK_ERR(pub_out_copy(out, "dir", at("style.css")), NULL,
              "cannot write 'dir': another page needs a folder there");
    pub_out_abort(out);
    CHECK(!exists(at("dup")) && !exists(at(".dup.publish-tmp")));
}

static void test_copy_errors(void)
{
    pub_out *out;
    CHECK_OK(pub_out_begin(at("cperr"), &out));
    char want[600];
    snprintf(want, sizeof want, "cannot read '%s': No such file or directory", at("nothing"));
    CHECK_ERR(pub_out_copy(out, "n.css", at("nothing")), NULL, want);
    snprintf(want, sizeof want, "cannot read '%s': Is a directory", root);
    CHECK_ERR(pub_out_copy(out, "d.css", root), NULL, want);
    pub_out_abort(out);
}

static void test_abort_keeps_dest(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("keep"));
    pub_out *out;
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "index.html", "v1");
    write_ok(out, "deep/er/page.html", "deep");
    CHECK_OK(pub_out_commit(out, NULL));
    check_write_text(at("keep/extra.txt"), "left by hand", 0644);

    char *before = snapshot(dest);
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "index.html", "v2");
    write_ok(out, "deep/er/page.html", "deep");
    write_ok(out, "new/page.html", "new");
    pub_out_abort(out);
    char *after = snapshot(dest);
    CHECK_STR(after, before);
    CHECK(strstr(before, "/extra.txt") != NULL && strstr(before, "[deep]") != NULL);
    CHECK(!exists(at(".keep.publish-tmp")));
    free(before);
    free(after);
    pub_out_abort(NULL);

    /* A build drops files the last build produced and this one did not,
     * and the folders that leaves empty; a file added by hand since the
     * last build is not the build's to remove. */
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "index.html", "v1");
    pub_out_stats stats;
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.removed == 1 && stats.unchanged == 1 && stats.written == 0);
    CHECK(!exists(at("keep/deep")));
    CHECK_FILE(at("keep/extra.txt"), "left by hand");
}

static void test_stale_staging(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("stale"));
    CHECK(pub_file_mkdirs(at(".stale.publish-tmp/old/dir")) == 0);
    check_write_text(at(".stale.publish-tmp/old/dir/junk.html"), "junk", 0644);
    pub_out *out;
    CHECK_OK(pub_out_begin(dest, &out));
    CHECK(!exists(at(".stale.publish-tmp/old")));
    write_ok(out, "index.html", "fresh");
    CHECK_OK(pub_out_commit(out, NULL));
    CHECK(count_files(dest) == 1 && !exists(at(".stale.publish-tmp")));

    /* Stale staging beside an existing DEST is cleared too. */
    CHECK(pub_file_mkdirs(at(".stale.publish-tmp/x")) == 0);
    CHECK_OK(pub_out_begin(dest, &out));
    CHECK(!exists(at(".stale.publish-tmp/x")));
    pub_out_abort(out);
    CHECK_FILE(at("stale/index.html"), "fresh");
}

static void test_dest_not_folder(void)
{
    check_write_text(at("afile"), "x", 0644);
    pub_out *out = (pub_out *)1;
    char want[600];
    snprintf(want, sizeof want, "destination '%s' is not a folder", at("afile"));
    CHECK_ERR(pub_out_begin(at("afile"), &out), NULL, want);
    CHECK(out == NULL);

    /* A DEST that is a symlink to a folder keeps its link. */
    CHECK(pub_file_mkdirs(at("real-out")) == 0);
    CHECK(symlink("real-out", at("linked")) == 0);
    CHECK_OK(pub_out_begin(at("linked"), &out));
    write_ok(out, "i.html", "via link");
    CHECK_OK(pub_out_commit(out, NULL));
    struct stat st;
    CHECK(lstat(at("linked"), &st) == 0 && S_ISLNK(st.st_mode));
    CHECK_FILE(at("real-out/i.html"), "via link");
}

static void test_symlink_in_dest_not_followed(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("sym"));
    pub_out *out;
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "index.html", "home");
    CHECK_OK(pub_out_commit(out, NULL));
    CHECK(pub_file_mkdirs(at("outside")) == 0);
    check_write_text(at("outside/secret"), "same bytes", 0644);
    CHECK(symlink("../outside", at("sym/evil")) == 0);
    CHECK(symlink("../outside/secret", at("sym/link.html")) == 0);

    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "index.html", "home");
    write_ok(out, "evil/secret", "same bytes");
    write_ok(out, "link.html", "same bytes");
    pub_out_stats stats;
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 2 && stats.unchanged == 1);
    struct stat secret, copy;
    CHECK(stat(at("outside/secret"), &secret) == 0 && secret.st_nlink == 1);
    CHECK(lstat(at("sym/evil/secret"), &copy) == 0 && copy.st_ino != secret.st_ino);
    CHECK(lstat(at("sym/link.html"), &copy) == 0 && S_ISREG(copy.st_mode));
    CHECK_FILE(at("outside/secret"), "same bytes");
}

static void test_utf8_names(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("utf8"));
    pub_out *out;
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "categories/뉴스/index.html", "뉴스");
    write_ok(out, "tags/café/index.html", "café");
    CHECK_ERR(pub_out_write(out, "categories/뉴스/./index.html", "x", 1), NULL,
              "two pages write 'categories/뉴스/index.html'");
    CHECK_OK(pub_out_commit(out, NULL));
    CHECK_FILE(at("utf8/categories/뉴스/index.html"), "뉴스");
    CHECK_FILE(at("utf8/tags/café/index.html"), "café");
}

enum { THREADS = 4, PER_THREAD = 250 };

typedef struct worker {
    pub_out *out;
    int id;
    int errors;
} worker;

static void *write_many(void *arg)
{
    worker *w = arg;
    char rel[64], body[64];
    for (int i = 0; i < PER_THREAD; i++) {
        /* Threads share folders, so they race to create them. */
        snprintf(rel, sizeof rel, "d%d/e%d/t%d-%d.html", i % 10, i % 3, w->id, i);
        snprintf(body, sizeof body, "thread %d file %d", w->id, i);
        pub_diag *d = pub_out_write(w->out, rel, body, strlen(body));
        if (d) {
            w->errors++;
            pub_diag_free(d);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("threads"));
    for (int round = 0; round < 2; round++) {
        pub_out *out;
        CHECK_OK(pub_out_begin(dest, &out));
        pthread_t tids[THREADS];
        worker workers[THREADS];
        for (int t = 0; t < THREADS; t++) {
            workers[t] = (worker){out, t, 0};
            pthread_create(&tids[t], NULL, write_many, &workers[t]);
        }
        int errors = 0;
        for (int t = 0; t < THREADS; t++) {
            pthread_join(tids[t], NULL);
            errors += workers[t].errors;
        }
        CHECK(errors == 0);
        pub_out_stats stats;
        CHECK_OK(pub_out_commit(out, &stats));
        /* The second round writes the same bytes: nothing is rewritten. */
        CHECK(stats.written == (round ? 0u : 1000u) && stats.unchanged == (round ? 1000u : 0u));
        CHECK(count_files(dest) == THREADS * PER_THREAD);
    }
    CHECK_FILE(at("threads/d7/e2/t3-17.html"), "thread 3 file 17");
    CHECK_FILE(at("threads/d9/e0/t0-249.html"), "thread 0 file 249");
}

/* One build of `n` pages "pN.html" holding "vV page N" into `dest`
 * (`clean`: as with --clean). */
static void build_pages_as(const char *dest, int n, int version, bool clean,
                           pub_out_stats *stats)
{
    pub_out *out;
    CHECK_OK(pub_out_begin_jobs(dest, 1, clean, &out));
    for (int i = 0; i < n; i++) {
        char rel[32], body[32];
        snprintf(rel, sizeof rel, "p%d.html", i);
        snprintf(body, sizeof body, "v%d page %d", version, i);
        write_ok(out, rel, body);
    }
    CHECK_OK(pub_out_commit(out, stats));
}

static void build_pages(const char *dest, int n, int version, pub_out_stats *stats)
{
    build_pages_as(dest, n, version, false, stats);
}

static void test_hand_edits(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("hand"));
    pub_out_stats stats;
    build_pages(dest, 4, 1, &stats);
    struct stat p0, p1;
    stat(at("hand/p0.html"), &p0);

    /* Same bytes put back by hand (new mtime), other bytes of the same size,
     * and a file deleted: all three are written again, p3 is left. */
    check_write_text(at("hand/p1.html"), "v1 page 1", 0644);
    check_write_text(at("hand/p2.html"), "v1 page X", 0644);
    CHECK(unlink(at("hand/p3.html")) == 0);
    struct timespec t[2] = {{946684800, 0}, {946684800, 0}};
    CHECK(utimensat(AT_FDCWD, at("hand/p1.html"), t, 0) == 0);
    build_pages(dest, 4, 1, &stats);
    CHECK(stats.written == 3 && stats.unchanged == 1 && stats.removed == 0);
    stat(at("hand/p0.html"), &p1);
    CHECK(p1.st_ino == p0.st_ino && p1.st_mtim.tv_nsec == p0.st_mtim.tv_nsec &&
          p1.st_mtim.tv_sec == p0.st_mtim.tv_sec);
    CHECK_FILE(at("hand/p2.html"), "v1 page 2");
    CHECK_FILE(at("hand/p3.html"), "v1 page 3");
    CHECK(stat(at("hand/p1.html"), &p1) == 0 && p1.st_mtim.tv_sec != 946684800);

    /* A damaged manifest counts as none: DEST's files are then not known
     * to be publish's, so it takes --clean; bytes are compared. */
    check_write_text(at(".hand.publish-manifest"), "publish-manifest 2\nzz 1 2 x", 0644);
    pub_out *refused = NULL;
    pub_diag *err = pub_out_begin(dest, &refused);
    CHECK(err && !refused);
    pub_diag_free(err);
    build_pages_as(dest, 4, 1, true, &stats);
    CHECK(stats.written == 0 && stats.unchanged == 4 && stats.removed == 0);
    build_pages(dest, 4, 1, &stats);
    CHECK(stats.written == 0 && stats.unchanged == 4);

    /* A manifest path that climbs out of DEST is never removed. */
    check_write_text(at("victim"), "keep me", 0644);
    char *manifest = slurp(at(".hand.publish-manifest"));
    pub_buf b = PUB_BUF_INIT;
    pub_buf_puts(&b, manifest);
    pub_buf_append(&b, "0000000000000000 1 1 ../victim\0\n", 33);
    int fd = open(at(".hand.publish-manifest"), O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len);
    close(fd);
    pub_buf_free(&b);
    free(manifest);
    /* (Such a manifest is a damaged one: the build is refused.) */
    err = pub_out_begin(dest, &refused);
    CHECK(err && !refused);
    pub_diag_free(err);
    build_pages_as(dest, 4, 1, true, &stats);
    CHECK(stats.unchanged == 4 && stats.removed == 0);
    CHECK_FILE(at("victim"), "keep me");
}

static void test_file_becomes_folder(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("shape"));
    pub_out *out;
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "a", "a file");
    write_ok(out, "b/index.html", "b in a folder");
    write_ok(out, "b/more/deep.html", "deep");
    CHECK_OK(pub_out_commit(out, NULL));

    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "a/index.html", "a in a folder");
    write_ok(out, "b", "b file");
    pub_out_stats stats;
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 2 && stats.removed == 3);
    CHECK_FILE(at("shape/a/index.html"), "a in a folder");
    CHECK_FILE(at("shape/b"), "b file");
    CHECK(count_files(dest) == 2);
}

static void test_first_build_over_foreign_files(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("foreign"));
    CHECK(pub_file_mkdirs(at("foreign/old/empty")) == 0);
    CHECK(pub_file_mkdirs(at("foreign/.git/objects")) == 0);
    check_write_text(at("foreign/.git/HEAD"), "ref: refs/heads/gh-pages", 0644);
    check_write_text(at("foreign/old/page.html"), "from another tool", 0644);
    check_write_text(at("foreign/index.html"), "home", 0644);
    check_write_text(at("foreign/CNAME"), "example.org", 0644);
    CHECK(symlink("index.html", at("foreign/alias")) == 0);
    struct stat home0, home1;
    stat(at("foreign/index.html"), &home0);

    /* No manifest: these files are not publish's, and it says so. */
    pub_out *out = NULL;
    pub_diag *err = pub_out_begin(dest, &out);
    CHECK(err && !out);
    CHECK_STR(err ? err->path : NULL, dest);
    CHECK_STR(err ? err->message : NULL,
              "'CNAME' and 3 more files were not written by publish; empty the folder or pass --clean");
    pub_diag_free(err);
    CHECK(!exists(at(".foreign.publish-tmp")) && exists(at("foreign/CNAME")));

    /* --clean: what the build does not produce goes (a version-control
     * folder stays); an identical file is kept as it is. */
    CHECK_OK(pub_out_begin_jobs(dest, 1, true, &out));
    write_ok(out, "index.html", "home");
    write_ok(out, "posts/x.html", "x");
    pub_out_stats stats;
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 1 && stats.unchanged == 1 && stats.removed == 3);
    CHECK(!exists(at("foreign/old")) && !exists(at("foreign/CNAME")) && !exists(at("foreign/alias")));
    CHECK_FILE(at("foreign/.git/HEAD"), "ref: refs/heads/gh-pages");
    stat(at("foreign/index.html"), &home1);
    CHECK(home1.st_ino == home0.st_ino);
    CHECK_FILE(at("foreign/posts/x.html"), "x");
    CHECK(exists(at(".foreign.publish-manifest")) && !exists(at("foreign/.foreign.publish-manifest")));

    /* With a manifest, a file added by hand is not publish's to remove. */
    check_write_text(at("foreign/CNAME"), "example.org", 0644);
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "index.html", "home");
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.removed == 1 && !exists(at("foreign/posts/x.html")));
    CHECK_FILE(at("foreign/CNAME"), "example.org");

    /* One foreign file is named alone; an empty folder is not a file. */
    CHECK(pub_file_mkdirs(at("single/empty")) == 0);
    CHECK_OK(pub_out_begin(at("single"), &out));
    pub_out_abort(out);
    check_write_text(at("single/notes.txt"), "mine", 0644);
    err = pub_out_begin(at("single"), &out);
    CHECK_STR(err ? err->message : NULL,
              "'notes.txt' was not written by publish; empty the folder or pass --clean");
    pub_diag_free(err);
}

/* A writer that fails: a folder squatting on the staging name of the first
 * file submitted (flat staging names files by number, from 0). */
static void test_writer_failure(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("wfail"));
    pub_out_stats stats;
    build_pages(dest, 3, 1, &stats);
    char *before = snapshot(dest);
    char *manifest = slurp(at(".wfail.publish-manifest"));

    pub_out *out;
    CHECK_OK(pub_out_begin_jobs(dest, 2, false, &out));
    CHECK(mkdir(at(".wfail.publish-tmp/0"), 0777) == 0);
    CHECK_OK(pub_out_submit(out, "p0.html", pub_xstrdup("v2 page 0"), 9));
    CHECK_OK(pub_out_submit(out, "p1.html", pub_xstrdup("v2 page 1"), 9));
    CHECK_OK(pub_out_submit(out, "new.html", pub_xstrdup("new"), 3));
    char *p0 = pub_path_join(dest, "p0.html");
    CHECK_ERR(pub_out_commit(out, NULL), p0, "cannot write: File exists");
    char *after = snapshot(dest);
    CHECK_STR(after, before);
    char *manifest_after = slurp(at(".wfail.publish-manifest"));
    CHECK_STR(manifest_after, manifest);
    CHECK(!exists(at(".wfail.publish-tmp")));
    free(before);
    free(after);
    free(manifest);
    free(manifest_after);

    /* The first build (no DEST yet, a mirrored staging folder) fails alike
     * and leaves no DEST. */
    CHECK_OK(pub_out_begin_jobs(at("wfail-new"), 1, false, &out));
    CHECK(mkdir(at(".wfail-new.publish-tmp/index.html"), 0777) == 0);
    CHECK_OK(pub_out_submit(out, "index.html", pub_xstrdup("home"), 4));
    CHECK_ERR(pub_out_commit(out, NULL), at("wfail-new/index.html"), "cannot write: File exists");
    CHECK(!exists(at("wfail-new")) && !exists(at(".wfail-new.publish-tmp")));

    /* With no writer threads, submit does the I/O; the error still waits
     * for commit. */
    CHECK_OK(pub_out_begin_jobs(dest, 0, false, &out));
    CHECK(mkdir(at(".wfail.publish-tmp/0"), 0777) == 0);
    CHECK_OK(pub_out_submit(out, "p0.html", pub_xstrdup("v3"), 2));
    CHECK_ERR(pub_out_commit(out, NULL), p0, "cannot write: File exists");
    CHECK_FILE(at("wfail/p0.html"), "v1 page 0");
    free(p0);
}

static void test_submit_rules(void)
{
    pub_out *out;
    CHECK_OK(pub_out_begin_jobs(at("subrules"), 2, false, &out));
    CHECK_ERR(pub_out_submit(out, "../x", pub_xstrdup("x"), 1), NULL,
              "output path '../x' is outside the destination");
    CHECK_OK(pub_out_submit(out, "x/y.html", pub_xstrdup("1"), 1));
    CHECK_ERR(pub_out_submit(out, "x//y.html", pub_xstrdup("2"), 1), NULL, "two pages write 'x/y.html'");
    CHECK_ERR(pub_out_submit(out, "x/y.html/z", pub_xstrdup("3"), 1), NULL,
              "cannot write 'x/y.html/z': another page wrote a file where a folder goes");
    CHECK_ERR(pub_out_submit(out, "x", pub_xstrdup("4"), 1), NULL,
              "cannot write 'x': another page needs a folder there");
    /* Abort with work still queued: nothing lands anywhere. */
    pub_out_abort(out);
    CHECK(!exists(at("subrules")) && !exists(at(".subrules.publish-tmp")));
}

enum { SUBMITTERS = 2, PER_SUBMITTER = 300 };

typedef struct submitter {
    pub_out *out;
    int id, version, errors;
} submitter;

static void *submit_many(void *arg)
{
    submitter *w = arg;
    for (int i = 0; i < PER_SUBMITTER; i++) {
        char rel[64], body[64];
        snprintf(rel, sizeof rel, "s%d/%d/page-%d.html", i % 7, w->id, i);
        int n = snprintf(body, sizeof body, "v%d from %d: %d", i % 5 ? 1 : w->version, w->id, i);
        pub_diag *d = pub_out_submit(w->out, rel, pub_xstrndup(body, (size_t)n), (size_t)n);
        if (d) {
            w->errors++;
            pub_diag_free(d);
        }
    }
    return NULL;
}

static void test_submit_threads(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("submit"));
    size_t total = SUBMITTERS * PER_SUBMITTER, every_fifth = SUBMITTERS * (PER_SUBMITTER / 5);
    for (int round = 0; round < 3; round++) {
        pub_out *out;
        CHECK_OK(pub_out_begin_jobs(dest, 2, false, &out));
        pthread_t tids[SUBMITTERS];
        submitter subs[SUBMITTERS];
        /* Rounds 0 and 1 write the same bytes; round 2 changes a fifth. */
        for (int t = 0; t < SUBMITTERS; t++) {
            subs[t] = (submitter){out, t, round < 2 ? 1 : 2, 0};
            pthread_create(&tids[t], NULL, submit_many, &subs[t]);
        }
        int errors = 0;
        for (int t = 0; t < SUBMITTERS; t++) {
            pthread_join(tids[t], NULL);
            errors += subs[t].errors;
        }
        CHECK(errors == 0);
        pub_out_stats stats;
        CHECK_OK(pub_out_commit(out, &stats));
        size_t written = round == 0 ? total : round == 1 ? 0 : every_fifth;
        CHECK(stats.written == written && stats.unchanged == total - written && stats.removed == 0);
        CHECK(count_files(dest) == total);
    }
    CHECK_FILE(at("submit/s3/1/page-10.html"), "v2 from 1: 10");
    CHECK_FILE(at("submit/s4/0/page-11.html"), "v1 from 0: 11");
}

/* Commit switches the whole new tree in at once (RENAME_EXCHANGE): DEST
 * is a new folder, unchanged files are the same inodes (hard links, mtime
 * kept), a file added by hand is carried over, the last build's file not
 * produced again is gone, and no staging folder is left. */
static void test_swap(void)
{
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("swap"));
    pub_out_stats stats;
    build_pages(dest, 3, 1, &stats);
    check_write_text(at("swap/CNAME"), "example.org", 0644);
    struct stat root0, p0a, root1, p0b;
    CHECK(stat(dest, &root0) == 0 && stat(at("swap/p0.html"), &p0a) == 0);

    pub_out *out;
    CHECK_OK(pub_out_begin(dest, &out));
    write_ok(out, "p0.html", "v1 page 0");
    write_ok(out, "p1.html", "v2 page 1");
    write_ok(out, "new/p3.html", "v2 page 3");
    CHECK_OK(pub_out_commit(out, &stats));
    CHECK(stats.written == 2 && stats.unchanged == 1 && stats.removed == 1);
    CHECK(stat(dest, &root1) == 0 && root1.st_ino != root0.st_ino);
    CHECK(stat(at("swap/p0.html"), &p0b) == 0 && p0b.st_ino == p0a.st_ino &&
          p0b.st_mtim.tv_sec == p0a.st_mtim.tv_sec && p0b.st_mtim.tv_nsec == p0a.st_mtim.tv_nsec);
    CHECK_FILE(at("swap/p1.html"), "v2 page 1");
    CHECK_FILE(at("swap/new/p3.html"), "v2 page 3");
    CHECK(!exists(at("swap/p2.html")));
    CHECK_FILE(at("swap/CNAME"), "example.org");
    CHECK(!exists(at(".swap.publish-tmp")));
    /* Nothing changed: DEST is left as it is (same folder). */
    build_pages_as(dest, 0, 0, false, &stats);
    struct stat root2;
    CHECK(stat(dest, &root2) == 0);
    pub_out *again;
    CHECK_OK(pub_out_begin(dest, &again));
    CHECK_OK(pub_out_commit(again, &stats));
    struct stat root3;
    CHECK(stat(dest, &root3) == 0 && root3.st_ino == root2.st_ino);
}

/* ---- Crash during commit --------------------------------------------------- */

/* A version of a site: its pages, path and bytes. */
typedef struct page {
    const char *rel, *text;
} page;

static const char *page_text(const page *pages, const char *rel)
{
    for (const page *p = pages; p && p->rel; p++)
        if (strcmp(p->rel, rel) == 0) return p->text;
    return NULL;
}

/* One build of `pages` as the engine makes it: a page whose bytes the
 * records of the last successful build (`recorded`) vouch for is offered
 * to pub_out_keep with their hash, and rendered (written) only when DEST
 * cannot keep it; every other page is written. */
static bool build_site_version(const char *dest, const page *pages, const page *recorded,
                               pub_out_stats *stats)
{
    pub_out *out;
    if (pub_out_begin(dest, &out)) return false;
    for (const page *p = pages; p->rel; p++) {
        const char *old = page_text(recorded, p->rel);
        if (old && strcmp(old, p->text) == 0 &&
            pub_out_keep(out, p->rel, pub_hash(old, strlen(old), 0)))
            continue;
        pub_diag *err = pub_out_write(out, p->rel, p->text, strlen(p->text));
        if (err) {
            pub_diag_free(err);
            pub_out_abort(out);
            return false;
        }
    }
    pub_diag *err = pub_out_commit(out, stats);
    pub_diag_free(err);
    return err == NULL;
}

/* DEST's files and their bytes, sorted (not inodes or times): what a
 * reader of the site sees. */
static char *site_text(const char *dir)
{
    char *snap = snapshot(dir);
    pub_buf text = PUB_BUF_INIT;
    for (char *line = snap; *line;) {
        char *end = strchr(line, '\n');
        char *first = strchr(line, ' '), *bytes = strstr(line, " [");
        if (bytes && bytes < end) {
            pub_buf_append(&text, line, (size_t)(first - line));
            pub_buf_append(&text, bytes, (size_t)(end - bytes) + 1);
        }
        line = end + 1;
    }
    free(snap);
    return pub_buf_detach(&text);
}

/* Whether every file of DEST holds what `a` or `b` has at its path (or is
 * the user's own CNAME), and every path both versions have is there. */
static bool each_file_whole(const char *dest, const page *a, const page *b)
{
    char path[600];
    for (int v = 0; v < 2; v++)
        for (const page *p = v ? b : a; p->rel; p++) {
            snprintf(path, sizeof path, "%s/%s", dest, p->rel);
            char *got = check_read_file(path, NULL);
            const char *ta = page_text(a, p->rel), *tb = page_text(b, p->rel);
            bool ok = got ? (ta && strcmp(got, ta) == 0) || (tb && strcmp(got, tb) == 0)
                          : !(ta && tb);
            free(got);
            if (!ok) return false;
        }
    snprintf(path, sizeof path, "%s/CNAME", dest);
    char *cname = check_read_file(path, NULL);
    bool ok = cname && strcmp(cname, "example.org") == 0;
    free(cname);
    return ok;
}

static int crash_at, crash_steps;
enum { CRASHED = 42, FINISHED = 43 };

static void crash_hook(const char *step)
{
    (void)step;
    if (++crash_steps == crash_at) _exit(CRASHED);
}

/* DEST as `from` left it, with a file the user added (CNAME). */
static void fresh_dest(const char *dest, const page *from)
{
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s/.%s.publish-manifest", root, pub_path_base(dest));
    pub_file_remove_tree(dest);
    unlink(manifest);
    pub_out_stats stats;
    CHECK(build_site_version(dest, from, NULL, &stats));
    char path[600];
    snprintf(path, sizeof path, "%s/CNAME", dest);
    check_write_text(path, "example.org", 0644);
}

/* The build from `from` to `to`, killed after each step of its commit in
 * turn (pub_out_step_hook), leaves each file whole (old or new bytes), the
 * staging folder goes with the process, and the next build, of `to` or of
 * `from` (the edit undone), gives DEST exactly the bytes a clean build
 * gives, the user's file kept; the build after that keeps every page by
 * the manifest. Returns how many steps the commit had. */
static int crash_each_step(const char *name, const page *from, const page *to)
{
    char dest[512], clean[600], staging[600];
    snprintf(dest, sizeof dest, "%s", at(name));
    snprintf(staging, sizeof staging, "%s/.%s.publish-tmp", root, name);
    char *want[2];
    for (int v = 0; v < 2; v++) {
        snprintf(clean, sizeof clean, "%s-clean", dest);
        fresh_dest(clean, v ? from : to);
        want[v] = site_text(clean);
        pub_file_remove_tree(clean);
    }
    int k = 1;
    for (;; k++) {
        fresh_dest(dest, from);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            crash_at = k;
            crash_steps = 0;
            pub_out_step_hook = crash_hook;
            pub_out_stats stats;
            _exit(build_site_version(dest, to, from, &stats) ? FINISHED : 1);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
        int code = WEXITSTATUS(status);
        CHECK(code == CRASHED || code == FINISHED);
        if (code != CRASHED) break;
        CHECK(each_file_whole(dest, from, to));
        for (int i = 0; i < 100 && exists(staging); i++) usleep(20000);
        CHECK(!exists(staging));
        /* Even steps: the build again; odd ones: the edit undone. The
         * records are still the last successful build's (from). */
        const page *next = k % 2 ? from : to;
        pub_out_stats stats;
        CHECK(build_site_version(dest, next, from, &stats));
        char *got = site_text(dest);
        CHECK_STR(got, want[k % 2]);
        free(got);
        CHECK(build_site_version(dest, next, next, &stats));
        CHECK(stats.written == 0 && stats.removed == 0);
        got = site_text(dest);
        CHECK_STR(got, want[k % 2]);
        free(got);
    }
    free(want[0]);
    free(want[1]);
    return k - 1;
}

enum { POSTS = 30 };

/* Version 1 of a blog: a home page, a feed, POSTS posts, three pages in a
 * folder and one in a folder of its own. Version 2 is a one-post edit (the
 * post, the home page and the feed change), a post added and one removed:
 * few files change. Version 3 is a template edit: every page changes.
 * `pages` has room for POSTS + 7. */
static void site_version(int v, page *pages)
{
    static char texts[3][POSTS + 7][32];
    size_t n = 0;
    char(*t)[32] = texts[v - 1];
    const char *post = v == 3 ? "POST" : "post";
    snprintf(t[n], 32, v == 3 ? "HOME" : "home %d", v);
    pages[n] = (page){"index.html", t[n]}, n++;
    snprintf(t[n], 32, "<feed>%d</feed>", v);
    pages[n] = (page){"feed.xml", t[n]}, n++;
    static char rels[POSTS][16];
    for (int i = 0; i < POSTS; i++) {
        snprintf(rels[i], sizeof rels[i], "p%d.html", i);
        snprintf(t[n], 32, "%s %d%s", post, i, v == 2 && i == 2 ? ", edited" : "");
        pages[n] = (page){rels[i], t[n]}, n++;
    }
    const char *const folder[] = {"d/a.html", "d/b.html", "d/c.html"};
    for (int i = 0; i < 3; i++) {
        snprintf(t[n], 32, "%s %d", v == 3 ? "PAGE" : "page", i);
        pages[n] = (page){folder[i], t[n]}, n++;
    }
    pages[n] = v == 1 ? (page){"gone/x.html", "x"} : (page){"new/y.html", v == 3 ? "Y" : "y"};
    n++;
    pages[n] = (page){NULL, NULL};
}

/* A few changed files are moved into DEST itself (same folder: same
 * inode), many switch the whole tree (a new folder); a crash after any
 * step of either is repaired by the next build. */
static void test_crash_during_commit(void)
{
    page site_v1[POSTS + 7], site_v2[POSTS + 7], site_v3[POSTS + 7];
    site_version(1, site_v1);
    site_version(2, site_v2);
    site_version(3, site_v3);
    char dest[512];
    snprintf(dest, sizeof dest, "%s", at("few"));
    fresh_dest(dest, site_v1);
    struct stat before, after;
    CHECK(stat(dest, &before) == 0);
    pub_out_stats stats;
    CHECK(build_site_version(dest, site_v2, site_v1, &stats));
    CHECK(stats.written == 4 && stats.unchanged == 32 && stats.removed == 1);
    CHECK(stat(dest, &after) == 0 && after.st_ino == before.st_ino);
    CHECK(!exists(at("few/gone")) && exists(at("few/CNAME")));
    CHECK(build_site_version(dest, site_v3, site_v2, &stats));
    CHECK(stats.written == 36 && stats.removed == 0);
    CHECK(stat(dest, &after) == 0 && after.st_ino != before.st_ino);
    CHECK_FILE(at("few/CNAME"), "example.org");

    /* The journal: manifest, 4 files in, 1 out, folders, manifest, done;
     * the switch: manifest, exchange, manifest, done. */
    CHECK_INT(crash_each_step("crash-few", site_v1, site_v2), 9);
    CHECK_INT(crash_each_step("crash-many", site_v1, site_v3), 4);
}

int main(void)
{
    check_temp_dir(root, "output");
    test_first_and_second_build();
    test_traversal();
    test_duplicates_and_conflicts();
    test_copy_errors();
    test_abort_keeps_dest();
    test_stale_staging();
    test_dest_not_folder();
    test_symlink_in_dest_not_followed();
    test_utf8_names();
    test_threads();
    test_hand_edits();
    test_file_becomes_folder();
    test_first_build_over_foreign_files();
    test_writer_failure();
    test_submit_rules();
    test_submit_threads();
    test_swap();
    test_crash_during_commit();
    pub_file_remove_tree(root);
    return check_finish();
}
