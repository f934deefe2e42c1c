/* core/util: path joining and confinement, UTF-8 validation, decoding and
 * positions, the growable buffer, and the folder walk. */
#include "check.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/text.h"
#include "util/utf8.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_owned(int line, char *got, const char *want)
{
    check_str_at(__FILE__, line, got, want);
    free(got);
}
#define JOIN(a, b, want) check_owned(__LINE__, pub_path_join((a), (b)), (want))
/* Also: pub_path_is_confined says whether confining gives the path back. */
#define CONFINE(p, want)                                                                        \
    do {                                                                                        \
        const char *want_ = (want);                                                             \
        CHECK_INT(pub_path_is_confined(p), want_ != NULL && strcmp(want_, (p)) == 0);           \
        check_owned(__LINE__, pub_path_confine(p), want_);                                      \
    } while (0)

static void test_path(void)
{
    JOIN("a", "b", "a/b");
    JOIN("a/", "b", "a/b");
    JOIN("a", "/b", "a/b");
    JOIN("a/", "//b/c", "a/b/c");
    JOIN("", "b", "b");
    JOIN("a", "", "a");
    JOIN("/", "x", "/x");
    JOIN("dest", "뉴스/index.html", "dest/뉴스/index.html");

    CONFINE("a/b", "a/b");
    CONFINE("a//b/", "a/b");
    CONFINE("./a/./b", "a/b");
    CONFINE("a/b/../c", "a/c");
    CONFINE("a/../b", "b");
    CONFINE("a/..", "");
    CONFINE(".", "");
    CONFINE("", "");
    CONFINE("a/b/c/../../d", "a/d");
    CONFINE("a/./../b", "b");
    CONFINE("...", "...");
    CONFINE("..a/b..", "..a/b..");
    CONFINE("카테고리/../뉴스/", "뉴스");
    CONFINE("../x", NULL);
    CONFINE("..", NULL);
    CONFINE("a/../../x", NULL);
    CONFINE("a/./../../x", NULL);
    CONFINE("a/b/../../..", NULL);
    CONFINE("/etc/passwd", NULL);
    CONFINE("//x", NULL);
    CONFINE("a/b/c/index.html", "a/b/c/index.html");
    CONFINE("a/.b/c.", "a/.b/c.");
    CONFINE("a/b/.", "a/b");
    CONFINE("a/b/..", "a");

    CHECK_STR(pub_path_base("a/b/c.md"), "c.md");
    CHECK_STR(pub_path_base("c.md"), "c.md");
    CHECK_STR(pub_path_base("a/b/"), "");
    CHECK_STR(pub_path_ext("posts/2024-06-19-x.md"), ".md");
    CHECK_STR(pub_path_ext("a.tar.gz"), ".gz");
    CHECK_STR(pub_path_ext("Makefile"), "");
    CHECK_STR(pub_path_ext(".hidden"), "");
    CHECK_STR(pub_path_ext("dir.d/file"), "");
    CHECK_STR(pub_path_ext("dir/.config.yaml"), ".yaml");
    CHECK_STR(pub_path_ext("file."), ".");
}

#define INVALID_AT(s, want) CHECK_INT(pub_utf8_invalid_at((s), sizeof(s) - 1), (want))

static void test_utf8(void)
{
    INVALID_AT("", 0);
    INVALID_AT("plain ascii text that is longer than eight bytes", 48);
    INVALID_AT("한국어 日本語 ü 😀", 27);
    INVALID_AT("\x7f", 1);
    INVALID_AT("ab\x80", 2);              /* stray continuation */
    INVALID_AT("abcdefghij\xFF", 10);     /* after an ASCII run */
    INVALID_AT("\xC0\xAF", 0);            /* overlong '/' */
    INVALID_AT("\xC1\xBF", 0);            /* overlong */
    INVALID_AT("\xC2\x80", 2);            /* U+0080 */
    INVALID_AT("\xDF\xBF", 2);            /* U+07FF */
    INVALID_AT("\xE0\x80\xAF", 0);        /* overlong 3-byte */
    INVALID_AT("\xE0\x9F\xBF", 0);        /* overlong U+07FF */
    INVALID_AT("\xE0\xA0\x80", 3);        /* U+0800 */
    INVALID_AT("\xED\x9F\xBF", 3);        /* U+D7FF */
    INVALID_AT("x\xED\xA0\x80", 1);       /* surrogate U+D800 */
    INVALID_AT("\xED\xBF\xBF", 0);        /* surrogate U+DFFF */
    INVALID_AT("\xEE\x80\x80", 3);        /* U+E000 */
    INVALID_AT("\xEF\xBF\xBF", 3);        /* U+FFFF is well-formed */
    INVALID_AT("\xF0\x8F\xBF\xBF", 0);    /* overlong 4-byte */
    INVALID_AT("\xF0\x90\x80\x80", 4);    /* U+10000 */
    INVALID_AT("\xF4\x8F\xBF\xBF", 4);    /* U+10FFFF */
    INVALID_AT("\xF4\x90\x80\x80", 0);    /* past U+10FFFF */
    INVALID_AT("\xF5\x80\x80\x80", 0);
    INVALID_AT("\xF8\x88\x80\x80\x80", 0);
    INVALID_AT("\xFE", 0);
    INVALID_AT("ok \xED\x95", 3);          /* truncated at the end */
    INVALID_AT("ok \xED\x95" "a", 3);      /* truncated in the middle */
    INVALID_AT("\xF0\x9F\x98", 0);
    INVALID_AT("\xE2\x82\xAC\xE2\x82", 3);
    /* The length bounds the check: a NUL is just a character. */
    CHECK_INT(pub_utf8_invalid_at("a\0b", 3), 3);
    CHECK_INT(pub_utf8_invalid_at("한", 2), 0);

    uint32_t cp = 0;
    CHECK_INT(pub_utf8_decode("A", 1, &cp), 1);
    CHECK_INT(cp, 'A');
    CHECK_INT(pub_utf8_decode("é", 2, &cp), 2);
    CHECK_INT(cp, 0xE9);
    CHECK_INT(pub_utf8_decode("한", 3, &cp), 3);
    CHECK_INT(cp, 0xD55C);
    CHECK_INT(pub_utf8_decode("😀", 4, &cp), 4);
    CHECK_INT(cp, 0x1F600);
    CHECK_INT(pub_utf8_decode("\xFF" "a", 2, &cp), 1);
    CHECK_INT(cp, 0xFF);
    CHECK_INT(pub_utf8_decode("\xED\x95", 2, &cp), 1); /* truncated: a stray byte */
    CHECK_INT(cp, 0xED);

    int line = 0, col = 0;
    const char *text = "ab\n한국어 x\n\nend";
    pub_utf8_line_col(text, 0, &line, &col);
    CHECK(line == 1 && col == 1);
    pub_utf8_line_col(text, 2, &line, &col);
    CHECK(line == 1 && col == 3);
    pub_utf8_line_col(text, 3, &line, &col);
    CHECK(line == 2 && col == 1);
    pub_utf8_line_col(text, 3 + 9 + 1, &line, &col); /* the 'x' */
    CHECK(line == 2 && col == 5);
    pub_utf8_line_col(text, strlen(text), &line, &col);
    CHECK(line == 4 && col == 4);
    pub_utf8_line_col("a\r\nb", 3, &line, &col);
    CHECK(line == 2 && col == 1);
}

static void test_buf(void)
{
    pub_buf b = PUB_BUF_INIT;
    CHECK_STR(pub_buf_cstr(&b), "");
    CHECK_INT(b.len, 0);
    pub_buf_puts(&b, "hello");
    pub_buf_putc(&b, ' ');
    pub_buf_append(&b, "world!!", 5);
    CHECK_STR(pub_buf_cstr(&b), "hello world");
    CHECK_INT(b.len, 11);
    pub_buf_printf(&b, " %d-%s", 42, "x");
    CHECK_STR(pub_buf_cstr(&b), "hello world 42-x");
    pub_buf_append(&b, "", 0);
    CHECK_INT(b.len, 16);

    /* Growth past the first block keeps every byte. */
    pub_buf_clear(&b);
    CHECK_STR(pub_buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++) pub_buf_printf(&b, "%03d,", i);
    CHECK_INT(b.len, 4000);
    CHECK(memcmp(b.data, "000,001,", 8) == 0);
    CHECK(memcmp(b.data + 3996, "999,", 4) == 0);
    CHECK(b.data[b.len] == '\0');
    CHECK(b.cap > b.len);

    /* A single printf bigger than the buffer. */
    pub_buf_clear(&b);
    char big[300];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pub_buf_printf(&b, "[%s]", big);
    CHECK_INT(b.len, 301);
    CHECK(b.data[0] == '[' && b.data[300] == ']' && b.data[301] == '\0');

    /* Embedded NULs are counted. */
    pub_buf_clear(&b);
    pub_buf_append(&b, "a\0b", 3);
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.data, "a\0b", 4) == 0);

    char *owned = pub_buf_detach(&b);
    CHECK(owned[0] == 'a' && owned[2] == 'b');
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    free(owned);

    /* Detaching an empty buffer still gives a string to free. */
    owned = pub_buf_detach(&b);
    CHECK_STR(owned, "");
    free(owned);

    pub_buf_printf(&b, "%s", "");
    CHECK_STR(pub_buf_cstr(&b), "");

    /* Appending the buffer (or part of it) to itself, across a realloc. */
    pub_buf_puts(&b, "0123456789abcdefghijklmnopqrstuvwxyz0123456789");
    for (int i = 0; i < 3; i++) pub_buf_append(&b, b.data, b.len);
    CHECK_INT(b.len, 46 * 8);
    CHECK(memcmp(b.data + 46 * 7, "0123456789abcdef", 16) == 0);
    pub_buf_append(&b, b.data + 10, 5);
    CHECK(memcmp(b.data + b.len - 5, "abcde", 5) == 0);
    size_t before = b.len;
    pub_buf_printf(&b, "<%s>", b.data);
    CHECK_INT(b.len, before * 2 + 2);
    CHECK(b.data[before] == '<' && memcmp(b.data + before + 1, "0123", 4) == 0);
    CHECK(b.data[b.len - 1] == '>');
    pub_buf_free(&b);
    CHECK(b.data == NULL);
    pub_buf_free(&b);
}

static void escape_is(int line, pub_text_escape_kind kind, const char *s, const char *want)
{
    pub_buf b = PUB_BUF_INIT;
    pub_text_escape(&b, kind, s, strlen(s));
    check_str_at(__FILE__, line, pub_buf_cstr(&b), want);
    pub_buf_free(&b);
}
#define ESC(kind, s, want) escape_is(__LINE__, (kind), (s), (want))

static void slug_is(int line, const char *s, const char *want)
{
    char out[256];
    size_t n = pub_text_slugify(s, strlen(s), out);
    out[n] = '\0';
    check_str_at(__FILE__, line, out, want);
}
#define SLUG(s, want) slug_is(__LINE__, (s), (want))

static void test_text(void)
{
    ESC(PUB_ESC_HTML, "<a href=\"x\">Tom & 'J'</a>", "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;J&#39;&lt;/a&gt;");
    ESC(PUB_ESC_HTML, "\x01뉴스", "\x01뉴스");
    ESC(PUB_ESC_CODE, "a<b && 'c' \"d\"", "a&lt;b &amp;&amp; 'c' &quot;d&quot;");
    ESC(PUB_ESC_XML, "a\x01\x08" "b\t\n\r\x1f'", "ab\t\n\r&#39;");
    ESC(PUB_ESC_URL, "/태그/a b%20?x=1#y", "/%ED%83%9C%EA%B7%B8/a%20b%20?x=1#y");
    ESC(PUB_ESC_URL, "\x7f\x1f", "%7F%1F");
    ESC(PUB_ESC_URL_COMPONENT, "a b/c?é~", "a%20b%2Fc%3F%C3%A9~");
    ESC(PUB_ESC_HTML, "", "");

    SLUG("Hello, World!", "hello-world");
    SLUG("  --뉴스 속보--  ", "뉴스-속보");
    SLUG("ÉCOLE × Été", "école-été");
    SLUG("a\xff" "b", "a-b");
    SLUG("「東京」、2024。", "東京-2024");
    SLUG("!!!", "");
    char out[1];
    check_int_at(__FILE__, __LINE__, (long long)pub_text_slugify("", 0, out), 0);
}

/* Records each entry as "rel:t" (t: d folder, l symlink, f file) and
 * enters what `enter_links` allows. */
typedef struct walk_log {
    pub_buf seen;
    bool enter_links;
    int failures;
    const char *stop_at;    /* visit returns PUB_FS_STOP here */
    const char *stop_after; /* leave returns PUB_FS_STOP here */
} walk_log;

static pub_fs_step log_entry(const pub_fs_entry *e, void *ctx)
{
    walk_log *w = ctx;
    char t = e->type == S_IFDIR ? 'd' : e->type == S_IFLNK ? 'l' : 'f';
    pub_buf_printf(&w->seen, "%s%s:%c", w->seen.len ? " " : "", e->rel, t);
    if (e->st) CHECK(((e->st->st_mode & S_IFMT) == e->type));
    if (w->stop_at && strcmp(e->rel, w->stop_at) == 0) return PUB_FS_STOP;
    return w->enter_links ? PUB_FS_ENTER_LINK : PUB_FS_ENTER;
}

/* Records leaving a folder as "rel:<". */
static pub_fs_step log_leave(const pub_fs_entry *e, void *ctx)
{
    walk_log *w = ctx;
    pub_buf_printf(&w->seen, " %s:<", e->rel);
    return w->stop_after && strcmp(e->rel, w->stop_after) == 0 ? PUB_FS_STOP : PUB_FS_NEXT;
}

/* Records a failure as "rel:!ERRNO" ("" for the root). */
static void log_failure(const char *rel, int err, void *ctx)
{
    walk_log *w = ctx;
    w->failures++;
    pub_buf_printf(&w->seen, "%s%s:!%s", w->seen.len ? " " : "", rel,
                   err == ENOENT ? "ENOENT" : err == EBADF ? "EBADF" : "other");
}

static void test_walk(void)
{
    char root[64];
    check_temp_dir(root, "walk");
    pub_buf p = PUB_BUF_INIT;
    const char *files[] = {"b/z.txt", "b/a/deep.txt", "a.txt", "c/x.txt"};
    for (size_t i = 0; i < 4; i++) {
        pub_buf_clear(&p);
        pub_buf_printf(&p, "%s/%s", root, files[i]);
        check_write_text(pub_buf_cstr(&p), "x", 0644);
    }
    pub_buf_clear(&p);
    pub_buf_printf(&p, "%s/link", root);
    CHECK(symlink("c", pub_buf_cstr(&p)) == 0);

    /* Sorted, a folder before its contents, a symlinked folder not entered. */
    walk_log w = {PUB_BUF_INIT, false, 0, NULL, NULL};
    pub_fs_walk_options o = {.sorted = true, .stat = true, .visit = log_entry, .fail = log_failure,
                             .ctx = &w};
    pub_fs_walk(open(root, O_RDONLY | O_DIRECTORY), &o);
    CHECK_STR(pub_buf_cstr(&w.seen),
              "a.txt:f b:d b/a:d b/a/deep.txt:f b/z.txt:f c:d c/x.txt:f link:l");
    CHECK_INT(w.failures, 0);

    /* A symlink the caller checked is entered, and its entries are named
     * through it; without lstat the types still come (from readdir). */
    pub_buf_clear(&w.seen);
    w.enter_links = true;
    o.stat = false;
    pub_fs_walk(open(root, O_RDONLY | O_DIRECTORY), &o);
    CHECK_STR(pub_buf_cstr(&w.seen),
              "a.txt:f b:d b/a:d b/a/deep.txt:f b/z.txt:f c:d c/x.txt:f link:l link/x.txt:f");

    /* A root that cannot be opened is reported, not walked. */
    pub_buf_clear(&w.seen);
    CHECK(pub_fs_walk(-1, &o));
    CHECK_INT(w.failures, 1);
    CHECK_STR(pub_buf_cstr(&w.seen), ":!EBADF");

    /* Post-order: each folder is left after its contents, the deepest
     * first; a symlink that is not entered is not left. */
    pub_buf_clear(&w.seen);
    w.enter_links = false;
    o.leave = log_leave;
    CHECK(pub_fs_walk(open(root, O_RDONLY | O_DIRECTORY), &o));
    CHECK_STR(pub_buf_cstr(&w.seen), "a.txt:f b:d b/a:d b/a/deep.txt:f b/a:< b/z.txt:f b:< c:d "
                                     "c/x.txt:f c:< link:l");

    /* An early stop from the visit: nothing more is visited or left. */
    pub_buf_clear(&w.seen);
    w.stop_at = "b/a/deep.txt";
    CHECK(!pub_fs_walk(open(root, O_RDONLY | O_DIRECTORY), &o));
    CHECK_STR(pub_buf_cstr(&w.seen), "a.txt:f b:d b/a:d b/a/deep.txt:f");
    /* ... from leaving a folder: its siblings are not visited. */
    pub_buf_clear(&w.seen);
    w.stop_at = NULL;
    w.stop_after = "b/a";
    CHECK(!pub_fs_walk(open(root, O_RDONLY | O_DIRECTORY), &o));
    CHECK_STR(pub_buf_cstr(&w.seen), "a.txt:f b:d b/a:d b/a/deep.txt:f b/a:<");
    w.stop_after = NULL;

    /* A folder that cannot be opened (a dangling symlink the visit asked
     * to enter) is reported with its path, then left; the walk goes on. */
    pub_buf_clear(&p);
    pub_buf_printf(&p, "%s/b/gone", root);
    CHECK(symlink("nowhere", pub_buf_cstr(&p)) == 0);
    pub_buf_clear(&w.seen);
    w.failures = 0;
    w.enter_links = true;
    CHECK(pub_fs_walk(open(root, O_RDONLY | O_DIRECTORY), &o));
    CHECK_STR(pub_buf_cstr(&w.seen), "a.txt:f b:d b/a:d b/a/deep.txt:f b/a:< b/gone:l "
                                     "b/gone:!ENOENT b/gone:< b/z.txt:f b:< c:d c/x.txt:f c:< "
                                     "link:l link/x.txt:f link:<");
    CHECK_INT(w.failures, 1);

    pub_buf_free(&w.seen);
    pub_buf_free(&p);
    pub_file_remove_tree(root);
}

static bool is_git(const char *name)
{
    return strcmp(name, ".git") == 0;
}

static bool exists(const char *root, const char *rel)
{
    char *path = pub_path_join(root, rel);
    struct stat st;
    bool yes = lstat(path, &st) == 0;
    free(path);
    return yes;
}

/* pub_fs_empty: everything goes but the kept top name, no symlink is
 * followed, and the count is of the non-folders (links included). */
static void test_empty(void)
{
    char root[64], outside[64];
    check_temp_dir(root, "empty");
    check_temp_dir(outside, "outside");
    pub_buf p = PUB_BUF_INIT;
    const char *files[] = {"a.txt", "d/e/f.txt", ".git/HEAD", "d/.git/x"};
    for (size_t i = 0; i < 4; i++) {
        pub_buf_clear(&p);
        pub_buf_printf(&p, "%s/%s", root, files[i]);
        check_write_text(pub_buf_cstr(&p), "x", 0644);
    }
    pub_buf_clear(&p);
    pub_buf_printf(&p, "%s/d/e/empty", root);
    CHECK(mkdir(pub_buf_cstr(&p), 0755) == 0);
    pub_buf_clear(&p);
    pub_buf_printf(&p, "%s/y.txt", outside);
    check_write_text(pub_buf_cstr(&p), "y", 0644);
    pub_buf_clear(&p);
    pub_buf_printf(&p, "%s/d/link", root);
    CHECK(symlink(outside, pub_buf_cstr(&p)) == 0);

    CHECK_INT((long long)pub_fs_empty(open(root, O_RDONLY | O_DIRECTORY), is_git), 4);
    CHECK(exists(root, ".git/HEAD"));
    CHECK(!exists(root, "a.txt"));
    CHECK(!exists(root, "d")); /* a .git below the top is not kept */
    CHECK(exists(outside, "y.txt"));
    CHECK(exists(root, ""));

    pub_buf_free(&p);
    pub_file_remove_tree(root);
    pub_file_remove_tree(outside);
}

static bool is_temp(const char *name, void *ctx)
{
    const char *suffix = *(const char **)ctx;
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

/* pub_fs_sweep_temps: only the caller's temp files, `max_depth` folders
 * down, never into a dot folder, and none younger than `min_age`. */
static void test_sweep(void)
{
    char root[64];
    check_temp_dir(root, "sweep");
    pub_buf p = PUB_BUF_INIT;
    const char *files[] = {"a.tmp", "keep.txt", "sub/b.tmp", "sub/deeper/c.tmp", ".hidden/d.tmp"};
    for (size_t i = 0; i < 5; i++) {
        pub_buf_clear(&p);
        pub_buf_printf(&p, "%s/%s", root, files[i]);
        check_write_text(pub_buf_cstr(&p), "x", 0644);
    }
    size_t removed = 0;
    char *failed = NULL;
    const char *suffix = ".tmp";
    /* Fresh files are younger than an hour: all stay. */
    CHECK_INT(pub_fs_sweep_temps(root, is_temp, &suffix, 3600, 1, &removed, &failed), 0);
    CHECK_INT((long long)removed, 0);
    CHECK(exists(root, "a.tmp"));
    CHECK_INT(pub_fs_sweep_temps(root, is_temp, &suffix, 0, 1, &removed, &failed), 0);
    CHECK_INT((long long)removed, 2);
    CHECK(failed == NULL);
    CHECK(!exists(root, "a.tmp"));
    CHECK(!exists(root, "sub/b.tmp"));
    CHECK(exists(root, "keep.txt"));
    CHECK(exists(root, "sub/deeper/c.tmp"));
    CHECK(exists(root, ".hidden/d.tmp"));
    /* A folder that is not there is nothing to sweep. */
    pub_buf_clear(&p);
    pub_buf_printf(&p, "%s/missing", root);
    CHECK_INT(pub_fs_sweep_temps(pub_buf_cstr(&p), is_temp, &suffix, 0, 1, &removed, &failed), 0);

    pub_buf_free(&p);
    pub_file_remove_tree(root);
}

int main(void)
{
    test_path();
    test_walk();
    test_empty();
    test_sweep();
    test_utf8();
    test_buf();
    test_text();
    return check_finish();
}
