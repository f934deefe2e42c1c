/* A growable byte string, always NUL-terminated so it can be handed to C
 * string functions; embedded NULs are allowed and counted by len. */
#ifndef PUB_UTIL_BUF_H
#define PUB_UTIL_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct pub_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
} pub_buf;

#define PUB_BUF_INIT {NULL, 0, 0}

void pub_buf_append(pub_buf *b, const void *bytes, size_t n);
void pub_buf_puts(pub_buf *b, const char *s);
void pub_buf_putc(pub_buf *b, char c);
void pub_buf_printf(pub_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pub_buf_vprintf(pub_buf *b, const char *fmt, va_list ap);
/* The contents as a C string ("" when empty); borrowed until the next change. */
const char *pub_buf_cstr(pub_buf *b);
/* Hands the bytes to the caller (free()); the buffer is left empty. */
char *pub_buf_detach(pub_buf *b);
void pub_buf_clear(pub_buf *b);
void pub_buf_free(pub_buf *b);

#endif
