/* Bulk-edit transactions: staging, the dry-run diff, the all-or-nothing
 * commit and the cleanup of temp files left by a killed run. The diff is a
 * small Myers line diff; it only has to be right and readable, not fast on
 * huge rewrites, so past a bound it shows the changed middle as one block. */
#define _XOPEN_SOURCE 700
#include "edit.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/path.h"
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

#define TEMP_MARK ".publish-edit-"

typedef enum { OP_WRITE, OP_RENAME, OP_DELETE } op_kind;

typedef struct edit_op {
    op_kind kind;
    char *path;     /* the file written or deleted; a rename's target */
    char *from;     /* a rename's source */
    char *bytes;    /* new contents (NULL: a rename keeping them) */
    size_t len;
    /* Filled while committing: */
    char *temp;     /* absolute path of the temp file */
    bool existed;   /* `path` existed when checked (a change, not a creation) */
} edit_op;

struct pub_edit {
    char *src;
    edit_op *ops;
    size_t len, cap;
    size_t fault; /* test hook: fail the nth temp write */
};

pub_edit *pub_edit_new(const char *src)
{
    pub_edit *e = pub_xcalloc(1, sizeof *e);
    e->src = pub_xstrdup(src);
    return e;
}

void pub_edit_free(pub_edit *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->len; i++) {
        free(e->ops[i].path);
        free(e->ops[i].from);
        free(e->ops[i].bytes);
        free(e->ops[i].temp);
    }
    free(e->ops);
    free(e->src);
    free(e);
}

void pub_edit_inject_fault(pub_edit *e, size_t nth) { e->fault = nth; }

bool pub_edit_empty(const pub_edit *e) { return e->len == 0; }

/* ---- staging ------------------------------------------------------------ */

/* True when `path` is already named by a staged operation. */
static bool staged(const pub_edit *e, const char *path)
{
    for (size_t i = 0; i < e->len; i++)
        if (strcmp(e->ops[i].path, path) == 0 ||
            (e->ops[i].from && strcmp(e->ops[i].from, path) == 0))
            return true;
    return false;
}

/* Normalises `relpath` into *out (caller frees) or returns the error. */
static pub_diag *claim(const pub_edit *e, const char *relpath, char **out)
{
    char *p = pub_path_confine(relpath);
    if (!p || !*p) {
        free(p);
        return pub_diag_new(PUB_ERROR, relpath, 0, 0,
                            "path '%s' is outside the source folder", relpath);
    }
    if (staged(e, p)) {
        pub_diag *d = pub_diag_new(PUB_ERROR, p, 0, 0, "'%s' is edited twice", p);
        free(p);
        return d;
    }
    *out = p;
    return NULL;
}

static edit_op *push_op(pub_edit *e, op_kind kind)
{
    if (e->len == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->ops = pub_xrealloc(e->ops, e->cap * sizeof *e->ops);
    }
    edit_op *op = &e->ops[e->len++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    return op;
}

static char *copy_bytes(const void *bytes, size_t len)
{
    char *c = pub_xmalloc(len + 1);
    if (len) memcpy(c, bytes, len);
    c[len] = '\0';
    return c;
}

pub_diag *pub_edit_write(pub_edit *e, const char *relpath, const void *bytes, size_t len)
{
    char *p;
    pub_diag *d = claim(e, relpath, &p);
    if (d) return d;
    edit_op *op = push_op(e, OP_WRITE);
    op->path = p;
    op->bytes = copy_bytes(bytes, len);
    op->len = len;
    return NULL;
}

pub_diag *pub_edit_rename(pub_edit *e, const char *from, const char *to,
                          const void *bytes, size_t len)
{
    char *f, *t;
    pub_diag *d = claim(e, from, &f);
    if (d) return d;
    if (strcmp(from, to) != 0 && (d = claim(e, to, &t)) != NULL) {
        free(f);
        return d;
    }
    if (strcmp(from, to) == 0) t = pub_xstrdup(f);
    edit_op *op = push_op(e, OP_RENAME);
    op->from = f;
    op->path = t;
    if (bytes) {
        op->bytes = copy_bytes(bytes, len);
        op->len = len;
    }
    return NULL;
}

pub_diag *pub_edit_delete(pub_edit *e, const char *relpath)
{
    char *p;
    pub_diag *d = claim(e, relpath, &p);
    if (d) return d;
    push_op(e, OP_DELETE)->path = p;
    return NULL;
}

void pub_edit_count(const pub_edit *e, pub_edit_summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < e->len; i++) {
        const edit_op *op = &e->ops[i];
        if (op->kind == OP_DELETE) s->deleted++;
        else if (op->kind == OP_RENAME) s->renamed++;
        else if (op->existed) s->changed++;
        else s->created++;
    }
}

/* ---- checks shared by the diff and the commit --------------------------- */

static char *abs_path(const pub_edit *e, const char *rel) { return pub_path_join(e->src, rel); }

/* 1: a regular file, 0: nothing there, -1: something else (*err set). */
static int file_state(const pub_edit *e, const char *rel, struct stat *st, int *err)
{
    char *full = abs_path(e, rel);
    int rc = lstat(full, st);
    int saved = errno;
    free(full);
    if (rc != 0) {
        if (saved == ENOENT || saved == ENOTDIR) return 0;
        *err = saved;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        *err = EISDIR;
        return -1;
    }
    return 1;
}

/* Checks every operation against the disk and records which targets exist.
 * (Cast: the checks only fill the `existed` cache.) */
static pub_diag *check_ops(const pub_edit *ce)
{
    pub_edit *e = (pub_edit *)ce;
    for (size_t i = 0; i < e->len; i++) {
        edit_op *op = &e->ops[i];
        struct stat st;
        int err = 0;
        int state = file_state(e, op->path, &st, &err);
        if (state < 0)
            return pub_diag_new(PUB_ERROR, op->path, 0, 0, "cannot edit: %s",
                                err == EISDIR ? "not a regular file" : strerror(err));
        op->existed = state == 1;
        if (op->kind == OP_DELETE && !op->existed)
            return pub_diag_new(PUB_ERROR, op->path, 0, 0, "cannot delete: %s",
                                strerror(ENOENT));
        if (op->kind == OP_RENAME) {
            if (strcmp(op->from, op->path) == 0) continue;
            if (op->existed)
                return pub_diag_new(PUB_ERROR, op->from, 0, 0,
                                    "cannot rename to '%s': it already exists", op->path);
            int src_state = file_state(e, op->from, &st, &err);
            if (src_state != 1)
                return pub_diag_new(PUB_ERROR, op->from, 0, 0, "cannot rename: %s",
                                    src_state == 0 ? strerror(ENOENT)
                                    : err == EISDIR ? "not a regular file" : strerror(err));
        }
    }
    return NULL;
}

/* ---- diff --------------------------------------------------------------- */

typedef struct text_line {
    const char *p;
    size_t n; /* including the '\n', if any */
} text_line;

static text_line *split_lines(const char *s, size_t n, size_t *count)
{
    size_t cap = 16, len = 0;
    text_line *lines = pub_xmalloc(cap * sizeof *lines);
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n' && i + 1 < n) continue;
        if (len == cap) lines = pub_xrealloc(lines, (cap *= 2) * sizeof *lines);
        lines[len].p = s + from;
        lines[len].n = i + 1 - from;
        len++;
        from = i + 1;
    }
    *count = len;
    return lines;
}

static bool line_eq(const text_line *a, const text_line *b)
{
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* One step of an edit script: ' ' same, '-' only in a, '+' only in b. */
typedef struct diff_step {
    char kind;
    size_t a, b; /* line indexes (the one that applies) */
} diff_step;

typedef struct diff_script {
    diff_step *steps;
    size_t len, cap;
} diff_script;

static void script_push(diff_script *s, char kind, size_t a, size_t b)
{
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->steps = pub_xrealloc(s->steps, s->cap * sizeof *s->steps);
    }
    s->steps[s->len++] = (diff_step){kind, a, b};
}

/* Past this many differences the middle is shown as delete-all/add-all
 * rather than spending quadratic memory on the trace. */
#define DIFF_MAX_D 2000

/* Myers' greedy algorithm on a[ao, ao+n) vs b[bo, bo+m); appends the steps.
 * Keeps every V row: O(D^2) memory, bounded by DIFF_MAX_D. */
static void myers(const text_line *a, size_t ao, size_t n, const text_line *b, size_t bo,
                  size_t m, diff_script *out)
{
    long N = (long)n, M = (long)m, max = N + M;
    long limit = max < DIFF_MAX_D ? max : DIFF_MAX_D;
    long off = limit + 1;
    long *v = pub_xcalloc((size_t)(2 * limit + 3), sizeof *v);
    /* rows[d] keeps v[-d-1 .. d+1] after round d. */
    long **rows = pub_xcalloc((size_t)limit + 1, sizeof *rows);
    long found = -1;
    for (long d = 0; d <= limit && found < 0; d++) {
        for (long k = -d; k <= d; k += 2) {
            long x;
            if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) x = v[off + k + 1];
            else x = v[off + k - 1] + 1;
            long y = x - k;
            while (x < N && y < M && line_eq(&a[ao + (size_t)x], &b[bo + (size_t)y])) {
                x++;
                y++;
            }
            v[off + k] = x;
            if (x >= N && y >= M) {
                found = d;
                break;
            }
        }
        rows[d] = pub_xmalloc((size_t)(2 * d + 3) * sizeof **rows);
        memcpy(rows[d], v + off - d - 1, (size_t)(2 * d + 3) * sizeof *v);
    }
    if (found < 0) {
        for (size_t i = 0; i < n; i++) script_push(out, '-', ao + i, bo);
        for (size_t j = 0; j < m; j++) script_push(out, '+', ao + n, bo + j);
    } else {
        /* Walk back from (N, M), collecting steps in reverse. */
        diff_script rev = {0};
        long x = N, y = M;
        for (long d = found; d > 0; d--) {
            const long *pv = rows[d - 1] + d; /* pv[k] is v[k] after round d-1 */
            long k = x - y, pk;
            if (k == -d || (k != d && pv[k - 1] < pv[k + 1])) pk = k + 1;
            else pk = k - 1;
            long px = pv[pk], py = px - pk;
            while (x > px && y > py) {
                x--;
                y--;
                script_push(&rev, ' ', ao + (size_t)x, bo + (size_t)y);
            }
            if (x == px) {
                y--;
                script_push(&rev, '+', ao + (size_t)x, bo + (size_t)y);
            } else {
                x--;
                script_push(&rev, '-', ao + (size_t)x, bo + (size_t)y);
            }
        }
        while (x > 0 && y > 0) {
            x--;
            y--;
            script_push(&rev, ' ', ao + (size_t)x, bo + (size_t)y);
        }
        for (size_t i = rev.len; i-- > 0;)
            script_push(out, rev.steps[i].kind, rev.steps[i].a, rev.steps[i].b);
        free(rev.steps);
    }
    for (long d = 0; d <= limit; d++) free(rows[d]);
    free(rows);
    free(v);
}

static void put_line(pub_buf *out, char mark, const text_line *l)
{
    pub_buf_putc(out, mark);
    pub_buf_append(out, l->p, l->n);
    if (l->n == 0 || l->p[l->n - 1] != '\n') pub_buf_puts(out, "\n\\ No newline at end of file\n");
}

/* "@@ -a,b +c,d @@" as diff -u writes it: ",1" left out, an empty side
 * numbered by the line before it. */
static void put_range(pub_buf *out, char sign, size_t start, size_t count)
{
    if (count == 1) pub_buf_printf(out, "%c%zu", sign, start + 1);
    else pub_buf_printf(out, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

#define CONTEXT 3

/* Appends the hunks turning a into b (no headers). */
static void diff_hunks(const char *a, size_t alen, const char *b, size_t blen, pub_buf *out)
{
    size_t n, m;
    text_line *la = split_lines(a, alen, &n);
    text_line *lb = split_lines(b, blen, &m);
    diff_script s = {0};
    size_t pre = 0;
    while (pre < n && pre < m && line_eq(&la[pre], &lb[pre])) pre++;
    size_t suf = 0;
    while (suf < n - pre && suf < m - pre && line_eq(&la[n - 1 - suf], &lb[m - 1 - suf])) suf++;
    for (size_t i = 0; i < pre; i++) script_push(&s, ' ', i, i);
    myers(la, pre, n - pre - suf, lb, pre, m - pre - suf, &s);
    for (size_t i = 0; i < suf; i++) script_push(&s, ' ', n - suf + i, m - suf + i);

    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && s.steps[i].kind == ' ') i++;
        if (i == s.len) break;
        /* A hunk: from CONTEXT lines before this change to CONTEXT after
         * the last change that is no more than 2*CONTEXT lines further. */
        size_t first = i >= CONTEXT ? i - CONTEXT : 0;
        while (first < i && s.steps[first].kind != ' ') first++;
        size_t last = i; /* last changed step */
        for (size_t j = i; j < s.len; j++) {
            if (s.steps[j].kind == ' ') {
                if (j - last > 2 * CONTEXT) break;
                continue;
            }
            last = j;
        }
        size_t stop = last + 1 + CONTEXT < s.len ? last + 1 + CONTEXT : s.len;
        size_t astart = 0, bstart = 0, acount = 0, bcount = 0;
        bool aset = false, bset = false;
        for (size_t j = first; j < stop; j++) {
            const diff_step *st = &s.steps[j];
            if (st->kind != '+') {
                if (!aset) astart = st->a, aset = true;
                acount++;
            }
            if (st->kind != '-') {
                if (!bset) bstart = st->b, bset = true;
                bcount++;
            }
        }
        if (!aset) astart = s.steps[first].a;
        if (!bset) bstart = s.steps[first].b;
        pub_buf_puts(out, "@@ ");
        put_range(out, '-', astart, acount);
        pub_buf_putc(out, ' ');
        put_range(out, '+', bstart, bcount);
        pub_buf_puts(out, " @@\n");
        for (size_t j = first; j < stop; j++) {
            const diff_step *st = &s.steps[j];
            if (st->kind == '+') put_line(out, '+', &lb[st->b]);
            else put_line(out, st->kind, &la[st->a]);
        }
        i = stop;
    }
    free(s.steps);
    free(la);
    free(lb);
}

static pub_diag *read_rel(const pub_edit *e, const char *rel, char **data, size_t *len)
{
    char *full = abs_path(e, rel);
    int rc = pub_file_read(full, data, len);
    free(full);
    if (rc) return pub_diag_new(PUB_ERROR, rel, 0, 0, "cannot read: %s", strerror(rc));
    return NULL;
}

static unsigned file_mode(const pub_edit *e, const char *rel)
{
    struct stat st;
    int err;
    if (file_state(e, rel, &st, &err) == 1) return (unsigned)(st.st_mode & 07777);
    return 0644;
}

pub_diag *pub_edit_diff(const pub_edit *e, pub_buf *out)
{
    pub_diag *d = check_ops(e);
    if (d) return d;
    for (size_t i = 0; i < e->len; i++) {
        const edit_op *op = &e->ops[i];
        const char *old_path = op->kind == OP_RENAME ? op->from : op->path;
        char *old = NULL;
        size_t old_len = 0;
        bool have_old = op->kind != OP_WRITE || op->existed;
        if (have_old && (d = read_rel(e, old_path, &old, &old_len)) != NULL) return d;
        const char *now = op->bytes ? op->bytes : old;
        size_t now_len = op->bytes ? op->len : old_len;
        if (op->kind == OP_WRITE && op->existed && old_len == now_len &&
            memcmp(old, now, now_len) == 0) {
            free(old);
            continue;
        }
        pub_buf_printf(out, "diff --git a/%s b/%s\n", old_path, op->path);
        if (op->kind == OP_DELETE) {
            pub_buf_printf(out, "deleted file mode 100%o\n--- a/%s\n+++ /dev/null\n",
                           file_mode(e, op->path), op->path);
            diff_hunks(old, old_len, "", 0, out);
        } else if (!have_old) {
            pub_buf_printf(out, "new file mode 100644\n--- /dev/null\n+++ b/%s\n", op->path);
            diff_hunks("", 0, now, now_len, out);
        } else {
            if (op->kind == OP_RENAME && strcmp(op->from, op->path) != 0)
                pub_buf_printf(out, "rename from %s\nrename to %s\n", op->from, op->path);
            if (old_len != now_len || memcmp(old, now, now_len) != 0) {
                pub_buf_printf(out, "--- a/%s\n+++ b/%s\n", old_path, op->path);
                diff_hunks(old, old_len, now, now_len, out);
            }
        }
        free(old);
    }
    return NULL;
}

/* ---- commit ------------------------------------------------------------- */

/* Creates ".BASE.publish-edit-XXXXXX" beside `target` (absolute) and opens
 * it; sets *temp (caller frees). Returns the fd or -1 with errno set. */
static int open_temp(const char *target, char **temp)
{
    const char *base = pub_path_base(target);
    pub_buf prefix = PUB_BUF_INIT;
    pub_buf_append(&prefix, target, (size_t)(base - target));
    pub_buf_printf(&prefix, ".%s%s", base, TEMP_MARK);
    int fd = pub_fs_temp_open(pub_buf_cstr(&prefix), 0666, temp);
    int e = errno;
    pub_buf_free(&prefix);
    errno = e;
    return fd;
}

/* Writes op's new bytes (or the rename source's) to a flushed temp file
 * with the mode of the file it replaces. */
static pub_diag *stage_temp(pub_edit *e, edit_op *op, size_t nth)
{
    char *target = abs_path(e, op->path);
    char *parent = pub_xstrdup(target);
    char *slash = strrchr(parent, '/');
    pub_diag *d = NULL;
    char *kept = NULL;
    size_t kept_len = 0;
    const char *bytes = op->bytes;
    size_t len = op->len;
    if (!bytes) {
        if ((d = read_rel(e, op->from, &kept, &kept_len)) != NULL) goto out;
        bytes = kept;
        len = kept_len;
    }
    if (slash && slash != parent) {
        *slash = '\0';
        int rc = pub_file_mkdirs(parent);
        if (rc) {
            d = pub_diag_new(PUB_ERROR, op->path, 0, 0, "cannot create folder: %s", strerror(rc));
            goto out;
        }
    }
    const char *mode_of = op->kind == OP_RENAME ? op->from : op->existed ? op->path : NULL;
    struct stat st;
    int err = 0;
    bool keep_mode = mode_of && file_state(e, mode_of, &st, &err) == 1;
    int fd = open_temp(target, &op->temp);
    if (fd < 0) {
        d = pub_diag_new(PUB_ERROR, op->path, 0, 0, "cannot write: %s", strerror(errno));
        goto out;
    }
    int rc = e->fault == nth ? EIO : pub_file_write_all(fd, bytes, len);
    if (!rc && keep_mode && fchmod(fd, st.st_mode & 07777) != 0) rc = errno;
    if (!rc && fsync(fd) != 0) rc = errno;
    if (close(fd) != 0 && !rc) rc = errno;
    if (rc) d = pub_diag_new(PUB_ERROR, op->path, 0, 0, "cannot write: %s", strerror(rc));
out:
    free(kept);
    free(parent);
    free(target);
    return d;
}

static void remove_temps(pub_edit *e)
{
    for (size_t i = 0; i < e->len; i++) {
        if (!e->ops[i].temp) continue;
        unlink(e->ops[i].temp);
        free(e->ops[i].temp);
        e->ops[i].temp = NULL;
    }
}

/* Flushes each folder an operation touched once (a rename's source folder
 * too), so the renames and removals survive a crash. */
static void sync_parents(const pub_edit *e)
{
    size_t n = 0;
    char **done = pub_xcalloc(2 * e->len + 1, sizeof *done);
    for (size_t i = 0; i < e->len; i++) {
        const char *paths[2] = {e->ops[i].path, e->ops[i].from};
        for (int k = 0; k < 2; k++) {
            if (!paths[k]) continue;
            const char *slash = strrchr(paths[k], '/');
            char *dir = slash ? pub_xstrndup(paths[k], (size_t)(slash - paths[k])) : pub_xstrdup("");
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++) seen = strcmp(done[j], dir) == 0;
            if (seen) {
                free(dir);
                continue;
            }
            done[n++] = dir;
            char *full = *dir ? abs_path(e, dir) : pub_xstrdup(e->src);
            int fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd >= 0) {
                fsync(fd);
                close(fd);
            }
            free(full);
        }
    }
    for (size_t j = 0; j < n; j++) free(done[j]);
    free(done);
}

pub_diag *pub_edit_commit(pub_edit *e, pub_edit_summary *summary)
{
    if (summary) memset(summary, 0, sizeof *summary);
    pub_diag *d = check_ops(e);
    if (d) return d;

    /* Phase 1: every new file is written and flushed beside its target. */
    size_t nth = 0;
    for (size_t i = 0; i < e->len; i++) {
        edit_op *op = &e->ops[i];
        if (op->kind == OP_DELETE) continue;
        if ((d = stage_temp(e, op, ++nth)) != NULL) {
            remove_temps(e);
            return d;
        }
    }

    /* Phase 2: rename into place, then drop rename sources and deletions.
     * From here a failure cannot be undone; each file is still whole. */
    for (size_t i = 0; i < e->len && !d; i++) {
        edit_op *op = &e->ops[i];
        if (!op->temp) continue;
        char *target = abs_path(e, op->path);
        if (rename(op->temp, target) != 0) {
            d = pub_diag_new(PUB_ERROR, op->path, 0, 0, "cannot replace: %s (files before it were already replaced)",
                             strerror(errno));
        } else {
            free(op->temp);
            op->temp = NULL;
        }
        free(target);
    }
    sync_parents(e);
    if (d) {
        remove_temps(e);
        return d;
    }
    for (size_t i = 0; i < e->len && !d; i++) {
        edit_op *op = &e->ops[i];
        const char *gone = op->kind == OP_DELETE ? op->path
                           : op->kind == OP_RENAME && strcmp(op->from, op->path) != 0 ? op->from
                           : NULL;
        if (!gone) continue;
        char *full = abs_path(e, gone);
        if (unlink(full) != 0)
            d = pub_diag_new(PUB_ERROR, gone, 0, 0, "cannot remove: %s", strerror(errno));
        free(full);
    }
    sync_parents(e);
    if (summary) pub_edit_count(e, summary);
    return d;
}

/* ---- cleanup ------------------------------------------------------------ */

static bool is_temp_name(const char *name, void *ctx)
{
    (void)ctx;
    return name[0] == '.' && strstr(name, TEMP_MARK) != NULL;
}

pub_diag *pub_edit_cleanup(const char *src, size_t *removed)
{
    /* A user's command: every temp file goes, whatever its age, down to
     * 64 folders, hidden folders (.git, the cache) left alone. */
    size_t count = 0;
    char *failed = NULL;
    int rc = pub_fs_sweep_temps(src, is_temp_name, NULL, 0, 64, &count, &failed);
    pub_diag *d = rc ? pub_diag_new(PUB_ERROR, failed, 0, 0, "cannot remove: %s", strerror(rc)) : NULL;
    free(failed);
    if (removed) *removed = count;
    return d;
}
