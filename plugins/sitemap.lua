-- sitemap: `/sitemap.xml` (sitemaps.org 0.9) listing every HTML page of the
-- site, and `/robots.txt` pointing at it.
--
-- It runs in the `site` hook, so it sees the pages plugins listed before it
-- added (categories, paginate): list it last. A page is HTML when its URL
-- ends in "/" or ".html"/".htm", or its last segment has no dot (the
-- engine writes "/a" as a/index.html). Pages with `sitemap: false` in their
-- front matter (or set on the page by a plugin) are left out, and so are
-- pages of kind "404". URLs are absolute and percent-encoded (see
-- urls.lua); posts, and pages with a date, get <lastmod> from front matter
-- `updated`/`last_modified_at` or their date.
--
-- robots.txt is not made when the site has static/robots.txt or a page
-- with that URL, or with config `sitemap: {robots: false}`.

local urls = require "publish.urls"

local sitemap = {}

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
sitemap.config = {
  sitemap = { type = "map|false", doc = "false: no sitemap.xml", keys = {
    robots = { type = "boolean", default = true, doc = "false: no robots.txt" },
  } },
}

local xml_escape = publish.html.escape_xml

function sitemap.is_html(url)
  if url:sub(-1) == "/" then return true end
  local last = url:match("[^/]*$")
  if not last:find(".", 1, true) then return true end
  return last:match("%.html?$") ~= nil
end

local function listed(page)
  if page.sitemap == false or page.kind == "404" then return false end
  if type(page.meta) == "table" and page.meta.sitemap == false then return false end
  return type(page.url) == "string" and sitemap.is_html(page.url)
end

function sitemap.xml(site, pages)
  local out = {
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
  }
  for _, page in ipairs(pages) do
    if listed(page) then
      out[#out + 1] = "<url><loc>" .. xml_escape(urls.absolute(site, page.url)) .. "</loc>"
      local d = urls.lastmod(page)
      if d then out[#out + 1] = "<lastmod>" .. xml_escape(tostring(d)) .. "</lastmod>" end
      out[#out + 1] = "</url>\n"
    end
  end
  out[#out + 1] = "</urlset>\n"
  return table.concat(out)
end

local function has_static(name)
  return publish.fs.exists("static/" .. name)
end

function sitemap.site(site)
  local options = site.config.sitemap
  if options == false then return end
  if type(options) ~= "table" then options = {} end
  -- Snapshot the list first: the pages added below are not HTML anyway.
  local content = sitemap.xml(site, site.pages)
  site:add_page { url = "/sitemap.xml", kind = "sitemap", layout = false, content = content }
  if options.robots == false or has_static("robots.txt") then return end
  for _, page in ipairs(site.pages) do
    if page.url == "/robots.txt" then return end
  end
  site:add_page {
    url = "/robots.txt", kind = "robots", layout = false,
    content = "User-agent: *\nAllow: /\n\nSitemap: " .. urls.absolute(site, "/sitemap.xml") .. "\n",
  }
end

return sitemap
