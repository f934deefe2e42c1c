-- The feed plugin (Atom) and the sitemap plugin: well-formed XML (a small
-- checker below: balanced tags, quoted attributes, no bare & or <),
-- escaping, absolute percent-encoded links, dates, limits.
--   publish run tests/lua/test_feed.lua -s tests/lua/site -q

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
local check = dofile(here .. "/plugin_check.lua")
local feed = require "feed"
local sitemap = require "sitemap"

-- nil when `xml` is well-formed (as far as this checker sees), else why not.
local function xml_problem(xml)
  local stack, i = {}
  local function text_ok(t)
    if t:find("<", 1, true) then return "bare '<'" end
    for amp in t:gmatch("&[^;]*;?") do
      if not amp:match("^&[%a][%w]*;$") and not amp:match("^&#%d+;$") and not amp:match("^&#x%x+;$") then
        return "bare '&' in '" .. amp .. "'"
      end
    end
  end
  local decl = xml:match("^<%?xml [^>]*%?>")
  if not decl then return "no XML declaration" end
  i = #decl + 1
  while i <= #xml do
    local lt = xml:find("<", i, true)
    local why = text_ok(xml:sub(i, (lt or #xml + 1) - 1))
    if why then return why .. " near byte " .. i end
    if not lt then break end
    local close, name, attrs, empty, e = xml:match("^<(/?)([%a_][%w_:%-%.]*)(.-)(/?)>()", lt)
    if not name then return "bad tag at byte " .. lt end
    if close == "/" then
      if stack[#stack] ~= name then return "'</" .. name .. ">' closes '" .. tostring(stack[#stack]) .. "'" end
      stack[#stack] = nil
    else
      local rest = attrs:gsub('%s+[%a_][%w_:%-%.]*="([^"<]*)"', function(v)
        return text_ok(v) and "!" or ""
      end)
      if rest:find("%S") then return "bad attributes in <" .. name .. ">: " .. rest end
      if empty == "" then stack[#stack + 1] = name end
    end
    i = e
  end
  if #stack > 0 then return "unclosed '" .. stack[#stack] .. "'" end
  return nil
end

local function count(s, pattern)
  return select(2, s:gsub(pattern, ""))
end

-- The checker itself must catch what it is for.
check.ok(xml_problem('<?xml version="1.0"?><a><b></a>') ~= nil, "checker: crossed tags")
check.ok(xml_problem('<?xml version="1.0"?><a>x & y</a>') ~= nil, "checker: bare &")
check.ok(xml_problem('<?xml version="1.0"?><a t="<">x</a>') ~= nil, "checker: < in attribute")
check.eq(xml_problem('<?xml version="1.0"?><a t="&amp;">x &lt; y<b/></a>'), nil, "checker: good XML")

local function posts()
  local list = {}
  for i = 1, 25 do
    list[i] = check.post {
      title = i == 25 and "Tom & Jerry <\"quoted\"> 'it's'" or ("글 " .. i),
      slug = "post-" .. i, url = "/2024/06/" .. string.format("%02d", i) .. "/글-" .. i .. "/",
      categories = i == 25 and { "뉴스", "R&D" } or { "뉴스" }, tags = { "tag<" .. i .. ">" },
      date = check.date(2024, 6, i),
      content = "<p>Body with <a href=\"/images/x.svg?a=1&amp;b=2\">a link</a> &amp; ]]> text</p>\n",
      excerpt_text = "Excerpt & <stuff> " .. i,
    }
  end
  list[23].meta = { updated = check.date(2025, 1, 2) }
  return list
end

do
  local site = check.site(posts(), {})
  site.description = "Notes & news"
  feed.site(site)
  local page = check.by_url(site)["/feed.xml"]
  check.ok(page ~= nil, "feed page at /feed.xml")
  check.eq(page.layout, false, "feed has no layout")
  check.eq(page.kind, "feed", "feed kind")
  local xml = page.content
  check.eq(xml_problem(xml), nil, "feed is well-formed")
  check.ok(xml:find('<feed xmlns="http://www.w3.org/2005/Atom"', 1, true) ~= nil, "Atom namespace")
  check.eq(count(xml, "<entry>"), 20, "default limit 20 entries")
  check.eq(count(xml, "</entry>"), 20, "every entry closed")
  check.ok(xml:find("<title type=\"text\">Tom &amp; Jerry &lt;&quot;quoted&quot;&gt; &#39;it&#39;s&#39;</title>", 1, true) ~= nil,
    "title escaped")
  check.ok(xml:find('<category term="R&amp;D"/>', 1, true) ~= nil, "category term escaped")
  check.ok(xml:find('<category term="tag&lt;25&gt;"/>', 1, true) ~= nil, "tags are categories too")
  check.ok(xml:find("<summary type=\"text\">Excerpt &amp; &lt;stuff&gt; 25</summary>", 1, true) ~= nil, "summary escaped")
  check.ok(xml:find("&lt;p&gt;Body with &lt;a href=&quot;/images/x.svg?a=1&amp;amp;b=2&quot;&gt;", 1, true) ~= nil,
    "content HTML escaped once more")
  check.ok(xml:find("]]&gt;", 1, true) ~= nil, "]]> escaped")
  local link = "https://example.com/2024/06/25/%EA%B8%80-25/"
  check.ok(xml:find('<link rel="alternate" type="text/html" href="' .. link .. '"/>', 1, true) ~= nil,
    "absolute percent-encoded entry link")
  check.ok(xml:find("<id>" .. link .. "</id>", 1, true) ~= nil, "entry id is the link")
  check.ok(xml:find('<link rel="self" type="application/atom+xml" href="https://example.com/feed.xml"/>', 1, true) ~= nil,
    "self link")
  -- Newest post first; the feed's <updated> is the latest change (post 23
  -- was updated in 2025).
  local first_title = xml:match("<entry>.-<title[^>]*>(.-)</title>")
  check.eq(first_title, "Tom &amp; Jerry &lt;&quot;quoted&quot;&gt; &#39;it&#39;s&#39;", "newest entry first")
  check.eq(xml:match("^.-<updated>(.-)</updated>"), "2025-01-02T09:00:00+09:00", "feed updated = newest change")
  check.ok(xml:find("<published>2024-06-25T09:00:00+09:00</published>", 1, true) ~= nil, "published ISO date")
  check.ok(xml:find("<author><name>Tester</name></author>", 1, true) ~= nil, "feed author")
  check.ok(xml:find("<subtitle type=\"text\">Notes &amp; news</subtitle>", 1, true) ~= nil, "subtitle")
  -- Control characters would make the XML unreadable: dropped.
  check.eq(feed.xml_escape("a\1b\27c\td"), "abc\td", "control characters dropped")
end

do
  local site = check.site(posts(), { feed = { path = "atom.xml", limit = 3 } })
  feed.site(site)
  local page = check.by_url(site)["/atom.xml"]
  check.ok(page ~= nil, "feed path from config")
  check.eq(count(page.content, "<entry>"), 3, "limit from config")
  site = check.site({}, {})
  site.author = { name = "Kim", email = "kim@example.com" }
  feed.site(site)
  local xml = check.by_url(site)["/feed.xml"].content
  check.eq(xml_problem(xml), nil, "empty feed is well-formed")
  check.eq(count(xml, "<entry>"), 0, "empty feed has no entries")
  check.ok(xml:find("<updated>2026-11-25T", 1, true) ~= nil, "empty feed updated = build time")
  check.ok(xml:find("<author><name>Kim</name><email>kim@example.com</email></author>", 1, true) ~= nil,
    "author table")
  site = check.site({}, { feed = false })
  feed.site(site)
  check.eq(#site.pages, 0, "feed: false makes nothing")
end

-- sitemap: every HTML page, absolute and encoded, lastmod for posts.
do
  local site = check.site(posts(), {})
  site:add_page { url = "/categories/뉴스/", kind = "category" }
  site:add_page { url = "/about", kind = "page" }
  site:add_page { url = "/feed.xml", kind = "feed", layout = false }
  site:add_page { url = "/secret/", kind = "page", meta = { sitemap = false } }
  site:add_page { url = "/404.html", kind = "404" }
  site:add_page { url = "/old.html", kind = "page" }
  sitemap.site(site)
  local pages = check.by_url(site)
  local xml = pages["/sitemap.xml"].content
  check.eq(xml_problem(xml), nil, "sitemap is well-formed")
  check.eq(count(xml, "<url>"), 25 + 3, "posts, category, about and old.html")
  check.ok(xml:find("<loc>https://example.com/categories/%EB%89%B4%EC%8A%A4/</loc>", 1, true) ~= nil,
    "category URL encoded")
  check.ok(xml:find("<loc>https://example.com/about</loc>", 1, true) ~= nil, "extensionless URL is HTML")
  check.ok(not xml:find("feed.xml", 1, true) and not xml:find("secret", 1, true) and not xml:find("404", 1, true),
    "feed, sitemap: false and 404 left out")
  check.ok(xml:find("<lastmod>2025-01-02T09:00:00+09:00</lastmod>", 1, true) ~= nil, "lastmod from updated")
  local robots = pages["/robots.txt"]
  check.ok(robots and robots.content:find("Sitemap: https://example.com/sitemap.xml", 1, true) ~= nil, "robots.txt")
  check.eq(robots and robots.layout, false, "robots.txt has no layout")
end

check.done()
