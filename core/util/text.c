/* Escaping and slugs (the contract is in text.h). Byte-wise: UTF-8
 * sequences pass through escaping untouched (URL escaping encodes their
 * bytes), and the slug rules decode UTF-8 only to tell separators apart. */
#include "text.h"
#include "utf8.h"
#include <stdint.h>
#include <string.h>

static int copy_rep(char rep[8], const char *s)
{
    size_t n = strlen(s);
    memcpy(rep, s, n);
    return (int)n;
}

static int percent(char rep[8], unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    rep[0] = '%';
    rep[1] = hex[c >> 4];
    rep[2] = hex[c & 15];
    return 3;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

int pub_text_escape_byte(pub_text_escape_kind kind, unsigned char c, char rep[8])
{
    switch (kind) {
    case PUB_ESC_URL_COMPONENT:
        return is_unreserved(c) ? -1 : percent(rep, c);
    case PUB_ESC_URL:
        if (c <= 0x20 || c >= 0x7F || strchr("\"<>\\^`{|}", c)) return percent(rep, c);
        return -1;
    case PUB_ESC_XML:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return 0;
        break;
    case PUB_ESC_HTML:
    case PUB_ESC_CODE:
        break;
    }
    switch (c) {
    case '&': return copy_rep(rep, "&amp;");
    case '<': return copy_rep(rep, "&lt;");
    case '>': return copy_rep(rep, "&gt;");
    case '"': return copy_rep(rep, "&quot;");
    case '\'': return kind == PUB_ESC_CODE ? -1 : copy_rep(rep, "&#39;");
    default: return -1;
    }
}

void pub_text_escape(pub_buf *out, pub_text_escape_kind kind, const char *s, size_t len)
{
    size_t start = 0;
    char rep[8];
    for (size_t i = 0; i < len; i++) {
        int n = pub_text_escape_byte(kind, (unsigned char)s[i], rep);
        if (n < 0) continue;
        pub_buf_append(out, s + start, i - start);
        pub_buf_append(out, rep, (size_t)n);
        start = i + 1;
    }
    pub_buf_append(out, s + start, len - start);
}

/* Characters that separate words in a slug beyond ASCII punctuation:
 * Latin-1 symbols, general punctuation, CJK punctuation (ideographic
 * space, 、。「」) and the full-width ASCII punctuation blocks. Everything
 * else (letters and digits of any script, but also symbols such as emoji)
 * is kept, since a slug in Korean should read as Korean. */
static int is_separator(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
           (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
           (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
           (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
           cp == 0xFEFF;
}

size_t pub_text_slugify(const char *s, size_t len, char *out)
{
    size_t o = 0;
    int pending = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
                if (pending && o) out[o++] = '-';
                pending = 0;
                out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            } else {
                pending = 1;
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = pub_utf8_decode(s + i, len - i, &cp);
        if (n == 1 || is_separator(cp)) { /* n == 1 here is an invalid byte */
            pending = 1;
            i += n;
            continue;
        }
        if (pending && o) out[o++] = '-';
        pending = 0;
        memcpy(out + o, s + i, n);
        if (cp >= 0xC0 && cp <= 0xDE) out[o + 1] = (char)(out[o + 1] + 0x20);
        o += n;
        i += n;
    }
    return o;
}
