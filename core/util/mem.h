/* Allocation that never returns NULL: on exhaustion the process aborts with
 * a message, so callers need no error path for memory. */
#ifndef PUB_UTIL_MEM_H
#define PUB_UTIL_MEM_H
#include <stddef.h>

void *pub_xmalloc(size_t n);
void *pub_xcalloc(size_t count, size_t size);
void *pub_xrealloc(void *p, size_t n);
/* Caller frees with free(). */
char *pub_xstrdup(const char *s);
char *pub_xstrndup(const char *s, size_t n);

#endif
