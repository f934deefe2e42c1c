/* Tests for core/content.c: copies kept in memory up to the store's
 * budget and written to its file after it, each read back whole with the
 * hash of its bytes; a store whose file cannot be made (TMPDIR not a
 * folder) keeping everything in memory; large copies, empty ones, and
 * several threads adding at once. The file is made in a mkdtemp folder
 * (TMPDIR) and unlinked at once: the folder must stay empty. */
#define _GNU_SOURCE
#include "content.h"
#include "check.h"
#include "util/hash.h"
#include <dirent.h>
#include <pthread.h>

/* Reads `ref` back and compares it with `want`. */
static void check_read(pub_content *c, const pub_content_ref *ref, const char *want, size_t len)
{
    char *got = pub_xmalloc(len + 1);
    CHECK_INT(pub_content_read(c, ref, got, len), 0);
    CHECK(memcmp(got, want, len) == 0);
    CHECK(ref->hash == pub_hash(want, len, 0));
    free(got);
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    if (d) closedir(d);
    return n;
}

static void test_memory_then_file(void)
{
    pub_content *c = pub_content_new(10);
    pub_content_ref a = pub_content_add(c, "<p>one</p>", 10);
    pub_content_ref b = pub_content_add(c, "<p>two</p>", 10);
    pub_content_ref e = pub_content_add(c, "", 0);
    CHECK(a.bytes != NULL); /* within the budget */
    CHECK(b.bytes == NULL); /* past it: in the file */
    CHECK(e.bytes != NULL); /* empty: adds nothing to the budget */
    CHECK_INT(b.offset, 0);
    check_read(c, &a, "<p>one</p>", 10);
    check_read(c, &b, "<p>two</p>", 10);
    check_read(c, &e, "", 0);
    CHECK_INT(pub_content_bytes(c), 20);
    /* A copy larger than a block, after the file: read back whole. */
    size_t big_len = (3u << 20) + 7;
    char *big = pub_xmalloc(big_len);
    for (size_t i = 0; i < big_len; i++) big[i] = (char)('a' + i % 26);
    pub_content_ref r = pub_content_add(c, big, big_len);
    CHECK(r.bytes == NULL);
    CHECK_INT(r.offset, 10);
    check_read(c, &r, big, big_len);
    free(big);
    pub_content_free(c);
    pub_content_free(NULL);
}

static void test_no_file(const char *root)
{
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", root);
    setenv("TMPDIR", missing, 1);
    pub_content *c = pub_content_new(0);
    pub_content_ref a = pub_content_add(c, "kept", 4);
    CHECK(a.bytes != NULL);
    check_read(c, &a, "kept", 4);
    /* Large enough for a block of its own. */
    size_t big_len = (1u << 20);
    char *big = pub_xcalloc(1, big_len);
    big[big_len - 1] = 'z';
    pub_content_ref r = pub_content_add(c, big, big_len);
    CHECK(r.bytes != NULL);
    check_read(c, &r, big, big_len);
    free(big);
    pub_content_free(c);
    setenv("TMPDIR", root, 1);
}

typedef struct adder {
    pub_content *c;
    int id;
    pub_content_ref refs[200];
} adder;

static void text_of(int id, int i, char out[64])
{
    snprintf(out, 64, "<p>thread %d, copy %d</p>", id, i);
}

static void *add_many(void *arg)
{
    adder *a = arg;
    for (int i = 0; i < 200; i++) {
        char text[64];
        text_of(a->id, i, text);
        a->refs[i] = pub_content_add(a->c, text, strlen(text));
    }
    return NULL;
}

static void test_threads(void)
{
    pub_content *c = pub_content_new(2000);
    adder adders[4];
    pthread_t threads[4];
    for (int t = 0; t < 4; t++) {
        adders[t].c = c;
        adders[t].id = t;
        pthread_create(&threads[t], NULL, add_many, &adders[t]);
    }
    for (int t = 0; t < 4; t++) pthread_join(threads[t], NULL);
    int in_file = 0;
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 200; i++) {
            char text[64];
            text_of(t, i, text);
            check_read(c, &adders[t].refs[i], text, strlen(text));
            in_file += adders[t].refs[i].bytes == NULL;
        }
    }
    CHECK(in_file > 0 && in_file < 800);
    pub_content_free(c);
}

int main(void)
{
    char root[64];
    check_temp_dir(root, "content");
    setenv("TMPDIR", root, 1);
    test_memory_then_file();
    test_threads();
    CHECK_INT(entries(root), 0); /* the files were unlinked when made */
    test_no_file(root);
    pub_file_remove_tree(root);
    return check_finish();
}
