/* Markdown to HTML with cmark. Thread-safe: each call owns its parser. */
#ifndef PUB_MARKDOWN_H
#define PUB_MARKDOWN_H
#include <stdbool.h>
#include <stddef.h>

typedef struct pub_md_options {
    bool unsafe;     /* pass raw HTML through (default: true; real posts need it) */
    bool smart;      /* curly quotes and dashes */
    bool hardbreaks; /* a newline in a paragraph is a <br> */
} pub_md_options;

/* Renders `len` bytes of Markdown. Returns the HTML (caller frees) and its
 * length in *out_len when out_len is not NULL. */
char *pub_md_render(const char *text, size_t len, const pub_md_options *opts,
                    size_t *out_len);

#endif
