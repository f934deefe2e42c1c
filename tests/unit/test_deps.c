/* Unit tests for deps: the page records' file (save, open, find by output,
 * carrying a kept page's record over, damaged and foreign files). */
#include "check.h"
#include "deps.h"
#include <stdint.h>

static char root[64];

/* The record of `output` this build saved, read back ("" when none). */
static const char *text_of(const pub_deps *d, const char *output, char *buf, size_t cap)
{
    long i = pub_deps_find(d, output);
    if (i < 0) return "";
    const char *o, *text;
    size_t len;
    pub_deps_get(d, (size_t)i, &o, &text, &len);
    snprintf(buf, cap, "%.*s", (int)len, text);
    return buf;
}

static void test_round_trip(void)
{
    pub_deps *d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 0);
    CHECK_INT(pub_deps_find(d, "index.html"), -1);
    /* Put in any order (render workers finish when they finish). */
    pub_deps_put(d, "z/index.html", "1f\nsite\ttitle\tab\n", 17);
    pub_deps_put(d, "a/index.html", "2e\n", 3);
    pub_deps_put(d, "index.html", "3d\npost posts/a.md\ttitle\tcd\n", 28);
    CHECK(pub_deps_save(d) == NULL);
    pub_deps_free(d);

    char buf[128];
    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 3);
    const char *o, *text;
    size_t len;
    pub_deps_get(d, 0, &o, &text, &len);
    CHECK_STR(o, "a/index.html");
    CHECK_INT(pub_deps_find(d, "a/index.html"), 0);
    CHECK_INT(pub_deps_find(d, "index.html"), 1);
    CHECK_INT(pub_deps_find(d, "z/index.html"), 2);
    CHECK_INT(pub_deps_find(d, "b/index.html"), -1);
    CHECK_INT(pub_deps_find(d, ""), -1);
    CHECK_STR(text_of(d, "z/index.html", buf, sizeof buf), "1f\nsite\ttitle\tab\n");

    /* A kept page's record is carried over; a rendered one is new; a
     * page this build did not make is gone. */
    pub_deps_carry(d, 2);
    pub_deps_put(d, "index.html", "4c\n", 3);
    CHECK(pub_deps_save(d) == NULL);
    pub_deps_free(d);
    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 2);
    CHECK_STR(text_of(d, "index.html", buf, sizeof buf), "4c\n");
    CHECK_STR(text_of(d, "z/index.html", buf, sizeof buf), "1f\nsite\ttitle\tab\n");
    CHECK_INT(pub_deps_find(d, "a/index.html"), -1);
    pub_deps_free(d);
}

/* A build's records past what the store keeps in memory (they go to its
 * temporary file) and one larger than the save's buffer: each is read
 * back whole and sorted. */
static void test_large(void)
{
    enum { PAGES = 6000, SIZE = 1000 };
    pub_deps *d = pub_deps_open(root);
    char output[64], *text = malloc(3u << 20);
    for (int i = PAGES - 1; i >= 0; i--) {
        snprintf(output, sizeof output, "p%05d/index.html", i);
        memset(text, 'a' + i % 26, SIZE);
        snprintf(text, 16, "%x\n", i);
        text[strlen(text)] = 'x';
        pub_deps_put(d, output, text, SIZE);
    }
    memset(text, 'z', 3u << 20);
    pub_deps_put(d, "big/index.html", text, 3u << 20);
    CHECK(pub_deps_save(d) == NULL);
    pub_deps_free(d);

    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), PAGES + 1);
    int bad = 0;
    for (int i = 0; i < PAGES; i++) {
        const char *o, *t;
        size_t len;
        pub_deps_get(d, (size_t)i + 1, &o, &t, &len); /* "big/" sorts first */
        snprintf(output, sizeof output, "p%05d/index.html", i);
        char head[16];
        int n = snprintf(head, sizeof head, "%x\n", i);
        if (strcmp(o, output) != 0 || len != SIZE || memcmp(t, head, (size_t)n) != 0 || t[n] != 'x' ||
            t[SIZE - 1] != 'a' + i % 26)
            bad++;
    }
    CHECK_INT(bad, 0);
    const char *o, *t;
    size_t len;
    pub_deps_get(d, 0, &o, &t, &len);
    CHECK_STR(o, "big/index.html");
    CHECK_INT(len, 3u << 20);
    CHECK(t[0] == 'z' && t[len - 1] == 'z');
    pub_deps_free(d);
    free(text);
}

static void put_u32(pub_buf *b, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    pub_buf_append(b, p, 4);
}

static void put_record(pub_buf *b, const char *output, const char *text)
{
    put_u32(b, (uint32_t)strlen(output));
    pub_buf_append(b, output, strlen(output) + 1);
    put_u32(b, (uint32_t)strlen(text));
    pub_buf_append(b, text, strlen(text));
}

/* A file that is not what pub_deps_save writes is no records: every page
 * renders, nothing fails. */
static void test_damaged(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/.publish-cache/pages", root);

    pub_buf b = PUB_BUF_INIT;
    pub_buf_append(&b, "publish-pages 2\n", 16);
    put_record(&b, "b.html", "1\n");
    put_record(&b, "a.html", "2\n"); /* out of order: not ours */
    check_write_file(path, b.data, b.len, 0644);
    pub_deps *d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 0);
    CHECK_INT(pub_deps_find(d, "a.html"), -1);
    pub_deps_free(d);

    b.len = 0;
    pub_buf_append(&b, "publish-pages 2\n", 16);
    put_record(&b, "a.html", "2\n");
    put_record(&b, "a.html", "3\n"); /* twice */
    check_write_file(path, b.data, b.len, 0644);
    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 0);
    pub_deps_free(d);

    b.len = 0;
    pub_buf_append(&b, "publish-pages 2\n", 16);
    put_record(&b, "a.html", "2\n");
    check_write_file(path, b.data, b.len - 1, 0644); /* truncated */
    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 0);
    pub_deps_free(d);

    check_write_file(path, b.data, b.len, 0644);
    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 1);
    CHECK_INT(pub_deps_find(d, "a.html"), 0);
    pub_deps_free(d);

    /* No NUL after the path (format 1), an empty file: no records. */
    b.len = 0;
    pub_buf_append(&b, "publish-pages 2\n", 16);
    put_u32(&b, 6);
    pub_buf_append(&b, "a.html", 6);
    put_u32(&b, 2);
    pub_buf_append(&b, "2\n", 2);
    check_write_file(path, b.data, b.len, 0644);
    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 0);
    pub_deps_free(d);
    check_write_file(path, "", 0, 0644);
    d = pub_deps_open(root);
    CHECK_INT(pub_deps_count(d), 0);
    pub_deps_free(d);
    pub_buf_free(&b);
}

int main(void)
{
    check_temp_dir(root, "deps");
    test_round_trip();
    test_large();
    test_damaged();
    pub_file_remove_tree(root);
    return check_finish();
}
