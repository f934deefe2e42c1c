/* UTF-8 facts the core needs: where a text stops being valid, and how to
 * step over characters without splitting one. */
#ifndef PUB_UTIL_UTF8_H
#define PUB_UTIL_UTF8_H
#include <stddef.h>
#include <stdint.h>

/* Offset of the first byte that does not start a valid, shortest-form
 * UTF-8 sequence (surrogates and > U+10FFFF are invalid), or `len` when the
 * whole text is valid. */
size_t pub_utf8_invalid_at(const char *s, size_t len);

/* Decodes the character at s (valid UTF-8 assumed); sets *cp and returns its
 * byte length (1 for a stray byte, which is returned as itself). */
size_t pub_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* 1-based line and column (column in characters) of byte `offset`. */
void pub_utf8_line_col(const char *s, size_t offset, int *line, int *col);

#endif
