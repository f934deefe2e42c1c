/* What `publish serve` accepts, and how it keeps strangers and slow
 * clients from starving it (serve.c asks here; see serve_impl.h):
 *
 * - Host: only the names of the bound address (127.0.0.1, localhost, [::1],
 *   or the address given with --host; any IP literal when bound to a
 *   wildcard address) with the port, so a page on another site cannot
 *   reach the preview through DNS rebinding.
 * - Origin: the event and status endpoints refuse a request whose Origin
 *   is not one of those hosts (a foreign page must not read them).
 * - Event streams: at most PUB_SERVE_MAX_STREAMS at once (503 beyond), so
 *   reload streams cannot take every connection.
 * - Headers: a request whose headers are not complete within
 *   HEADER_SECONDS of its first byte (or of the end of the previous
 *   request on a kept-alive connection) is cut off, so idle and slowloris
 *   sockets cannot hold threads for long. MHD has no such deadline of its
 *   own (its timeout restarts with every byte); a small thread sweeps the
 *   connections that are still reading headers and shuts their sockets
 *   down, which ends MHD's thread for them. */
#define _GNU_SOURCE
#include "serve_impl.h"
#include "util/mem.h"
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define HEADER_SECONDS 5
#define SWEEP_MS 250

/* A connection MHD told us about (its socket context). */
typedef struct tracked {
    struct tracked *prev, *next;
    int fd;
    struct timespec since; /* start of the request being read */
    bool reading;          /* headers not complete yet */
    bool cut;              /* shut down by the sweeper */
} tracked;

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static bool ip_literal(const char *name)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* "name" as it appears in a Host header: IPv6 literals in brackets. */
static void add_host(pub_serve_guard *g, const char *name)
{
    char value[300];
    bool v6 = strchr(name, ':') != NULL;
    snprintf(value, sizeof value, "%s%s%s", v6 ? "[" : "", name, v6 ? "]" : "");
    for (size_t i = 0; i < g->nhosts; i++)
        if (strcasecmp(g->hosts[i], value) == 0) return;
    g->hosts = pub_xrealloc(g->hosts, (g->nhosts + 1) * sizeof *g->hosts);
    g->hosts[g->nhosts++] = pub_xstrdup(value);
}

static void *sweep(void *arg)
{
    pub_serve_guard *g = arg;
    /* Signals are the main loop's (its signalfd), never this thread's. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec now, wake;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (tracked *t = g->conns; t; t = t->next) {
            if (t->reading && !t->cut && seconds_between(&t->since, &now) > HEADER_SECONDS) {
                /* MHD's thread for it sees the socket end and closes it;
                 * the fd stays ours to touch until MHD's CLOSED notice,
                 * which takes this lock. */
                shutdown(t->fd, SHUT_RDWR);
                t->cut = true;
            }
        }
        wake = now;
        wake.tv_nsec += SWEEP_MS * 1000000L;
        if (wake.tv_nsec >= 1000000000L) {
            wake.tv_sec++;
            wake.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->lock, &wake);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

void pub_serve_guard_init(pub_serve_guard *g, const char *host, int port)
{
    memset(g, 0, sizeof *g);
    g->port = port;
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &attr);
    pthread_condattr_destroy(&attr);
    add_host(g, "127.0.0.1");
    add_host(g, "localhost");
    add_host(g, "::1");
    add_host(g, host);
    g->any_ip = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
    g->sweeping = pthread_create(&g->sweeper, NULL, sweep, g) == 0;
}

void pub_serve_guard_free(pub_serve_guard *g)
{
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_broadcast(&g->wake);
    pthread_mutex_unlock(&g->lock);
    if (g->sweeping) pthread_join(g->sweeper, NULL);
    for (size_t i = 0; i < g->nhosts; i++) free(g->hosts[i]);
    free(g->hosts);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
}

bool pub_serve_host_ok(const pub_serve_guard *g, const char *value)
{
    if (!value) return true; /* HTTP/1.0 without Host: no name to rebind */
    /* NAME[:PORT], NAME possibly a bracketed IPv6 literal. */
    const char *colon = value[0] == '[' ? strchr(value, ']') : value;
    colon = colon ? strchr(colon, ':') : NULL;
    size_t name_len = colon ? (size_t)(colon - value) : strlen(value);
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || port != g->port) return false;
    } else if (g->port != 80) {
        return false;
    }
    for (size_t i = 0; i < g->nhosts; i++)
        if (strlen(g->hosts[i]) == name_len && strncasecmp(g->hosts[i], value, name_len) == 0)
            return true;
    if (!g->any_ip || name_len == 0 || name_len > 64) return false;
    char name[80];
    memcpy(name, value, name_len);
    name[name_len] = '\0';
    if (name[0] == '[' && name[name_len - 1] == ']') {
        memmove(name, name + 1, name_len - 2);
        name[name_len - 2] = '\0';
    }
    return ip_literal(name);
}

bool pub_serve_origin_ok(const pub_serve_guard *g, const char *origin)
{
    if (!origin) return true; /* not a cross-origin browser request */
    if (strncasecmp(origin, "http://", 7) != 0) return false;
    return pub_serve_host_ok(g, origin + 7);
}

bool pub_serve_stream_open(pub_serve_guard *g)
{
    pthread_mutex_lock(&g->lock);
    bool ok = g->streams < PUB_SERVE_MAX_STREAMS;
    if (ok) g->streams++;
    pthread_mutex_unlock(&g->lock);
    return ok;
}

void pub_serve_stream_close(pub_serve_guard *g)
{
    pthread_mutex_lock(&g->lock);
    g->streams--;
    pthread_mutex_unlock(&g->lock);
}

void pub_serve_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode code)
{
    pub_serve_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        tracked *t = pub_xcalloc(1, sizeof *t);
        t->fd = info ? info->connect_fd : -1;
        t->reading = t->fd >= 0;
        clock_gettime(CLOCK_MONOTONIC, &t->since);
        pthread_mutex_lock(&g->lock);
        t->next = g->conns;
        if (g->conns) g->conns->prev = t;
        g->conns = t;
        pthread_mutex_unlock(&g->lock);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        tracked *t = *socket_context;
        pthread_mutex_lock(&g->lock);
        if (t->prev) t->prev->next = t->next;
        else g->conns = t->next;
        if (t->next) t->next->prev = t->prev;
        pthread_mutex_unlock(&g->lock);
        free(t);
        *socket_context = NULL;
    }
}

/* The socket context of `conn` (its tracked record), or NULL. */
static tracked *tracked_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void pub_serve_headers_done(pub_serve_guard *g, struct MHD_Connection *conn)
{
    tracked *t = tracked_of(conn);
    if (!t) return;
    pthread_mutex_lock(&g->lock);
    t->reading = false;
    pthread_mutex_unlock(&g->lock);
}

void pub_serve_request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                            enum MHD_RequestTerminationCode code)
{
    (void)req_cls;
    (void)code;
    pub_serve_guard *g = cls;
    tracked *t = tracked_of(conn);
    if (!t) return;
    /* A kept-alive connection must send its next request promptly too. */
    pthread_mutex_lock(&g->lock);
    t->reading = true;
    clock_gettime(CLOCK_MONOTONIC, &t->since);
    pthread_mutex_unlock(&g->lock);
}
