/* Private to `publish serve` (serve.c: HTTP; serve_watch.c: watching SRC
 * and rebuilding): the state the request threads and the main thread share,
 * and the calls one file makes into the other. Nothing else includes it. */
#ifndef PUB_SERVE_IMPL_H
#define PUB_SERVE_IMPL_H
#include "serve.h"
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Written by the main thread after each build, read by request threads. */
typedef struct server {
    const pub_serve_options *opts;
    pthread_mutex_t lock;
    pthread_cond_t changed;  /* broadcast after each build and on stop */
    unsigned build;          /* successful builds so far: the pages' reload counter */
    unsigned attempt;        /* builds tried, failed or not */
    bool ok;                 /* the last build succeeded */
    char **errors;           /* the last failed build's diagnostics, formatted */
    size_t nerrors;
    char *dest;              /* the folder served; replaced only under `lock` */
    char *dest_real;         /* its realpath, for the watcher (main thread only) */
    bool stopping;
} server;

typedef struct watch {
    int wd;
    char *path;  /* SRC-joined folder path */
} watch;

typedef struct watcher {
    server *s;
    int fd;
    int root_wd;
    watch *items;
    size_t len, cap;
    bool warned;  /* the "cannot watch" warning is given once */
} watcher;

/* Writes to the log stream of the options, if any (serve_watch.c). */
void pub_serve_say(const server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees an array of `n` strings (serve_watch.c). */
void pub_serve_free_lines(char **lines, size_t n);

/* Starts watching SRC (a warning when inotify is unavailable); w->fd is -1
 * then (serve_watch.c). */
void pub_serve_watch_start(watcher *w, server *s);

/* Drops the watches that landed on DEST, once the first build said where
 * it is (serve_watch.c). */
void pub_serve_watch_drop_dest(watcher *w);

void pub_serve_watch_close(watcher *w);

/* Builds once (main thread only) and publishes the outcome to the request
 * threads (serve_watch.c). */
void pub_serve_rebuild(server *s);

/* Waits for changes and signals, rebuilding after a quiet spell; returns
 * when SIGINT or SIGTERM came (serve_watch.c). */
void pub_serve_watch_loop(server *s, watcher *w, int sigfd);

#endif
