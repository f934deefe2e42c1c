/* `publish serve`'s main thread: watches SRC with inotify (the folders a
 * site is read from, not DEST, dot files or editor backups), rebuilds after
 * a short quiet spell, and publishes each build's outcome to the request
 * threads of serve.c. A rebuild's summary or its diagnostics go to the log
 * stream as they happen. */
#define _GNU_SOURCE
#include "serve_impl.h"
#include "build.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/fs.h"
#include "util/path.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Quiet time after the last change before a rebuild. A change that ends
 * a save (a file closed after writing, renamed into place, deleted) gets
 * the short one; one that may have more to come (a file created, being
 * written, renamed away: an editor's backup step) the long one. Waiting
 * too little costs only a rebuild more: changes during a build are built
 * after it. */
#define DEBOUNCE_MS 100
#define DEBOUNCE_SAVED_MS 20
#define DEBOUNCE_MAX_MS 1000 /* ... but never wait longer than this for quiet */
#define MAX_TREE_DEPTH 64


void pub_serve_say(const server *s, const char *fmt, ...)
{
    if (!s->opts->log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->opts->log, fmt, ap);
    va_end(ap);
    fflush(s->opts->log);
}

void pub_serve_free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines);
}


/* ---- Watching SRC ----------------------------------------------------------- */

/* Every folder of SRC is watched but DEST and dot folders: which files
 * are inputs is the reader's business (a Jekyll site has pages, Sass and
 * static files anywhere), and a change to a file that is not one costs a
 * rebuild that finds nothing to write. */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
                    IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)


/* Editor litter: dot files (swap files, .git) and backups ending in '~'. */
static bool ignored_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n && name[n - 1] == '~');
}

static watch *find_watch(watcher *w, int wd)
{
    for (size_t i = 0; i < w->len; i++)
        if (w->items[i].wd == wd) return &w->items[i];
    return NULL;
}

static int add_watch(watcher *w, const char *path)
{
    int wd = inotify_add_watch(w->fd, path, WATCH_MASK);
    if (wd < 0) {
        if (!w->warned)
            pub_serve_say(w->s, "publish: warning: cannot watch '%s': %s; changes there need a restart\n",
                path, strerror(errno));
        w->warned = true;
        return -1;
    }
    watch *old = find_watch(w, wd);
    if (old) { /* the same folder again (after an overflow): keep one entry */
        free(old->path);
        old->path = pub_xstrdup(path);
        return wd;
    }
    if (w->len == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->items = pub_xrealloc(w->items, w->cap * sizeof *w->items);
    }
    w->items[w->len++] = (watch){wd, pub_xstrdup(path)};
    return wd;
}

/* True when `path` is DEST: a destination inside a watched folder must not
 * make each build trigger the next. */
static bool is_dest(const watcher *w, const char *path)
{
    if (!w->s->dest_real) return false;
    char *real = realpath(path, NULL);
    bool same = real && strcmp(real, w->s->dest_real) == 0;
    free(real);
    return same;
}

typedef struct tree_watch {
    watcher *w;
    const char *root; /* the folder the walk started at */
    int depth;        /* its depth below SRC */
} tree_watch;

static pub_fs_step watch_entry(const pub_fs_entry *e, void *ctx)
{
    tree_watch *t = ctx;
    if (e->type != S_IFDIR || ignored_name(e->name)) return PUB_FS_NEXT;
    char *path = pub_path_join(t->root, e->rel);
    bool enter = t->depth + e->depth + 1 <= MAX_TREE_DEPTH && !is_dest(t->w, path) &&
                 add_watch(t->w, path) >= 0;
    free(path);
    return enter ? PUB_FS_ENTER : PUB_FS_NEXT;
}

/* Watches `path` (at `depth` below SRC) and every folder under it (not
 * through symlinks, not dot folders); returns the watch of `path`, or -1. */
static int add_tree(watcher *w, const char *path, int depth)
{
    int wd;
    if (depth > MAX_TREE_DEPTH || is_dest(w, path) || (wd = add_watch(w, path)) < 0) return -1;
    tree_watch t = {w, path, depth};
    pub_fs_walk_options o = {.visit = watch_entry, .ctx = &t};
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* SRC may be a symlink */
    if (fd >= 0) pub_fs_walk(fd, &o);
    return wd;
}

static void watch_site(watcher *w)
{
    w->root_wd = add_tree(w, w->s->opts->src, 0);
}

/* Stops watching `path` and everything under it (moved away or deleted). */
static void drop_tree(watcher *w, const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < w->len;) {
        const char *p = w->items[i].path;
        if (w->items[i].wd != w->root_wd && strncmp(p, path, n) == 0 && (p[n] == '\0' || p[n] == '/')) {
            inotify_rm_watch(w->fd, w->items[i].wd);
            free(w->items[i].path);
            w->items[i] = w->items[--w->len];
        } else {
            i++;
        }
    }
}

/* The first build tells where DEST is only after the watches are set, so
 * no edit during it is missed. */
void pub_serve_watch_drop_dest(watcher *w)
{
    for (size_t i = 0; i < w->len; i++) {
        if (w->items[i].wd != w->root_wd && is_dest(w, w->items[i].path)) {
            char *path = pub_xstrdup(w->items[i].path);
            drop_tree(w, path);
            free(path);
            i = (size_t)-1; /* the list was reordered: start again */
        }
    }
}

static void forget_watch(watcher *w, int wd)
{
    for (size_t i = 0; i < w->len; i++)
        if (w->items[i].wd == wd) {
            free(w->items[i].path);
            w->items[i] = w->items[--w->len];
            return;
        }
}

/* What the events read so far say: nothing for the site, a change that
 * may go on, a change that ends a save (see DEBOUNCE_SAVED_MS). */
typedef enum { CHANGE_NONE, CHANGE_GOING, CHANGE_SAVED } change;

/* The state after `mask`, a change to a file or folder, when it was `at`.
 * A change of attributes alone says nothing of whether a write is done. */
static change after_event(change at, uint32_t mask)
{
    if (mask & (IN_CREATE | IN_MODIFY | IN_MOVED_FROM)) return CHANGE_GOING;
    if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE)) return CHANGE_SAVED;
    return at == CHANGE_NONE ? CHANGE_GOING : at;
}

/* Reads the pending events; true when one of them can change the site,
 * and then *state says whether the last such ended a save. */
static bool read_changes(watcher *w, change *state)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false;
    ssize_t n;
    while ((n = read(w->fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) { /* events lost: re-walk, rebuild */
                watch_site(w);
                changed = true;
                *state = CHANGE_GOING;
                continue;
            }
            if (ev->mask & IN_IGNORED) {
                forget_watch(w, ev->wd);
                continue;
            }
            watch *at = find_watch(w, ev->wd);
            if (!at || !ev->len || ignored_name(ev->name)) continue;
            char *child = pub_path_join(at->path, ev->name);
            if ((ev->mask & IN_ISDIR) && is_dest(w, child)) {
                free(child);
                continue;
            }
            if (ev->mask & IN_ISDIR) {
                if (ev->mask & (IN_MOVED_FROM | IN_DELETE)) drop_tree(w, child);
                if (ev->mask & (IN_CREATE | IN_MOVED_TO)) add_tree(w, child, 1);
            }
            free(child);
            changed = true;
            *state = after_event(*state, ev->mask);
        }
    }
    return changed;
}

void pub_serve_watch_close(watcher *w)
{
    for (size_t i = 0; i < w->len; i++) free(w->items[i].path);
    free(w->items);
    if (w->fd >= 0) close(w->fd);
}

/* ---- Building --------------------------------------------------------------- */

/* Hands a build's outcome to the request threads: a new counter on
 * success (the pages reload), the formatted diagnostics `lines` (taken)
 * on failure; `dest` (borrowed, may be NULL) is the folder now built. */
static void publish_outcome(server *s, bool ok, char **lines, size_t nlines, const char *dest)
{
    pthread_mutex_lock(&s->lock);
    s->attempt++;
    s->ok = ok;
    if (ok) s->build++;
    if (dest && (ok || !s->dest)) {
        free(s->dest);
        s->dest = pub_xstrdup(dest);
    }
    pub_serve_free_lines(s->errors, s->nerrors);
    s->errors = lines;
    s->nerrors = nlines;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    free(s->dest_real);
    s->dest_real = s->dest ? realpath(s->dest, NULL) : NULL;
}

typedef struct rebuild {
    server *s;
    bool published;  /* the outcome went out at the commit */
    double reloaded; /* pub_clock_now() then */
} rebuild;

/* The build's output is in DEST: the pages reload now, while the build
 * goes on to save its cache and page records and close its Lua state
 * (some 0.1-0.2 s at 10k posts that the save-to-reload time need not
 * wait for). The next build starts only after this one returns. */
static void committed(void *ud, const pub_build_result *result)
{
    rebuild *rb = ud;
    publish_outcome(rb->s, true, NULL, 0, result->dest);
    rb->published = true;
    rb->reloaded = pub_clock_now();
}

/* Builds once: a new counter on success, the diagnostics on failure. */
void pub_serve_rebuild(server *s)
{
    const pub_serve_options *o = s->opts;
    double start = pub_clock_now();
    rebuild rb = {s, false, 0};
    pub_build_options bo = {.src = o->src, .dest = o->dest, .drafts = o->drafts,
                            .future = o->future, .jobs = o->jobs, .committed = committed,
                            .committed_ud = &rb};
    pub_diags diags;
    pub_diags_init(&diags);
    pub_build_result result;
    bool first = s->attempt == 0; /* the main thread alone writes it */
    bool ok = pub_build(&bo, &diags, &result);
    pub_diags_sort(&diags);

    char **lines = pub_xcalloc(diags.len + 1, sizeof *lines);
    size_t nlines = 0;
    pub_buf text = PUB_BUF_INIT;
    for (size_t i = 0; i < diags.len; i++) {
        pub_buf_clear(&text);
        pub_diag_format(diags.items[i], &text);
        pub_serve_say(s, "%s\n", pub_buf_cstr(&text));
        if (!ok) lines[nlines++] = pub_xstrdup(pub_buf_cstr(&text));
    }
    pub_buf_free(&text);
    /* A build with nothing to write (up to date) or one that failed did
     * not reach the commit's call. */
    if (!rb.published || !ok) publish_outcome(s, ok, lines, nlines, result.dest);
    else pub_serve_free_lines(lines, nlines);

    if (ok)
        pub_serve_say(s, "publish: %s %zu %s (%zu written, %zu unchanged, %zu removed) in %.2f s\n",
            first ? "built" : "rebuilt", result.pages, result.pages == 1 ? "file" : "files",
            result.out.written, result.out.unchanged, result.out.removed, pub_clock_now() - start);
    else
        pub_serve_say(s, "publish: %zu %s; still serving the previous output\n", diags.errors,
            diags.errors == 1 ? "error" : "errors");
    /* bench/serve-reload reads it: the build's part of save-to-reload. */
    if (rb.published && getenv("PUBLISH_TIMINGS"))
        pub_serve_say(s, "publish: timings: pages reloaded %.3f s after the build began, which ended after %.3f s\n",
            rb.reloaded - start, pub_clock_now() - start);
    pub_build_result_free(&result);
    pub_diags_free(&diags);
}

static int ms_since(double t)
{
    return (int)((pub_clock_now() - t) * 1000.0);
}

/* How long to wait still before rebuilding for `pending` changes, the
 * first seen at `first` and the last at `last`; 0: now. */
static int wait_ms(change pending, double first, double last)
{
    int quiet = (pending == CHANGE_SAVED ? DEBOUNCE_SAVED_MS : DEBOUNCE_MS) - ms_since(last);
    int cap = DEBOUNCE_MAX_MS - ms_since(first);
    int ms = quiet < cap ? quiet : cap;
    return ms > 0 ? ms : 0;
}

void pub_serve_watch_loop(server *s, watcher *w, int sigfd)
{
    change pending = CHANGE_NONE;
    double first = 0, last = 0;
    for (;;) {
        struct pollfd fds[2] = {{sigfd, POLLIN, 0}, {w->fd, POLLIN, 0}};
        int n = poll(fds, 2, pending ? wait_ms(pending, first, last) : -1);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo info;
            if (read(sigfd, &info, sizeof info) == (ssize_t)sizeof info) return;
        }
        if (n > 0 && (fds[1].revents & POLLIN)) {
            bool was = pending != CHANGE_NONE;
            if (read_changes(w, &pending)) {
                last = pub_clock_now();
                if (!was) first = last;
            }
        }
        /* Due even while events of ignored files (an editor's swap file)
         * keep coming. */
        if (pending && wait_ms(pending, first, last) == 0) {
            pending = CHANGE_NONE;
            pub_serve_rebuild(s);
        }
    }
}

void pub_serve_watch_start(watcher *w, server *s)
{
    *w = (watcher){.s = s, .fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), .root_wd = -1};
    if (w->fd < 0)
        pub_serve_say(s, "publish: warning: cannot watch for changes: %s\n", strerror(errno));
    else
        watch_site(w);
}
