/* HTTP through the `curl` program (Debian's curl): the status of external
 * URLs for `publish check --external` (one run fetches them all, several at
 * a time), and one URL's body for `publish.http.get`, which plugins reach
 * only with the `network` capability. Redirects are followed, and each URL
 * has a time limit. publish links no HTTP client library for these opt-in
 * uses; a build touches the network only through them. */
#ifndef PUB_FETCH_H
#define PUB_FETCH_H
#include <stddef.h>

/* Fetches the `n` URLs and fills statuses[i]: the final HTTP status
 * (200, 404, ...), or 0 when there was no answer (no such host, refused,
 * timed out, TLS failure). Returns NULL, or a message when curl could not
 * be run at all (caller frees with free()). `seconds` bounds each URL. */
char *pub_fetch_statuses(const char *const *urls, size_t n, int seconds, int *statuses);

/* Fetches `url`: returns NULL and sets *body (caller frees; NUL-terminated),
 * *len and *status (the final HTTP status, 0 for no answer), or a message
 * when curl could not be run (caller frees with free()). */
char *pub_fetch_get(const char *url, int seconds, char **body, size_t *len, int *status);

#endif
