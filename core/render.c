/* Forked render workers (see render.h). The stream from a worker is a
 * sequence of records, each starting with one type byte:
 *   'P' u32 path length, path, u64 length, bytes    an output page
 *   'D' u8 level, i32 line, i32 col, u32 path length (0xffffffff: none),
 *       path, u32 message length, message            a diagnostic
 *   'R' u32 path length, path, u64 length, bytes    an output page's record
 *       of what it read (deps.h)
 *   'K' u32 key length, key, then a 'D' record       a diagnostic said once
 *       per run: of all with one key, the parent keeps its own or the
 *       lowest worker's (workers render consecutive blocks of pages, so
 *       that is the one a single process would have met first)
 *   'E'                                              the end
 * in the machine's byte order (both ends are the same binary). A stream
 * that stops before 'E' means the worker died. */
#define _GNU_SOURCE
#include "render.h"
#include "util/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct once_diag {
    char *key;
    pub_diag *diag;
} once_diag;

typedef struct worker {
    pid_t pid;
    once_diag *once;   /* 'K' records, kept until join */
    size_t nonce;
    FILE *in;          /* parent: the read end */
    pthread_t reader;
    bool reading;
    bool ended;        /* 'E' seen */
    char *broken;      /* what was wrong with the stream, or NULL */
} worker;

struct pub_render_pool {
    pub_out *out;
    pub_deps *deps;
    pub_diags *diags;
    worker *workers;
    int nworkers;
    atomic_size_t pages;
    FILE *to_parent;   /* worker: the write end */
};

static bool read_exact(FILE *f, void *p, size_t n)
{
    return n == 0 || fread(p, 1, n, f) == n;
}

/* A string of `len` bytes read from f (NUL-terminated), or NULL. */
static char *read_string(FILE *f, size_t len)
{
    char *s = malloc(len + 1);
    if (!s) return NULL;
    if (!read_exact(f, s, len)) {
        free(s);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

/* A path and a byte string, as 'P' and 'R' records carry them. */
static bool read_path_bytes(FILE *in, char **path, char **bytes, uint64_t *len)
{
    uint32_t path_len;
    *path = *bytes = NULL;
    if (!read_exact(in, &path_len, sizeof path_len)) return false;
    *path = read_string(in, path_len);
    if (!*path || !read_exact(in, len, sizeof *len)) return false;
    *bytes = read_string(in, (size_t)*len);
    return *bytes != NULL;
}

static bool read_record(pub_render_pool *pool, FILE *in)
{
    char *path, *text;
    uint64_t len;
    bool ok = read_path_bytes(in, &path, &text, &len);
    if (ok && pool->deps) pub_deps_put(pool->deps, path, text, (size_t)len);
    free(path);
    free(text);
    return ok;
}

static bool read_page(pub_render_pool *pool, FILE *in)
{
    char *path, *bytes;
    uint64_t len;
    if (!read_path_bytes(in, &path, &bytes, &len)) {
        free(path);
        free(bytes);
        return false;
    }
    pub_diag *err = pub_out_submit(pool->out, path, bytes, (size_t)len);
    if (err) pub_diags_take(pool->diags, err);
    else atomic_fetch_add(&pool->pages, 1);
    free(path);
    return true;
}

static pub_diag *read_diag_record(FILE *in);

static bool read_once(worker *w, FILE *in)
{
    uint32_t key_len;
    if (!read_exact(in, &key_len, sizeof key_len)) return false;
    char *key = read_string(in, key_len);
    if (!key || fgetc(in) != 'D') {
        free(key);
        return false;
    }
    pub_diag *d = read_diag_record(in);
    if (!d) {
        free(key);
        return false;
    }
    w->once = pub_xrealloc(w->once, (w->nonce + 1) * sizeof *w->once);
    w->once[w->nonce++] = (once_diag){key, d};
    return true;
}

static bool read_diag(pub_render_pool *pool, FILE *in)
{
    pub_diag *d = read_diag_record(in);
    if (!d) return false;
    pub_diags_take(pool->diags, d);
    return true;
}

static pub_diag *read_diag_record(FILE *in)
{
    uint8_t level;
    int32_t line, col;
    uint32_t path_len, msg_len;
    if (!read_exact(in, &level, 1) || !read_exact(in, &line, 4) || !read_exact(in, &col, 4) ||
        !read_exact(in, &path_len, 4))
        return NULL;
    char *path = path_len == UINT32_MAX ? NULL : read_string(in, path_len);
    if (path_len != UINT32_MAX && !path) return NULL;
    char *msg = read_exact(in, &msg_len, 4) ? read_string(in, msg_len) : NULL;
    if (!msg) {
        free(path);
        return NULL;
    }
    pub_diag *d = pub_diag_new((pub_level)level, path, line, col, "%s", msg);
    free(path);
    free(msg);
    return d;
}

typedef struct reader_arg {
    pub_render_pool *pool;
    worker *w;
} reader_arg;

static void *reader(void *arg)
{
    reader_arg *a = arg;
    worker *w = a->w;
    pub_render_pool *pool = a->pool;
    free(a);
    int type;
    while ((type = fgetc(w->in)) != EOF) {
        bool ok = type == 'P'   ? read_page(pool, w->in)
                  : type == 'D' ? read_diag(pool, w->in)
                  : type == 'R' ? read_record(pool, w->in)
                  : type == 'K' ? read_once(w, w->in)
                                : type == 'E';
        if (!ok) {
            w->broken = pub_xstrdup("sent a broken stream");
            break;
        }
        if (type == 'E') {
            w->ended = true;
            break;
        }
    }
    /* Drain what follows, so the worker is never blocked on a full pipe. */
    char sink[4096];
    while (fread(sink, 1, sizeof sink, w->in) > 0) {}
    return NULL;
}

int pub_render_fork(int n, pub_out *out, pub_deps *deps, pub_diags *diags, pub_render_pool **pool_out,
                    int *workers)
{
    pub_render_pool *pool = pub_xcalloc(1, sizeof *pool);
    pool->out = out;
    pool->deps = deps;
    pool->diags = diags;
    pool->workers = pub_xcalloc((size_t)n, sizeof *pool->workers);
    atomic_init(&pool->pages, 0);
    /* Buffered output of this process must not be written twice. */
    fflush(stdout);
    fflush(stderr);
    /* Each worker learns how many processes share the pages only once
     * every fork is done (one byte each from `start`): a fork that fails
     * must not leave pages nobody renders. */
    int start[2];
    if (pipe2(start, O_CLOEXEC) != 0) {
        free(pool->workers);
        free(pool);
        *pool_out = NULL;
        *workers = 1;
        return 0;
    }
    for (int k = 1; k < n && k < 255; k++) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) break;
        pid_t pid = fork();
        if (pid < 0) {
            close(fds[0]);
            close(fds[1]);
            break;
        }
        if (pid == 0) {
            close(fds[0]);
            close(start[1]);
            unsigned char total = 0;
            while (read(start[0], &total, 1) < 0 && errno == EINTR) {}
            close(start[0]);
            if (total == 0) _exit(0); /* the parent is gone */
            for (int i = 0; i < pool->nworkers; i++) fclose(pool->workers[i].in);
            pool->nworkers = 0;
            pool->to_parent = fdopen(fds[1], "wb");
            if (!pool->to_parent) _exit(70);
            setvbuf(pool->to_parent, NULL, _IOFBF, 1 << 16);
            *pool_out = pool;
            *workers = total;
            return k;
        }
        close(fds[1]);
        worker *w = &pool->workers[pool->nworkers++];
        w->pid = pid;
        w->in = fdopen(fds[0], "rb");
    }
    *workers = pool->nworkers + 1;
    close(start[0]);
    unsigned char total = (unsigned char)*workers;
    for (int i = 0; i < pool->nworkers; i++)
        while (write(start[1], &total, 1) < 0 && errno == EINTR) {}
    close(start[1]);
    for (int i = 0; i < pool->nworkers; i++) {
        reader_arg *a = pub_xmalloc(sizeof *a);
        a->pool = pool;
        a->w = &pool->workers[i];
        pool->workers[i].reading = pthread_create(&pool->workers[i].reader, NULL, reader, a) == 0;
        if (!pool->workers[i].reading) reader(a); /* no thread: read it all now */
    }
    if (pool->nworkers == 0) {
        free(pool->workers);
        free(pool);
        pool = NULL;
    }
    *pool_out = pool;
    return 0;
}

static bool send_path_bytes(pub_render_pool *pool, int type, const char *relpath, const char *bytes,
                            size_t len)
{
    uint32_t path_len = (uint32_t)strlen(relpath);
    uint64_t n = len;
    FILE *f = pool->to_parent;
    return fputc(type, f) != EOF && fwrite(&path_len, sizeof path_len, 1, f) == 1 &&
           fwrite(relpath, 1, path_len, f) == path_len && fwrite(&n, sizeof n, 1, f) == 1 &&
           fwrite(bytes, 1, len, f) == len;
}

bool pub_render_send(pub_render_pool *pool, const char *relpath, const char *bytes, size_t len)
{
    return send_path_bytes(pool, 'P', relpath, bytes, len);
}

bool pub_render_send_record(pub_render_pool *pool, const char *relpath, const char *text, size_t len)
{
    return send_path_bytes(pool, 'R', relpath, text, len);
}

static void send_diag(FILE *f, const pub_diag *d)
{
    uint8_t level = (uint8_t)d->level;
    int32_t line = d->line, col = d->col;
    uint32_t path_len = d->path ? (uint32_t)strlen(d->path) : UINT32_MAX;
    uint32_t msg_len = d->message ? (uint32_t)strlen(d->message) : 0;
    fputc('D', f);
    fwrite(&level, 1, 1, f);
    fwrite(&line, 4, 1, f);
    fwrite(&col, 4, 1, f);
    fwrite(&path_len, 4, 1, f);
    if (d->path) fwrite(d->path, 1, path_len, f);
    fwrite(&msg_len, 4, 1, f);
    if (msg_len) fwrite(d->message, 1, msg_len, f);
}

void pub_render_send_once(pub_render_pool *pool, const char *key, const pub_diag *d)
{
    uint32_t key_len = (uint32_t)strlen(key);
    fputc('K', pool->to_parent);
    fwrite(&key_len, sizeof key_len, 1, pool->to_parent);
    fwrite(key, 1, key_len, pool->to_parent);
    send_diag(pool->to_parent, d);
}

_Noreturn void pub_render_worker_exit(pub_render_pool *pool, pub_diags *diags)
{
    for (size_t i = 0; i < diags->len; i++) send_diag(pool->to_parent, diags->items[i]);
    fputc('E', pool->to_parent);
    int status = fclose(pool->to_parent) == 0 ? 0 : 1;
    /* No atexit handlers, no stdio flush: they belong to the parent. */
    _exit(status);
}

static bool has_key(char **keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0) return true;
    return false;
}

size_t pub_render_join(pub_render_pool *pool, const char *const *parent_keys, size_t nparent)
{
    if (!pool) return 0;
    char **keys = NULL;
    size_t nkeys = 0;
    for (size_t i = 0; i < nparent; i++) {
        keys = pub_xrealloc(keys, (nkeys + 1) * sizeof *keys);
        keys[nkeys++] = pub_xstrdup(parent_keys[i]);
    }
    for (int i = 0; i < pool->nworkers; i++) {
        worker *w = &pool->workers[i];
        if (w->reading) pthread_join(w->reader, NULL);
        int status = 0;
        pid_t got;
        while ((got = waitpid(w->pid, &status, 0)) < 0 && errno == EINTR) {}
        if (!w->broken && WIFSIGNALED(status))
            w->broken = pub_xstrdup(strsignal(WTERMSIG(status)));
        else if (!w->broken && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !w->ended))
            w->broken = pub_xstrdup("ended before its pages were sent");
        if (w->broken) pub_diags_add(pool->diags, PUB_ERROR, NULL, 0, 0, "render worker %d: %s", i + 1, w->broken);
        free(w->broken);
        fclose(w->in);
        for (size_t k = 0; k < w->nonce; k++) {
            if (has_key(keys, nkeys, w->once[k].key)) {
                pub_diag_free(w->once[k].diag);
                free(w->once[k].key);
                continue;
            }
            pub_diags_take(pool->diags, w->once[k].diag);
            keys = pub_xrealloc(keys, (nkeys + 1) * sizeof *keys);
            keys[nkeys++] = w->once[k].key;
        }
        free(w->once);
    }
    for (size_t k = 0; k < nkeys; k++) free(keys[k]);
    free(keys);
    size_t pages = atomic_load(&pool->pages);
    free(pool->workers);
    free(pool);
    return pages;
}
