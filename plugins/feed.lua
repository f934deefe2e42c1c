-- feed: an Atom 1.0 feed of the newest posts, built as a string (no
-- template), written as a page with layout = false.
--
-- Config: `feed: {path: /feed.xml, limit: 20, title: ...}` (all optional;
-- `feed: false` turns it off). Site fields used: title, description, url,
-- baseurl, author (a string or {name, email, uri}). Links are absolute
-- (site.url .. baseurl .. url, non-ASCII percent-encoded); without a site
-- url they are site-relative, which feed readers resolve against the feed.
--
-- Per entry: title, link, id (the link), published (post.date), updated
-- (front matter `updated` or `last_modified_at` when it is a date, else the
-- date), author when the post names one, summary (post.excerpt_text, so list
-- excerpt before feed), content type="html" (post.content, with xml:base
-- so that relative links in it resolve), one category per category and tag.

local urls = require "publish.urls"

local feed = {}

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
feed.config = {
  feed = { type = "map|false", doc = "false: no feed", keys = {
    path = { type = "string", default = "/feed.xml", doc = "where the feed is written" },
    limit = { type = "integer", default = 20, min = 1, doc = "posts in the feed" },
    title = { type = "string", doc = "the feed's title (default: the site's)" },
  } },
}

-- Controls XML 1.0 does not allow even escaped are dropped rather than
-- make the feed unreadable (publish.html.escape_xml).
local xml_escape = publish.html.escape_xml
feed.xml_escape = xml_escape

local function person(out, tag, who)
  if who == nil then return end
  local name, email, uri
  if type(who) == "table" then
    name, email, uri = who.name, who.email, who.uri or who.url
  else
    name = tostring(who)
  end
  if not name or name == "" then return end
  out[#out + 1] = "<" .. tag .. "><name>" .. xml_escape(name) .. "</name>"
  if email then out[#out + 1] = "<email>" .. xml_escape(email) .. "</email>" end
  if uri then out[#out + 1] = "<uri>" .. xml_escape(uri) .. "</uri>" end
  out[#out + 1] = "</" .. tag .. ">\n"
end

local function entry(out, site, post)
  local link = xml_escape(urls.absolute(site, post.url))
  out[#out + 1] = "<entry>\n"
  out[#out + 1] = "<title type=\"text\">" .. xml_escape(post.title) .. "</title>\n"
  out[#out + 1] = "<link rel=\"alternate\" type=\"text/html\" href=\"" .. link .. "\"/>\n"
  out[#out + 1] = "<id>" .. link .. "</id>\n"
  out[#out + 1] = "<published>" .. xml_escape(tostring(post.date)) .. "</published>\n"
  out[#out + 1] = "<updated>" .. xml_escape(tostring(urls.lastmod(post))) .. "</updated>\n"
  local meta = post.meta or {}
  person(out, "author", meta.author)
  local seen = {}
  for _, list in ipairs { post.categories or {}, post.tags or {} } do
    for _, name in ipairs(list) do
      if not seen[name] then
        seen[name] = true
        out[#out + 1] = "<category term=\"" .. xml_escape(name) .. "\"/>\n"
      end
    end
  end
  if post.excerpt_text and post.excerpt_text ~= "" then
    out[#out + 1] = "<summary type=\"text\">" .. xml_escape(post.excerpt_text) .. "</summary>\n"
  end
  out[#out + 1] = "<content type=\"html\" xml:base=\"" .. link .. "\">"
    .. xml_escape(post.content) .. "</content>\n"
  out[#out + 1] = "</entry>\n"
end

-- The whole feed document for `posts` (newest first; at most `limit` used).
function feed.atom(site, posts, path, limit, title)
  local home = xml_escape(urls.absolute(site, "/"))
  local out = {
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\"",
  }
  if site.language then out[#out + 1] = " xml:lang=\"" .. xml_escape(site.language) .. "\"" end
  out[#out + 1] = ">\n"
  out[#out + 1] = "<title type=\"text\">" .. xml_escape(title or site.title or "") .. "</title>\n"
  if site.description then
    out[#out + 1] = "<subtitle type=\"text\">" .. xml_escape(site.description) .. "</subtitle>\n"
  end
  out[#out + 1] = "<link rel=\"self\" type=\"application/atom+xml\" href=\""
    .. xml_escape(urls.absolute(site, path)) .. "\"/>\n"
  out[#out + 1] = "<link rel=\"alternate\" type=\"text/html\" href=\"" .. home .. "\"/>\n"
  out[#out + 1] = "<id>" .. home .. "</id>\n"
  -- The feed changed when its newest entry did; a feed with no posts says
  -- the build time.
  -- (site.time only then: reading the clock makes a page render on every
  -- incremental build.)
  local newest = #posts == 0 and site.time or nil
  for i = 1, math.min(limit, #posts) do
    local u = urls.lastmod(posts[i])
    if not newest or i == 1 or u.epoch > newest.epoch then newest = u end
  end
  out[#out + 1] = "<updated>" .. xml_escape(tostring(newest or "1970-01-01T00:00:00Z")) .. "</updated>\n"
  -- Atom wants an author for the feed or for every entry.
  person(out, "author", site.author or site.title)
  out[#out + 1] = "<generator>publish</generator>\n"
  for i = 1, math.min(limit, #posts) do entry(out, site, posts[i]) end
  out[#out + 1] = "</feed>\n"
  return table.concat(out)
end

function feed.site(site)
  local options = site.config.feed
  if options == false then return end
  if type(options) ~= "table" then options = {} end
  local path = options.path or "/feed.xml"
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  local limit = tonumber(options.limit) or 20
  site:add_page {
    url = path, kind = "feed", layout = false, title = options.title or site.title,
    content = feed.atom(site, site.posts, path, limit, options.title),
  }
  site.feed_url = path
  site.feed_href = urls.href(site, path)
end

return feed
