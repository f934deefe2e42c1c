-- jekyll-sitemap: for Jekyll sites that name the gem in `plugins:`.
-- /sitemap.xml lists every HTML page and post (not those with
-- `sitemap: false`, redirects or feeds) with the bundled sitemap plugin's
-- writer, and /robots.txt points at it unless the site has its own.
-- List it after the plugins that add pages (it runs in `site`).

local sitemap = require "sitemap"
local urls = require "publish.urls"

local jekyll_sitemap = {}

local function has_robots(site)
  for _, page in ipairs(site.pages) do
    if page.url == "/robots.txt" then return true end
  end
  local root = site.reader and site.reader.static or "static"
  return publish.fs.exists(root == "" and "robots.txt" or (root .. "/robots.txt"))
end

function jekyll_sitemap.site(site)
  local content = sitemap.xml(site, site.pages)
  site:add_page { url = "/sitemap.xml", kind = "sitemap", layout = false, content = content }
  if has_robots(site) then return end
  site:add_page {
    url = "/robots.txt", kind = "robots", layout = false,
    content = "Sitemap: " .. urls.absolute(site, "/sitemap.xml") .. "\n",
  }
end

return jekyll_sitemap
