/* Text helpers written once for the whole engine: escaping for HTML, XML
 * and URLs, and slugs. The Lua library (publish.html.escape,
 * publish.html.escape_xml, publish.url.encode, publish.url.escape,
 * publish.slugify) and the C modules that write HTML (serve's pages, the
 * highlighter) both use these, so a rule changes in one place. */
#ifndef PUB_UTIL_TEXT_H
#define PUB_UTIL_TEXT_H
#include "buf.h"
#include <stddef.h>

typedef enum pub_text_escape_kind {
    /* & < > " ' as &amp; &lt; &gt; &quot; &#39;: text and attribute values */
    PUB_ESC_HTML,
    /* & < > " as cmark escapes code: highlighted code reads as cmark's */
    PUB_ESC_CODE,
    /* PUB_ESC_HTML, and the C0 controls XML 1.0 forbids even escaped
     * (all but tab, LF, CR) dropped: feeds, sitemaps */
    PUB_ESC_XML,
    /* every byte that may not stand in a URL as %XX (controls, space,
     * " < > \ ^ ` { | }, DEL, non-ASCII); reserved characters and '%' kept,
     * so an encoded URL is not encoded twice: links */
    PUB_ESC_URL,
    /* every byte but A-Z a-z 0-9 - . _ ~ as %XX: a query value or one path
     * segment */
    PUB_ESC_URL_COMPONENT,
} pub_text_escape_kind;

/* The replacement of byte `c`: writes it to rep (at most 6 bytes, not
 * NUL-terminated) and returns its length (0: dropped), or returns -1 when
 * `c` stays as it is. */
int pub_text_escape_byte(pub_text_escape_kind kind, unsigned char c, char rep[8]);

/* Appends `len` bytes of `s` to `out`, escaped by `kind`. */
void pub_text_escape(pub_buf *out, pub_text_escape_kind kind, const char *s, size_t len);

/* Writes the slug of s[0..len) to `out` (room for `len` bytes: a slug is
 * never longer than its source) and returns its length. Lowercases ASCII
 * and Latin-1 capitals (É -> é), turns each run of separators (ASCII
 * punctuation and spaces, Latin-1 symbols, general and CJK punctuation,
 * full-width ASCII punctuation, invalid UTF-8 bytes) into one '-', trims
 * '-' at both ends; other characters (letters and digits of any script,
 * emoji) are kept: "뉴스 속보" -> "뉴스-속보". The slug may be empty. */
size_t pub_text_slugify(const char *s, size_t len, char *out);

#endif
