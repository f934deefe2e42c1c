/* Front matter splitting, YAML loading (tags, anchors, merges, limits,
 * positions, errors) and emitting (round trips). Runs in tests/unit so the
 * fixture is data/example_post.md. */
#include "check.h"
#include "frontmatter.h"
#include "util/file.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check_fm_error(int line, const char *src, const char *want)
{
    pub_fm fm;
    char *got = check_diag_text(pub_fm_parse("posts/x.md", src, strlen(src), &fm));
    check_str_at(__FILE__, line, got, want);
    if (fm.meta != NULL) {
        check_failed++;
        fprintf(stderr, "%s:%d: meta left set on error\n", __FILE__, line);
    }
    free(got);
}
#define CHECK_FM_ERROR(src, want) check_fm_error(__LINE__, (src), (want))

static void check_yaml_error(int line, const char *src, const char *want)
{
    pub_value *v = (pub_value *)1;
    char *got = check_diag_text(pub_yaml_parse("data/x.yaml", src, strlen(src), 1, &v));
    check_str_at(__FILE__, line, got, want);
    if (v != NULL) {
        check_failed++;
        fprintf(stderr, "%s:%d: value set on error\n", __FILE__, line);
    }
    free(got);
}
#define CHECK_YAML_ERROR(src, want) check_yaml_error(__LINE__, (src), (want))

/* Parses a whole document that must be valid. */
static pub_value *yaml(const char *src)
{
    pub_value *v = NULL;
    pub_diag *d = pub_yaml_parse("t.yaml", src, strlen(src), 1, &v);
    if (d) {
        char *msg = check_diag_text(d);
        fprintf(stderr, "unexpected error: %s\n  in: %s\n", msg, src);
        free(msg);
        check_failed++;
        return pub_value_map();
    }
    return v;
}

/* The value of `key: TEXT` parsed as a document; caller frees the map. */
static pub_value *scalar_of(const char *text, pub_value **map)
{
    char src[256];
    snprintf(src, sizeof src, "k: %s\n", text);
    *map = yaml(src);
    return pub_map_get(*map, "k");
}

static void check_type(int line, const char *text, pub_value_type want)
{
    pub_value *map;
    pub_value *v = scalar_of(text, &map);
    if (!check_count(v && v->type == want)) {
        fprintf(stderr, "%s:%d: '%s' has type %d, want %d\n", __FILE__, line, text,
                v ? (int)v->type : -1, (int)want);
    }
    pub_value_free(map);
}
#define CHECK_TYPE(text, want) check_type(__LINE__, (text), (want))

static void check_int_scalar(int line, const char *text, long long want)
{
    pub_value *map;
    pub_value *v = scalar_of(text, &map);
    if (!check_count(v && v->type == PUB_INT && v->as.integer == want)) {
        fprintf(stderr, "%s:%d: '%s' is not int %lld\n", __FILE__, line, text, want);
    }
    pub_value_free(map);
}
#define CHECK_INT_SCALAR(text, want) check_int_scalar(__LINE__, (text), (want))

static void check_float_scalar(int line, const char *text, double want)
{
    pub_value *map;
    pub_value *v = scalar_of(text, &map);
    bool ok = v && v->type == PUB_FLOAT &&
              (isnan(want) ? isnan(v->as.number) : v->as.number == want);
    if (!check_count(ok)) {
        fprintf(stderr, "%s:%d: '%s' is not float %g\n", __FILE__, line, text, want);
    }
    pub_value_free(map);
}
#define CHECK_FLOAT_SCALAR(text, want) check_float_scalar(__LINE__, (text), (want))

static void check_string_scalar(int line, const char *text, const char *want)
{
    pub_value *map;
    pub_value *v = scalar_of(text, &map);
    check_str_at(__FILE__, line, pub_value_str(v), want);
    pub_value_free(map);
}
#define CHECK_STRING_SCALAR(text, want) check_string_scalar(__LINE__, (text), (want))

/* year, month, day, hour, min, sec, nsec, has_time, has_zone, offset */
static void check_date_scalar(int line, const char *text, int y, int mo, int d, int h, int mi,
                              int s, int ns, bool has_time, bool has_zone, int offset)
{
    pub_value *map;
    pub_value *v = scalar_of(text, &map);
    const pub_date *dt = v && v->type == PUB_DATE ? &v->as.date : NULL;
    if (!check_count(dt && dt->year == y && dt->month == mo && dt->day == d && dt->hour == h &&
                     dt->min == mi && dt->sec == s && dt->nsec == ns &&
                     dt->has_time == has_time && dt->has_zone == has_zone &&
                     dt->offset_min == offset)) {
        fprintf(stderr, "%s:%d: '%s' is not the expected date", __FILE__, line, text);
        if (dt)
            fprintf(stderr, " (got %d-%d-%d %d:%d:%d.%d time=%d zone=%d off=%d)", dt->year,
                    dt->month, dt->day, dt->hour, dt->min, dt->sec, dt->nsec, dt->has_time,
                    dt->has_zone, dt->offset_min);
        fputc('\n', stderr);
    }
    pub_value_free(map);
}
#define CHECK_DATE(text, ...) check_date_scalar(__LINE__, (text), __VA_ARGS__)

/* ------------------------------------------------------------------ */

static void test_example_post(void)
{
    char *src;
    size_t len;
    CHECK_INT(pub_file_read("data/example_post.md", &src, &len), 0);
    pub_fm fm;
    pub_diag *d = pub_fm_parse("posts/example.md", src, len, &fm);
    CHECK(d == NULL);
    pub_diag_free(d);
    CHECK(fm.present);
    CHECK(!fm.bom);
    CHECK(!fm.crlf);
    CHECK_INT(fm.yaml_start, 4);
    CHECK(memcmp(src + fm.yaml_start, "title: ", 7) == 0);
    CHECK(memcmp(src + fm.yaml_end, "---\n", 4) == 0);
    CHECK_INT(fm.body_start, 1669);
    CHECK_INT(fm.body_line, 11);
    CHECK(memcmp(src + fm.body_start, "\n<p><img src=", 13) == 0);
    CHECK_INT(fm.meta->type, PUB_MAP);
    CHECK_INT(fm.meta->as.map.len, 5);
    CHECK_STR(fm.meta->as.map.pairs[0].key, "title");
    CHECK_STR(fm.meta->as.map.pairs[4].key, "image");

    pub_value *title = pub_map_get(fm.meta, "title");
    CHECK_STR(pub_value_str(title), "푸틴 24년 만에 北 방문하여 포괄적 협력 관계 구축");
    CHECK_INT(title->line, 2);
    CHECK_INT(title->col, 8);

    pub_value *cats = pub_map_get(fm.meta, "categories");
    CHECK(cats && cats->type == PUB_LIST && cats->as.list.len == 1);
    CHECK_STR(pub_value_str(cats->as.list.items[0]), "News");
    CHECK_INT(cats->line, 4);
    CHECK_INT(cats->col, 3);
    CHECK_INT(cats->as.list.items[0]->line, 4);
    CHECK_INT(cats->as.list.items[0]->col, 5);

    /* A folded block: one line of text plus the kept final newline. */
    const char *excerpt = pub_value_str(pub_map_get(fm.meta, "excerpt"));
    CHECK(excerpt != NULL);
    if (excerpt) {
        const char *start = "러시아 대통령 푸틴이 24년 만에 북한을 방문해 김정은과";
        const char *end = "노력을 계속할 것이라고 밝혔다.\n";
        CHECK_INT(strlen(excerpt), 635);
        CHECK(strncmp(excerpt, start, strlen(start)) == 0);
        CHECK(strcmp(excerpt + strlen(excerpt) - strlen(end), end) == 0);
        CHECK(strchr(excerpt, '\n') == excerpt + strlen(excerpt) - 1);
        CHECK_STR(pub_value_str(pub_map_get(fm.meta, "feature_text")), excerpt);
    }
    pub_value *image = pub_map_get(fm.meta, "image");
    CHECK_STR(pub_value_str(image),
              "https://blogger.googleusercontent.com/img/b/R29vZ2xl/"
              "AVvXsEixyZcFfHzMRdzZMjFBmAUKJYCLCGyLL1o632UiGVXcaFdKo_"
              "bkvkuCioo0uUKlGfBVcT3P84aROyZIXSBEx3Aw5nCQ3pTgDom1WDC4m8eifvWiAmWEEVb4x6G_"
              "l8C0QH225ldMjyaFvpxGEBGNO37VmDTDMHGhJPq73UglMfDca1-0aw/s1600/blogspot.png");
    CHECK_INT(image->line, 9);
    CHECK_INT(image->col, 8);

    /* Written out and read back, the front matter is the same value. */
    pub_buf out = PUB_BUF_INIT;
    pub_yaml_emit(fm.meta, 0, &out);
    pub_value *again = NULL;
    d = pub_yaml_parse("t.yaml", out.data, out.len, 1, &again);
    CHECK(d == NULL);
    pub_diag_free(d);
    CHECK(pub_value_equal(fm.meta, again));
    pub_value_free(again);
    pub_buf_free(&out);

    pub_fm_free(&fm);
    CHECK(fm.meta == NULL);
    pub_fm_free(NULL);
    free(src);
}

static void test_crlf_bom(void)
{
    const char *src = "\xEF\xBB\xBF---\r\ntitle: 日本語のタイトル\r\ndate: 2024-06-19 09:30:00 "
                      "+09:00\r\ntags:\r\n  - a\r\n  - b\r\n---\r\nBody\r\n---\r\nmore\r\n";
    pub_fm fm;
    pub_diag *d = pub_fm_parse("posts/x.md", src, strlen(src), &fm);
    CHECK(d == NULL);
    pub_diag_free(d);
    CHECK(fm.present && fm.bom && fm.crlf);
    CHECK_INT(fm.yaml_start, 8);
    CHECK_STR(src + fm.body_start, "Body\r\n---\r\nmore\r\n");
    CHECK_INT(fm.body_line, 8);
    pub_value *title = pub_map_get(fm.meta, "title");
    CHECK_STR(pub_value_str(title), "日本語のタイトル");
    CHECK_INT(title->line, 2);
    CHECK_INT(title->col, 8);
    pub_value *date = pub_map_get(fm.meta, "date");
    CHECK(date && date->type == PUB_DATE);
    CHECK_INT(date->as.date.hour, 9);
    CHECK_INT(date->as.date.offset_min, 540);
    CHECK_INT(date->line, 3);
    pub_value *tags = pub_map_get(fm.meta, "tags");
    CHECK(tags && tags->type == PUB_LIST && tags->as.list.len == 2);
    CHECK_STR(pub_value_str(tags->as.list.items[1]), "b");
    CHECK_INT(tags->as.list.items[1]->line, 6);
    pub_fm_free(&fm);

    /* An error on line 1 after a BOM counts columns without it. */
    CHECK_FM_ERROR("\xEF\xBB\xBFx\xFF\n", "posts/x.md:1:2: error: invalid UTF-8");
}

static void test_no_front_matter(void)
{
    const char *src = "Just a body\n---\nnot: yaml\n";
    pub_fm fm;
    pub_diag *d = pub_fm_parse("pages/a.md", src, strlen(src), &fm);
    CHECK(d == NULL);
    CHECK(!fm.present && !fm.bom && !fm.crlf);
    CHECK_INT(fm.body_start, 0);
    CHECK_INT(fm.body_line, 1);
    CHECK(fm.meta && fm.meta->type == PUB_MAP && fm.meta->as.map.len == 0);
    pub_fm_free(&fm);

    src = "\xEF\xBB\xBFHello\r\n";
    d = pub_fm_parse("pages/a.md", src, strlen(src), &fm);
    CHECK(d == NULL);
    CHECK(!fm.present && fm.bom && fm.crlf);
    CHECK_INT(fm.body_start, 3);
    pub_fm_free(&fm);

    /* "----" and "--- x" are not fences. */
    src = "----\na: 1\n---\n";
    d = pub_fm_parse("pages/a.md", src, strlen(src), &fm);
    CHECK(d == NULL && !fm.present && fm.body_start == 0);
    pub_fm_free(&fm);
    src = "--- x\na: 1\n---\n";
    d = pub_fm_parse("pages/a.md", src, strlen(src), &fm);
    CHECK(d == NULL && !fm.present);
    pub_fm_free(&fm);

    d = pub_fm_parse("pages/empty.md", "", 0, &fm);
    CHECK(d == NULL && !fm.present && fm.body_start == 0 && fm.meta->as.map.len == 0);
    pub_fm_free(&fm);
}

static void test_fences(void)
{
    /* Only the first closing fence counts; later `---` lines are body. */
    const char *src = "---\ntitle: A\n---\nbody\n---\nnot: front matter\n...\nend\n";
    pub_fm fm;
    pub_diag *d = pub_fm_parse("posts/x.md", src, strlen(src), &fm);
    CHECK(d == NULL);
    CHECK_INT(fm.meta->as.map.len, 1);
    CHECK_STR(src + fm.body_start, "body\n---\nnot: front matter\n...\nend\n");
    CHECK_INT(fm.body_line, 4);
    CHECK_INT(fm.yaml_end, 13);
    pub_fm_free(&fm);

    /* Trailing blanks on fences; `...` closes. */
    src = "---  \ntitle: B\n... \t\nbody";
    d = pub_fm_parse("posts/x.md", src, strlen(src), &fm);
    CHECK(d == NULL);
    CHECK_STR(pub_value_str(pub_map_get(fm.meta, "title")), "B");
    CHECK_STR(src + fm.body_start, "body");
    pub_fm_free(&fm);

    /* A closing fence at the very end, without a newline. */
    src = "---\na: 1\n---";
    d = pub_fm_parse("posts/x.md", src, strlen(src), &fm);
    CHECK(d == NULL && fm.present);
    CHECK_INT(fm.body_start, strlen(src));
    CHECK_INT(fm.body_line, 4);
    pub_fm_free(&fm);

    /* Empty and comment-only front matter are empty maps. */
    src = "---\n---\nbody\n";
    d = pub_fm_parse("posts/x.md", src, strlen(src), &fm);
    CHECK(d == NULL && fm.present);
    CHECK(fm.meta->type == PUB_MAP && fm.meta->as.map.len == 0);
    CHECK_INT(fm.body_line, 3);
    CHECK_INT(fm.yaml_start, fm.yaml_end);
    pub_fm_free(&fm);
    src = "---\n# just a comment\n\n---\nbody\n";
    d = pub_fm_parse("posts/x.md", src, strlen(src), &fm);
    CHECK(d == NULL && fm.meta->type == PUB_MAP && fm.meta->as.map.len == 0);
    pub_fm_free(&fm);

    /* Body containing raw HTML and `---` inside a list is untouched. */
    src = "---\nlayout: post\n---\n<div>\n---\n</div>\n";
    d = pub_fm_parse("posts/x.md", src, strlen(src), &fm);
    CHECK(d == NULL);
    CHECK_STR(src + fm.body_start, "<div>\n---\n</div>\n");
    pub_fm_free(&fm);
}

/* The warnings of parsing `src` as front matter, one per line. */
static char *fm_warnings(const char *src, pub_yaml_version version, pub_fm *fm)
{
    pub_buf all = PUB_BUF_INIT;
    CHECK_OK(pub_fm_parse_as("posts/x.md", src, strlen(src), version, fm));
    for (size_t i = 0; i < fm->nwarnings; i++) {
        if (i) pub_buf_putc(&all, '\n');
        pub_diag_format(fm->warnings[i], &all);
    }
    pub_buf_cstr(&all);
    return pub_buf_detach(&all);
}

/* Real posts repeat keys: the later value wins, in the earlier key's place,
 * with a warning at the later key, at any depth. */
static void test_duplicate_keys(void)
{
    pub_fm fm;
    char *w = fm_warnings("---\ntitle: a\ndate: 2024-01-01\ntitle: b\n---\n", PUB_YAML_12, &fm);
    CHECK_STR(w, "posts/x.md:4:1: warning: duplicate key 'title' (the later value is used)");
    CHECK_INT(fm.meta->as.map.len, 2);
    CHECK_STR(fm.meta->as.map.pairs[0].key, "title");
    CHECK_STR(pub_value_str(pub_map_get(fm.meta, "title")), "b");
    CHECK_INT(pub_map_get(fm.meta, "title")->line, 4);
    free(w);
    pub_fm_free(&fm);
    CHECK(fm.warnings == NULL && fm.nwarnings == 0);

    w = fm_warnings("---\na: 1\nb:\n  x: 1\n  y: 2\n  x: [3]\n'a': 2\n---\n", PUB_YAML_12, &fm);
    CHECK_STR(w, "posts/x.md:6:3: warning: duplicate key 'x' (the later value is used)\n"
                 "posts/x.md:7:1: warning: duplicate key 'a' (the later value is used)");
    CHECK_INT(pub_map_get(fm.meta, "a")->as.integer, 2);
    CHECK_INT(pub_map_get(pub_map_get(fm.meta, "b"), "x")->type, PUB_LIST);
    free(w);
    pub_fm_free(&fm);

    /* An error after a duplicate: the error, no leaked warning. */
    CHECK_FM_ERROR("---\nt: 1\nt: 2\nu: [\n---\n",
                   "posts/x.md:5:1: error: did not find expected node content while parsing a flow node");
    /* Two merge keys are still an error: their meaning is not "the later". */
    CHECK_YAML_ERROR("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n",
                     "data/x.yaml:4:3: error: duplicate key '<<'");
}

/* Jekyll sites read YAML 1.1 as Psych does; native sites read 1.2. */
static void test_yaml11_booleans(void)
{
    pub_fm fm;
    const char *src = "---\na: yes\nb: No\nc: ON\nd: off\ne: y\nf: n\ng: 'no'\nh: True\ni: yess\n---\n";
    char *w = fm_warnings(src, PUB_YAML_11, &fm);
    CHECK_STR(w, "");
    const char *keys = "abcdefghi";
    const int want[] = {1, 0, 1, 0, -1, -1, -1, 1, -1};
    for (int i = 0; i < 9; i++) {
        const pub_value *v = pub_map_get(fm.meta, (char[]){keys[i], 0});
        if (want[i] < 0) CHECK_INT(v->type, PUB_STRING);
        else CHECK(v->type == PUB_BOOL && v->as.boolean == (want[i] == 1));
    }
    free(w);
    pub_fm_free(&fm);
    w = fm_warnings(src, PUB_YAML_12, &fm);
    CHECK_INT(pub_map_get(fm.meta, "a")->type, PUB_STRING);
    CHECK_INT(pub_map_get(fm.meta, "h")->type, PUB_BOOL);
    free(w);
    pub_fm_free(&fm);
    /* Written for either reader, the string "yes" is quoted. */
    pub_value *map = pub_value_map();
    pub_map_set(map, "k", 1, pub_value_string("yes", 3));
    pub_map_set(map, "o", 1, pub_value_string("Off", 3));
    pub_buf out = PUB_BUF_INIT;
    pub_yaml_emit(map, 0, &out);
    CHECK_STR(pub_buf_cstr(&out), "k: 'yes'\no: 'Off'\n");
    pub_buf_free(&out);
    pub_value_free(map);
}

static void test_fm_errors(void)
{
    CHECK_FM_ERROR("---\ntitle: open\n\nbody\n",
                   "posts/x.md:1:1: error: unclosed front matter: no closing '---'");
    CHECK_FM_ERROR("---", "posts/x.md:1:1: error: unclosed front matter: no closing '---'");
    CHECK_FM_ERROR("---\ntitle: a: b\n---\n",
                   "posts/x.md:2:9: error: mapping values are not allowed in this context");
    CHECK_FM_ERROR("---\ntitle: ok\nlist: [a, b\nnext: 1\n---\n",
                   "posts/x.md:4:5: error: did not find expected ',' or ']' while parsing a flow sequence (started at 3:7)");
    CHECK_FM_ERROR("---\na:\n\tb: 1\n---\n",
                   "posts/x.md:3:1: error: a tab indents this line: YAML is indented with spaces only");
    CHECK_FM_ERROR("---\nt: \"open\n---\nbody\n",
                   "posts/x.md:3:1: error: found unexpected end of stream while scanning a quoted scalar (started at 2:4)");
    CHECK_FM_ERROR("---\n- a\n- b\n---\n", "posts/x.md:2:1: error: front matter must be a mapping");
    CHECK_FM_ERROR("---\njust words\n---\n",
                   "posts/x.md:2:1: error: front matter must be a mapping");
    CHECK_FM_ERROR("---\n\n  \"quoted\"\n---\n",
                   "posts/x.md:3:3: error: front matter must be a mapping");
    CHECK_FM_ERROR("---\ndate: 2024-13-45\n---\n",
                   "posts/x.md:2:7: error: invalid date '2024-13-45'");
    CHECK_FM_ERROR("---\na: 1\nb: \x01\n---\n",
                   "posts/x.md:3:4: error: control characters are not allowed");
    /* Invalid UTF-8 anywhere: front matter or body, column in characters. */
    CHECK_FM_ERROR("---\ntitle: 한\xC0\xAF\n---\n", "posts/x.md:2:9: error: invalid UTF-8");
    CHECK_FM_ERROR("---\ntitle: x\n---\n\n첫 줄\n둘째 줄 ab\xFF cd\n",
                   "posts/x.md:6:8: error: invalid UTF-8");
    CHECK_FM_ERROR("no front matter\n\xED\xA0\x80\n", "posts/x.md:2:1: error: invalid UTF-8");
    /* The UTF-8 check comes before fence matching. */
    CHECK_FM_ERROR("---\n\xFE\n", "posts/x.md:2:1: error: invalid UTF-8");
}

static void test_limits(void)
{
    /* Billion laughs: nine levels of ten aliases each. */
    const char *laughs = "---\n"
                         "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                         "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                         "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                         "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                         "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                         "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
                         "---\n";
    /* a has 11 nodes, b 111, c 1111: b's aliases cost 110, c's 1110, and
     * the eighth *c in d takes the total past 10000. */
    CHECK_FM_ERROR(laughs, "posts/x.md:5:36: error: too many alias expansions");

    /* Under the cap, aliases expand fine. */
    pub_value *v = yaml("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                        "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n");
    pub_value *c = pub_map_get(v, "c");
    CHECK(c && c->as.list.len == 10 && c->as.list.items[9]->as.list.len == 10);
    CHECK_STR(pub_value_str(c->as.list.items[9]->as.list.items[9]->as.list.items[9]), "x");
    pub_value_free(v);

    /* 64 levels are allowed (the front matter map is level 1). */
    pub_buf src = PUB_BUF_INIT;
    pub_buf_puts(&src, "---\nx: ");
    for (int i = 0; i < 63; i++) pub_buf_putc(&src, '[');
    for (int i = 0; i < 63; i++) pub_buf_putc(&src, ']');
    pub_buf_puts(&src, "\n---\n");
    pub_fm fm;
    pub_diag *d = pub_fm_parse("posts/x.md", src.data, src.len, &fm);
    CHECK(d == NULL);
    pub_diag_free(d);
    pub_fm_free(&fm);
    pub_buf_clear(&src);
    pub_buf_puts(&src, "---\nx: ");
    for (int i = 0; i < 10000; i++) pub_buf_putc(&src, '[');
    for (int i = 0; i < 10000; i++) pub_buf_putc(&src, ']');
    pub_buf_puts(&src, "\n---\n");
    CHECK_FM_ERROR(src.data, "posts/x.md:2:67: error: nesting deeper than 64 levels");

    /* Block nesting too. */
    pub_buf_clear(&src);
    for (int i = 0; i < 70; i++) {
        for (int j = 0; j < i; j++) pub_buf_putc(&src, ' ');
        pub_buf_puts(&src, "k:\n");
    }
    CHECK_YAML_ERROR(src.data, "data/x.yaml:65:65: error: nesting deeper than 64 levels");

    /* An alias may not smuggle in depth either. */
    pub_buf_clear(&src);
    pub_buf_puts(&src, "a: &deep ");
    for (int i = 0; i < 40; i++) pub_buf_putc(&src, '[');
    for (int i = 0; i < 40; i++) pub_buf_putc(&src, ']');
    pub_buf_puts(&src, "\nb: ");
    for (int i = 0; i < 30; i++) pub_buf_putc(&src, '[');
    pub_buf_puts(&src, "*deep");
    for (int i = 0; i < 30; i++) pub_buf_putc(&src, ']');
    pub_buf_putc(&src, '\n');
    CHECK_YAML_ERROR(src.data, "data/x.yaml:2:34: error: nesting deeper than 64 levels");
    pub_buf_free(&src);
}

static void test_scalars(void)
{
    CHECK_TYPE("", PUB_NULL);
    CHECK_TYPE("~", PUB_NULL);
    CHECK_TYPE("null", PUB_NULL);
    CHECK_TYPE("Null", PUB_NULL);
    CHECK_TYPE("NULL", PUB_NULL);
    CHECK_TYPE("nULL", PUB_STRING);
    CHECK_TYPE("'null'", PUB_STRING);
    CHECK_TYPE("!!str null", PUB_STRING);

    pub_value *m;
    CHECK(scalar_of("true", &m)->as.boolean == true);
    pub_value_free(m);
    CHECK(scalar_of("True", &m)->as.boolean == true);
    pub_value_free(m);
    CHECK(scalar_of("TRUE", &m)->as.boolean == true);
    pub_value_free(m);
    CHECK(scalar_of("false", &m)->as.boolean == false);
    pub_value_free(m);
    CHECK(scalar_of("False", &m)->type == PUB_BOOL);
    pub_value_free(m);
    CHECK(scalar_of("FALSE", &m)->type == PUB_BOOL);
    pub_value_free(m);
    CHECK_STRING_SCALAR("yes", "yes");
    CHECK_STRING_SCALAR("no", "no");
    CHECK_STRING_SCALAR("on", "on");
    CHECK_STRING_SCALAR("tRUE", "tRUE");
    CHECK_STRING_SCALAR("\"true\"", "true");

    CHECK_INT_SCALAR("0", 0);
    CHECK_INT_SCALAR("42", 42);
    CHECK_INT_SCALAR("-17", -17);
    CHECK_INT_SCALAR("+8", 8);
    CHECK_INT_SCALAR("007", 7);
    CHECK_INT_SCALAR("0x1F", 31);
    CHECK_INT_SCALAR("0xff", 255);
    CHECK_INT_SCALAR("0o17", 15);
    CHECK_INT_SCALAR("9223372036854775807", 9223372036854775807LL);
    CHECK_INT_SCALAR("-9223372036854775808", -9223372036854775807LL - 1);
    CHECK_FLOAT_SCALAR("9223372036854775808", 9223372036854775808.0);
    CHECK_STRING_SCALAR("0o18", "0o18");
    CHECK_STRING_SCALAR("0x", "0x");
    CHECK_STRING_SCALAR("-0x10", "-0x10");
    CHECK_STRING_SCALAR("1_000", "1_000");
    CHECK_STRING_SCALAR("'42'", "42");
    CHECK_STRING_SCALAR("\"42\"", "42");

    CHECK_FLOAT_SCALAR("1.5", 1.5);
    CHECK_FLOAT_SCALAR("-0.25", -0.25);
    CHECK_FLOAT_SCALAR("1e3", 1000.0);
    CHECK_FLOAT_SCALAR("2.5E-3", 0.0025);
    CHECK_FLOAT_SCALAR(".5", 0.5);
    CHECK_FLOAT_SCALAR("+.5", 0.5);
    CHECK_FLOAT_SCALAR("3.", 3.0);
    CHECK_FLOAT_SCALAR(".inf", INFINITY);
    CHECK_FLOAT_SCALAR(".Inf", INFINITY);
    CHECK_FLOAT_SCALAR("+.INF", INFINITY);
    CHECK_FLOAT_SCALAR("-.inf", -INFINITY);
    CHECK_FLOAT_SCALAR(".nan", NAN);
    CHECK_FLOAT_SCALAR(".NaN", NAN);
    CHECK_FLOAT_SCALAR(".NAN", NAN);
    CHECK_STRING_SCALAR("-.nan", "-.nan");
    CHECK_STRING_SCALAR("1.2.3", "1.2.3");
    CHECK_STRING_SCALAR("1e", "1e");
    CHECK_STRING_SCALAR(".", ".");
    CHECK_STRING_SCALAR("-x", "-x");
    CHECK_STRING_SCALAR("1,5", "1,5");
    CHECK_STRING_SCALAR("v1.5", "v1.5");

    /* year, month, day, hour, min, sec, nsec, has_time, has_zone, offset */
    CHECK_DATE("2024-06-19", 2024, 6, 19, 0, 0, 0, 0, false, false, 0);
    CHECK_DATE("2024-06-19 09:30", 2024, 6, 19, 9, 30, 0, 0, true, false, 0);
    CHECK_DATE("2024-06-19T09:30:00", 2024, 6, 19, 9, 30, 0, 0, true, false, 0);
    CHECK_DATE("2024-06-19t09:30:05Z", 2024, 6, 19, 9, 30, 5, 0, true, true, 0);
    CHECK_DATE("2024-06-19 09:30:00 +09:00", 2024, 6, 19, 9, 30, 0, 0, true, true, 540);
    CHECK_DATE("2024-06-19 09:30:00 +0900", 2024, 6, 19, 9, 30, 0, 0, true, true, 540);
    CHECK_DATE("2024-06-19 09:30:00 +09", 2024, 6, 19, 9, 30, 0, 0, true, true, 540);
    CHECK_DATE("2024-06-19 09:30:00-05:30", 2024, 6, 19, 9, 30, 0, 0, true, true, -330);
    CHECK_DATE("2024-06-19T09:30:00.5Z", 2024, 6, 19, 9, 30, 0, 500000000, true, true, 0);
    CHECK_DATE("2024-06-19 09:30:00.123456789123 -07:00", 2024, 6, 19, 9, 30, 0, 123456789,
               true, true, -420);
    CHECK_DATE("2024-06-19 9:05", 2024, 6, 19, 9, 5, 0, 0, true, false, 0);
    CHECK_DATE("2024-02-29", 2024, 2, 29, 0, 0, 0, 0, false, false, 0);
    CHECK_DATE("2000-02-29", 2000, 2, 29, 0, 0, 0, 0, false, false, 0);
    CHECK_DATE("2024-12-31 23:59:59 Z", 2024, 12, 31, 23, 59, 59, 0, true, true, 0);
    CHECK_DATE("!!timestamp 2024-01-02", 2024, 1, 2, 0, 0, 0, 0, false, false, 0);
    CHECK_STRING_SCALAR("'2024-06-19'", "2024-06-19");
    CHECK_STRING_SCALAR("!!str 2024-06-19", "2024-06-19");
    CHECK_STRING_SCALAR("2024-06-19 foo", "2024-06-19 foo");
    CHECK_STRING_SCALAR("2024-06-19 09:30 +090", "2024-06-19 09:30 +090");
    CHECK_STRING_SCALAR("2024/06/19", "2024/06/19");
    CHECK_STRING_SCALAR("2024-06", "2024-06");
    CHECK_YAML_ERROR("d: 2024-13-45\n", "data/x.yaml:1:4: error: invalid date '2024-13-45'");
    CHECK_YAML_ERROR("d: 2023-02-29\n", "data/x.yaml:1:4: error: invalid date '2023-02-29'");
    CHECK_YAML_ERROR("d: 1900-02-29\n", "data/x.yaml:1:4: error: invalid date '1900-02-29'");
    CHECK_YAML_ERROR("d: 2024-04-31\n", "data/x.yaml:1:4: error: invalid date '2024-04-31'");
    CHECK_YAML_ERROR("d: 2024-06-19 24:00\n",
                     "data/x.yaml:1:4: error: invalid date '2024-06-19 24:00'");
    CHECK_YAML_ERROR("d: 2024-06-19 10:60\n",
                     "data/x.yaml:1:4: error: invalid date '2024-06-19 10:60'");
    CHECK_YAML_ERROR("d: 2024-06-19 10:00:61\n",
                     "data/x.yaml:1:4: error: invalid date '2024-06-19 10:00:61'");
    CHECK_YAML_ERROR("d: 2024-00-10\n", "data/x.yaml:1:4: error: invalid date '2024-00-10'");

    /* Explicit tags. */
    CHECK_INT_SCALAR("!!int \"12\"", 12);
    CHECK_FLOAT_SCALAR("!!float 3", 3.0);
    CHECK_FLOAT_SCALAR("!!float '.inf'", INFINITY);
    CHECK(scalar_of("!!bool 'true'", &m)->as.boolean == true);
    pub_value_free(m);
    CHECK_TYPE("!!null ''", PUB_NULL);
    CHECK_STRING_SCALAR("!!str 12", "12");
    CHECK_STRING_SCALAR("!!str", "");
    CHECK_STRING_SCALAR("! 12", "12");
    CHECK_INT_SCALAR("!custom 12", 12);
    CHECK_YAML_ERROR("n: !!int twelve\n", "data/x.yaml:1:4: error: invalid int 'twelve'");
    CHECK_YAML_ERROR("n: !!float x1\n", "data/x.yaml:1:4: error: invalid float 'x1'");
    CHECK_YAML_ERROR("n: !!bool yes\n", "data/x.yaml:1:4: error: invalid bool 'yes'");
    CHECK_YAML_ERROR("n: !!null nil\n", "data/x.yaml:1:4: error: invalid null 'nil'");
    CHECK_YAML_ERROR("n: !!timestamp soon\n", "data/x.yaml:1:4: error: invalid date 'soon'");

    /* Block scalars and strings. */
    pub_value *v = yaml("lit: |\n  line 1\n  line 2\nfold: >-\n  a\n  b\n\n  c\n"
                        "sq: 'it''s'\ndq: \"tab\\there \\u00e9 \\x41\"\n"
                        "ko: 한국어 제목\nmulti: first\n  second\n");
    CHECK_STR(pub_value_str(pub_map_get(v, "lit")), "line 1\nline 2\n");
    CHECK_STR(pub_value_str(pub_map_get(v, "fold")), "a b\nc");
    CHECK_STR(pub_value_str(pub_map_get(v, "sq")), "it's");
    CHECK_STR(pub_value_str(pub_map_get(v, "dq")), "tab\there \xC3\xA9 A");
    CHECK_STR(pub_value_str(pub_map_get(v, "multi")), "first second");
    pub_value_free(v);
    CHECK_YAML_ERROR("ko: 한국어 제목: 부제\n",
                     "data/x.yaml:1:11: error: mapping values are not allowed in this context");
}

static void test_structure(void)
{
    /* Keys stay text whatever they look like; key order is kept. */
    pub_value *v = yaml("1: one\ntrue: yes\n~: tilde\n2024-01-01: d\n'q': x\n\"\": empty\n");
    CHECK_INT(v->as.map.len, 6);
    CHECK_STR(v->as.map.pairs[0].key, "1");
    CHECK_STR(v->as.map.pairs[1].key, "true");
    CHECK_STR(v->as.map.pairs[2].key, "~");
    CHECK_STR(v->as.map.pairs[3].key, "2024-01-01");
    CHECK_STR(v->as.map.pairs[4].key, "q");
    CHECK_STR(v->as.map.pairs[5].key, "");
    CHECK_INT(v->as.map.pairs[5].key_len, 0);
    pub_value_free(v);

    CHECK_YAML_ERROR("? [a, b]\n: c\n", "data/x.yaml:1:3: error: mapping key must be a scalar");
    CHECK_YAML_ERROR("{a: 1}: c\n", "data/x.yaml:1:1: error: mapping key must be a scalar");
    CHECK_YAML_ERROR("a: 1\n---\nb: 2\n", "data/x.yaml:2:1: error: expected a single document");
    CHECK_YAML_ERROR("a: *nope\n", "data/x.yaml:1:4: error: undefined alias 'nope'");
    CHECK_YAML_ERROR("a: &x [1, *x]\n", "data/x.yaml:1:11: error: undefined alias 'x'");

    /* Duplicates are found in big maps too (hashed past 16 keys). */
    pub_buf big = PUB_BUF_INIT;
    for (int i = 0; i < 5000; i++) pub_buf_printf(&big, "key%d: %d\n", i, i);
    v = yaml(big.data);
    CHECK_INT(v->as.map.len, 5000);
    CHECK_INT(pub_map_get(v, "key4999")->as.integer, 4999);
    CHECK_STR(v->as.map.pairs[1234].key, "key1234");
    pub_value_free(v);
    pub_buf_puts(&big, "key77: again\n");
    pub_diags warnings;
    pub_diags_init(&warnings);
    CHECK_OK(pub_yaml_parse_as("data/x.yaml", big.data, big.len, 1, PUB_YAML_12, &v, &warnings));
    CHECK_INT(v->as.map.len, 5000);
    CHECK_STR(pub_value_str(pub_map_get(v, "key77")), "again");
    CHECK_INT(warnings.len, 1);
    if (warnings.len == 1)
        CHECK_STR(warnings.items[0]->message, "duplicate key 'key77' (the later value is used)");
    pub_diags_free(&warnings);
    pub_value_free(v);
    pub_buf_free(&big);

    /* Anchors and aliases copy; the alias node sits where the alias is. */
    v = yaml("base: &b {x: 1, y: [a, b]}\nother: *b\nname: &n Kim\nwho: *n\n*n : key\n");
    pub_value *base = pub_map_get(v, "base"), *other = pub_map_get(v, "other");
    CHECK(base != other && pub_value_equal(base, other));
    CHECK_INT(other->line, 2);
    CHECK_INT(other->col, 8);
    CHECK_STR(pub_value_str(pub_map_get(v, "who")), "Kim");
    CHECK_STR(pub_value_str(pub_map_get(v, "Kim")), "key");
    pub_value_free(v);

    /* Merge keys: explicit keys win wherever they are, earlier maps beat
     * later ones, merged keys sit where `<<` was. */
    v = yaml("defaults: &d {layout: post, comments: true, lang: ko}\n"
             "extra: &e {lang: en, toc: true}\n"
             "post:\n  title: T\n  <<: [*d, *e]\n  layout: wide\n"
             "single:\n  <<: *d\n"
             "quoted:\n  '<<': literal\n");
    pub_value *post = pub_map_get(v, "post");
    CHECK_INT(post->as.map.len, 5);
    CHECK_STR(post->as.map.pairs[0].key, "title");
    CHECK_STR(post->as.map.pairs[1].key, "comments");
    CHECK_STR(post->as.map.pairs[2].key, "lang");
    CHECK_STR(post->as.map.pairs[3].key, "toc");
    CHECK_STR(post->as.map.pairs[4].key, "layout");
    CHECK_STR(pub_value_str(pub_map_get(post, "layout")), "wide");
    CHECK_STR(pub_value_str(pub_map_get(post, "lang")), "ko");
    CHECK(pub_value_equal(pub_map_get(v, "single"), pub_map_get(v, "defaults")));
    CHECK_STR(pub_value_str(pub_map_get(pub_map_get(v, "quoted"), "<<")), "literal");
    pub_value_free(v);
    CHECK_YAML_ERROR("a:\n  <<: 3\n",
                     "data/x.yaml:2:7: error: merge value must be a mapping or a list of mappings");
    CHECK_YAML_ERROR("a:\n  <<: {x: 1}\n  <<: {y: 1}\n", "data/x.yaml:3:3: error: duplicate key '<<'");

    /* Whole documents: empty is null, first_line shifts positions. */
    v = yaml("");
    CHECK_INT(v->type, PUB_NULL);
    pub_value_free(v);
    v = yaml("# only a comment\n");
    CHECK_INT(v->type, PUB_NULL);
    pub_value_free(v);
    v = yaml("--- [1, 2]\n...\n");
    CHECK_INT(v->type, PUB_LIST);
    pub_value_free(v);
    v = yaml("\xEF\xBB\xBFtitle: x\n");
    CHECK_INT(pub_map_get(v, "title")->col, 8);
    pub_value_free(v);
    const char *text = "a:\n  - 1\n  - two\n";
    pub_diag *d = pub_yaml_parse("cfg.yaml", text, strlen(text), 10, &v);
    CHECK(d == NULL);
    pub_value *two = pub_map_get(v, "a")->as.list.items[1];
    CHECK_INT(two->line, 12);
    CHECK_INT(two->col, 5);
    pub_value_free(v);
    char *msg = check_diag_text(pub_yaml_parse("cfg.yaml", "a: [\n", 5, 10, &v));
    CHECK_STR(msg, "cfg.yaml:11:1: error: did not find expected node content while parsing a flow node");
    free(msg);
    msg = check_diag_text(pub_yaml_parse("cfg.yaml", "a: 1\nb: \xC3\n", 10, 1, &v));
    CHECK_STR(msg, "cfg.yaml:2:4: error: invalid UTF-8");
    free(msg);
}

/* Emits v, parses it back, and checks the result is equal. */
static void check_round_trip(int line, pub_value *v)
{
    pub_buf out = PUB_BUF_INIT;
    pub_yaml_emit(v, 0, &out);
    pub_value *back = NULL;
    pub_diag *d = pub_yaml_parse("emit.yaml", out.data, out.len, 1, &back);
    if (!check_count(!d && pub_value_equal(v, back))) {
        char *msg = check_diag_text(d);
        d = NULL;
        fprintf(stderr, "%s:%d: round trip failed (%s):\n%s", __FILE__, line, msg, out.data);
        free(msg);
    }
    pub_diag_free(d);
    pub_value_free(back);
    pub_buf_free(&out);
    pub_value_free(v);
}
#define CHECK_ROUND_TRIP(v) check_round_trip(__LINE__, (v))

static pub_value *str(const char *s) { return pub_value_string(s, strlen(s)); }

static pub_value *map_of(const char *key, pub_value *v)
{
    pub_value *m = pub_value_map();
    pub_map_set(m, key, strlen(key), v);
    return m;
}

static char *emitted(const pub_value *v, int indent)
{
    pub_buf out = PUB_BUF_INIT;
    pub_yaml_emit(v, indent, &out);
    return pub_buf_detach(&out);
}

static void check_emit(int line, pub_value *v, int indent, const char *want)
{
    char *got = emitted(v, indent);
    check_str_at(__FILE__, line, got, want);
    free(got);
    pub_value_free(v);
}
#define CHECK_EMIT(v, indent, want) check_emit(__LINE__, (v), (indent), (want))

static void test_emit(void)
{
    static const char *const strings[] = {
        "plain", "", " lead", "trail ", "a: b", "a:b", "ends:", "# not comment",
        "a #b", "C#", "it's", "\"quoted\"", "'single'", "line\nbreak", "trailing\n",
        "\n", "tab\there", "cr\rlf", "null", "Null", "~", "true", "FALSE", "yes", "42",
        "-7", "0x1F", "0o17", "007", "1.5", "1e3", ".inf", "-.inf", ".nan", "2024-06-19",
        "2024-06-19 09:30", "2024-13-45", "- item", "-", "---", "...", "...x", "? q",
        "[a]", "{b}", "&anchor", "*alias", "!tag", "|", ">", "%", "@", "`",
        "한국어 제목", "日本語: タイトル", "emoji 😀", "<p>raw <b>html</b></p>", "<<",
        "a\\b", "\x01\x7f", "nel\xC2\x85", "ls\xE2\x80\xA8", "bom\xEF\xBB\xBF",
        "c1\xC2\x9F", "key: value # comment", "  ", "\t", "x\n  y", "=", "1_000",
    };
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
        CHECK_ROUND_TRIP(map_of("k", str(strings[i])));
        CHECK_ROUND_TRIP(map_of(strings[i], str("v")));
        pub_value *list = pub_value_list();
        pub_list_push(list, str(strings[i]));
        CHECK_ROUND_TRIP(list);
    }
    /* Embedded NUL. */
    CHECK_ROUND_TRIP(map_of("k", pub_value_string("a\0b", 3)));

    static const double floats[] = {0.0, -0.0, 1.0, -1.5, 0.1, 1.0 / 3, 1e300, 5e-324,
                                    123456789012345678.0, 2.5e-7, 1e16, 100.0};
    for (size_t i = 0; i < sizeof floats / sizeof *floats; i++)
        CHECK_ROUND_TRIP(map_of("f", pub_value_float(floats[i])));
    CHECK_ROUND_TRIP(map_of("f", pub_value_float(INFINITY)));
    CHECK_ROUND_TRIP(map_of("f", pub_value_float(-INFINITY)));
    CHECK_ROUND_TRIP(map_of("f", pub_value_float(NAN)));
    static const long long ints[] = {0, 1, -1, 9223372036854775807LL, -9223372036854775807LL - 1};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        CHECK_ROUND_TRIP(map_of("i", pub_value_int(ints[i])));
    CHECK_ROUND_TRIP(map_of("b", pub_value_bool(true)));
    CHECK_ROUND_TRIP(map_of("n", pub_value_null()));
    CHECK_ROUND_TRIP(pub_value_null());
    CHECK_ROUND_TRIP(str("top level"));
    CHECK_ROUND_TRIP(pub_value_list());
    CHECK_ROUND_TRIP(pub_value_map());

    pub_date dates[] = {
        {2024, 6, 19, 0, 0, 0, 0, false, false, 0},
        {2024, 6, 19, 9, 30, 0, 0, true, false, 0},
        {2024, 6, 19, 9, 30, 0, 0, true, true, 540},
        {2024, 6, 19, 9, 30, 5, 120000000, true, true, -330},
        {1999, 12, 31, 23, 59, 59, 1, true, true, 0},
    };
    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++)
        CHECK_ROUND_TRIP(map_of("d", pub_value_date(&dates[i])));

    /* Nested lists of maps, empty collections, deep mixes. */
    pub_value *root = pub_value_map();
    pub_value *posts = pub_value_list();
    for (int i = 0; i < 3; i++) {
        pub_value *p = pub_value_map();
        pub_map_set(p, "title", 5, str(i == 1 ? "두 번째: 글" : "post"));
        pub_value *tags = pub_value_list();
        if (i != 2) pub_list_push(tags, str("a"));
        pub_map_set(p, "tags", 4, tags);
        pub_map_set(p, "meta", 4, i == 0 ? pub_value_map() : map_of("x", pub_value_int(i)));
        pub_list_push(posts, p);
    }
    pub_map_set(root, "posts", 5, posts);
    pub_value *matrix = pub_value_list();
    pub_value *row = pub_value_list();
    pub_list_push(row, pub_value_int(1));
    pub_list_push(row, pub_value_list());
    pub_list_push(matrix, row);
    pub_list_push(matrix, pub_value_map());
    pub_map_set(root, "matrix", 6, matrix);
    pub_map_set(root, "nested", 6, map_of("deeper", map_of("deepest", str("x"))));
    pub_value *copy = pub_value_copy(root);
    CHECK_ROUND_TRIP(root);

    /* The exact text, for people reading it. */
    CHECK_EMIT(copy, 0,
               "posts:\n"
               "  - title: post\n"
               "    tags:\n"
               "      - a\n"
               "    meta: {}\n"
               "  - title: '두 번째: 글'\n"
               "    tags:\n"
               "      - a\n"
               "    meta:\n"
               "      x: 1\n"
               "  - title: post\n"
               "    tags: []\n"
               "    meta:\n"
               "      x: 2\n"
               "matrix:\n"
               "  - - 1\n"
               "    - []\n"
               "  - {}\n"
               "nested:\n"
               "  deeper:\n"
               "    deepest: x\n");

    pub_value *m = pub_value_map();
    pub_map_set(m, "title", 5, str("Hello"));
    pub_map_set(m, "n", 1, pub_value_float(2.0));
    pub_map_set(m, "s", 1, str("true"));
    pub_map_set(m, "q", 1, str("it's: \"x\""));
    pub_map_set(m, "nl", 2, str("a\nb\t\\"));
    pub_map_set(m, "d", 1, pub_value_date(&dates[2]));
    pub_map_set(m, "e", 1, pub_value_date(&dates[0]));
    pub_map_set(m, "z", 1, pub_value_date(&dates[3]));
    CHECK_EMIT(m, 2,
               "  title: Hello\n"
               "  n: 2.0\n"
               "  s: 'true'\n"
               "  q: 'it''s: \"x\"'\n"
               "  nl: \"a\\nb\\t\\\\\"\n"
               "  d: 2024-06-19 09:30:00 +09:00\n"
               "  e: 2024-06-19\n"
               "  z: 2024-06-19 09:30:05.12 -05:30\n");
    CHECK_EMIT(pub_value_float(0.1), 0, "0.1\n");
    CHECK_EMIT(pub_value_float(1e300), 0, "1e+300\n");
    CHECK_EMIT(pub_value_float(-INFINITY), 0, "-.inf\n");
    CHECK_EMIT(str("한국어"), 0, "한국어\n");
    CHECK_EMIT(str("ls\xE2\x80\xA8"), 0, "\"ls\\L\"\n");

    /* A key longer than libyaml's simple-key limit still round-trips. */
    char long_key[1500];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    CHECK_ROUND_TRIP(map_of(long_key, str("v")));
    pub_value *in_list = pub_value_list();
    pub_list_push(in_list, map_of(long_key, map_of("a", str("b"))));
    CHECK_ROUND_TRIP(in_list);
}

/* Not a benchmark: a guard that parsing stays linear. 2,000 copies of the
 * example front matter must take well under a second even under ASan. */
static void test_speed(void)
{
    char *src;
    size_t len;
    if (pub_file_read("data/example_post.md", &src, &len) != 0) {
        check_failed++;
        return;
    }
    clock_t start = clock();
    int ok = 0;
    for (int i = 0; i < 2000; i++) {
        pub_fm fm;
        pub_diag *d = pub_fm_parse("posts/example.md", src, len, &fm);
        if (!d) ok++;
        pub_diag_free(d);
        pub_fm_free(&fm);
    }
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    CHECK_INT(ok, 2000);
    CHECK(secs < 2.0);
    free(src);
}

int main(void)
{
    test_example_post();
    test_crlf_bom();
    test_no_front_matter();
    test_fences();
    test_fm_errors();
    test_duplicate_keys();
    test_yaml11_booleans();
    test_limits();
    test_scalars();
    test_structure();
    test_emit();
    test_speed();
    return check_finish();
}
