/* Tests of the publish Lua library and the pub_value <-> Lua bridge: Lua
 * snippets run in a plain lua_State with `publish` set as a global, each
 * compared with an exact expected value or error message, plus direct
 * checks of pub_lua_to_value / pub_lua_push_value from C. */
#include "check.h"
#include "diag.h"
#include "lua/bridge.h"
#include "lua/lib.h"
#include "value.h"
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static lua_State *L;

/* One check of a snippet, printed with what it gave and what it should. */
static void result(int ok, int line, const char *code, const char *got, const char *want)
{
    if (check_count(ok)) return;
    fprintf(stderr, "test_lualib.c:%d: FAIL %s\n    got:  [%s]\n    want: [%s]\n", line, code,
            got ? got : "(null)", want);
}

/* `expr` evaluates (through tostring) to exactly `want`. */
static void eq(int line, const char *expr, const char *want)
{
    lua_settop(L, 0);
    lua_pushfstring(L, "return %s", expr);
    const char *chunk = lua_tostring(L, -1);
    if (luaL_loadbuffer(L, chunk, strlen(chunk), "=test") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        result(0, line, expr, msg ? msg : "(error)", want);
        return;
    }
    size_t len;
    const char *got = luaL_tolstring(L, -1, &len);
    result(len == strlen(want) && memcmp(got, want, len) == 0, line, expr, got, want);
}

/* Running `code` raises exactly `want`. Errors raised with luaL_error
 * carry the caller's position, "test:1: " for these one-line snippets;
 * it is part of `want` so that errors without it are caught too. */
static void err(int line, const char *code, const char *want)
{
    lua_settop(L, 0);
    if (luaL_loadbuffer(L, code, strlen(code), "=test") != LUA_OK) {
        result(0, line, code, lua_tostring(L, -1), want);
        return;
    }
    if (lua_pcall(L, 0, 0, 0) == LUA_OK) {
        result(0, line, code, "(no error)", want);
        return;
    }
    const char *got = lua_tostring(L, -1);
    result(got && strcmp(got, want) == 0, line, code, got, want);
}

/* Running `code` (which asserts) raises nothing. */
static void ok(int line, const char *code)
{
    lua_settop(L, 0);
    int rc = luaL_loadbuffer(L, code, strlen(code), "=test");
    if (rc == LUA_OK) rc = lua_pcall(L, 0, 0, 0);
    result(rc == LUA_OK, line, code, rc == LUA_OK ? "" : lua_tostring(L, -1), "(no error)");
}

#define EQ(expr, want) eq(__LINE__, expr, want)
#define ERR(code, want) err(__LINE__, code, want)
#define OK(code) ok(__LINE__, code)

static void test_slugify(void)
{
    EQ("publish.slugify('Hello, World!')", "hello-world");
    EQ("publish.slugify('  --Hello--  ')", "hello");
    EQ("publish.slugify('C++ & Lua 5.4')", "c-lua-5-4");
    EQ("publish.slugify('2024: a year')", "2024-a-year");
    EQ("publish.slugify('뉴스 속보')", "뉴스-속보");
    EQ("publish.slugify('日本語のタイトル')", "日本語のタイトル");
    EQ("publish.slugify('「東京」、大阪。')", "東京-大阪");
    EQ("publish.slugify('a\\u{3000}b')", "a-b");
    EQ("publish.slugify('a\\u{2014}b\\u{2019}s')", "a-b-s");
    EQ("publish.slugify('Café Déjà Vu')", "café-déjà-vu");
    EQ("publish.slugify('ÉCOLE ÀÖ')", "école-àö");
    EQ("publish.slugify('2×3÷4')", "2-3-4");
    EQ("publish.slugify('a\\u{A0}b\\u{AB}c\\u{BB}')", "a-b-c");
    EQ("publish.slugify('Ｈｅｌｌｏ！（ｘ）')", "Ｈｅｌｌｏ-ｘ");
    EQ("publish.slugify('a\\xffb\\xc3')", "a-b");
    EQ("publish.slugify('!!! ...')", "");
    EQ("publish.slugify('')", "");
    EQ("publish.slugify(2024)", "2024");
    ERR("publish.slugify(nil)", "test:1: bad argument #1 to 'slugify' (string expected, got nil)");
    ERR("publish.slugify({})", "test:1: bad argument #1 to 'slugify' (string expected, got table)");
}

static void test_html(void)
{
    EQ("publish.html.escape([[<a href=\"x\">Tom & 'Jerry'</a>]])",
       "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    EQ("publish.html.escape('plain text')", "plain text");
    EQ("publish.html.escape('&&')", "&amp;&amp;");
    EQ("publish.html.escape(nil)", "");
    EQ("publish.html.escape()", "");
    EQ("publish.html.escape(42)", "42");
    EQ("publish.html.escape(false)", "false");
    EQ("publish.html.escape(publish.date.parse('2024-06-19T09:30:00+09:00'))",
       "2024-06-19T09:30:00+09:00");

    EQ("publish.html.text('<p>Hello <b>world</b></p><p>Second</p>')", "Hello world Second");
    EQ("publish.html.text('<em>a</em>b<br>c<br/>d')", "ab c d");
    EQ("publish.html.text('<script>var x = \"<p>\";</script>Text')", "Text");
    EQ("publish.html.text('<SCRIPT type=x>if (a</b) {}</SCRIPT >after')", "after");
    EQ("publish.html.text('<style>p { color: red }</style> a ')", "a");
    EQ("publish.html.text('a<!-- c <p> -->b')", "ab");
    EQ("publish.html.text('a<!-- never closed')", "a");
    EQ("publish.html.text('&amp;&lt;&gt;&quot;&#39;&apos;&#x41;&#66;')", "&<>\"''AB");
    EQ("publish.html.text('a&nbsp;&nbsp;b &hellip; &mdash;')", "a b … —");
    EQ("publish.html.text('&#0; &#x110000; &#55296;')", "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD");
    EQ("publish.html.text('&unknown; &#xZZ; & x &amp')", "&unknown; &#xZZ; & x &amp");
    EQ("publish.html.text('  lots \\n\\t of   space ')", "lots of space");
    EQ("publish.html.text('x < y and 3<4')", "x < y and 3<4");
    EQ("publish.html.text('<a title=\"a>b\" href=\\'>\\'>link</a>')", "link");
    EQ("publish.html.text('<!DOCTYPE html><html><head><title>T</title></head><body>B</body>')",
       "T B");
    EQ("publish.html.text('<p>한국어 <i>텍스트</i></p>')", "한국어 텍스트");
    EQ("publish.html.text('unclosed <b')", "unclosed");
    EQ("publish.html.text('')", "");
    ERR("publish.html.text(nil)", "test:1: bad argument #1 to 'text' (string expected, got nil)");
}

/* publish.html.truncate: the excerpt plugin's cut. T(...) shows both
 * results as "html|cut". */
/* publish.html.escape_xml and publish.url: the escapers plugins share. */
static void test_escapers(void)
{
    EQ("publish.html.escape_xml([[<a b=\"c\">&'</a>]])", "&lt;a b=&quot;c&quot;&gt;&amp;&#39;&lt;/a&gt;");
    EQ("publish.html.escape_xml('a\\1b\\27c\\td\\ne\\rf\\127')", "abc\td\ne\rf\x7f");
    EQ("publish.html.escape_xml(nil)", "");
    EQ("publish.html.escape_xml(12)", "12");
    EQ("publish.html.escape_xml('뉴스')", "뉴스");
    EQ("publish.url.encode('/categories/뉴스/')", "/categories/%EB%89%B4%EC%8A%A4/");
    EQ("publish.url.encode('/a b/?q=1&r=%20#x')", "/a%20b/?q=1&r=%20#x");
    EQ("publish.url.encode([[<\"`{|}\\^>]])", "%3C%22%60%7B%7C%7D%5C%5E%3E");
    EQ("publish.url.encode(\"a:b@c!$'()*+,;=[]~\")", "a:b@c!$'()*+,;=[]~");
    EQ("publish.url.escape('a b/c?d=é&x~')", "a%20b%2Fc%3Fd%3D%C3%A9%26x~");
    EQ("publish.url.escape('A-z_0.9')", "A-z_0.9");
    EQ("publish.url.escape(nil)", "");
}

static void test_truncate(void)
{
    OK("function T(...) local h, c = publish.html.truncate(...) return h .. '|' .. tostring(c) end");
    /* Korean: characters, never bytes; a cut in a word backs up to it. */
    EQ("T('<p>가나다라마바사아자차카타파하</p>', 5)", "<p>가나다라마…</p>|true");
    EQ("T('<p>서울의 가을 산책 코스 세 곳을 소개한다</p>', 11)", "<p>서울의 가을 산책…</p>|true");
    EQ("T('<p>The quick brown fox jumps over the lazy dog again</p>', 45)",
       "<p>The quick brown fox jumps over the lazy dog…</p>|true");
    /* ... but not when that would lose more than 20% of the text. */
    EQ("T('<p>a verylongwordthatgoeson</p>', 10)", "<p>a verylong…</p>|true");
    /* Trailing whitespace goes before the ellipsis. */
    EQ("T('<p>one  two</p>', 4)", "<p>one…</p>|true");
    EQ("T('<p>one two three</p>', 3, '...')", "<p>one...</p>|true");
    /* Entities and whitespace runs are one unit each, never split. */
    EQ("T('<p>A &amp; B and more</p>', 3)", "<p>A &amp;…</p>|true");
    EQ("T('<p>&#x27;&#39;&bogus x</p>', 3)", "<p>&#x27;&#39;&…</p>|true");
    EQ("T('<p>a \\n\\t b c</p>', 3)", "<p>a \n\t b…</p>|true");
    /* Nested tags are closed innermost first, in lower case. */
    EQ("T('<p>Hello <strong>bold <em>world</em> text</strong> end</p>', 10)",
       "<p>Hello <strong>bold…</strong></p>|true");
    EQ("T('<P><EM>abc def', 3)", "<P><EM>abc…</em></p>|true");
    EQ("T('<ul><li>one <a href=\"/x\" title=\"a>b\">two three</a></li><li>four</li></ul>', 7)",
       "<ul><li>one <a href=\"/x\" title=\"a>b\">two…</a></li></ul>|true");
    /* Void and self-closing elements are not closed. */
    EQ("T('<p>line<br>next line of text<img src=\"a.png\"></p>', 8)", "<p>line<br>next…</p>|true");
    EQ("T('<span/>x<x-y:z>z')", "<span/>x<x-y:z>z</x-y:z>|false");
    /* Scripts, styles, templates and comments are dropped, cut or not. */
    EQ("T('<p>a<script>var x = \"<p>\";</script>b<style>p{}</style>c"
       "<template><b>t</b></template>d<!-- note -->e</p>')",
       "<p>abcde</p>|false");
    /* The lower-case close tag is looked for first, as the plugin did. */
    EQ("T('<SCRIPT>x</SCRIPT >a<STYLE>y</STYLE>b<Script>never closed')", "ab|false");
    EQ("T('<SCRIPT>x</SCRIPT >a<Script>y</script>b')", "b|false");
    /* No cut when only tags, comments and whitespace follow. */
    EQ("T('<p>abc</p>  <p> <!-- x --> </p><hr>', 3)", "<p>abc</p>  <p>  </p><hr>|false");
    EQ("T('<p>short</p>', 5)", "<p>short</p>|false");
    EQ("T('<blockquote><p>abc</p></blockquote><p>def</p>', 3)",
       "<blockquote><p>abc…</p></blockquote>|true");
    /* Stray close tags dropped; a close tag closes what is open inside. */
    EQ("T('</div><p>a<b>b</p>c')", "<p>a<b>b</b></p>c|false");
    /* A '<' that starts no tag is text. */
    EQ("T('<p>a < b <3 <!x> <a title=\"x>y</p>')",
       "<p>a &lt; b &lt;3 &lt;!x> &lt;a title=\"x>y</p>|false");
    /* Invalid UTF-8: a byte and the continuation bytes after it are one
     * unit, never split further. */
    EQ("T('a\\xe2\\x82\\x82\\x82b', 2)", "a\xe2\x82\x82\x82…|true");
    EQ("T('\\xff\\xfe" "abc', 1)", "\xff…|true");
    EQ("T('<p>\\xc0\\xaf\\xed\\xa0\\x80 z</p>', 3)", "<p>\xc0\xaf\xed\xa0\x80…</p>|true");
    /* Limit 0 keeps no text; nil keeps it all. */
    EQ("T('<p>hello</p>', 0)", "<p>…</p>|true");
    EQ("T('<p></p><br>', 0)", "<p></p><br>|false");
    EQ("T('<p>' .. ('word '):rep(100) .. '</p>') == '<p>' .. ('word '):rep(100) .. '</p>|false'",
       "true");
    EQ("T('')", "|false");
    ERR("publish.html.truncate(nil, 3)", "test:1: bad argument #1 to 'truncate' (string expected, got nil)");
    /* Long input with many unclosed tags and stray '<': linear, no error. */
    OK("local s = ('<b>x '):rep(20000) .. ('<a \\'y '):rep(20000) "
       "local h, c = publish.html.truncate(s, 30000) assert(c and #h > 100000)");
}

static void test_utf8(void)
{
    EQ("publish.utf8.len('abc')", "3");
    EQ("publish.utf8.len('한글')", "2");
    EQ("publish.utf8.len('')", "0");
    EQ("publish.utf8.len('a\\xffb')", "3");
    EQ("publish.utf8.len('\\xe2\\x82')", "2");
    EQ("publish.utf8.len('é😀')", "2");

    EQ("select(2, publish.utf8.truncate('hello', 10))", "false");
    EQ("publish.utf8.truncate('hello', 10)", "hello");
    EQ("publish.utf8.truncate('hello', 5)", "hello");
    EQ("select('#', publish.utf8.truncate('hello', 5))", "2");
    EQ("publish.utf8.truncate('hello world', 5)", "hello…");
    EQ("select(2, publish.utf8.truncate('hello world', 5))", "true");
    EQ("publish.utf8.truncate('abcdefghij', 4)", "abcd…");
    EQ("publish.utf8.truncate('The quick brown fox jumps', 18)", "The quick brown…");
    EQ("publish.utf8.truncate('The quick brown fox jumps', 12)", "The quick br…");
    EQ("publish.utf8.truncate('The quick brown fox jumps', 15)", "The quick brown…");
    EQ("publish.utf8.truncate('한국어 텍스트입니다', 5)", "한국어 텍…");
    EQ("publish.utf8.truncate('한국어 텍스트입니다', 4)", "한국어…");
    EQ("publish.utf8.truncate('日本語', 2)", "日本…");
    EQ("publish.utf8.truncate('abcdef', 3, '...')", "abc...");
    EQ("publish.utf8.truncate('abcdef', 3, '')", "abc");
    EQ("publish.utf8.truncate('abc', 0)", "…");
    EQ("publish.utf8.truncate('a\\xffbc', 2) == 'a\\xff…'", "true");
    EQ("publish.utf8.truncate('', 0)", "");
    ERR("publish.utf8.truncate('abc', -1)",
        "test:1: bad argument #2 to 'truncate' (must not be negative)");
    ERR("publish.utf8.truncate('abc')",
        "test:1: bad argument #2 to 'truncate' (number expected, got no value)");
}

static void test_date(void)
{
    EQ("tostring(publish.date.is(publish.date.now()))", "true");
    EQ("tostring(publish.date.is(publish.date.parse('2024-06-19')))", "true");
    EQ("tostring(publish.date.is({year = 2024, month = 6, day = 19}))", "false");
    EQ("tostring(publish.date.is('2024-06-19'))", "false");
    EQ("tostring(publish.date.is(nil))", "false");
    OK("d = publish.date.parse('2024-06-19 09:30:00 +09:00')");
    EQ("tostring(d)", "2024-06-19T09:30:00+09:00");
    EQ("d.epoch", "1718757000");
    EQ("d.offset", "540");
    EQ("d.year .. '/' .. d.month .. '/' .. d.day .. ' ' .. d.hour .. ':' .. d.min .. ':' .. d.sec",
       "2024/6/19 9:30:0");
    EQ("d.has_time", "true");
    EQ("publish.date.format(d, '%Y-%m-%d %H:%M:%S')", "2024-06-19 09:30:00");
    EQ("publish.date.format(d, '%y %b %B %a %A %j')", "24 Jun June Wed Wednesday 171");
    EQ("publish.date.format(d, '%e|%-d|%-m|%-H|%-j')", "19|19|6|9|171");
    EQ("publish.date.format(d, '%I %p %-I')", "09 AM 9");
    EQ("publish.date.format(d, '%z %Z')", "+0900 +09:00");
    EQ("publish.date.format(d, '%F %T')", "2024-06-19 09:30:00");
    EQ("publish.date.format(d, '%s')", "1718757000");
    EQ("publish.date.format(d, '100%% %Y')", "100% 2024");
    EQ("publish.date.format(d, '%Y년 %-m월 %-d일')", "2024년 6월 19일");
    EQ("publish.date.format(d, '')", "");
    EQ("publish.date.format('2024-01-05', '%d|%e|%j|%a|%p')", "05| 5|005|Fri|AM");
    EQ("publish.date.format('2024-12-31 23:05:09 -05:30', '%I:%M %p %z %Z %j')",
       "11:05 PM -0530 -05:30 366");
    EQ("publish.date.format('2024-06-19 00:00:00 Z', '%I %p %Z')", "12 AM +00:00");
    ERR("publish.date.format(d, '%Q')", "test:1: bad argument #2 to 'format' (unknown conversion '%Q')");
    ERR("publish.date.format(d, '%한')", "test:1: bad argument #2 to 'format' (unknown conversion '%한')");
    ERR("publish.date.format(d, 'x%')", "test:1: bad argument #2 to 'format' (format ends in '%')");
    ERR("publish.date.format('soon', '%Y')", "test:1: bad argument #1 to 'format' (invalid date 'soon')");
    ERR("publish.date.format(42, '%Y')", "test:1: bad argument #1 to 'format' (date expected, got number)");

    /* Zoneless dates are in the local zone (TZ is UTC+9 here). */
    OK("z = publish.date.parse('2024-06-19')");
    EQ("tostring(z)", "2024-06-19T00:00:00+09:00");
    EQ("z.has_time", "false");
    EQ("z.has_zone", "false");
    EQ("z.epoch", "1718722800");
    EQ("tostring(publish.date.parse('2024-06-19T09:30:00Z'))", "2024-06-19T09:30:00+00:00");
    EQ("tostring(publish.date.parse('2024-06-19 09:30'))", "2024-06-19T09:30:00+09:00");
    EQ("tostring(publish.date.parse('2024-06-19T09:30:00+0900'))", "2024-06-19T09:30:00+09:00");
    EQ("tostring(publish.date.parse('2024-6-9 7:05:01.25 -5'))", "2024-06-09T07:05:01-05:00");
    EQ("publish.date.parse('2024-06-19 09:30:00 -05:00').epoch", "1718807400");
    EQ("select(2, publish.date.parse('nope'))", "invalid date 'nope'");
    EQ("publish.date.parse('2024-02-30')", "nil");
    EQ("publish.date.parse('2024-06-19 25:00')", "nil");
    EQ("publish.date.parse('2024-06-19 x')", "nil");
    EQ("tostring(publish.date.parse('2024-02-29'))", "2024-02-29T00:00:00+09:00");

    /* Comparison is by instant, across zones. */
    EQ("publish.date.parse('2024-06-19T00:30:00Z') == d", "true");
    EQ("publish.date.parse('2024-06-19T00:30:01Z') == d", "false");
    EQ("z < d", "true");
    EQ("d < z", "false");
    EQ("d <= publish.date.parse('2024-06-19T00:30:00Z')", "true");
    EQ("d > z", "true");
    OK("e = publish.date.parse('2024-06-19'); e.day = 20; assert(e > z and e.day == 20)");
    ERR("return d < 5", "test:1: attempt to compare publish.Date with number");
    ERR("return {} <= d", "test:1: attempt to compare table with publish.Date");

    OK("n = publish.date.now()");
    EQ("getmetatable(n) == getmetatable(d)", "true");
    EQ("n.offset", "540");
    EQ("math.abs(n.epoch - os.time()) <= 2", "true");
    EQ("tostring(n):match('^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%+09:00$') ~= nil", "true");
}

static void test_json(void)
{
    EQ("publish.json.encode({b = 1, a = {1, 2, 3}, c = 'x'})", "{\"a\":[1,2,3],\"b\":1,\"c\":\"x\"}");
    EQ("publish.json.encode({})", "[]");
    EQ("publish.json.encode(setmetatable({}, {__yaml = 'map'}))", "{}");
    EQ("publish.json.encode(setmetatable({1, 2}, {__yaml = 'map'}))", "{\"1\":1,\"2\":2}");
    EQ("publish.json.encode('</script>')", "\"<\\/script>\"");
    EQ("publish.json.encode('a/b')", "\"a/b\"");
    EQ("publish.json.encode('a\\n\\t\"\\\\\\1\\r\\b\\f\\127')",
       "\"a\\n\\t\\\"\\\\\\u0001\\r\\b\\f\\u007f\"");
    EQ("publish.json.encode('한글 é')", "\"한글 é\"");
    EQ("publish.json.encode('a\\xffb')", "\"a\\ufffdb\"");
    EQ("publish.json.encode('\\u{2028}\\u{2029}')", "\"\\u2028\\u2029\"");
    EQ("publish.json.encode(1.5)", "1.5");
    EQ("publish.json.encode(0.1)", "0.1");
    EQ("publish.json.encode(1/3)", "0.3333333333333333");
    EQ("publish.json.encode(3)", "3");
    EQ("publish.json.encode(-0.0)", "-0");
    EQ("publish.json.encode(2^53)", "9007199254740992");
    EQ("publish.json.encode(math.mininteger)", "-9223372036854775808");
    EQ("publish.json.encode(true)", "true");
    EQ("publish.json.encode(nil)", "null");
    EQ("publish.json.encode(publish.null)", "null");
    EQ("publish.json.encode({1, publish.null, 3})", "[1,null,3]");
    EQ("publish.json.encode({[1] = 'a', [3] = 'c'})", "{\"1\":\"a\",\"3\":\"c\"}");
    EQ("publish.json.encode({[2.5] = 'x', [true] = 'y'})", "{\"2.5\":\"x\",\"true\":\"y\"}");
    EQ("publish.json.encode({B = 1, a = 2, ['é'] = 3, [''] = 4})",
       "{\"\":4,\"B\":1,\"a\":2,\"é\":3}");
    EQ("publish.json.encode({d = publish.date.parse('2024-06-19 09:30:00 +09:00')})",
       "{\"d\":\"2024-06-19T09:30:00+09:00\"}");
    EQ("publish.json.encode({{}, {{}}})", "[[],[[]]]");
    OK("shared = {1}; assert(publish.json.encode({shared, shared}) == '[[1],[1]]')");
    ERR("publish.json.encode(0/0)", "test:1: cannot encode NaN or infinity as JSON");
    ERR("publish.json.encode({x = {y = math.huge}})",
        "test:1: cannot encode NaN or infinity as JSON (key 'x.y')");
    ERR("publish.json.encode({posts = {{}, {f = print}}})",
        "test:1: cannot encode a function as JSON (key 'posts[2].f')");
    ERR("t = {}; t.self = t; publish.json.encode(t)",
        "test:1: cannot encode a table that contains itself as JSON (key 'self')");
    ERR("publish.json.encode({[{}] = 1})",
        "test:1: cannot encode a table with a key that is not a string or number as JSON");
    ERR("publish.json.encode(io.stdout)", "test:1: cannot encode a userdata as JSON");
    ERR("publish.json.encode()", "test:1: bad argument #1 to 'encode' (value expected)");
    OK("local t = {} local c = t for i = 1, 200 do c[1] = {} c = c[1] end "
       "local ok, e = pcall(publish.json.encode, t) "
       "assert(not ok and e:find('cannot encode tables nested this deep as JSON', 1, true))");
}

static void test_markdown(void)
{
    EQ("publish.markdown('# Hi')", "<h1>Hi</h1>\n");
    EQ("publish.markdown('a <b>x</b>')", "<p>a <b>x</b></p>\n");
    EQ("publish.markdown('a <b>x</b>', {unsafe = false})",
       "<p>a <!-- raw HTML omitted -->x<!-- raw HTML omitted --></p>\n");
    EQ("publish.markdown('\"hi\" -- x', {smart = true})", "<p>“hi” – x</p>\n");
    EQ("publish.markdown('a\\nb', {hardbreaks = true})", "<p>a<br />\nb</p>\n");
    EQ("publish.markdown('a\\nb', {})", "<p>a\nb</p>\n");
    EQ("publish.markdown('')", "");
    ERR("publish.markdown('x', {smart = 'yes'})",
        "test:1: bad option 'smart' to 'markdown' (boolean expected, got string)");
    ERR("publish.markdown('x', 5)", "test:1: bad argument #2 to 'markdown' (table expected, got number)");
    ERR("publish.markdown()", "test:1: bad argument #1 to 'markdown' (string expected, got no value)");

    /* The site's setting is the default. */
    pub_md_options site = {false, false, false, PUB_MD_DEFAULT_EXTENSIONS};
    pub_lua_set_md_options(L, &site);
    EQ("publish.markdown('<div>x</div>')", "<!-- raw HTML omitted -->\n");
    EQ("publish.markdown('<div>x</div>', {unsafe = true})", "<div>x</div>\n");
    /* The site's hardbreaks and smart punctuation too. */
    site = (pub_md_options){true, true, true, PUB_MD_DEFAULT_EXTENSIONS};
    pub_lua_set_md_options(L, &site);
    EQ("publish.markdown('a\\nb -- \"c\"')", "<p>a<br />\nb – “c”</p>\n");
    EQ("publish.markdown('a\\nb', {hardbreaks = false, smart = false})", "<p>a\nb</p>\n");
    pub_lua_set_md_options(L, NULL);

    /* GFM extensions: on by default, chosen by name, the site's as default. */
    EQ("publish.markdown('~~x~~ www.a.org')",
       "<p><del>x</del> <a href=\"http://www.a.org\">www.a.org</a></p>\n");
    EQ("publish.markdown('~~x~~ www.a.org', {extensions = {}})", "<p>~~x~~ www.a.org</p>\n");
    EQ("publish.markdown('~~x~~ www.a.org', {extensions = {'strikethrough'}})",
       "<p><del>x</del> www.a.org</p>\n");
    EQ("publish.markdown('- [x] a')",
       "<ul>\n<li><input type=\"checkbox\" checked=\"\" disabled=\"\" /> a</li>\n</ul>\n");
    EQ("publish.markdown('a|b\\n-|-\\n1|2')",
       "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
       "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n");
    EQ("publish.markdown('<script>x</script>', {extensions = {'tagfilter'}})",
       "&lt;script>x&lt;/script>\n");
    ERR("publish.markdown('x', {extensions = {'table', 'tabels'}})",
        "test:1: bad option 'extensions' to 'markdown' (unknown extension 'tabels'; known: "
        "table, strikethrough, autolink, tasklist, footnotes, tagfilter)");
    ERR("publish.markdown('x', {extensions = 'table'})",
        "test:1: bad option 'extensions' to 'markdown' (table expected, got string)");
    site = (pub_md_options){true, false, false, 0};
    pub_lua_set_md_options(L, &site);
    EQ("publish.markdown('~~x~~')", "<p>~~x~~</p>\n");
    pub_lua_set_md_options(L, NULL);
}

static void test_frontmatter(void)
{
    OK("meta, body, line = publish.frontmatter('---\\ntitle: Hi\\ntags: [a, b]\\n---\\nBody\\n')");
    EQ("meta.title", "Hi");
    EQ("meta.tags[2]", "b");
    EQ("body", "Body\n");
    EQ("line", "5");
    OK("meta, body, line = publish.frontmatter('Just text')");
    EQ("next(meta)", "nil");
    EQ("body", "Just text");
    EQ("line", "1");
    OK("meta = publish.frontmatter('---\\n---\\nx') assert(next(meta) == nil)");
    EQ("publish.json.encode((publish.frontmatter('---\\n---\\nx')))", "{}");
    OK("local ok, e = pcall(publish.frontmatter, '---\\ntitle: [\\n---\\n', 'layouts/x.html') "
       "assert(not ok and e:find('^layouts/x%.html:3:1: '), e)");
    OK("local ok, e = pcall(publish.frontmatter, '---\\ntitle: x\\n') "
       "assert(not ok and e:find('^<string>:%d+'), e)");
}

static void test_yaml(void)
{
    OK("y = publish.yaml.load('a: 1\\nb: [x, y]\\nc: 2.5\\nd: true\\ne: 2024-06-19\\n')");
    EQ("math.type(y.a)", "integer");
    EQ("y.b[2]", "y");
    EQ("math.type(y.c)", "float");
    EQ("y.d", "true");
    EQ("tostring(y.e)", "2024-06-19T00:00:00+09:00");
    OK("l = publish.yaml.load('- 1\\n- ~\\n- 3\\n')");
    EQ("#l", "3");
    EQ("l[2] == publish.null", "true");
    OK("m = publish.yaml.load('a: ~\\n') assert(next(m) == nil)");
    EQ("publish.yaml.load('')", "nil");
    EQ("publish.yaml.load('hello')", "hello");
    OK("local ok, e = pcall(publish.yaml.load, 'a: [1, 2', 'data/x.yaml') "
       "assert(not ok and e:find('^data/x%.yaml:2:1: '), e)");
    OK("local ok, e = pcall(publish.yaml.load, 'a: [1, 2') "
       "assert(not ok and e:find('^<string>:%d+:%d+: '), e)");

    /* dump and load round trip */
    OK("local v = {title = 'Hi', n = 3, f = 1.5, tags = {'a', 'b'}, empty = {}, "
       "d = publish.date.parse('2024-06-19'), on = true} "
       "local back = publish.yaml.load(publish.yaml.dump(v)) "
       "assert(back.title == 'Hi' and math.type(back.n) == 'integer' and back.f == 1.5) "
       "assert(back.tags[1] == 'a' and back.tags[2] == 'b' and #back.tags == 2) "
       "assert(type(back.empty) == 'table' and next(back.empty) == nil) "
       "assert(back.on == true and back.d == v.d and back.d.has_time == false, tostring(back.d))");
    EQ("publish.yaml.dump({b = 1, a = 2, tags = {'x', 'y'}, empty = {}, "
       "none = setmetatable({}, {__yaml = 'map'}), items = {1, publish.null}, "
       "d = publish.date.parse('2024-06-19'), t = publish.date.parse('2024-06-19 09:30 +09:00')})",
       "a: 2\nb: 1\nd: 2024-06-19\nempty: []\nitems:\n  - 1\n  - null\nnone: {}\n"
       "t: 2024-06-19 09:30:00 +09:00\ntags:\n  - x\n  - y\n");
    EQ("publish.yaml.dump('x')", "x\n");
    ERR("publish.yaml.dump(print)", "test:1: bad argument #1 to 'dump' (cannot store a function in YAML)");
    ERR("publish.yaml.dump({a = {b = {print}}})",
        "test:1: bad argument #1 to 'dump' (cannot store a function in YAML (key 'a.b[1]'))");
    ERR("publish.yaml.dump()", "test:1: bad argument #1 to 'dump' (value expected)");
}

static void test_log(void)
{
    pub_diags diags;
    pub_diags_init(&diags);
    lua_pushlightuserdata(L, &diags);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_DIAGS);
    const char *code = "local x = 1\n"
                       "publish.log.warn('slow post', 1.5, true, nil)\n"
                       "publish.log.info('hello')\n";
    lua_settop(L, 0);
    int rc = luaL_loadbuffer(L, code, strlen(code), "@plugins/x.lua");
    if (rc == LUA_OK) rc = lua_pcall(L, 0, 0, 0);
    CHECK(rc == LUA_OK);
    CHECK(diags.len == 2);
    if (diags.len == 2) {
        pub_diag *w = diags.items[0], *n = diags.items[1];
        CHECK(w->level == PUB_WARNING);
        CHECK(w->path && strcmp(w->path, "plugins/x.lua") == 0);
        CHECK(w->line == 2);
        CHECK(strcmp(w->message, "slow post\t1.5\ttrue\tnil") == 0);
        CHECK(n->level == PUB_NOTE);
        CHECK(n->line == 3);
        CHECK(strcmp(n->message, "hello") == 0);
    }
    CHECK(diags.errors == 0);
    /* A chunk that is not a file has no path. */
    EQ("publish.log.warn('from a string')", "nil");
    CHECK(diags.len == 3 && diags.items[2]->path == NULL && diags.items[2]->line == 0);
    pub_diags_free(&diags);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_DIAGS);
}

/* --------------------------------------------------------- bridge from C */

static pub_value *to_value(const char *expr, char **error)
{
    lua_settop(L, 0);
    lua_pushfstring(L, "return %s", expr);
    const char *chunk = lua_tostring(L, -1);
    if (luaL_loadbuffer(L, chunk, strlen(chunk), "=test") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "test setup failed: %s\n", lua_tostring(L, -1));
        exit(1);
    }
    int top = lua_gettop(L);
    pub_value *v = pub_lua_to_value(L, -1, error);
    CHECK(lua_gettop(L) == top);
    return v;
}

static void to_value_error(int line, const char *expr, const char *want)
{
    char *error = NULL;
    pub_value *v = to_value(expr, &error);
    result(v == NULL && error && strcmp(error, want) == 0, line, expr, error, want);
    pub_value_free(v);
    free(error);
}
#define TO_VALUE_ERROR(expr, want) to_value_error(__LINE__, expr, want)

static void test_bridge(void)
{
    char *error = NULL;
    pub_value *v = to_value("{title = 'x', n = 3, f = 3.0, tags = {'a', 'b'}, "
                            "nested = {z = 1, a = publish.null}, on = false, "
                            "d = publish.date.parse('2024-06-19'), [7] = 'seven'}",
                            &error);
    CHECK(v && v->type == PUB_MAP && error == NULL);
    if (v && v->type == PUB_MAP) {
        static const char *const keys[] = {"7", "d", "f", "n", "nested", "on", "tags", "title"};
        CHECK(v->as.map.len == 8);
        for (size_t i = 0; i < 8 && i < v->as.map.len; i++)
            result(strcmp(v->as.map.pairs[i].key, keys[i]) == 0, __LINE__, "key order",
                   v->as.map.pairs[i].key, keys[i]);
        CHECK(pub_map_get(v, "n")->type == PUB_INT && pub_map_get(v, "n")->as.integer == 3);
        CHECK(pub_map_get(v, "f")->type == PUB_FLOAT && pub_map_get(v, "f")->as.number == 3.0);
        CHECK(pub_map_get(v, "on")->type == PUB_BOOL && !pub_map_get(v, "on")->as.boolean);
        CHECK(pub_map_get(v, "tags")->type == PUB_LIST && pub_map_get(v, "tags")->as.list.len == 2);
        const pub_value *d = pub_map_get(v, "d");
        CHECK(d->type == PUB_DATE && d->as.date.year == 2024 && d->as.date.month == 6 &&
              d->as.date.day == 19 && !d->as.date.has_time && !d->as.date.has_zone);
        const pub_value *nested = pub_map_get(v, "nested");
        CHECK(nested->type == PUB_MAP && pub_map_get(nested, "a")->type == PUB_NULL);
        CHECK(strcmp(pub_value_str(pub_map_get(v, "7")), "seven") == 0);
    }
    pub_value_free(v);

    v = to_value("{}", &error);
    CHECK(v && v->type == PUB_LIST && v->as.list.len == 0);
    pub_value_free(v);
    v = to_value("setmetatable({}, {__yaml = 'map'})", &error);
    CHECK(v && v->type == PUB_MAP && v->as.map.len == 0);
    pub_value_free(v);
    v = to_value("{[1] = 'a', [3] = 'c'}", &error);
    CHECK(v && v->type == PUB_MAP && v->as.map.len == 2);
    pub_value_free(v);
    v = to_value("{1, publish.null, 'x'}", &error);
    CHECK(v && v->type == PUB_LIST && v->as.list.len == 3 &&
          v->as.list.items[1]->type == PUB_NULL);
    pub_value_free(v);
    v = to_value("nil", &error);
    CHECK(v && v->type == PUB_NULL);
    pub_value_free(v);
    v = to_value("'plain'", NULL);
    CHECK(v && v->type == PUB_STRING && v->as.string.len == 5);
    pub_value_free(v);

    TO_VALUE_ERROR("{x = print}", "cannot store a function in front matter (key 'x')");
    TO_VALUE_ERROR("{a = {b = {1, coroutine.create(print)}}}",
                   "cannot store a thread in front matter (key 'a.b[2]')");
    TO_VALUE_ERROR("io.stdout", "cannot store a userdata in front matter");
    TO_VALUE_ERROR("{bad = 'a\\xff'}", "cannot store invalid UTF-8 in front matter (key 'bad')");
    TO_VALUE_ERROR("{[{}] = 1}", "cannot use a key of type table in front matter");
    TO_VALUE_ERROR("(function() local t = {a = {}} t.a.self = t return t end)()",
                   "cannot store a table that contains itself in front matter (key 'a.self')");
    TO_VALUE_ERROR("(function() local t = {} local c = t for i = 1, 100 do c.x = {} c = c.x end "
                   "return t end)()",
                   "cannot store tables nested this deep in front matter (key "
                   "'x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x."
                   "x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x')");

    /* pub_value -> Lua -> pub_value keeps types, null list items, empty maps
     * and date-only dates. */
    pub_value *m = pub_value_map();
    pub_value *list = pub_value_list();
    pub_list_push(list, pub_value_int(1));
    pub_list_push(list, pub_value_null());
    pub_list_push(list, pub_value_string("x", 1));
    pub_map_set(m, "list", 4, list);
    pub_map_set(m, "empty", 5, pub_value_map());
    pub_map_set(m, "empty_list", 10, pub_value_list());
    pub_map_set(m, "gone", 4, pub_value_null());
    pub_map_set(m, "pi", 2, pub_value_float(3.25));
    pub_date date = {2024, 6, 19, 0, 0, 0, 0, false, false, 0};
    pub_map_set(m, "day", 3, pub_value_date(&date));
    lua_settop(L, 0);
    pub_lua_push_value(L, m);
    lua_setglobal(L, "pushed");
    EQ("#pushed.list", "3");
    EQ("pushed.list[2] == publish.null", "true");
    EQ("pushed.gone", "nil");
    EQ("math.type(pushed.pi)", "float");
    EQ("tostring(pushed.day)", "2024-06-19T00:00:00+09:00");
    EQ("publish.json.encode(pushed.empty) .. publish.json.encode(pushed.empty_list)", "{}[]");
    lua_getglobal(L, "pushed");
    v = pub_lua_to_value(L, -1, &error);
    pub_map_set(m, "gone", 4, NULL);
    /* "gone" is left out on the way to Lua, so it does not come back. */
    pub_value *expect = pub_value_copy(m);
    {
        pub_value *fresh = pub_value_map();
        for (size_t i = 0; i < expect->as.map.len; i++)
            if (strcmp(expect->as.map.pairs[i].key, "gone") != 0)
                pub_map_set(fresh, expect->as.map.pairs[i].key, expect->as.map.pairs[i].key_len,
                            pub_value_copy(expect->as.map.pairs[i].value));
        pub_value_free(expect);
        expect = fresh;
    }
    CHECK(v && pub_value_equal(v, expect));
    pub_value_free(v);
    pub_value_free(expect);
    pub_value_free(m);

    lua_settop(L, 0);
    pub_lua_push_value(L, NULL);
    CHECK(lua_isnil(L, -1));
    pub_date got;
    CHECK(!pub_lua_to_date(L, -1, &got));
    lua_settop(L, 0);
    pub_date zoned = {2024, 6, 19, 9, 30, 0, 0, true, true, -300};
    pub_lua_push_date(L, &zoned);
    CHECK(pub_lua_to_date(L, -1, &got) && got.offset_min == -300 && got.hour == 9 && got.has_zone);
    lua_getfield(L, -1, "epoch");
    CHECK(lua_tointeger(L, -1) == 1718807400);
    lua_settop(L, 0);
    lua_newtable(L);
    CHECK(!pub_lua_to_date(L, -1, NULL));
    lua_settop(L, 0);
}

int main(void)
{
    /* A POSIX zone (no tzdata needed): UTC+9, like Seoul. */
    setenv("TZ", "KST-9", 1);
    tzset();
    L = luaL_newstate();
    luaL_openlibs(L);
    pub_luaopen_publish(L);
    lua_setglobal(L, "publish");

    test_slugify();
    test_html();
    test_escapers();
    test_truncate();
    test_utf8();
    test_date();
    test_json();
    test_markdown();
    test_frontmatter();
    test_yaml();
    test_log();
    test_bridge();

    lua_close(L);
    return check_finish();
}
