/* UTF-8 validation and decoding per RFC 3629 (no overlongs, no surrogates). */
#include "utf8.h"
#include <string.h>

static size_t sequence_length(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t min, cp;
    if ((c & 0xE0) == 0xC0) { n = 2; min = 0x80; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 3; min = 0x800; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 4; min = 0x10000; cp = c & 0x07; }
    else return 0;
    if (left < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* The hot path of every post read: ASCII is skipped eight bytes at a time
 * and multi-byte sequences are checked against the well-formed byte ranges
 * of Unicode's table 3-7 (which excludes overlongs, surrogates and code
 * points past U+10FFFF) without decoding them. */
size_t pub_utf8_invalid_at(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            while (len - i >= 8) {
                uint64_t word;
                memcpy(&word, p + i, 8);
                if (word & 0x8080808080808080ULL) break;
                i += 8;
            }
            continue;
        }
        size_t left = len - i;
        if (c >= 0xC2 && c <= 0xDF) {
            if (left < 2 || (p[i + 1] & 0xC0) != 0x80) return i;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            if (left < 3 || p[i + 1] < lo || p[i + 1] > hi || (p[i + 2] & 0xC0) != 0x80)
                return i;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            if (left < 4 || p[i + 1] < lo || p[i + 1] > hi || (p[i + 2] & 0xC0) != 0x80 ||
                (p[i + 3] & 0xC0) != 0x80)
                return i;
            i += 4;
        } else {
            return i;
        }
    }
    return len;
}

size_t pub_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = sequence_length(p, len);
    if (n <= 1) {
        *cp = p[0];
        return 1;
    }
    uint32_t v = p[0] & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < n; i++) v = (v << 6) | (p[i] & 0x3F);
    *cp = v;
    return n;
}

void pub_utf8_line_col(const char *s, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < offset; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b == '\n') { l++; c = 1; }
        else if ((b & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}
