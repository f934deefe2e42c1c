/* Path string helpers. Confinement is decided on the string alone, after
 * normalising, so that it cannot be fooled by "a/./../../x"; symlinks are
 * the site module's concern. */
#include "path.h"
#include "buf.h"
#include "mem.h"
#include <stdlib.h>
#include <string.h>

char *pub_path_join(const char *a, const char *b)
{
    pub_buf out = PUB_BUF_INIT;
    size_t alen = strlen(a);
    pub_buf_append(&out, a, alen);
    while (*b == '/') b++;
    if (alen && a[alen - 1] != '/' && *b) pub_buf_putc(&out, '/');
    pub_buf_puts(&out, b);
    return pub_buf_detach(&out);
}

char *pub_path_confine(const char *relative)
{
    if (relative[0] == '/') return NULL;
    size_t n = strlen(relative);
    /* Segment starts of the normalised result, to pop on "..". */
    size_t *starts = pub_xmalloc((n + 1) * sizeof *starts);
    size_t depth = 0;
    pub_buf out = PUB_BUF_INIT;
    const char *p = relative;
    while (*p) {
        const char *seg = p;
        while (*p && *p != '/') p++;
        size_t len = (size_t)(p - seg);
        if (*p == '/') p++;
        if (len == 0 || (len == 1 && seg[0] == '.')) continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (depth == 0) {
                free(starts);
                pub_buf_free(&out);
                return NULL;
            }
            depth--;
            out.len = starts[depth] ? starts[depth] - 1 : 0;
            if (out.data) out.data[out.len] = '\0';
            continue;
        }
        if (out.len) pub_buf_putc(&out, '/');
        starts[depth++] = out.len;
        pub_buf_append(&out, seg, len);
    }
    free(starts);
    return pub_buf_detach(&out);
}

bool pub_path_is_confined(const char *relative)
{
    const char *p = relative;
    if (!*p) return true;
    for (;;) {
        const char *seg = p;
        while (*p && *p != '/') p++;
        size_t len = (size_t)(p - seg);
        if (len == 0 || (seg[0] == '.' && (len == 1 || (len == 2 && seg[1] == '.')))) return false;
        if (!*p) return true;
        p++;
    }
}

const char *pub_path_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

const char *pub_path_ext(const char *path)
{
    const char *base = pub_path_base(path);
    const char *dot = strrchr(base, '.');
    return (dot && dot != base) ? dot : base + strlen(base);
}
