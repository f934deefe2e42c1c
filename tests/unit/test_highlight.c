/* Tests of syntax highlighting: core/highlight.c (language names, exact
 * HTML, line numbers, the required languages, threads) and
 * publish.highlight (arguments, errors, the build cache). */
#include "check.h"
#include "cache.h"
#include "highlight.h"
#include "lua/lib.h"
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>

static char *render(const char *code, const char *lang, long linenos)
{
    pub_hl_options o = {linenos};
    char *err = NULL;
    char *html = pub_hl_render(code, strlen(code), lang, &o, NULL, &err);
    if (err) fprintf(stderr, "highlight error: %s\n", err);
    free(err);
    return html;
}

#define CHECK_RENDER(code, lang, linenos, want)    \
    do {                                           \
        char *got_ = render(code, lang, linenos);  \
        CHECK_STR(got_, want);                     \
        free(got_);                                \
    } while (0)

static void test_languages(void)
{
    CHECK_STR(pub_hl_language("c"), "c.lang");
    CHECK_STR(pub_hl_language("C"), "c.lang");
    CHECK_STR(pub_hl_language("py"), "python.lang");
    CHECK_STR(pub_hl_language("Python"), "python.lang");
    CHECK_STR(pub_hl_language("bash"), "sh.lang");
    CHECK_STR(pub_hl_language("shell"), "sh.lang");
    CHECK_STR(pub_hl_language("rust"), "rust.lang");
    CHECK_STR(pub_hl_language("golang"), "go.lang");
    CHECK_STR(pub_hl_language("c++"), "cpp.lang");
    CHECK_STR(pub_hl_language("ts"), "@typescript.lang");
    CHECK_STR(pub_hl_language("YML"), "@yaml.lang");
    CHECK_STR(pub_hl_language("md"), "@markdown.lang");
    CHECK(pub_hl_language("nosuchlanguage") == NULL);
    CHECK(pub_hl_language("") == NULL);
    CHECK(pub_hl_language(NULL) == NULL);
    /* Never a path: only a language name reaches source-highlight. */
    CHECK(pub_hl_language("../c") == NULL);
    CHECK(pub_hl_language("c.lang") == NULL);
    CHECK(pub_hl_language("/etc/passwd") == NULL);
    CHECK(pub_hl_language("c c") == NULL);
    CHECK(strncmp(pub_hl_version(), "source-highlight 3.", 19) == 0);
}

static void test_exact(void)
{
    CHECK_RENDER("int x = 1; /* <b> & \"q\" */\n", "c", 0,
                 "<span class=\"kt\">int</span> x <span class=\"o\">=</span> "
                 "<span class=\"m\">1</span><span class=\"o\">;</span> "
                 "<span class=\"c\">/* &lt;b&gt; &amp; &quot;q&quot; */</span>\n");
    /* No newline at the end: none added. Empty code: empty HTML. */
    CHECK_RENDER("return nil", "lua", 0,
                 "<span class=\"k\">return</span> <span class=\"k\">nil</span>");
    CHECK_RENDER("", "python", 0, "");
    /* A comment over several lines: one span per line, each closed. */
    CHECK_RENDER("/* a\nb */ x\n", "c", 0,
                 "<span class=\"c\">/* a</span>\n<span class=\"c\">b */</span> x\n");
    /* Blank lines are kept. */
    CHECK_RENDER("a\n\nb\n", "python", 0, "a\n\nb\n");
    /* Unknown languages give NULL, with no error. */
    char *err = (char *)"untouched";
    CHECK(pub_hl_render("x", 1, "nosuch", NULL, NULL, &err) == NULL);
    CHECK(err == NULL);
    CHECK(pub_hl_render("x", 1, NULL, NULL, NULL, NULL) == NULL);
    /* Bytes as they are: invalid UTF-8 and NULs do not stop it. */
    size_t len = 0;
    char *html = pub_hl_render("x = '\xff'\n", 8, "python", NULL, &len, NULL);
    CHECK_STR(html, "x <span class=\"o\">=</span> <span class=\"s\">'\xff'</span>\n");
    CHECK_INT(len, strlen("x <span class=\"o\">=</span> <span class=\"s\">'\xff'</span>\n"));
    free(html);
}

static void test_linenos(void)
{
    CHECK_RENDER("a = 1\nb = 2\n", "python", 1,
                 "<span class=\"linenos\">1</span>a <span class=\"o\">=</span> <span class=\"m\">1</span>\n"
                 "<span class=\"linenos\">2</span>b <span class=\"o\">=</span> <span class=\"m\">2</span>\n");
    /* Numbers are right-aligned to the widest; a last line without newline counts. */
    CHECK_RENDER("x\ny", "python", 99,
                 "<span class=\"linenos\"> 99</span>x\n<span class=\"linenos\">100</span>y");
    /* An empty line still gets its number. */
    CHECK_RENDER("a\n\n", "python", 1,
                 "<span class=\"linenos\">1</span>a\n<span class=\"linenos\">2</span>\n");
}

/* Lines and blocks over the bounds are refused with a message, fast;
 * a line exactly at the bound is highlighted. */
static void test_bounds(void)
{
    char *code = pub_xmalloc(PUB_HL_MAX_BLOCK + 2);
    for (size_t i = 0; i < PUB_HL_MAX_LINE; i++) code[i] = "x = 1; "[i % 7];
    code[PUB_HL_MAX_LINE] = '\n';
    code[PUB_HL_MAX_LINE + 1] = '\0';
    char *err = NULL;
    char *html = pub_hl_render(code, PUB_HL_MAX_LINE + 1, "c", NULL, NULL, &err);
    CHECK(html != NULL);
    CHECK(err == NULL);
    free(html);
    /* Line 2 one byte too long (no newline at its end). */
    memset(code + PUB_HL_MAX_LINE + 1, 'y', PUB_HL_MAX_LINE + 1);
    html = pub_hl_render(code, 2 * PUB_HL_MAX_LINE + 2, "c", NULL, NULL, &err);
    CHECK(html == NULL);
    CHECK_STR(err, "line 2 is longer than 1000 bytes");
    free(err);
    /* An unknown language is not an error, however long. */
    err = NULL;
    CHECK(pub_hl_render(code, 2 * PUB_HL_MAX_LINE + 2, "nosuch", NULL, NULL, &err) == NULL);
    CHECK(err == NULL);
    /* A block over the total bound, of short lines. */
    for (size_t i = 0; i < PUB_HL_MAX_BLOCK + 1; i++) code[i] = i % 80 == 79 ? '\n' : 'z';
    html = pub_hl_render(code, PUB_HL_MAX_BLOCK + 1, "python", NULL, NULL, &err);
    CHECK(html == NULL);
    CHECK_STR(err, "the block is longer than 102400 bytes");
    free(err);
    html = pub_hl_render(code, PUB_HL_MAX_BLOCK, "python", NULL, NULL, &err);
    CHECK(html != NULL);
    free(html);
    free(code);
    /* What source-highlight (Boost.Regex) gives up on is an error, not a
     * crash: the caller shows the block plain. */
    char ident[301];
    memset(ident, 'x', 300);
    ident[300] = '\0';
    CHECK(pub_hl_render(ident, 300, "c", NULL, NULL, &err) == NULL);
    CHECK(err && strncmp(err, "source-highlight: ", 18) == 0);
    free(err);
}

/* Every required language highlights something it should (one token each). */
static void test_required_languages(void)
{
    static const struct { const char *lang, *code, *want; } cases[] = {
        {"c", "static int n;\n", "<span class=\"k\">static</span>"},
        {"cpp", "template <typename T> class A {};\n", "<span class=\"k\">template</span>"},
        {"go", "func main() {}\n", "<span class=\"k\">func</span>"},
        {"rust", "fn main() { let mut x = 1; }\n", "<span class=\"k\">mut</span>"},
        {"python", "def f(): pass  # hi\n", "<span class=\"c\"># hi</span>"},
        {"ruby", "def shout; \"#{x}\"; end\n", "<span class=\"k\">end</span>"},
        {"javascript", "const x = \"s\";\n", "<span class=\"s\">&quot;s&quot;</span>"},
        {"typescript", "interface P { t: string }\n", "<span class=\"kt\">string</span>"},
        {"java", "public final class A {}\n", "<span class=\"k\">public</span>"},
        {"lua", "local t = {} -- c\n", "<span class=\"c\">-- c</span>"},
        {"sh", "for f in *; do echo \"$f\"; done\n", "<span class=\"k\">done</span>"},
        {"html", "<a href=\"/\">x</a>\n", "<span class=\"k\">&lt;a</span>"},
        {"css", ".card { color: red; }\n", "<span class=\"nt\">.card</span>"},
        {"json", "{\"a\": true, \"n\": 12}\n", "<span class=\"m\">12</span>"},
        {"yaml", "title: My blog # c\nok: true\n",
         "<span class=\"nt\">title</span><span class=\"o\">:</span>"},
        {"sql", "SELECT name FROM posts;\n", "<span class=\"k\">SELECT</span>"},
        {"diff", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n", "<span class=\"gi\">+new</span>"},
        {"markdown", "# Title\n\nSome **bold** and `code`.\n", "<span class=\"gh\"># Title</span>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *html = render(cases[i].code, cases[i].lang, 0);
        bool ok = html && strstr(html, cases[i].want);
        if (!check_count(ok))
            fprintf(stderr, "%s: want %s in\n[%s]\n", cases[i].lang, cases[i].want,
                    html ? html : "(null)");
        free(html);
    }
    /* Our own definitions keep their states and rules. */
    CHECK_RENDER("a: [1, x]\nb: 'q' # c\n", "yaml", 0,
                 "<span class=\"nt\">a</span><span class=\"o\">:</span> <span class=\"o\">[</span>"
                 "<span class=\"m\">1</span><span class=\"o\">,</span> x<span class=\"o\">]</span>\n"
                 "<span class=\"nt\">b</span><span class=\"o\">:</span> <span class=\"s\">'q'</span> "
                 "<span class=\"c\"># c</span>\n");
    CHECK_RENDER("```\n# not a heading\n```\n", "markdown", 0,
                 "<span class=\"sb\">```</span>\n<span class=\"sb\"># not a heading</span>\n"
                 "<span class=\"sb\">```</span>\n");
    CHECK_RENDER("let s = `a ${b}`;\n", "ts", 0,
                 "<span class=\"k\">let</span> s <span class=\"o\">=</span> "
                 "<span class=\"s\">`a ${b}`</span><span class=\"o\">;</span>\n");
}

/* Several threads at once get exactly what one thread gets: each thread
 * builds its own definitions (ours among them: yaml, markdown) and they
 * highlight at the same time. Lua's long comments and Rust's raw strings
 * are rules with back-references, which make states while highlighting. */
static const char *const thread_langs[] = {"c", "python", "yaml", "markdown", "rust", "sql", "lua"};
#define NTHREAD_LANGS (sizeof thread_langs / sizeof *thread_langs)
static const char *const thread_code =
    "x = \"a\" # b\nfn f() { return 1; }\n--[==[ long ]==] r#\"raw\"#\n";
static char *thread_want[NTHREAD_LANGS];

static void *thread_main(void *arg)
{
    long id = (long)arg;
    long bad = 0;
    for (int i = 0; i < 200; i++) {
        size_t k = (size_t)(id + i) % NTHREAD_LANGS;
        char *html = render(thread_code, thread_langs[k], 0);
        if (!html || strcmp(html, thread_want[k]) != 0) bad++;
        free(html);
    }
    return (void *)bad;
}

static void test_threads(void)
{
    for (size_t k = 0; k < NTHREAD_LANGS; k++) thread_want[k] = render(thread_code, thread_langs[k], 0);
    CHECK(strstr(thread_want[6], "<span class=\"c\">--[==[ long ]==]</span>") != NULL);
    CHECK(strstr(thread_want[4], "<span class=\"s\">r#&quot;raw&quot;#</span>") != NULL);
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, thread_main, (void *)i);
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        CHECK_INT((long)bad, 0);
    }
    for (size_t k = 0; k < NTHREAD_LANGS; k++) free(thread_want[k]);
}

/* ---- publish.highlight ------------------------------------------------------ */

static lua_State *L;

static void lua_eq(int line, const char *expr, const char *want)
{
    lua_settop(L, 0);
    lua_pushfstring(L, "return %s", expr);
    const char *chunk = lua_tostring(L, -1);
    const char *got;
    if (luaL_loadbuffer(L, chunk, strlen(chunk), "=test") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK)
        got = lua_tostring(L, -1);
    else
        got = luaL_tolstring(L, -1, NULL);
    check_str_at(__FILE__, line, got, want);
}
#define LUA_EQ(expr, want) lua_eq(__LINE__, expr, want)

static void test_lua(void)
{
    L = luaL_newstate();
    luaL_openlibs(L);
    pub_luaopen_publish(L);
    lua_setglobal(L, "publish");
    LUA_EQ("publish.highlight('local x', 'lua')", "<span class=\"k\">local</span> x");
    LUA_EQ("publish.highlight('local x', 'LUA', {linenos = true})",
           "<span class=\"linenos\">1</span><span class=\"k\">local</span> x");
    LUA_EQ("publish.highlight('x', 'lua', {linenos = 7})", "<span class=\"linenos\">7</span>x");
    LUA_EQ("publish.highlight('x', 'lua', {linenos = false})", "x");
    LUA_EQ("publish.highlight('x', 'nosuch')", "nil");
    LUA_EQ("select('#', publish.highlight('x', 'nosuch'))", "1");
    LUA_EQ("publish.highlight('x')", "nil");
    LUA_EQ("publish.highlight('x', '')", "nil");
    LUA_EQ("publish.highlight(nil, 'c')",
           "test:1: bad argument #1 to 'highlight' (string expected, got nil)");
    LUA_EQ("publish.highlight('x', {})",
           "test:1: bad argument #2 to 'highlight' (string expected, got table)");
    LUA_EQ("publish.highlight('x', 'c', 3)",
           "test:1: bad argument #3 to 'highlight' (table expected, got number)");
    LUA_EQ("publish.highlight('x', 'c', {linenos = 'yes'})",
           "test:1: bad option 'linenos' to 'highlight' (boolean or integer expected, got string)");
    LUA_EQ("publish.highlight('x', 'c', {linenos = 0})",
           "test:1: bad option 'linenos' to 'highlight' (first line number out of range)");
    lua_close(L);
}

/* With a build cache in the registry, publish.highlight stores what it
 * renders and uses what is stored (a stored value wins: the renderer is
 * not run for it). */
static void test_cache(void)
{
    char root[64];
    check_temp_dir(root, "highlight");
    pub_cache *cache = pub_cache_open(root);
    L = luaL_newstate();
    luaL_openlibs(L);
    pub_luaopen_publish(L);
    lua_setglobal(L, "publish");
    lua_pushlightuserdata(L, cache);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_CACHE);

    pub_hl_options none = {0}, numbered = {1};
    uint64_t key = pub_hl_cache_key("int y", 5, "c", &none);
    CHECK(key != 0);
    CHECK(pub_hl_cache_key("int y", 5, "C", &none) == key);     /* same definition */
    CHECK(pub_hl_cache_key("int y", 5, "c", &numbered) != key); /* options count */
    CHECK(pub_hl_cache_key("int z", 5, "c", &none) != key);     /* so does the code */
    CHECK(pub_hl_cache_key("int y", 5, "cpp", &none) != key);   /* and the language */
    CHECK(pub_hl_cache_key("int y", 5, "nosuch", &none) == 0);

    CHECK(pub_cache_get_html(cache, key, NULL) == NULL);
    LUA_EQ("publish.highlight('int y', 'c')", "<span class=\"kt\">int</span> y");
    char *stored = pub_cache_get_html(cache, key, NULL);
    CHECK_STR(stored, "<span class=\"kt\">int</span> y");
    free(stored);

    uint64_t k2 = pub_hl_cache_key("int w", 5, "c", &none);
    pub_cache_put_html(cache, k2, "FROM CACHE", 10);
    LUA_EQ("publish.highlight('int w', 'c')", "FROM CACHE");
    lua_close(L);
    pub_cache_free(cache);
    pub_file_remove_tree(root);
}

int main(void)
{
    test_languages();
    test_exact();
    test_linenos();
    test_bounds();
    test_required_languages();
    test_threads();
    test_lua();
    test_cache();
    return check_finish();
}
