-- URL helpers shared by the bundled plugins that write links (categories,
-- feed, sitemap), and the last-modified date those links carry. Not a plugin itself: it has no hooks, so listing it in
-- config.yaml does nothing. Page URLs inside the model stay as written
-- (`/categories/뉴스/`, which is also the output folder); these helpers make
-- the form that goes into an href or an XML document.

local urls = {}

-- "/categories/뉴스/" -> "/categories/%EB%89%B4%EC%8A%A4/". Non-ASCII bytes,
-- spaces, quotes and angle brackets are percent-encoded; reserved
-- characters and '%' are kept (publish.url.encode).
urls.encode = publish.url.encode

-- The site-relative link for a page URL: baseurl prefixed, encoded.
function urls.href(site, url)
  return urls.encode((site.baseurl or "") .. url)
end

-- The absolute URL of a page: site.url .. baseurl .. url, encoded. Without
-- a site url this is the site-relative link (feeds and sitemaps then carry
-- relative links, which is the most that can be done).
function urls.absolute(site, url)
  return urls.encode((site.url or "") .. (site.baseurl or "") .. url)
end

local is_date = publish.date.is

-- When a page last changed, for feeds and sitemaps: front matter `updated`,
-- `last_modified_at` or `modified` when it is a date, else page.date; nil
-- for a page with neither.
function urls.lastmod(page)
  local meta = type(page.meta) == "table" and page.meta or {}
  for _, key in ipairs { "updated", "last_modified_at", "modified" } do
    if is_date(meta[key]) then return meta[key] end
  end
  if is_date(page.date) then return page.date end
  return nil
end

return urls
