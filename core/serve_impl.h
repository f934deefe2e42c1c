/* Private to `publish serve` (serve.c: HTTP; serve_watch.c: watching SRC
 * and rebuilding): the state the request threads and the main thread share,
 * and the calls one file makes into the other. Nothing else includes it. */
#ifndef PUB_SERVE_IMPL_H
#define PUB_SERVE_IMPL_H
#include "serve.h"
#include "mhd.h"
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* At most this many event streams (reload pages) at once; 503 beyond. */
#define PUB_SERVE_MAX_STREAMS 64

/* What serve accepts and how slow clients are cut off (serve_guard.c). */
typedef struct pub_serve_guard {
    char **hosts;            /* Host names accepted ("127.0.0.1", "[::1]", ...) */
    size_t nhosts;
    bool any_ip;             /* bound to a wildcard: any IP literal is accepted */
    int port;                /* the bound port */
    pthread_mutex_t lock;    /* conns, streams, stopping */
    pthread_cond_t wake;
    struct tracked *conns;   /* open connections */
    int streams;             /* open event streams */
    bool stopping, sweeping;
    pthread_t sweeper;
} pub_serve_guard;

/* Sets up the guard for a server bound to `host` (as given) and `port`,
 * and starts its sweeper thread. */
void pub_serve_guard_init(pub_serve_guard *g, const char *host, int port);
/* Stops the sweeper (after MHD has stopped) and frees the guard. */
void pub_serve_guard_free(pub_serve_guard *g);
/* Whether a Host header value (NULL: none) names this server. */
bool pub_serve_host_ok(const pub_serve_guard *g, const char *value);
/* Whether an Origin header value (NULL: none) is this server's own. */
bool pub_serve_origin_ok(const pub_serve_guard *g, const char *origin);
/* Takes an event-stream slot; false when all are taken. */
bool pub_serve_stream_open(pub_serve_guard *g);
void pub_serve_stream_close(pub_serve_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard). */
void pub_serve_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode code);
/* MHD_OPTION_NOTIFY_COMPLETED callback (cls: the guard): the next request
 * on the connection gets its own header deadline. */
void pub_serve_request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                            enum MHD_RequestTerminationCode code);
/* The request's headers are all in (first call of the handler). */
void pub_serve_headers_done(pub_serve_guard *g, struct MHD_Connection *conn);

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
    pub_serve_guard guard;   /* Host/Origin checks, stream cap, header deadline */
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
