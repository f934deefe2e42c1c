/* Growable byte string: doubling growth, NUL kept after the last byte. */
#include "buf.h"
#include "mem.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t grown_cap(const pub_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    return cap;
}

static void reserve(pub_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    b->cap = grown_cap(b, need);
    b->data = pub_xrealloc(b->data, b->cap);
}

void pub_buf_append(pub_buf *b, const void *bytes, size_t n)
{
    /* Appending part of the buffer to itself must survive the realloc. */
    const char *from = bytes;
    uintptr_t at = (uintptr_t)from, start = (uintptr_t)b->data;
    if (b->data && at >= start && at < start + b->cap) {
        size_t offset = (size_t)(at - start);
        reserve(b, n);
        from = b->data + offset;
    } else {
        reserve(b, n);
    }
    if (n) memmove(b->data + b->len, from, n);
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
    size_t need = b->len + (size_t)n + 1;
    if (need > b->cap) {
        /* Format into the new block before freeing the old one, so an
         * argument pointing into this buffer is still readable. */
        size_t cap = grown_cap(b, need);
        char *fresh = pub_xmalloc(cap);
        if (b->len) memcpy(fresh, b->data, b->len);
        vsnprintf(fresh + b->len, (size_t)n + 1, fmt, ap);
        free(b->data);
        b->data = fresh;
        b->cap = cap;
        b->len += (size_t)n;
        return;
    }
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
