/* Growable byte string: doubling growth, NUL kept after the last byte. */
#include "buf.h"
#include "mem.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(pub_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->data = pub_xrealloc(b->data, cap);
    b->cap = cap;
}

void pub_buf_append(pub_buf *b, const void *bytes, size_t n)
{
    reserve(b, n);
    if (n) memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pub_buf_puts(pub_buf *b, const char *s) { pub_buf_append(b, s, strlen(s)); }

void pub_buf_putc(pub_buf *b, char c) { pub_buf_append(b, &c, 1); }

void pub_buf_vprintf(pub_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0) return;
    reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void pub_buf_printf(pub_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pub_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *pub_buf_cstr(pub_buf *b) { return b->data ? b->data : ""; }

char *pub_buf_detach(pub_buf *b)
{
    char *d = b->data ? b->data : pub_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void pub_buf_clear(pub_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void pub_buf_free(pub_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
