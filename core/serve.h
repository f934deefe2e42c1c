/* `publish serve`: builds the site once, serves DEST over HTTP on one
 * address, rebuilds when SRC changes and tells open pages to reload, or
 * shows them the build errors while the previous output stays served.
 * It never serves a file outside DEST. It does not build in parallel with
 * itself and has no TLS, no directory listings and no caching headers
 * beyond "no-cache": it is a writer's preview, not a production server. */
#ifndef PUB_SERVE_H
#define PUB_SERVE_H
#include "diag.h"
#include <stdbool.h>
#include <stdio.h>

typedef struct pub_serve_options {
    const char *src;     /* site folder */
    const char *dest;    /* NULL: config `destination` or SRC/_site, as for build */
    const char *host;    /* numeric address or name to bind; NULL: 127.0.0.1 */
    int port;            /* TCP port; 0: any free port (the serving line names it) */
    bool no_reload;      /* serve pages as built, without the reload script */
    bool drafts;         /* as for build */
    bool future;
    int jobs;
    FILE *log;           /* the serving line, build summaries and diagnostics; NULL: silent */
} pub_serve_options;

/* Builds, then serves until SIGINT or SIGTERM, rebuilding on change. A
 * failed build is reported (to `log`, the event stream and
 * /__publish/status) and the previous output stays served. Returns NULL
 * after a clean stop, or the problem that kept it from serving (SRC not a
 * folder, the address unusable); caller frees with pub_diag_free.
 * SIGINT, SIGTERM and SIGPIPE are taken over while it runs and restored
 * before it returns. */
pub_diag *pub_serve(const pub_serve_options *opts);

/* The file a request URL asks for: "/a%20b/" -> "a b" (relative to DEST,
 * normalised; "" for DEST itself), with *folder_url telling whether it
 * ended in '/'. NULL with *status 400 for a broken escape, an encoded or
 * raw NUL, or a path not starting with '/', and 403 for one that climbs
 * ("..") out. Caller frees. (Symlinks are refused later, when the file is
 * opened one component at a time.) */
char *pub_serve_request_path(const char *url, int *status, bool *folder_url);

#endif
