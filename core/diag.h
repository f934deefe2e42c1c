/* Diagnostics: the error object every core function returns, and the list
 * a run collects so that all problems are reported at once. Formatting lives
 * here; printing is the CLI's job. */
#ifndef PUB_DIAG_H
#define PUB_DIAG_H
#include "util/buf.h"
#include <pthread.h>
#include <stddef.h>

typedef enum { PUB_ERROR, PUB_WARNING, PUB_NOTE } pub_level;

typedef struct pub_diag {
    char *path;    /* relative to SRC where possible; may be NULL */
    int line, col; /* 1-based; 0 when unknown */
    pub_level level;
    char *message; /* lowercase, no trailing period; may hold extra lines (traceback) */
} pub_diag;

/* New diagnostic; caller frees with pub_diag_free. */
pub_diag *pub_diag_new(pub_level level, const char *path, int line, int col,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void pub_diag_free(pub_diag *d);

/* `len` bytes of message text (a Lua string, a YAML value) with each NUL
 * shown as the two characters \0, so a message is never cut short at a
 * NUL inside a value. Caller frees. */
char *pub_diag_text(const char *bytes, size_t len);

/* "path:line:col: error: message" (parts left out when unknown). */
void pub_diag_format(const pub_diag *d, pub_buf *out);

/* A thread-safe list of diagnostics. */
typedef struct pub_diags {
    pub_diag **items;
    size_t len, cap;
    size_t errors;
    pthread_mutex_t lock;
} pub_diags;

void pub_diags_init(pub_diags *list);
/* Takes ownership of d (NULL is ignored). */
void pub_diags_take(pub_diags *list, pub_diag *d);
void pub_diags_add(pub_diags *list, pub_level level, const char *path, int line,
                   int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Orders by path, then line, then col (then level and message), so output
 * is stable across -j, and drops exact duplicates: a problem is said once. */
void pub_diags_sort(pub_diags *list);
void pub_diags_free(pub_diags *list);

#endif
