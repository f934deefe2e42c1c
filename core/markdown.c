/* cmark rendering. Raw HTML passes through unless the site asks for safe
 * mode, in which case cmark replaces it with a comment. */
#include "markdown.h"
#include <cmark.h>
#include <string.h>

char *pub_md_render(const char *text, size_t len, const pub_md_options *opts,
                    size_t *out_len)
{
    int flags = CMARK_OPT_VALIDATE_UTF8;
    if (opts->unsafe) flags |= CMARK_OPT_UNSAFE;
    if (opts->smart) flags |= CMARK_OPT_SMART;
    if (opts->hardbreaks) flags |= CMARK_OPT_HARDBREAKS;
    char *html = cmark_markdown_to_html(text, len, flags);
    if (out_len) *out_len = strlen(html);
    return html;
}
