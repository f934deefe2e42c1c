-- jekyll-feed: for Jekyll sites that name the gem in `plugins:`. Writes
-- the Atom feed of the newest posts at `feed.path` (default /feed.xml; at
-- most `feed.posts_limit`, default 10, as the gem) with the bundled feed
-- plugin's writer, and gives layouts the `{% feed_meta %}` tag: the
-- <link rel="alternate"> to it, as the gem writes it.

local liquid = require "liquid"
local feed = require "feed"
local urls = require "publish.urls"

local jekyll_feed = {}

local function options(site)
  local o = site.config.feed
  return type(o) == "table" and o or {}
end

local function feed_path(site)
  local path = options(site).path
  if type(path) ~= "string" or path == "" then path = "/feed.xml" end
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  return path
end

function jekyll_feed.setup(site)
  liquid.tags.feed_meta = function()
    local title = site.config.title or site.config.name
    return '<link type="application/atom+xml" rel="alternate" href="'
      .. publish.html.escape(urls.absolute(site, feed_path(site))) .. '"'
      .. (title and (' title="' .. publish.html.escape(tostring(title)) .. '"') or "") .. " />"
  end
end

function jekyll_feed.site(site)
  local path = feed_path(site)
  local limit = tonumber(options(site).posts_limit) or 10
  site:add_page {
    url = path, kind = "feed", layout = false, sitemap = false,
    content = feed.atom(site, site.posts, path, limit),
  }
end

return jekyll_feed
