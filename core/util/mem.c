/* One place that decides what running out of memory means: a message and
 * abort(). Everything else may assume allocation succeeds. */
#include "mem.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "publish: out of memory (%zu bytes)\n", n);
    abort();
}

void *pub_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *pub_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *pub_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *pub_xstrndup(const char *s, size_t n)
{
    char *d = pub_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pub_xstrdup(const char *s)
{
    return pub_xstrndup(s, strlen(s));
}
