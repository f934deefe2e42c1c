/* The checks every C unit test shares: CHECK and friends count passes and
 * failures (a failure prints file:line and what differed, then the test
 * goes on), check_finish() prints "N passed, M failed" and gives main's
 * exit status, and a few helpers for tests that work on real files under a
 * mkdtemp folder. Each test program includes this once, after any feature
 * macro such as _GNU_SOURCE; everything is static so nothing links twice.
 * Module-specific checks stay in their test file and build on these. */
#ifndef PUB_TEST_CHECK_H
#define PUB_TEST_CHECK_H

#include "diag.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_passed, check_failed;

/* Counts one check; returns `ok` so the caller can explain a failure. */
static inline bool check_count(bool ok)
{
    if (ok) check_passed++;
    else check_failed++;
    return ok;
}

static inline void check_at(const char *file, int line, bool ok, const char *what)
{
    if (!check_count(ok)) fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
}

/* Equal strings, or both NULL. Text with line breaks prints in blocks. */
static inline void check_str_at(const char *file, int line, const char *got, const char *want)
{
    if (check_count(got && want ? strcmp(got, want) == 0 : got == want)) return;
    const char *g = got ? got : "(null)", *w = want ? want : "(null)";
    if (strchr(g, '\n') || strchr(w, '\n'))
        fprintf(stderr, "%s:%d: got\n[%s]\nwant\n[%s]\n", file, line, g, w);
    else
        fprintf(stderr, "%s:%d: got '%s', want '%s'\n", file, line, g, w);
}

static inline void check_int_at(const char *file, int line, long long got, long long want)
{
    if (!check_count(got == want))
        fprintf(stderr, "%s:%d: got %lld, want %lld\n", file, line, got, want);
}

#define CHECK(cond) check_at(__FILE__, __LINE__, (cond) ? true : false, #cond)
#define CHECK_STR(got, want) check_str_at(__FILE__, __LINE__, (got), (want))
#define CHECK_INT(got, want) check_int_at(__FILE__, __LINE__, (long long)(got), (long long)(want))

/* The end of main: the summary line, and the exit status. */
static inline int check_finish(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

/* ---- Diagnostics ------------------------------------------------------------- */

/* Formats and frees `d`: "" when there was none (caller frees). */
static inline char *check_diag_text(pub_diag *d)
{
    pub_buf b = PUB_BUF_INIT;
    if (d) pub_diag_format(d, &b);
    pub_diag_free(d);
    return pub_buf_detach(&b);
}

/* One check: `d` is NULL. Frees it. */
static inline void check_ok_at(const char *file, int line, pub_diag *d, const char *expr)
{
    if (!check_count(d == NULL)) {
        char *text = check_diag_text(d);
        fprintf(stderr, "%s:%d: %s failed: %s\n", file, line, expr, text);
        free(text);
    }
}

/* Three checks: `d` is an error, its message is exactly `want`, and it
 * names `want_path` (NULL: no path and no line). Frees it. */
static inline void check_err_at(const char *file, int line, pub_diag *d, const char *want_path,
                                const char *want)
{
    check_at(file, line, d != NULL, "an error came");
    if (!d) return;
    check_str_at(file, line, d->message, want);
    bool where = want_path ? d->path && strcmp(d->path, want_path) == 0
                           : d->path == NULL && d->line == 0;
    if (!check_count(where && d->level == PUB_ERROR))
        fprintf(stderr, "%s:%d: got level %d at '%s' line %d, want an error at '%s'\n", file,
                line, (int)d->level, d->path ? d->path : "(null)", d->line,
                want_path ? want_path : "(null)");
    pub_diag_free(d);
}

#define CHECK_OK(expr) check_ok_at(__FILE__, __LINE__, (expr), #expr)
#define CHECK_ERR(expr, want_path, want) \
    check_err_at(__FILE__, __LINE__, (expr), (want_path), (want))

/* ---- Files ------------------------------------------------------------------- */

/* Makes a fresh empty folder "/tmp/publish-test-NAME-XXXXXX" in `root`
 * (64 bytes); exits when it cannot. Remove it with pub_file_remove_tree. */
static inline void check_temp_dir(char root[64], const char *name)
{
    snprintf(root, 64, "/tmp/publish-test-%.20s-XXXXXX", name);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* Writes `len` bytes to `path`, making its folders; a new file gets `mode`
 * (less the umask). Aborts on failure: a test cannot go on without it. */
static inline void check_write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    char *dir = pub_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        pub_file_mkdirs(dir);
    }
    free(dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) abort();
    close(fd);
}

static inline void check_write_text(const char *path, const char *text, mode_t mode)
{
    check_write_file(path, text, strlen(text), mode);
}

/* The contents of `path` (length in `*len` unless NULL), or NULL when it
 * cannot be read (caller frees). */
static inline char *check_read_file(const char *path, size_t *len)
{
    char *data;
    size_t n;
    if (pub_file_read(path, &data, &n) != 0) return NULL;
    if (len) *len = n;
    return data;
}

/* Like check_read_file for a fixture the test needs: exits when missing. */
static inline char *check_fixture(const char *path, size_t *len)
{
    char *data = check_read_file(path, len);
    if (!data) {
        fprintf(stderr, "cannot read '%s'\n", path);
        exit(2);
    }
    return data;
}

/* One check: the file at `path` holds exactly `want`. */
static inline void check_file_at(const char *file, int line, const char *path, const char *want)
{
    char *got = check_read_file(path, NULL);
    check_str_at(file, line, got ? got : "<missing>", want);
    free(got);
}

#define CHECK_FILE(path, want) check_file_at(__FILE__, __LINE__, (path), (want))

#endif
