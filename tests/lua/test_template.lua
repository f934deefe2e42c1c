-- Tests of plugins/template.lua: output escaping, filters, control flow,
-- includes, layout inheritance, page templates, whitespace handling and
-- the exact error messages (file:line:col) template authors see.
--
-- Run by the binary:   publish run tests/lua/test_template.lua -s tests/lua/site -q

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
assert(publish, "run the Lua tests with the real binary: publish run tests/lua/test_template.lua -s tests/lua/site")

-- The folder holding site/ (SRC, with the layouts the tests use): next to this file, or found from
-- the working directory when the chunk name is not a usable path.
local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end
local dir
for _, d in ipairs({ here, "tests/lua", "../tests/lua", "../../tests/lua", "." }) do
  if exists(d .. "/site/layouts/base.html") then dir = d; break end
end
assert(dir, "cannot find tests/lua/site/layouts (run from the repository root)")
local SITE = dir .. "/site"

local T = require("template")

---------------------------------------------------------------------------
-- A small assertion helper

local passed, failed = 0, 0

local function check(name, got, want)
  if got == want then
    passed = passed + 1
  else
    failed = failed + 1
    print(string.format("FAIL %s\n  got:  %q\n  want: %q", name, tostring(got), tostring(want)))
  end
end

local function check_true(name, cond, detail)
  if cond then
    passed = passed + 1
  else
    failed = failed + 1
    print("FAIL " .. name .. (detail and ("\n  " .. tostring(detail)) or ""))
  end
end

-- fn must raise exactly `want` (a string), or a message matching `pattern`
-- when want is { pattern = "..." }.
local function check_error(name, fn, want)
  local ok, err = pcall(fn)
  if ok then
    failed = failed + 1
    print(string.format("FAIL %s\n  no error; wanted %q", name, type(want) == "table" and want.pattern or want))
    return
  end
  err = tostring(err)
  if type(want) == "table" then
    check_true(name, err:find(want.pattern) ~= nil, "error was: " .. err .. "\n  pattern: " .. want.pattern)
  else
    check(name, err, want)
  end
end

local site = {
  source = SITE, title = "Blog", url = "https://example.com", baseurl = "/blog",
  language = "ko", config = {},
}
T.setup(site)

local function R(src, vars) return T.render_string(src, vars, "t.html") end

local date = publish.date.parse("2024-06-19T09:30:00+09:00")

---------------------------------------------------------------------------
-- Output and escaping

check("escape by default", R("<p>{{ x }}</p>", { x = '<a href="u">&' }),
  "<p>&lt;a href=&quot;u&quot;&gt;&amp;</p>")
check("nil prints nothing", R("[{{ nothing }}][{{ page.x }}]", { page = {} }), "[][]")
check("numbers", R("{{ 3 }} {{ 2.5 }} {{ 4.0 }} {{ n + 1 }}", { n = 41 }), "3 2.5 4 42")
check("booleans", R("{{ a }} {{ b }}", { a = true, b = false }), "true false")
check("date prints iso", R("{{ d }}", { d = date }), "2024-06-19T09:30:00+09:00")
check("raw", R("{{ html | raw }}", { html = "<b>x</b>" }), "<b>x</b>")
check("escape filter is not escaped twice", R("{{ s | escape }}", { s = "a&b" }), "a&amp;b")
check("lua expressions", R('{{ a .. "-" .. b }} {{ #list }} {{ x and "y" or "n" }}',
  { a = "A", b = "B", list = { 1, 2 }, x = false }), "A-B 2 n")
check("safe globals", R('{{ string.format("%03d", 7) }} {{ math.max(1, 2) }}'), "007 2")
check("missing names are nil", R("{% if undefined_thing == nil %}nil{% end %}"), "nil")
check("strings with braces and pipes", R('{{ "}} | {% %}" }}'), "}} | {% %}")
check("table constructor in expression", R("{{ ({a = {b = 1}}).a.b }}"), "1")
check("bar inside call is not a filter", R("{{ f('a|b') }}", { f = function(s) return s end }), "a|b")
check_error("a table cannot be printed", function() R("x\n{{ t }}", { t = {} }) end,
  { pattern = "^t%.html:2: cannot output a table value" })

---------------------------------------------------------------------------
-- Filters

check("date", R('{{ d | date("%Y-%m-%d %H:%M") }}', { d = date }), "2024-06-19 09:30")
local moving = publish.date.parse("2024-06-19T09:30:00+09:00")
check("date formatted", R('{{ d | date("%d") }} {{ d }}', { d = moving }), "19 2024-06-19T09:30:00+09:00")
moving.day, moving.epoch = 20, moving.epoch + 86400
check("a changed date is formatted again", R('{{ d | date("%d") }} {{ d }}', { d = moving }),
  "20 2024-06-20T09:30:00+09:00")
check("date default format", R("{{ d | date }}", { d = date }), "2024-06-19")
check("date of nil", R('[{{ d | date("%Y") }}]'), "[]")
check("default nil", R('{{ x | default("none") }}'), "none")
check("default empty string", R('{{ x | default("none") }}', { x = "" }), "none")
check("default false", R('{{ x | default("none") }}', { x = false }), "none")
check("default empty list", R('{{ x | default("none") }}', { x = {} }), "none")
check("default keeps value", R('{{ x | default("none") }}', { x = "set" }), "set")
check("default keeps zero", R('{{ x | default(5) }}', { x = 0 }), "0")
local cut = R("{{ s | truncate(3) }}", { s = "가나다라마바" })
check_true("truncate Korean keeps 3 letters", cut:sub(1, 9) == "가나다", cut)
check_true("truncate Korean drops the rest", not cut:find("라", 1, true), cut)
check_true("truncate Korean gives valid UTF-8", utf8.len(cut) ~= nil, cut)
check("truncate short text unchanged", R("{{ s | truncate(10) }}", { s = "한국어" }), "한국어")
check("strip_html", R("{{ s | strip_html }}", { s = "<b>a</b> &amp; b" }), "a &amp; b")
check("url_encode", R("{{ s | url_encode }}", { s = "a b/c?d=é&x~" }), "a%20b%2Fc%3Fd%3D%C3%A9%26x~")
check("url_encode Korean", R("{{ s | url_encode }}", { s = "뉴스" }), "%EB%89%B4%EC%8A%A4")
check("xml_escape", R("{{ s | xml_escape }}", { s = [[<a b="c">&'</a>]] }),
  "&lt;a b=&quot;c&quot;&gt;&amp;&#39;&lt;/a&gt;")
check("json", R('{{ v | json | raw }}', { v = { 1, 2, "a\"b" } }), '[1,2,"a\\"b"]')
check("json escaped by default", R('{{ v | json }}', { v = "x" }), "&quot;x&quot;")
check("join", R('{{ t | join(", ") }}', { t = { "a", "b", 3 } }), "a, b, 3")
check("join default separator", R("{{ t | join }}", { t = { "a", "b" } }), "a b")
check("join escapes its result", R('{{ t | join(" & ") }}', { t = { "<a>", "b" } }), "&lt;a&gt; &amp; b")
check("size of list", R("{{ t | size }}", { t = { 1, 2, 3 } }), "3")
check("size of Korean string", R("{{ s | size }}", { s = "한국어" }), "3")
check("size of map", R("{{ t | size }}", { t = { a = 1, b = 2 } }), "2")
check("size of nil", R("{{ nothing | size }}"), "0")
check("upcase", R("{{ s | upcase }}", { s = "abc" }), "ABC")
check("downcase", R("{{ s | downcase }}", { s = "ABC" }), "abc")
check("slugify", R("{{ s | slugify }}", { s = "Hello World" }), "hello-world")
check("relative_url", R('{{ "/about/" | relative_url }}'), "/blog/about/")
check("relative_url adds slash", R('{{ "about/" | relative_url }}'), "/blog/about/")
check("relative_url Korean", R('{{ "/categories/뉴스/" | relative_url }}'),
  "/blog/categories/%EB%89%B4%EC%8A%A4/")
check("relative_url space", R('{{ "/a b/" | relative_url }}'), "/blog/a%20b/")
check("relative_url keeps encoded", R('{{ "/a%20b/" | relative_url }}'), "/blog/a%20b/")
check("relative_url of a path named like a memo field", R('{{ "key" | relative_url }}'), "/blog/key")
check("relative_url leaves absolute urls", R('{{ "https://x.org/a" | relative_url }}'), "https://x.org/a")
check("absolute_url", R('{{ "/categories/뉴스/" | absolute_url }}'),
  "https://example.com/blog/categories/%EB%89%B4%EC%8A%A4/")
check("first", R("{{ t | first }}", { t = { "x", "y" } }), "x")
check("last", R("{{ t | last }}", { t = { "x", "y" } }), "y")
check("first of empty", R("[{{ t | first }}]", { t = {} }), "[]")
check("limit", R("{% for x in t | limit(2) %}{{ x }}{% end %}", { t = { 1, 2, 3 } }), "12")
check("limit more than length", R("{{ t | limit(9) | join }}", { t = { 1, 2 } }), "1 2")
check("chained filters", R('{{ s | downcase | truncate(20) | upcase }}', { s = "MiXeD" }), "MIXED")
check("filter argument expressions", R('{{ t | join(sep .. sep) }}', { t = { 1, 2 }, sep = "-" }), "1--2")
check("filter in set", R('{% set y = d | date("%Y") %}{{ y }}', { d = date }), "2024")

T.filters.shout = function(v) return tostring(v) .. "!" end
check("site plugins may add filters", R("{{ 'hi' | shout }}"), "hi!")
T.filters.shout = nil

site.baseurl = ""
check("relative_url without baseurl", R('{{ "/x/" | relative_url }}'), "/x/")
site.baseurl = "/blog"

---------------------------------------------------------------------------
-- Control flow

local cond = "{% if n == 1 %}one{% elseif n == 2 %}two{% else %}many{% end %}"
check("if", R(cond, { n = 1 }), "one")
check("elseif", R(cond, { n = 2 }), "two")
check("else", R(cond, { n = 3 }), "many")
check("nested if", R("{% if a %}{% if b %}ab{% else %}a{% end %}{% end %}", { a = true, b = false }), "a")
check("endif and endfor are accepted",
  R("{% if a %}{% for x in t %}{{ x }}{% endfor %}{% endif %}", { a = true, t = { 1, 2 } }), "12")

check("for with loop vars",
  R("{% for x in t %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if loop.first %}F{% end %}{% if loop.last %}L{% end %} {% end %}",
    { t = { "a", "b", "c" } }),
  "1/3:aF 2/3:b 3/3:cL ")
check("nested for keeps loops apart",
  R("{% for a in outer %}{% for b in inner %}{{ loop.index }}{{ loop.parent.index }}{{ a }}{{ b }} {% end %}[{{ loop.index }}]{% end %}",
    { outer = { "x", "y" }, inner = { 1, 2 } }),
  "11x1 21x2 [1]12y1 22y2 [2]")
check("loop variable and loop restored after the loop",
  R("{% set x = 'outer' %}{% for x in t %}{{ x }}{% end %}{{ x }}[{{ loop }}]", { t = { 1, 2 } }),
  "12outer[]")
check("for over nil iterates nothing", R("a{% for x in nothing %}{{ x }}{% end %}b"), "ab")
check("for over empty list", R("a{% for x in t %}{{ x }}{% end %}b", { t = {} }), "ab")
check("for else when empty", R("{% for x in t %}{{ x }}{% else %}none{% end %}", { t = {} }), "none")
check("for else when not empty", R("{% for x in t %}{{ x }}{% else %}none{% end %}", { t = { 1 } }), "1")
check("for k, v sorted",
  R("{% for k, v in t %}{{ k }}={{ v }}{% if not loop.last %},{% end %}{% end %}", { t = { b = 2, a = 1, c = 3 } }),
  "a=1,b=2,c=3")
check("for k, v over Korean keys",
  R("{% for name, posts in cats %}{{ name }}:{{ #posts }} {% end %}", { cats = { ["뉴스"] = { 1 }, ["개발"] = { 1, 2 } } }),
  "개발:2 뉴스:1 ")
check_error("for over a string", function() R("\n{% for x in s %}{% end %}", { s = "abc" }) end,
  { pattern = "^t%.html:2: cannot loop over a string value" })
check_error("for x over a map", function() R("{% for c in cats %}{% end %}", { cats = { ["뉴스"] = {} } }) end,
  { pattern = "^t%.html:1: cannot loop over a table with keys by value %(use {%% for key, value in %.%.%. %%}%)" })
local big = {}
for i = 1, 300 do big[i] = i end
check("long loop", #R("{% for x in t %}{{ x }},{% end %}", { t = big }), 1092)

check("set", R("{% set x = 1 + 2 %}{{ x }}"), "3")
check("set string", R('{% set title = page.title or "Untitled" %}{{ title }}', { page = {} }), "Untitled")
check("set inside for is visible after", R("{% for x in t %}{% set last = x %}{% end %}{{ last }}", { t = { 1, 2 } }), "2")
check("comments", R("a{# a comment {{ x }} #}b"), "ab")
check("text with quotes, backslashes and control bytes", R('a\\b "c" \0 \t ]]'), 'a\\b "c" \0 \t ]]')

---------------------------------------------------------------------------
-- Whitespace

check("lines holding only tags leave nothing",
  R("<ul>\n  {% for x in t %}\n  <li>{{ x }}</li>\n  {% end %}\n</ul>\n", { t = { 1, 2 } }),
  "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\n")
check("two tags on one line",
  R("a\n{% if x %}{% if y %}\nb\n{% end %} {% end %}\nc\n", { x = true, y = true }), "a\nb\nc\n")
check("comment line leaves nothing", R("a\n  {# note #}\nb\n"), "a\nb\n")
check("tag at start of file", R("{% set x = 1 %}\nx={{ x }}\n"), "x=1\n")
check("tag at end of file without newline", R("a\n{% if true %}b\n{% end %}"), "a\nb\n")
check("tags inside text are kept in place", R("<p>{% if true %}yes{% end %}</p>\n"), "<p>yes</p>\n")
check("output tags do not trim", R("a\n{{ nothing }}\nb"), "a\n\nb")
check("crlf line", R("a\r\n{% if true %}\r\nb\r\n{% end %}\r\n"), "a\r\nb\r\n")
check("trim left", R("a  \n {{- x }}", { x = "b" }), "ab")
check("trim right", R("{{ x -}}  \n  c", { x = "b" }), "bc")
check("trim both on tags", R("<a>\n  {%- if true -%}\n  x\n  {%- end -%}\n</a>"), "<a>x</a>")
check("trim comment", R("a {#- c -#} b"), "ab")
check("minus inside expression", R("{{ 5 - 3 }}"), "2")

---------------------------------------------------------------------------
-- Includes, layouts, pages

check("include", R('<head>{% include "partials/head.html" %}</head>', { page = { title = "T" }, site = site }),
  "<head><title>T - Blog</title>\n</head>")
check("include sees loop variables",
  R('{% for page in pages %}{% include "partials/head.html" %}{% end %}',
    { pages = { { title = "A" }, { title = "B" } }, site = { } }),
  "<title>A</title>\n<title>B</title>\n")

local post = {
  kind = "post", title = "Hello <World>", date = date, tags = { "뉴스", "dev" },
  layout = "post", content = "<p>Body</p>", url = "/2024/06/19/hello/",
}
local want_post = [[
<!doctype html>
<html lang="ko">
<head>
<title>Hello &lt;World&gt; - Blog</title>
</head>
<body>
<main>
<article>
  <h1>Hello &lt;World&gt;</h1>
  <time datetime="2024-06-19T09:30:00+09:00">2024-06-19</time>
  <ul class="tags">
    <li><a href="/blog/tags/%EB%89%B4%EC%8A%A4/">뉴스</a></li>
    <li><a href="/blog/tags/dev/">dev</a></li>
  </ul>
<p>Body</p>
</article>

</main>

</body>
</html>
]]
check("post through three layouts", T.render(post, site), want_post)
check("second render uses the cache", T.render(post, site), want_post)
post.tags = {}
check_true("post without tags has no list", not T.render(post, site):find("<ul", 1, true))

check("no layout returns nil", T.render({ kind = "page", layout = false, content = "x" }, site), nil)
check("nil layout returns nil", T.render({ kind = "page", content = "x" }, site), nil)
check("layout name with .html", T.render({ kind = "page", layout = "page.html", title = "P", content = "c" }, site):match("<div.-</div>"),
  '<div class="page">\nc\n</div>')
check("vars reach the template",
  T.render({ kind = "page", template = true, content = "{{ greeting }} {{ paginator.page }}", layout = false,
    vars = { greeting = "hi" }, paginator = { page = 2 } }, site),
  "hi 2")

local tpl_page = {
  kind = "page", template = true, layout = false, path = "pages/list.html", body_line = 4,
  content = "<ul>\n{% for p in site.posts %}\n<li>{{ p.title }}</li>\n{% end %}\n</ul>\n",
}
site.posts = { { title = "A&B" }, { title = "C" } }
check("page template", T.render(tpl_page, site), "<ul>\n<li>A&amp;B</li>\n<li>C</li>\n</ul>\n")
tpl_page.layout = "page"
tpl_page.title = "List"
check_true("page template inside a layout",
  T.render(tpl_page, site):find('<div class="page">\n<ul>\n<li>A&amp;B</li>', 1, true) ~= nil)
check_error("page template errors name the page and its line", function()
  T.render({ kind = "page", template = true, layout = false, path = "pages/bad.html", body_line = 4,
    content = "ok\n{{ x | nope }}\n" }, site)
end, "pages/bad.html:5:1: unknown filter 'nope'")
check_error("page template runtime errors name the page and its line", function()
  T.render({ kind = "page", template = true, layout = false, path = "pages/bad2.html", body_line = 3,
    content = "ok\nok\n{{ page.nope.x }}\n" }, site)
end, { pattern = "^pages/bad2%.html:5: attempt to index a nil value %(field 'nope'%)" })

check_error("unknown layout", function() T.render({ kind = "post", layout = "psot", content = "" }, site) end,
  "unknown layout 'psot'; did you mean 'post'?")
check_error("layout name cannot leave layouts/", function()
  T.render({ kind = "page", layout = "../../x", content = "" }, site)
end, "unknown layout '../../x'")

---------------------------------------------------------------------------
-- Errors with file and line

T.setup({ source = SITE, title = "F" })
local function page_with(layout) return { kind = "page", layout = layout, content = "C", title = "t" } end

check_error("runtime error line", function() T.render(page_with("runtime"), {}) end,
  { pattern = "^layouts/runtime%.html:3: attempt to index a nil value %(field 'missing'%)" })
check_error("runtime error line after front matter", function() T.render(page_with("runtime_fm"), {}) end,
  { pattern = "^layouts/runtime_fm%.html:6: attempt to index a nil value %(field 'missing'%)" })
check_error("runtime error in an include", function() T.render(page_with("uses_runtime"), {}) end,
  { pattern = "^layouts/partials/runtime%.html:3: attempt to index a nil value %(field 'nothing'%)" })
check_error("unknown filter in a layout", function() T.render(page_with("bad_filter"), {}) end,
  "layouts/bad_filter.html:3:7: unknown filter 'nope'")
check_error("unknown parent layout", function() T.render(page_with("unknown_parent"), {}) end,
  "layouts/unknown_parent.html:3:1: unknown layout 'nope'")
check_error("layout cycle", function() T.render(page_with("cycle_a"), {}) end,
  "layout cycle: cycle_a -> cycle_b -> cycle_a")
check_error("include cycle", function() T.render(page_with("include_cycle"), {}) end,
  { pattern = "^layouts/partials/cyc2%.html:2: include cycle: layouts/partials/cyc1%.html %-> layouts/partials/cyc2%.html %-> layouts/partials/cyc1%.html$" })
check_error("missing include", function() T.render(page_with("bad_include"), {}) end,
  "layouts/bad_include.html:2:3: include not found 'layouts/partials/missing.html'")
check_error("syntax error in an include names the include", function() T.render(page_with("uses_broken"), {}) end,
  "layouts/partials/broken.html:2:3: unclosed 'if' (missing {% end %})")
check_error("the same error again from the cache", function() T.render(page_with("uses_broken"), {}) end,
  "layouts/partials/broken.html:2:3: unclosed 'if' (missing {% end %})")
check_error("a broken layout fails every page the same way", function() T.render(page_with("bad_filter"), {}) end,
  "layouts/bad_filter.html:3:7: unknown filter 'nope'")
check("the fixture site still renders after errors",
  T.render({ kind = "page", template = true, layout = false, content = "{{ 1 }}" }, {}), "1")

-- Syntax errors in template source: exact line and column (in characters).
local function E(src) return function() T.render_string(src, {}, "layouts/post.html") end end
check_error("unclosed {{", E("a\nb {{ x"), "layouts/post.html:2:3: unclosed '{{'")
check_error("unclosed {%", E("a\n한글 {% if x"), "layouts/post.html:2:4: unclosed '{%'")
check_error("unclosed comment", E("{# x"), "layouts/post.html:1:1: unclosed '{#'")
check_error("end without opener", E("a\n\n  {% end %}"), "layouts/post.html:3:3: 'end' without an open 'if' or 'for'")
check_error("missing end", E("x\n{% for p in t %}\n{% if p %}\n{% end %}\n"),
  "layouts/post.html:2:1: unclosed 'for' (missing {% end %})")
check_error("unknown tag", E("\n\n\n  x {% endblock %}"), "layouts/post.html:4:5: unknown tag 'endblock'")
check_error("empty tag", E("{% %}"), "layouts/post.html:1:1: empty tag")
check_error("bad expression", E("a\n{{ page.title + }}"),
  { pattern = "^layouts/post%.html:2:1: bad expression 'page%.title %+': .*near <eof>" })
check_error("two expressions", E("{{ a, b }}"),
  "layouts/post.html:1:1: bad expression 'a, b': not a single expression")
check_error("bad filter argument", E("{{ a | join(,) }}"),
  { pattern = "^layouts/post%.html:1:1: bad arguments 'join%(,%)': unexpected symbol near ','" })
check_error("empty expression", E("{{ }}"), "layouts/post.html:1:1: empty expression")
check_error("unknown filter", E("<p>\n  <b>{{ x | upcase | foo(1) }}</b>"), "layouts/post.html:2:6: unknown filter 'foo'")
check_error("double bar", E("{{ a || b }}"), "layouts/post.html:1:1: empty filter after '|'")
check_error("bad filter arguments", E('{{ a | join(",") x }}'),
  "layouts/post.html:1:1: bad filter 'join(\",\") x': arguments go in parentheses, like join(x)")
check_error("elseif after else", E("{% if a %}{% else %}{% elseif b %}{% end %}"),
  "layouts/post.html:1:21: 'elseif' after 'else'")
check_error("else outside a block", E("{% else %}"), "layouts/post.html:1:1: 'else' without 'if' or 'for'")
check_error("endfor closing an if", E("{% if a %}{% endfor %}"), "layouts/post.html:1:11: 'endfor' closes a 'if'")
check_error("bad for", E("{% for in t %}{% end %}"),
  "layouts/post.html:1:1: bad 'for': expected {% for x in list %} or {% for k, v in table %}")
check_error("bad set", E("{% set x == 1 %}"), "layouts/post.html:1:1: bad 'set': expected {% set name = value %}")
check_error("keyword as name", E("{% set end = 1 %}"), "layouts/post.html:1:1: 'end' cannot be a variable name")
check_error("bad include", E("{% include partials/x.html %}"),
  "layouts/post.html:1:1: bad 'include': expected {% include \"partials/name.html\" %}")
check_error("include leaving layouts/", E('{% include "../secret.html" %}'),
  "layouts/post.html:1:1: include path '../secret.html' must stay inside layouts/")
check_error("if without condition", E("{% if %}{% end %}"), "layouts/post.html:1:1: 'if' needs a condition")
check_error("runtime error in a filter argument line", E("a\nb\n{{ x | join(y.z) }}"),
  { pattern = "^layouts/post%.html:3: attempt to index a nil value %(global 'y'%)" })

---------------------------------------------------------------------------

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then error(failed .. " template test(s) failed", 0) end
