/* `publish serve`: one build, then DEST served over HTTP by libmicrohttpd
 * (a thread per connection, so the event stream can simply block) while the
 * main thread watches SRC with inotify and rebuilds after a short quiet
 * spell (serve_watch.c). A build's commit renames each changed file into
 * DEST, so a request sees a whole old file or a whole new one, never half
 * of one; the build counter a page is stamped with is read before its file
 * is opened, so a stale page can only ever be told to reload once too
 * often, never once too few.
 *
 * Safety: the URL is percent-decoded here (MHD's own decoder is switched
 * off so an encoded NUL cannot silently cut a path short), any ".." is
 * refused, and the file is opened one component at a time from DEST with
 * O_NOFOLLOW, so no symlink in DEST, however it got there, leads out.
 *
 * Who may ask: serve_guard.c checks the Host of every request and the
 * Origin on the event and status endpoints, caps event streams at
 * PUB_SERVE_MAX_STREAMS, and cuts off requests whose headers come too
 * slowly; an event stream notices a client that hung up within a second.
 *
 * This module writes to the `log` stream its caller hands it, the one
 * exception to "only the CLI prints": it runs until stopped and has to say
 * what each rebuild did as it happens. It does not serve directory listings,
 * ranges beyond what MHD does itself, or anything but GET and HEAD. */
#define _GNU_SOURCE
#include "serve_impl.h"
#include "site.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/path.h"
#include "util/text.h"
#include <errno.h>
#include <fcntl.h>
#include "mhd.h"
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define EVENTS_URL "/__publish/events"
#define STATUS_URL "/__publish/status"
#define PING_SECONDS 15     /* keeps idle event streams (and proxies) alive */

/* ---- Paths ------------------------------------------------------------------ */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "/categories/%EB%89%B4%EC%8A%A4/" -> the UTF-8 bytes. NULL for a broken
 * escape or a NUL, encoded or not. Caller frees. */
static char *decode_path(const char *raw)
{
    size_t n = strlen(raw);
    char *out = pub_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] != '%') {
            out[o++] = raw[i];
            continue;
        }
        int hi = i + 2 < n ? hex_digit(raw[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(raw[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

/* True when a segment of `path` is "..": refused outright rather than
 * resolved, since no page of ours links that way. */
static bool climbs(const char *path)
{
    const char *p = path;
    while (*p) {
        const char *seg = p;
        while (*p && *p != '/') p++;
        if (p - seg == 2 && seg[0] == '.' && seg[1] == '.') return true;
        if (*p) p++;
    }
    return false;
}

typedef enum { FOUND_FILE, FOUND_FOLDER, NOT_FOUND } found;

/* Opens `rel` (normalised, "" for the folder itself) under the open folder
 * `root`, one component at a time with O_NOFOLLOW. On FOUND_FILE and
 * FOUND_FOLDER *fd is open (caller closes) and *st describes it. */
static found open_under(int root, const char *rel, int *fd, struct stat *st)
{
    int cur = fcntl(root, F_DUPFD_CLOEXEC, 0);
    if (cur < 0) return NOT_FOUND;
    const char *p = rel;
    while (*p) {
        const char *seg = p;
        while (*p && *p != '/') p++;
        char *name = pub_xstrndup(seg, (size_t)(p - seg));
        if (*p) p++;
        /* O_NONBLOCK: a FIFO someone put in DEST must not hang the thread. */
        int next = openat(cur, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        free(name);
        close(cur);
        if (next < 0) return NOT_FOUND;
        cur = next;
        if (fstat(cur, st) != 0 || (*p && !S_ISDIR(st->st_mode))) {
            close(cur);
            return NOT_FOUND;
        }
    }
    if (fstat(cur, st) != 0 || !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) {
        close(cur);
        return NOT_FOUND;
    }
    *fd = cur;
    return S_ISDIR(st->st_mode) ? FOUND_FOLDER : FOUND_FILE;
}

/* ---- Responses -------------------------------------------------------------- */

static const char *content_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},  {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},    {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},              {".png", "image/png"},
        {".jpg", "image/jpeg"},                 {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},                  {".webp", "image/webp"},
        {".avif", "image/avif"},                {".ico", "image/x-icon"},
        {".xml", "application/xml; charset=utf-8"},
        {".rss", "application/rss+xml; charset=utf-8"},
        {".atom", "application/atom+xml; charset=utf-8"},
        {".json", "application/json"},          {".txt", "text/plain; charset=utf-8"},
        {".md", "text/plain; charset=utf-8"},   {".woff2", "font/woff2"},
        {".woff", "font/woff"},                 {".ttf", "font/ttf"},
        {".pdf", "application/pdf"},            {".map", "application/json"},
    };
    const char *ext = pub_path_ext(name);
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcasecmp(ext, types[i][0]) == 0) return types[i][1];
    return "application/octet-stream";
}

static bool is_html(const char *name)
{
    const char *ext = pub_path_ext(name);
    return strcasecmp(ext, ".html") == 0 || strcasecmp(ext, ".htm") == 0;
}

/* The script put before </body>: reloads when the stream reports a build
 * other than the one the page came from, and shows a failed build's
 * diagnostics in an overlay (textContent, so they are never markup). The
 * stream's own connection errors are "error" events without data. */
static const char reload_script[] =
    "<script>/* publish serve */(function(){var b=%u,o=null,"
    "s=new EventSource(\"" EVENTS_URL "\");"
    "s.addEventListener(\"reload\",function(e){"
    "if(+e.data!==b)location.reload();else if(o){o.remove();o=null;}});"
    "s.addEventListener(\"error\",function(e){if(typeof e.data!==\"string\")return;"
    "if(!o){o=document.createElement(\"pre\");"
    "o.style.cssText=\"position:fixed;z-index:2147483647;top:0;left:0;right:0;bottom:0;"
    "margin:0;padding:2em;overflow:auto;background:rgba(40,0,0,.94);color:#fdd;"
    "font:14px/1.5 monospace;white-space:pre-wrap\";"
    "(document.body||document.documentElement).appendChild(o);}"
    "o.textContent=\"publish: the last build failed; this page is from the one before\\n\\n\"+e.data;"
    "});})();</script>\n";

/* The last "</body" in html[0..len), ignoring case; len when none. */
static size_t body_end(const char *html, size_t len)
{
    for (size_t i = len; i >= 6; i--)
        if (strncasecmp(html + i - 6, "</body", 6) == 0) return i - 6;
    return len;
}

static void inject(pub_buf *page, const char *html, size_t len, unsigned build)
{
    size_t at = body_end(html, len);
    pub_buf_append(page, html, at);
    pub_buf_printf(page, reload_script, build);
    pub_buf_append(page, html + at, len - at);
}

/* Reads all of fd (a regular file of st_size bytes) into `out`. */
static bool read_fd(int fd, size_t size, pub_buf *out)
{
    char chunk[65536];
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return false;
        if (r == 0) break;
        pub_buf_append(out, chunk, (size_t)r);
        got += (size_t)r;
    }
    return true;
}

static enum MHD_Result send_buffer(struct MHD_Connection *conn, unsigned status,
                                   const char *type, pub_buf *body)
{
    size_t len = body->len;
    char *data = pub_buf_detach(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    pub_buf body = PUB_BUF_INIT;
    pub_buf_puts(&body, text);
    pub_buf_putc(&body, '\n');
    return send_buffer(conn, status, "text/plain; charset=utf-8", &body);
}

/* Sends the open file `fd` (taken over) named `name`; HTML gets the reload
 * script unless the server was started with --no-reload. */
static enum MHD_Result send_file(const server *s, struct MHD_Connection *conn, unsigned status,
                                 int fd, const struct stat *st, const char *name, unsigned build)
{
    const char *type = content_type(name);
    if ((!s->opts->no_reload && is_html(name)) || st->st_size == 0) {
        pub_buf raw = PUB_BUF_INIT, page = PUB_BUF_INIT;
        bool ok = read_fd(fd, (size_t)st->st_size, &raw);
        close(fd);
        if (!ok) {
            pub_buf_free(&raw);
            return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the file");
        }
        if (!s->opts->no_reload && is_html(name)) inject(&page, raw.data ? raw.data : "", raw.len, build);
        else pub_buf_append(&page, raw.data ? raw.data : "", raw.len);
        pub_buf_free(&raw);
        return send_buffer(conn, status, type, &page);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st->st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* DEST/404.html when the site has one; else a small page, still HTML so
 * the reload script (and a failed build's overlay) reaches it. */
static enum MHD_Result send_not_found(const server *s, struct MHD_Connection *conn, int root,
                                      const char *shown, unsigned build)
{
    int fd;
    struct stat st;
    if (root >= 0 && open_under(root, "404.html", &fd, &st) == FOUND_FILE)
        return send_file(s, conn, MHD_HTTP_NOT_FOUND, fd, &st, "404.html", build);
    pub_buf raw = PUB_BUF_INIT, page = PUB_BUF_INIT;
    pub_buf_puts(&raw, "<!doctype html>\n<meta charset=\"utf-8\">\n<title>not found</title>\n"
                       "<body>\n<h1>not found</h1>\n<p>");
    pub_text_escape(&raw, PUB_ESC_HTML, shown, strlen(shown));
    pub_buf_puts(&raw, "</p>\n</body>\n");
    if (s->opts->no_reload) pub_buf_append(&page, raw.data, raw.len);
    else inject(&page, raw.data, raw.len, build);
    pub_buf_free(&raw);
    return send_buffer(conn, MHD_HTTP_NOT_FOUND, "text/html; charset=utf-8", &page);
}

char *pub_serve_request_path(const char *url, int *status, bool *folder_url)
{
    char *path = decode_path(url);
    if (!path || path[0] != '/') {
        free(path);
        *status = MHD_HTTP_BAD_REQUEST;
        return NULL;
    }
    char *rel = climbs(path) ? NULL : pub_path_confine(path + 1);
    *status = rel ? MHD_HTTP_OK : MHD_HTTP_FORBIDDEN;
    *folder_url = path[strlen(path) - 1] == '/';
    free(path);
    return rel;
}

static enum MHD_Result send_site_file(server *s, struct MHD_Connection *conn, const char *url)
{
    int status;
    bool folder_url;
    char *rel = pub_serve_request_path(url, &status, &folder_url);
    if (!rel)
        return send_text(conn, (unsigned)status,
                         status == MHD_HTTP_BAD_REQUEST ? "bad request path" : "forbidden");
    char *path = decode_path(url); /* as the not-found page shows it */

    /* The counter first, the file second: see the file comment. */
    pthread_mutex_lock(&s->lock);
    unsigned build = s->build;
    char *dest = s->dest ? pub_xstrdup(s->dest) : NULL;
    pthread_mutex_unlock(&s->lock);
    int root = dest ? open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    free(dest);

    enum MHD_Result ok;
    int fd;
    struct stat st;
    found what = root >= 0 ? open_under(root, rel, &fd, &st) : NOT_FOUND;
    if (what == FOUND_FOLDER && !folder_url) {
        close(fd);
        pub_buf location = PUB_BUF_INIT;
        pub_buf_printf(&location, "%s/", url);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Location", pub_buf_cstr(&location));
        ok = MHD_queue_response(conn, MHD_HTTP_MOVED_PERMANENTLY, r);
        MHD_destroy_response(r);
        pub_buf_free(&location);
    } else if (what == FOUND_FOLDER) {
        int index;
        found in = open_under(fd, "index.html", &index, &st);
        close(fd);
        if (in == FOUND_FILE) ok = send_file(s, conn, MHD_HTTP_OK, index, &st, "index.html", build);
        else {
            if (in == FOUND_FOLDER) close(index);
            ok = send_not_found(s, conn, root, path, build);
        }
    } else if (what == FOUND_FILE && !folder_url) {
        ok = send_file(s, conn, MHD_HTTP_OK, fd, &st, rel, build);
    } else {
        if (what == FOUND_FILE) close(fd);
        ok = send_not_found(s, conn, root, path, build);
    }
    if (root >= 0) close(root);
    free(rel);
    free(path);
    return ok;
}

static void json_string(pub_buf *out, const char *text)
{
    pub_buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            pub_buf_putc(out, '\\');
            pub_buf_putc(out, (char)*p);
        } else if (*p == '\n') {
            pub_buf_puts(out, "\\n");
        } else if (*p < 0x20) {
            pub_buf_printf(out, "\\u%04x", *p);
        } else {
            pub_buf_putc(out, (char)*p);
        }
    }
    pub_buf_putc(out, '"');
}

static enum MHD_Result send_status(server *s, struct MHD_Connection *conn)
{
    pub_buf body = PUB_BUF_INIT;
    pthread_mutex_lock(&s->lock);
    pub_buf_printf(&body, "{\"build\":%u,\"ok\":%s,\"errors\":[", s->build, s->ok ? "true" : "false");
    for (size_t i = 0; i < s->nerrors; i++) {
        if (i) pub_buf_putc(&body, ',');
        json_string(&body, s->errors[i]);
    }
    pthread_mutex_unlock(&s->lock);
    pub_buf_puts(&body, "]}\n");
    return send_buffer(conn, MHD_HTTP_OK, "application/json", &body);
}

/* ---- The event stream (server-sent events) ---------------------------------- */

typedef struct stream {
    server *s;
    int fd;          /* the client's socket, to notice it hang up */
    unsigned seen;   /* the build attempt last reported */
    bool greeted;
    pub_buf out;     /* bytes not yet handed to MHD */
    size_t off;
} stream;

/* The current state as one event; called with s->lock held. */
static void put_state(const server *s, pub_buf *out)
{
    if (s->ok) {
        pub_buf_printf(out, "event: reload\ndata: %u\n\n", s->build);
        return;
    }
    pub_buf_puts(out, "event: error\n");
    for (size_t i = 0; i < s->nerrors; i++) {
        /* Every line of the text becomes a data line; the client joins
         * them with "\n" again. */
        const char *p = s->errors[i];
        do {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            pub_buf_puts(out, "data: ");
            for (size_t k = 0; k < n; k++)
                if (p[k] != '\r') pub_buf_putc(out, p[k]);
            pub_buf_putc(out, '\n');
            p = nl ? nl + 1 : p + n;
        } while (*p);
    }
    if (s->nerrors == 0) pub_buf_puts(out, "data: the build failed\n");
    pub_buf_putc(out, '\n');
}

/* Whether the client of an event stream has hung up (it sends nothing
 * after its request, so anything readable is the end or an error). */
static bool client_gone(int fd)
{
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLIN));
}

/* Blocks (this connection has its own thread) until there is something to
 * say: the state on connecting, each build after that, or a ping. False
 * when the server is stopping or the client has gone: the wait is cut in
 * one-second slices to notice a hang-up promptly, freeing its slot. */
static bool next_event(stream *st)
{
    server *s = st->s;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += PING_SECONDS;
    pthread_mutex_lock(&s->lock);
    bool gone = false;
    while (!s->stopping && st->greeted && st->seen == s->attempt && !gone) {
        struct timespec slice;
        clock_gettime(CLOCK_MONOTONIC, &slice);
        slice.tv_sec += 1;
        if (slice.tv_sec > deadline.tv_sec ||
            (slice.tv_sec == deadline.tv_sec && slice.tv_nsec > deadline.tv_nsec))
            slice = deadline;
        int rc = pthread_cond_timedwait(&s->changed, &s->lock, &slice);
        if (rc == ETIMEDOUT) {
            pthread_mutex_unlock(&s->lock);
            gone = client_gone(st->fd);
            pthread_mutex_lock(&s->lock);
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > deadline.tv_sec ||
                (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
                break;
        }
    }
    bool going = !s->stopping && !gone;
    if (going) {
        if (!st->greeted) pub_buf_puts(&st->out, "retry: 1000\n\n");
        if (!st->greeted || st->seen != s->attempt) put_state(s, &st->out);
        else pub_buf_puts(&st->out, ": ping\n\n");
        st->greeted = true;
        st->seen = s->attempt;
    }
    pthread_mutex_unlock(&s->lock);
    return going;
}

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *st = cls;
    if (st->off == st->out.len) {
        pub_buf_clear(&st->out);
        st->off = 0;
        if (!next_event(st)) return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = st->out.len - st->off;
    if (n > max) n = max;
    memcpy(buf, st->out.data + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void events_free(void *cls)
{
    stream *st = cls;
    pub_serve_stream_close(&st->s->guard);
    pub_buf_free(&st->out);
    free(st);
}

static enum MHD_Result send_events(server *s, struct MHD_Connection *conn)
{
    if (!pub_serve_stream_open(&s->guard)) {
        struct MHD_Response *r = MHD_create_response_from_buffer(
            strlen("too many event streams\n"), (void *)"too many event streams\n",
            MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
        MHD_add_response_header(r, "Retry-After", "5");
        enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, r);
        MHD_destroy_response(r);
        return ok;
    }
    stream *st = pub_xcalloc(1, sizeof *st);
    st->s = s;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = info ? info->connect_fd : -1;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, events_read, st, events_free);
    if (!r) {
        events_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    (void)version;
    (void)upload_data;
    server *s = cls;
    /* The first call comes with the headers alone; answering then would
     * make MHD close the connection (it cannot know the body is empty),
     * so keep-alive needs us to wait for the second. */
    static int headers_seen;
    if (!*req_cls) {
        *req_cls = &headers_seen;
        pub_serve_headers_done(&s->guard, conn);
        return MHD_YES;
    }
    if (*upload_data_size) { /* a body we do not want: skip it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* Only our own names: a page elsewhere cannot reach us through a
     * rebound DNS name, nor read the status or events from its origin. */
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!pub_serve_host_ok(&s->guard, host))
        return send_text(conn, MHD_HTTP_FORBIDDEN, "this server does not answer to that Host");
    bool own = strcmp(url, EVENTS_URL) == 0 || strcmp(url, STATUS_URL) == 0;
    if (own && !pub_serve_origin_ok(&s->guard, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                                              "Origin")))
        return send_text(conn, MHD_HTTP_FORBIDDEN, "foreign origin");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
    if (strcmp(url, EVENTS_URL) == 0) return send_events(s, conn);
    if (strcmp(url, STATUS_URL) == 0) return send_status(s, conn);
    return send_site_file(s, conn, url);
}

/* MHD would decode %XX before we see the path, an encoded NUL included
 * (cutting "/a%00.html" to "/a"); we decode ourselves, strictly. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *text)
{
    (void)cls;
    (void)conn;
    return strlen(text);
}

/* ---- Listening and the main loop ---------------------------------------------- */

/* Binds host:port; returns the socket (and the port bound in *bound_port),
 * or -1 with *err set. */
static int listen_on(const char *host, int port, char **url, int *bound_port, pub_diag **err)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {0}, *list = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        *err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot resolve host '%s': %s", host,
                            gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    struct addrinfo *a;
    for (a = list; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 64) == 0) break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        *err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot listen on '%s' port %d: %s", host, port,
                            strerror(saved));
    } else {
        struct sockaddr_storage bound;
        socklen_t len = sizeof bound;
        int actual = port;
        if (getsockname(fd, (struct sockaddr *)&bound, &len) == 0) {
            if (bound.ss_family == AF_INET) actual = ntohs(((struct sockaddr_in *)&bound)->sin_port);
            else if (bound.ss_family == AF_INET6)
                actual = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
        }
        pub_buf b = PUB_BUF_INIT;
        bool v6 = strchr(host, ':') != NULL;
        pub_buf_printf(&b, "http://%s%s%s:%d/", v6 ? "[" : "", host, v6 ? "]" : "", actual);
        *url = pub_buf_detach(&b);
        *bound_port = actual;
    }
    freeaddrinfo(list);
    return fd;
}


/* A busy port is common (another preview still running): the next free
 * one of the following few is taken, and the serving line says so. */
#define PORT_TRIES 20

static int listen_near(const char *host, int port, char **url, int *bound_port, pub_diag **err)
{
    int fd = listen_on(host, port, url, bound_port, err);
    for (int k = 1; fd < 0 && port != 0 && k < PORT_TRIES && port + k <= 65535; k++) {
        if (!strstr((*err)->message, strerror(EADDRINUSE))) break;
        pub_diag_free(*err);
        *err = NULL;
        fd = listen_on(host, port + k, url, bound_port, err);
    }
    return fd;
}

/* --drafts and --future previews are built into a folder of their own
 * (removed when the server stops), so drafts never reach the real DEST
 * (and its feed) that a later `publish build` deploys. */
static char *preview_folder(void)
{
    const char *tmp = getenv("TMPDIR");
    pub_buf b = PUB_BUF_INIT;
    pub_buf_printf(&b, "%s/publish-preview-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *dir = pub_buf_detach(&b);
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* The first lines: where to look, and where a preview is built (before
 * the first build: requests wait in the listen queue until the server
 * starts). */
static void announce(server *s, const char *url, int port, bool preview)
{
    const pub_serve_options *opts = s->opts;
    pub_buf busy = PUB_BUF_INIT;
    if (opts->port && port != opts->port) pub_buf_printf(&busy, "port %d is busy; ", opts->port);
    pub_serve_say(s, "publish: serving %s at %s (%sCtrl-C to stop)\n", opts->src, url,
                  pub_buf_cstr(&busy));
    pub_buf_free(&busy);
    if (preview)
        pub_serve_say(s, "publish: %s%s%s are built into %s, not the site's destination\n",
                      opts->drafts ? "drafts" : "", opts->drafts && opts->future ? " and " : "",
                      opts->future ? "future posts" : "", opts->dest);
}

static struct MHD_Daemon *start_http(server *s, int listen_fd)
{
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC,
        0, NULL,
        NULL, answer, s, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_UNESCAPE_CALLBACK,
        keep_escaped, NULL,
        /* A thread per connection, so a small stack each; the guard cuts
         * off slow headers long before the idle timeout would. */
        MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 * 1024,
        MHD_OPTION_NOTIFY_CONNECTION, pub_serve_guard_notify, &s->guard,
        MHD_OPTION_NOTIFY_COMPLETED, pub_serve_request_done, &s->guard, MHD_OPTION_END);
}

/* Serves on `listen_fd` (taken) until SIGINT or SIGTERM: the first
 * build, then HTTP and the watch loop. */
static pub_diag *run_server(server *s, int listen_fd, const char *url, int port, bool preview)
{
    /* Blocked before MHD starts its threads, so they inherit the mask and
     * the signals arrive only through the signalfd the main loop polls. A
     * client hanging up must not kill us mid-write. */
    sigset_t stop_signals, old_mask;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
    int sigfd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
    if (sigfd < 0) {
        pub_diag *err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot wait for signals: %s",
                                     strerror(errno));
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        close(listen_fd);
        return err;
    }
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old_pipe;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old_pipe);

    announce(s, url, port, preview);
    watcher w;
    pub_serve_watch_start(&w, s);
    pub_serve_rebuild(s);
    pub_serve_watch_drop_dest(&w);

    pub_diag *err = NULL;
    struct MHD_Daemon *daemon = start_http(s, listen_fd);
    if (!daemon) {
        close(listen_fd);
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot start the HTTP server on '%s'", url);
    } else {
        pub_serve_watch_loop(s, &w, sigfd); /* poll() skips w.fd when it is -1 */
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        MHD_stop_daemon(daemon);
        pub_serve_say(s, "publish: stopped\n");
    }
    pub_serve_watch_close(&w);
    close(sigfd);
    sigaction(SIGPIPE, &old_pipe, NULL);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return err;
}

pub_diag *pub_serve(const pub_serve_options *given)
{
    pub_diag *not_site = pub_site_check_folder(given->src);
    if (not_site) return not_site;
    pub_diag *no_http = pub_mhd_load(); /* only serve loads it (mhd.h) */
    if (no_http) return no_http;
    pub_serve_options local = *given;
    const pub_serve_options *opts = &local;
    char *preview = NULL;
    if ((given->drafts || given->future) && !given->dest) {
        preview = preview_folder();
        if (!preview)
            return pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot make a preview folder: %s",
                                strerror(errno));
        local.dest = pub_path_join(preview, "_site");
    }
    const char *host = opts->host ? opts->host : DEFAULT_HOST;
    char *url = NULL;
    pub_diag *err = NULL;
    int port = opts->port;
    int listen_fd = listen_near(host, opts->port, &url, &port, &err);
    if (listen_fd >= 0) {
        server s = {.opts = opts};
        pub_serve_guard_init(&s.guard, host, port);
        pthread_mutex_init(&s.lock, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&s.changed, &attr);
        pthread_condattr_destroy(&attr);
        err = run_server(&s, listen_fd, url, port, preview != NULL);
        pub_serve_guard_free(&s.guard);
        pub_serve_free_lines(s.errors, s.nerrors);
        free(s.dest);
        free(s.dest_real);
        pthread_cond_destroy(&s.changed);
        pthread_mutex_destroy(&s.lock);
    }
    free(url);
    if (preview) {
        pub_file_remove_tree(preview);
        free((char *)local.dest); /* ours only then: -d DEST is the caller's */
    }
    free(preview);
    return err;
}
