/* Tests for core/rewrite.c over the corpus in tests/edit/corpus: a no-op
 * keeps every byte, a one-key change touches exactly that key's lines,
 * removal and addition, the file's line ending and BOM, and the re-parse
 * check refusing rewrites that would change meaning (anchors, flow style). */
#include "check.h"
#include "frontmatter.h"
#include "rewrite.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "value.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS "../edit/corpus/"

static char *corpus(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, CORPUS "%s", name);
    return check_fixture(path, len);
}

/* `text` with the first `from` replaced by `to` (caller frees). */
static char *replaced(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (!at) {
        fprintf(stderr, "test bug: '%s' not in text\n", from);
        exit(2);
    }
    pub_buf b = PUB_BUF_INIT;
    pub_buf_append(&b, text, (size_t)(at - text));
    pub_buf_puts(&b, to);
    pub_buf_puts(&b, at + strlen(from));
    return pub_buf_detach(&b);
}

static pub_value *str(const char *s) { return pub_value_string(s, strlen(s)); }

static pub_value *list2(const char *a, const char *b)
{
    pub_value *l = pub_value_list();
    pub_list_push(l, str(a));
    pub_list_push(l, str(b));
    return l;
}

/* Rewrites corpus file `name` with one change (value NULL: removal) and
 * checks the result is `want` (NULL: expects the error `want_error`). */
static void expect(const char *name, const char *key, pub_value *value, const char *want,
                   const char *want_error)
{
    size_t len;
    char *src = corpus(name, &len);
    pub_rewrite_change c = {key, value};
    pub_buf out = PUB_BUF_INIT;
    pub_diag *d = pub_rewrite(name, src, len, &c, 1, NULL, 0, &out);
    if (want) {
        CHECK(d == NULL);
        if (d) fprintf(stderr, "  %s: %s\n", name, d->message);
        bool same = d == NULL && out.len == strlen(want) && memcmp(out.data, want, out.len) == 0;
        CHECK(same);
        if (!same && !d)
            fprintf(stderr, "  %s/%s: got\n[%s]\nwant\n[%s]\n", name, key, pub_buf_cstr(&out), want);
    } else {
        CHECK(d != NULL);
        if (d) {
            CHECK(strcmp(d->message, want_error) == 0);
            CHECK(d->path && strcmp(d->path, name) == 0);
            if (strcmp(d->message, want_error) != 0) fprintf(stderr, "  got '%s'\n", d->message);
        }
        CHECK(out.len == 0);
    }
    pub_diag_free(d);
    pub_buf_free(&out);
    pub_value_free(value);
    free(src);
}

/* Change `key` in `name` to `value`, expecting `from` replaced by `to`. */
static void expect_swap(const char *name, const char *key, pub_value *value, const char *from,
                        const char *to)
{
    size_t len;
    char *src = corpus(name, &len);
    char *want = replaced(src, from, to);
    expect(name, key, value, want, NULL);
    free(want);
    free(src);
}

static void test_noop_everywhere(void)
{
    DIR *dir = opendir(CORPUS);
    CHECK(dir != NULL);
    if (!dir) return;
    struct dirent *ent;
    int files = 0;
    while ((ent = readdir(dir)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        size_t len;
        char *src = corpus(ent->d_name, &len);
        pub_buf out = PUB_BUF_INIT;
        pub_diag *d = pub_rewrite(ent->d_name, src, len, NULL, 0, NULL, 0, &out);
        CHECK(d == NULL);
        CHECK(out.len == len && memcmp(out.data, src, len) == 0);
        /* Removing an absent key changes nothing either. */
        pub_buf_clear(&out);
        pub_rewrite_change c = {"no-such-key", NULL};
        pub_diag_free(d);
        d = pub_rewrite(ent->d_name, src, len, &c, 1, NULL, 0, &out);
        CHECK(d == NULL);
        CHECK(out.len == len && memcmp(out.data, src, len) == 0);
        pub_diag_free(d);
        pub_buf_free(&out);
        free(src);
        files++;
    }
    closedir(dir);
    CHECK(files >= 18);
}

static void test_one_key(void)
{
    expect_swap("comments.md", "title", str("Changed"), "title: Hello   # trailing comment\n",
                "title: Changed\n");
    expect_swap("comments.md", "categories", list2("News", "Life"),
                "categories:\n  - News  # cat comment\n  - Tech\n",
                "categories:\n  - News\n  - Life\n");
    expect_swap("comments.md", "tags", list2("a", "c"), "tags: [a, b]\n",
                "tags:\n  - a\n  - c\n");
    expect_swap("scalars.md", "summary", str("new"),
                "summary: >\n  folded text\n  continues here\n", "summary: new\n");
    expect_swap("scalars.md", "code", str("x"), "code: |\n  line one\n    indented\n",
                "code: x\n");
    /* `|+` keeps its trailing blank line: it is content, so it goes too. */
    expect_swap("scalars.md", "keep", str("k"), "keep: |+\n  kept\n\n", "keep: k\n");
    expect_swap("crlf.md", "title", str("New"), "title: Windows\r\n", "title: New\r\n");
    expect_swap("crlf.md", "tags", list2("c", "d"), "tags:\r\n  - a\r\n  - b\r\n",
                "tags:\r\n  - c\r\n  - d\r\n");
    expect_swap("bom.md", "title", str("Still BOM"), "title: With BOM\n", "title: Still BOM\n");
    expect_swap("no-final-newline.md", "title", str("Y"), "title: No newline\n", "title: Y\n");
    expect_swap("quoted-keys.md", "title", str("Plain now"), "\"title\": \"Quoted title\"\n",
                "title: Plain now\n");
    expect_swap("quoted-keys.md", "tags", list2("x", "z"), "'tags': ['x', \"y\"]\n",
                "tags:\n  - x\n  - z\n");
    expect_swap("multiline.md", "title", str("short"), "title: a long\n  plain title\n",
                "title: short\n");
    expect_swap("multiline.md", "quote", str("q"), "quote: \"double\n  quoted\"\n", "quote: q\n");
    expect_swap("nested.md", "categories", list2("A", "B"), "categories:\n- News\n- Tech\n",
                "categories:\n  - A\n  - B\n");
    expect_swap("nested.md", "author", str("Lee"),
                "author:\n  name: Kim\n  links:\n    - https://example.com\n", "author: Lee\n");
    /* The comment between items goes with the list; the one after stays. */
    expect_swap("nested.md", "tags", list2("c", "d"),
                "tags:\n  - a\n  # comment about b\n  - b\n", "tags:\n  - c\n  - d\n");
    expect_swap("empty-values.md", "key", str("v"), "key:\n", "key: v\n");
    expect_swap("empty-values.md", "empty", pub_value_int(3), "empty: \"\"\n", "empty: 3\n");
    expect_swap("body-fence.md", "title", str("T"), "title: Fences in body\n", "title: T\n");
    expect_swap("dots-fence.md", "title", str("D"), "title: Dots\n", "title: D\n");
    expect_swap("korean.md", "categories", list2("News", "뉴스"), "  - News\n",
                "  - News\n  - 뉴스\n");
    expect_swap("korean.md", "title", str("푸틴 방북"),
                "title: 푸틴 24년 만에 北 방문하여 포괄적 협력 관계 구축\n", "title: 푸틴 방북\n");
    /* A changed anchor nobody else uses is fine; so is replacing an alias. */
    expect_swap("anchors.md", "other", str("o"), "other: *b\n", "other: o\n");
    expect_swap("anchors.md", "title", str("U"), "title: T\n", "title: U\n");
}

static void test_remove(void)
{
    expect_swap("comments.md", "date", NULL, "date: 2024-01-02\n", "");
    expect_swap("scalars.md", "summary", NULL, "summary: >\n  folded text\n  continues here\n",
                "");
    expect_swap("crlf.md", "tags", NULL, "tags:\r\n  - a\r\n  - b\r\n", "");
    expect_swap("fm-only.md", "title", NULL, "title: Only\n", "");
    expect_swap("quoted-keys.md", "tags", NULL, "'tags': ['x', \"y\"]\n", "");
}

static void test_add(void)
{
    expect_swap("comments.md", "image", str("a.png"), "tags: [a, b]\n---\n",
                "tags: [a, b]\nimage: a.png\n---\n");
    expect_swap("crlf.md", "image", str("a.png"), "  - b\r\n---\r\n",
                "  - b\r\nimage: a.png\r\n---\r\n");
    expect_swap("empty-fm.md", "title", str("New"), "---\n---\n", "---\ntitle: New\n---\n");
    expect_swap("comment-fm.md", "title", str("New"), "# just a comment\n",
                "# just a comment\ntitle: New\n");
    expect_swap("fm-only.md", "date", str("x"), "title: Only\n", "title: Only\ndate: x\n");
    expect_swap("nofm.md", "title", str("Now"), "Just", "---\ntitle: Now\n---\nJust");
    expect_swap("nofm-bom.md", "title", str("B"), "\xEF\xBB\xBF",
                "\xEF\xBB\xBF---\r\ntitle: B\r\n---\r\n");
    expect_swap("body-fence.md", "tags", list2("a", "b"), "title: Fences in body\n",
                "title: Fences in body\ntags:\n  - a\n  - b\n");
    pub_date d = {0};
    d.year = 2024;
    d.month = 6;
    d.day = 19;
    expect_swap("korean.md", "date", pub_value_date(&d), "/s1600/blogspot.png'\n---\n",
                "/s1600/blogspot.png'\ndate: 2024-06-19\n---\n");
}

static void test_refused(void)
{
    const char *base = "rewrite of 'base' would change the meaning of the front matter";
    expect("anchors.md", "base", str("b"), NULL, base);
    expect("anchors.md", "base", NULL, NULL, base);
    expect("anchors.md", "num", pub_value_int(4), NULL,
           "rewrite of 'num' would change the meaning of the front matter");
    expect("flow.md", "title", str("x"), NULL,
           "rewrite of 'title' would change the meaning of the front matter");
    expect("flow.md", "new", str("x"), NULL,
           "rewrite of 'new' would change the meaning of the front matter");
    /* A parse error of the original comes back as it is. */
    pub_buf out = PUB_BUF_INIT;
    const char *bad = "---\ntitle: [unclosed\n---\n";
    pub_rewrite_change c = {"title", NULL};
    pub_diag *d = pub_rewrite("bad.md", bad, strlen(bad), &c, 1, NULL, 0, &out);
    CHECK(d != NULL && d->line > 0);
    CHECK(out.len == 0);
    pub_diag_free(d);
}

static void test_body(void)
{
    size_t len;
    char *src = corpus("body-fence.md", &len);
    pub_buf out = PUB_BUF_INIT;
    const char *body = "New body\n---\nstill body\n";
    pub_diag *d = pub_rewrite("body-fence.md", src, len, NULL, 0, body, strlen(body), &out);
    CHECK(d == NULL);
    CHECK(strcmp(pub_buf_cstr(&out), "---\ntitle: Fences in body\n---\nNew body\n---\nstill body\n") == 0);
    pub_diag_free(d);
    free(src);

    /* Key and body together, CRLF kept on the key line. */
    src = corpus("crlf.md", &len);
    pub_buf_clear(&out);
    pub_value *t = str("Both");
    pub_rewrite_change c = {"title", t};
    d = pub_rewrite("crlf.md", src, len, &c, 1, "x\r\n", 3, &out);
    CHECK(d == NULL);
    CHECK(strcmp(pub_buf_cstr(&out), "---\r\ntitle: Both\r\ntags:\r\n  - a\r\n  - b\r\n---\r\nx\r\n") == 0);
    pub_diag_free(d);
    pub_value_free(t);
    free(src);

    /* A new body that starts with a fence would turn into front matter. */
    src = corpus("nofm.md", &len);
    pub_buf_clear(&out);
    d = pub_rewrite("nofm.md", src, len, NULL, 0, "---\na: 1\n---\n", 14, &out);
    CHECK(d != NULL && strcmp(d->message, "rewrite of the body would change the meaning of the front matter") == 0);
    pub_diag_free(d);
    free(src);

    /* Several changes at once, in order. */
    src = corpus("comments.md", &len);
    pub_buf_clear(&out);
    pub_value *v1 = str("One"), *v2 = list2("x", "y");
    pub_rewrite_change cs[3] = {{"title", v1}, {"date", NULL}, {"tags", v2}};
    d = pub_rewrite("comments.md", src, len, cs, 3, NULL, 0, &out);
    CHECK(d == NULL);
    CHECK(strcmp(pub_buf_cstr(&out),
                 "---\n# leading comment\ntitle: One\n\n# a blank line and a comment\n"
                 "categories:\n  - News  # cat comment\n  - Tech\ntags:\n  - x\n  - y\n---\n"
                 "Body here.\n") == 0);
    pub_diag_free(d);
    pub_value_free(v1);
    pub_value_free(v2);
    free(src);
    pub_buf_free(&out);
}

static void test_new_file(void)
{
    pub_value *meta = pub_value_map();
    pub_map_set(meta, "title", 5, str("Hello: world"));
    pub_map_set(meta, "tags", 4, list2("a", "b"));
    pub_buf out = PUB_BUF_INIT;
    pub_rewrite_new_file(meta, "Body\n", 5, &out);
    CHECK(strcmp(pub_buf_cstr(&out), "---\ntitle: 'Hello: world'\ntags:\n  - a\n  - b\n---\nBody\n") == 0);
    pub_buf_clear(&out);
    pub_value_free(meta);
    meta = pub_value_map();
    pub_rewrite_new_file(meta, "", 0, &out);
    CHECK(strcmp(pub_buf_cstr(&out), "---\n---\n") == 0);
    pub_value_free(meta);
    pub_buf_free(&out);
}

int main(void)
{
    test_noop_everywhere();
    test_one_key();
    test_remove();
    test_add();
    test_refused();
    test_body();
    test_new_file();
    return check_finish();
}
