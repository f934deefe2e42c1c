/* Diagnostic objects and the run's list of them. */
#include "diag.h"
#include "util/mem.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static pub_diag *diag_vnew(pub_level level, const char *path, int line, int col,
                           const char *fmt, va_list ap)
{
    pub_diag *d = pub_xcalloc(1, sizeof *d);
    pub_buf msg = PUB_BUF_INIT;
    pub_buf_vprintf(&msg, fmt, ap);
    d->level = level;
    d->path = path ? pub_xstrdup(path) : NULL;
    d->line = line;
    d->col = col;
    d->message = pub_buf_detach(&msg);
    return d;
}

pub_diag *pub_diag_new(pub_level level, const char *path, int line, int col,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pub_diag *d = diag_vnew(level, path, line, col, fmt, ap);
    va_end(ap);
    return d;
}

char *pub_diag_text(const char *bytes, size_t len)
{
    pub_buf out = PUB_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] == '\0') pub_buf_puts(&out, "\\0");
        else pub_buf_putc(&out, bytes[i]);
    }
    return pub_buf_detach(&out);
}

void pub_diag_free(pub_diag *d)
{
    if (!d) return;
    free(d->path);
    free(d->message);
    free(d);
}

void pub_diag_format(const pub_diag *d, pub_buf *out)
{
    static const char *const names[] = {"error", "warning", "note"};
    if (d->path) {
        pub_buf_puts(out, d->path);
        if (d->line > 0) {
            pub_buf_printf(out, ":%d", d->line);
            if (d->col > 0) pub_buf_printf(out, ":%d", d->col);
        }
        pub_buf_puts(out, ": ");
    }
    pub_buf_printf(out, "%s: %s", names[d->level], d->message);
}

void pub_diags_init(pub_diags *list)
{
    memset(list, 0, sizeof *list);
    pthread_mutex_init(&list->lock, NULL);
}

void pub_diags_take(pub_diags *list, pub_diag *d)
{
    if (!d) return;
    pthread_mutex_lock(&list->lock);
    if (list->len == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = pub_xrealloc(list->items, list->cap * sizeof *list->items);
    }
    list->items[list->len++] = d;
    if (d->level == PUB_ERROR) list->errors++;
    pthread_mutex_unlock(&list->lock);
}

void pub_diags_add(pub_diags *list, pub_level level, const char *path, int line,
                   int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pub_diags_take(list, diag_vnew(level, path, line, col, fmt, ap));
    va_end(ap);
}

static int compare_diags(const void *a, const void *b)
{
    const pub_diag *x = *(pub_diag *const *)a, *y = *(pub_diag *const *)b;
    int c = strcmp(x->path ? x->path : "", y->path ? y->path : "");
    if (c) return c;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    /* Ties broken by content, so the order never depends on which thread
     * or render worker reported first. */
    if (x->level != y->level) return x->level < y->level ? -1 : 1;
    return strcmp(x->message ? x->message : "", y->message ? y->message : "");
}

void pub_diags_sort(pub_diags *list)
{
    if (list->len < 2) return;
    qsort(list->items, list->len, sizeof *list->items, compare_diags);
    /* The same problem met twice (a broken layout in two render workers)
     * is said once. */
    size_t kept = 1;
    for (size_t i = 1; i < list->len; i++) {
        if (compare_diags(&list->items[kept - 1], &list->items[i]) == 0) {
            if (list->items[i]->level == PUB_ERROR) list->errors--;
            pub_diag_free(list->items[i]);
        } else {
            list->items[kept++] = list->items[i];
        }
    }
    list->len = kept;
}

void pub_diags_free(pub_diags *list)
{
    for (size_t i = 0; i < list->len; i++) pub_diag_free(list->items[i]);
    free(list->items);
    pthread_mutex_destroy(&list->lock);
    memset(list, 0, sizeof *list);
}
