/* The status of external URLs, for `publish check --external`: one run of
 * the `curl` program (Debian's curl) fetches them all, several at a time,
 * following redirects, each within a time limit. publish links no HTTP
 * client library for this one opt-in check; the build itself never touches
 * the network. */
#ifndef PUB_FETCH_H
#define PUB_FETCH_H
#include <stddef.h>

/* Fetches the `n` URLs and fills statuses[i]: the final HTTP status
 * (200, 404, ...), or 0 when there was no answer (no such host, refused,
 * timed out, TLS failure). Returns NULL, or a message when curl could not
 * be run at all (caller frees with free()). `seconds` bounds each URL. */
char *pub_fetch_statuses(const char *const *urls, size_t n, int seconds, int *statuses);

#endif
