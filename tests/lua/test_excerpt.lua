-- The excerpt plugin: where the excerpt comes from (front matter,
-- separator, first paragraph) and the HTML-aware cut (characters, not
-- bytes; tags closed; entities whole).
--   publish run tests/lua/test_excerpt.lua -s tests/lua/site -q

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
local check = dofile(here .. "/plugin_check.lua")
local excerpt = require "excerpt"

local function run(fields, config)
  local post = check.post(fields)
  excerpt.post(post, { config = config or {} })
  return post
end

-- Visible characters of an HTML fragment, counted as the plugin counts.
local function units(html)
  local text = html:gsub("<[^>]*>", ""):gsub("&#?%w+;", "&"):gsub("%s+", " ")
  return utf8.len(text)
end

-- A cut inside a word ends at the word before it.
do
  local t = excerpt.truncate_html("<p>The quick brown fox jumps over the lazy dog again and again</p>", 45)
  check.eq(t, "<p>The quick brown fox jumps over the lazy dog…</p>", "english cut at a word boundary")
  t = excerpt.truncate_html("<p>서울의 가을 산책 코스 세 곳을 소개한다</p>", 11)
  check.eq(t, "<p>서울의 가을 산책…</p>", "korean cut at a word boundary")
end

-- Korean is cut by characters, never inside a 3-byte sequence.
do
  local t = excerpt.truncate_html("<p>가나다라마바사아자차카타파하</p>", 5)
  check.eq(t, "<p>가나다라마…</p>", "korean cut at 5 characters")
  check.ok(utf8.len(t) ~= nil, "korean cut is valid UTF-8")
  local long = ("한국어 문장입니다. "):rep(40)
  for _, n in ipairs { 1, 7, 33, 100, 199 } do
    local cut = excerpt.truncate_html("<p>" .. long .. "</p>", n)
    check.ok(utf8.len(cut) ~= nil, "valid UTF-8 at " .. n)
    -- Trailing spaces before the ellipsis are dropped, so at most n.
    local kept = units(cut) - 1
    -- A cut inside a word backs up to its start when that loses little.
    check.ok(kept <= n and kept >= math.floor(n * 0.8) - 1,
      "cut at " .. n .. " keeps up to " .. n .. " characters", "kept " .. kept)
    check.ok(cut:sub(-7) == "…</p>", "ellipsis inside the paragraph at " .. n, cut:sub(-20))
  end
end

-- Tags left open at the cut are closed, innermost first.
do
  local t = excerpt.truncate_html("<p>Hello <strong>bold <em>world</em> text</strong> end</p>", 10)
  check.eq(t, "<p>Hello <strong>bold…</strong></p>", "open tags closed at the cut")
  t = excerpt.truncate_html("<ul><li>one <a href=\"/x\">two three</a></li><li>four</li></ul>", 7)
  check.eq(t, "<ul><li>one <a href=\"/x\">two…</a></li></ul>", "nested list cut")
  t = excerpt.truncate_html("<blockquote><p>abc</p></blockquote><p>def</p>", 3)
  check.eq(t, "<blockquote><p>abc…</p></blockquote>", "cut at a block end puts the ellipsis before the close tags")
end

-- Entities count as one character and are never split; quoted '>' in an
-- attribute does not end the tag; void elements are not closed.
do
  check.eq(excerpt.truncate_html("<p>A &amp; B and more</p>", 3), "<p>A &amp;…</p>", "entity is one character")
  check.eq(excerpt.truncate_html("<p><a title=\"a>b\" href=\"x\">link text here</a></p>", 4),
    "<p><a title=\"a>b\" href=\"x\">link…</a></p>", "quoted > in attribute")
  check.eq(excerpt.truncate_html("<p>line<br>next line of text<img src=\"a.png\"></p>", 8),
    "<p>line<br>next…</p>", "void elements are not closed")
end

-- Text that fits is kept whole, without an ellipsis; comments, scripts and
-- close tags that close nothing are dropped; unclosed tags are closed.
do
  check.eq(excerpt.truncate_html("<p>exactly ten</p>\n", 11), "<p>exactly ten</p>\n", "fits: unchanged")
  check.eq(excerpt.truncate_html("<p>short</p>", 5), "<p>short</p>", "exact fit: no ellipsis")
  check.eq(excerpt.truncate_html("<p>a<!-- note -->b<script>var x = '<p>';</script>c</p>", 10),
    "<p>abc</p>", "comments and scripts dropped")
  check.eq(excerpt.truncate_html("</div><p>text", 10), "<p>text</p>", "stray close dropped, open closed")
  check.eq(excerpt.truncate_html("<p>a < b</p>", 10), "<p>a &lt; b</p>", "lone < is text")
end

-- Front matter excerpt: plain text is escaped and wrapped; HTML is kept.
do
  local p = run { meta = { excerpt = "Tom & Jerry <3 each other" }, content = "<p>Body</p>" }
  check.eq(p.excerpt, "<p>Tom &amp; Jerry &lt;3 each other</p>", "plain front matter excerpt escaped")
  check.eq(p.excerpt_text, "Tom & Jerry <3 each other", "plain excerpt text")
  p = run { meta = { excerpt = "<em>Hi</em> there" }, content = "<p>Body</p>" }
  check.eq(p.excerpt, "<em>Hi</em> there", "HTML front matter excerpt kept")
  p = run { meta = { excerpt = "Given <excerpt> & escaped" } }
  check.eq(p.excerpt, "<p>Given &lt;excerpt&gt; &amp; escaped</p>", "unknown tag name: text")
  check.eq(p.excerpt_text, "Given <excerpt> & escaped", "unknown tag name: text form")
  p = run({ meta = { excerpt = "러시아 대통령 푸틴이 24년 만에 북한을 방문해" } }, { excerpt_length = 10 })
  check.eq(p.excerpt, "<p>러시아 대통령 푸틴…</p>", "front matter excerpt cut too")
  check.ok(p.excerpt_text:find("^러시아 대통령 푸") ~= nil and utf8.len(p.excerpt_text) <= 11,
    "excerpt_text cut to the same length", p.excerpt_text)
end

-- The separator: default, front matter, config.
do
  local body = "First **para**.\n\n<!--more-->\n\nRest of the post."
  local p = run { body = body, content = "<p>First <strong>para</strong>.</p>\n<p>Rest of the post.</p>\n" }
  check.eq(p.excerpt, "<p>First <strong>para</strong>.</p>", "default separator")
  check.eq(p.excerpt_text, "First para.", "separator excerpt text")
  p = run { body = "Intro text\n\n<!-- cut -->\n\nMore", meta = { excerpt_separator = "<!-- cut -->" },
    content = "<p>Intro text</p><p>More</p>" }
  check.eq(p.excerpt, "<p>Intro text</p>", "front matter separator")
  p = run({ body = "Lead\n\n~~~\n\nMore", content = "<p>Lead</p><p>More</p>" }, { excerpt_separator = "~~~" })
  check.eq(p.excerpt, "<p>Lead</p>", "config separator")
  p = run { body = "No separator here.\n\nSecond.", content = "<p>No separator here.</p>\n<p>Second.</p>\n" }
  check.eq(p.excerpt, "<p>No separator here.</p>", "first paragraph without separator")
end

-- A reference link before the separator whose definition is below it
-- links in the excerpt, whichever way the excerpt is cut (rendered content
-- for a comment separator, the Markdown before a text separator, raw HTML
-- off); a definition-like line in fenced code is not taken.
do
  local body = "See [the guide][guide] and [docs].\n\n<!--more-->\n\nMore.\n\n" ..
    "```\n[docs]: /wrong/\n```\n\n[guide]: /guide/ \"The guide\"\n  [docs]: </docs/>\n"
  local want = '<p>See <a href="/guide/" title="The guide">the guide</a> and <a href="/docs/">docs</a>.</p>'
  local p = run { body = body, content = publish.markdown(body) }
  check.eq(p.excerpt, want, "references kept (comment separator, rendered content)")
  p = run({ body = body, content = publish.markdown(body, { unsafe = false }) }, { markdown = { unsafe = false } })
  check.eq(p.excerpt, want, "references kept (raw HTML off: the Markdown before the separator)")
  local text = body:gsub("<!%-%-more%-%->", "+++")
  p = run({ body = text, content = publish.markdown(text) }, { excerpt_separator = "+++" })
  check.eq(p.excerpt, want, "references kept (text separator)")
  check.eq(excerpt.reference_definitions("```\n[a]: /x\n```\n~~~~\n[b]: /y\n~~~\n~~~~\n[c]: /z\n    [d]: /code\n"),
    "[c]: /z", "definitions outside fenced and indented code only")
end

-- The example post (raw HTML body, an image-only first paragraph): without
-- its front matter excerpt the first paragraph with text is used.
do
  local text = check.read("site/posts/2024-06-19-putin-visits-north-korea.md")
  local meta, body = publish.frontmatter(text, "posts/2024-06-19-putin-visits-north-korea.md")
  check.ok(type(meta.excerpt) == "string" and meta.excerpt:find("^러시아 대통령 푸틴이") ~= nil,
    "example post has a front matter excerpt")
  local p = run({ meta = {}, body = body, content = body }, { excerpt_length = 40 })
  check.ok(p.excerpt:find("^<p data%-ke%-size=\"size16\">러시아의 블라디미르 푸틴 대통령이") ~= nil,
    "first paragraph with text, not the image", p.excerpt)
  check.ok(p.excerpt:find("<img", 1, true) == nil and p.excerpt:find("<h2", 1, true) == nil,
    "no image or heading in the excerpt")
  check.eq(units(p.excerpt), 41, "40 characters and the ellipsis")
  check.ok(p.excerpt:sub(-7) == "…</p>", "closed after the ellipsis", p.excerpt)
  check.ok(p.excerpt_text:find("^러시아의 블라디미르") ~= nil and not p.excerpt_text:find("<", 1, true),
    "plain excerpt text", p.excerpt_text)
  -- With the whole front matter the front matter excerpt wins.
  p = run({ meta = meta, body = body, content = body })
  check.ok(p.excerpt:find("^<p>러시아 대통령 푸틴이 24년 만에") ~= nil, "front matter excerpt wins", p.excerpt)
  local n = units(p.excerpt)
  check.ok(n <= 201 and n >= 161, "cut to the default 200 characters and the ellipsis", n)
end

-- Raw HTML with no <p>: the first block with text.
do
  local p = run { content = "<div class=\"hero\"><img src=\"x.png\"></div>\n\n<div>First words of a raw page\nand more.</div>\n\n<div>Second</div>" }
  check.eq(p.excerpt, "<div>First words of a raw page\nand more.</div>", "first text block of raw HTML")
  p = run { content = "" }
  check.eq(p.excerpt, "", "no content: empty excerpt")
  check.eq(p.excerpt_text, "", "no content: empty text")
end

-- excerpt_length: 0 turns the cut off.
do
  local long = "<p>" .. ("word "):rep(100) .. "</p>"
  local p = run({ content = long }, { excerpt_length = 0 })
  check.eq(p.excerpt, long, "excerpt_length 0: no cut")
end

-- A cut that leaves a short fragment after the last complete sentence ends
-- with that sentence instead; a long fragment keeps the word cut.
do
  local html = "<p>This site lists its posts by category and tag, builds an Atom feed and a sitemap, "
    .. "and cuts an excerpt for every card on the home page. None of it is hard-wired.</p>"
  local p = run({ content = html }, { excerpt_length = 140 })
  check.eq(p.excerpt, "<p>This site lists its posts by category and tag, builds an Atom feed and a sitemap, "
    .. "and cuts an excerpt for every card on the home page. …</p>", "stray fragment dropped")
  check.eq(p.excerpt_text, "This site lists its posts by category and tag, builds an Atom feed and a sitemap, "
    .. "and cuts an excerpt for every card on the home page. …", "the same in the plain text")
  -- Korean sentences end in 다. too; tags open at the sentence end are closed.
  p = run({ content = "<p>푸틴이 24년 만에 북한을 <em>방문했다</em>. 미국은 양국 밀착을 우려하며 무기 공급을 막겠다고 "
    .. "밝혔다. 러시아와 북한은 독립적인 결제체계를 추진하기로 했다.</p>" }, { excerpt_length = 60 })
  check.eq(p.excerpt, "<p>푸틴이 24년 만에 북한을 <em>방문했다</em>. 미국은 양국 밀착을 우려하며 무기 공급을 막겠다고 밝혔다. …</p>",
    "korean: ends with the last whole sentence")
  p = run({ content = "<p>One. <strong>Two three four five six seven eight nine ten eleven twelve</strong></p>" },
    { excerpt_length = 40 })
  check.eq(p.excerpt, "<p>One. <strong>Two three four five six seven eight…</strong></p>",
    "fragment longer than a third: word cut kept")
  p = run({ content = "<p><a href=\"/x.html?a=1. b\">A link.</a> Then a sentence that goes on and on</p>" },
    { excerpt_length = 20 })
  check.ok(not p.excerpt:find("a=1. …", 1, true), "a period inside a tag is not a sentence end", p.excerpt)
  -- An excerpt that was not cut is left alone, even with a fragment.
  p = run({ content = "<p>Done. And</p>" }, { excerpt_length = 140 })
  check.eq(p.excerpt, "<p>Done. And</p>", "uncut excerpt unchanged")
  check.eq(excerpt.sentence_cut_text("Done. And so…", false), "Done. And so…", "text not cut: unchanged")
end

check.done()
