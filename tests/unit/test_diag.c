/* core/diag: formatting a diagnostic (the parts left out when unknown),
 * NUL bytes shown as \0, the list's sort order and dedup (with its error
 * count), and appends from several threads at once. */
#include "check.h"
#include "diag.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_format_at(int line, pub_diag *d, const char *want)
{
    char *got = check_diag_text(d);
    check_str_at(__FILE__, line, got, want);
    free(got);
}
#define FORMAT(d, want) check_format_at(__LINE__, (d), (want))

static void test_format(void)
{
    FORMAT(pub_diag_new(PUB_ERROR, "posts/a.md", 3, 7, "bad %s", "key"),
           "posts/a.md:3:7: error: bad key");
    FORMAT(pub_diag_new(PUB_WARNING, "posts/a.md", 3, 0, "no column"),
           "posts/a.md:3: warning: no column");
    /* A column without a line says nothing on its own. */
    FORMAT(pub_diag_new(PUB_NOTE, "config.yaml", 0, 5, "no line"), "config.yaml: note: no line");
    FORMAT(pub_diag_new(PUB_ERROR, NULL, 4, 2, "no path %d", 42), "error: no path 42");
    FORMAT(pub_diag_new(PUB_ERROR, "x.md", 1, 1, "traceback:\n\tx.lua:2"),
           "x.md:1:1: error: traceback:\n\tx.lua:2");

    pub_diag *d = pub_diag_new(PUB_WARNING, "p.md", 2, 9, "%s", "m");
    CHECK_STR(d->path, "p.md");
    CHECK_INT(d->line, 2);
    CHECK_INT(d->col, 9);
    CHECK_INT(d->level, PUB_WARNING);
    CHECK_STR(d->message, "m");
    pub_diag_free(d);
    pub_diag_free(NULL); /* a no-op */

    /* Formatting appends: what the buffer held stays. */
    pub_buf b = PUB_BUF_INIT;
    pub_buf_puts(&b, "> ");
    d = pub_diag_new(PUB_NOTE, NULL, 0, 0, "hi");
    pub_diag_format(d, &b);
    pub_diag_free(d);
    char *text = pub_buf_detach(&b);
    CHECK_STR(text, "> note: hi");
    free(text);
}

static void test_text(void)
{
    char *t = pub_diag_text("a\0b\0", 4);
    CHECK_STR(t, "a\\0b\\0");
    free(t);
    t = pub_diag_text("", 0);
    CHECK_STR(t, "");
    free(t);
    t = pub_diag_text("plain", 5);
    CHECK_STR(t, "plain");
    free(t);
    /* Only `len` bytes are read. */
    t = pub_diag_text("abcdef", 3);
    CHECK_STR(t, "abc");
    free(t);
    /* The shown text in a message keeps what follows the NUL. */
    t = pub_diag_text("key\0tail", 8);
    FORMAT(pub_diag_new(PUB_ERROR, "c.yaml", 1, 2, "unknown key '%s'", t),
           "c.yaml:1:2: error: unknown key 'key\\0tail'");
    free(t);
}

/* The list's diagnostics, formatted one a line. */
static char *list_text(const pub_diags *list)
{
    pub_buf b = PUB_BUF_INIT;
    for (size_t i = 0; i < list->len; i++) {
        pub_diag_format(list->items[i], &b);
        pub_buf_putc(&b, '\n');
    }
    return pub_buf_detach(&b);
}

static void test_sort(void)
{
    pub_diags list;
    pub_diags_init(&list);
    pub_diags_sort(&list); /* empty: fine */
    CHECK_INT(list.len, 0);

    pub_diags_add(&list, PUB_ERROR, "b.md", 1, 1, "later path");
    pub_diags_add(&list, PUB_ERROR, "a.md", 10, 1, "line 10");
    pub_diags_add(&list, PUB_ERROR, "a.md", 2, 5, "col 5");
    pub_diags_add(&list, PUB_ERROR, "a.md", 2, 3, "col 3");
    pub_diags_add(&list, PUB_WARNING, "a.md", 2, 3, "a warning after the error");
    pub_diags_add(&list, PUB_ERROR, "a.md", 2, 3, "another message");
    pub_diags_add(&list, PUB_ERROR, NULL, 0, 0, "no path first");
    pub_diags_add(&list, PUB_ERROR, "a.md", 2, 3, "col 3"); /* a duplicate */
    pub_diags_add(&list, PUB_WARNING, "b.md", 1, 1, "later path"); /* not one: a warning */
    pub_diags_take(&list, NULL); /* ignored */
    CHECK_INT(list.len, 9);
    CHECK_INT(list.errors, 7);

    pub_diags_sort(&list);
    char *text = list_text(&list);
    CHECK_STR(text, "error: no path first\n"
                    "a.md:2:3: error: another message\n"
                    "a.md:2:3: error: col 3\n"
                    "a.md:2:3: warning: a warning after the error\n"
                    "a.md:2:5: error: col 5\n"
                    "a.md:10:1: error: line 10\n"
                    "b.md:1:1: error: later path\n"
                    "b.md:1:1: warning: later path\n");
    free(text);
    CHECK_INT(list.len, 8);
    CHECK_INT(list.errors, 6); /* the dropped duplicate no longer counts */

    /* Sorting again changes nothing. */
    pub_diags_sort(&list);
    CHECK_INT(list.len, 8);
    CHECK_INT(list.errors, 6);
    pub_diags_free(&list);
    CHECK_INT(list.len, 0);
    CHECK(list.items == NULL);
}

static void test_dedup_run(void)
{
    /* Three copies of one problem (a broken layout met by three render
     * workers) and two of a warning: each said once. */
    pub_diags list;
    pub_diags_init(&list);
    for (int i = 0; i < 3; i++) pub_diags_add(&list, PUB_ERROR, "l.html", 4, 1, "bad tag");
    for (int i = 0; i < 2; i++) pub_diags_add(&list, PUB_WARNING, "l.html", 4, 1, "slow");
    CHECK_INT(list.errors, 3);
    pub_diags_sort(&list);
    char *text = list_text(&list);
    CHECK_STR(text, "l.html:4:1: error: bad tag\nl.html:4:1: warning: slow\n");
    free(text);
    CHECK_INT(list.errors, 1);
    pub_diags_free(&list);
}

enum { THREADS = 4, PER_THREAD = 500 };

typedef struct {
    pub_diags *list;
    int id;
} worker_arg;

static void *worker(void *p)
{
    const worker_arg *a = p;
    for (int i = 0; i < PER_THREAD; i++)
        pub_diags_add(a->list, i % 2 ? PUB_WARNING : PUB_ERROR, "t.md", a->id + 1, i + 1,
                      "from %d", a->id);
    return NULL;
}

static void test_threads(void)
{
    pub_diags list;
    pub_diags_init(&list);
    pthread_t threads[THREADS];
    worker_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (worker_arg){&list, i};
        if (pthread_create(&threads[i], NULL, worker, &args[i]) != 0) abort();
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    CHECK_INT(list.len, THREADS * PER_THREAD);
    CHECK_INT(list.errors, THREADS * PER_THREAD / 2);
    /* Every append arrived whole: after sorting, each thread's lines are in
     * order and none is lost or doubled. */
    pub_diags_sort(&list);
    CHECK_INT(list.len, THREADS * PER_THREAD);
    bool in_order = true;
    for (size_t i = 0; i < list.len; i++) {
        const pub_diag *d = list.items[i];
        int want_line = (int)(i / PER_THREAD) + 1, want_col = (int)(i % PER_THREAD) + 1;
        char want_msg[32];
        snprintf(want_msg, sizeof want_msg, "from %d", want_line - 1);
        if (d->line != want_line || d->col != want_col || strcmp(d->message, want_msg) != 0)
            in_order = false;
    }
    CHECK(in_order);
    pub_diags_free(&list);
}

int main(void)
{
    test_format();
    test_text();
    test_sort();
    test_dedup_run();
    test_threads();
    return check_finish();
}
