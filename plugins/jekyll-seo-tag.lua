-- jekyll-seo-tag: the `{% seo %}` Liquid tag as the jekyll-seo-tag gem
-- (2.8) writes it, for Jekyll sites that name the gem in `plugins:`: the
-- page title ("Page | Site", the home page "Site | description"), meta
-- description, author, canonical link, Open Graph, Twitter card and a
-- JSON-LD block (BlogPosting for posts, WebSite for the home page, WebPage
-- otherwise), in the gem's order. `{% seo title=false %}` leaves out the
-- <title>. The generator line names publish.
--
-- Config read: title, description, url, baseurl, author, locale, lang,
-- twitter.username, logo, social. Page: title, description (else the
-- excerpt), author, image (a path or {path}), date, locale, seo.type.

local liquid = require "liquid"
local urls = require "publish.urls"

local seo = {}

local site_model -- the site of this build (setup)

local escape = publish.html.escape

-- The gem runs titles through smartify and strips tags from descriptions.
local function plain(s)
  if s == nil then return nil end
  local text = publish.html.text(tostring(s)):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  if text == "" then return nil end
  return text
end

local function smart(s)
  if s == nil then return nil end
  return liquid.filters.smartify(tostring(s))
end

local function absolute(path)
  if type(path) ~= "string" or path == "" then return nil end
  if path:match("^%a[%w+.-]*://") then return path end
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  return urls.absolute(site_model, path)
end

local function name_of(who)
  if type(who) == "table" then who = who.name end
  if who == nil or who == "" then return nil end
  return tostring(who)
end

local function author_of(page)
  local author = page.author
  if author == nil and type(page.meta) == "table" then author = page.meta.author end
  if type(author) == "table" and author[1] then author = author[1] end
  if author == nil then author = site_model.config.author end
  -- A name that is a key of site.data.authors stands for that entry.
  local authors = site_model.data and site_model.data.authors
  if type(author) == "string" and type(authors) == "table" and type(authors[author]) == "table" then
    local entry = authors[author]
    return name_of(entry) or author, entry.twitter
  end
  return name_of(author), type(author) == "table" and author.twitter or nil
end

local function image_of(page)
  local image = page.image
  if type(image) == "table" then image = image.path end
  return absolute(image)
end

local function is_home(page)
  return page.url == "/" or page.url == "/index.html"
end

local function canonical(page)
  local url = (page.url or "/"):gsub("/index%.html$", "/")
  if type(page.canonical_url) == "string" then return page.canonical_url end
  return absolute(url)
end

local function meta(out, attr, name, content)
  if content == nil then return end
  out[#out + 1] = '<meta ' .. attr .. '="' .. name .. '" content="' .. escape(content) .. '" />'
end

local function json_ld(info)
  local data = { ["@context"] = "https://schema.org" }
  data["@type"] = info.type
  if info.author then data.author = { ["@type"] = "Person", name = info.author } end
  if info.published then
    data.datePublished = info.published
    data.dateModified = info.modified or info.published
  end
  data.description = info.description and escape(info.description)
  data.headline = info.page_title
  data.image = info.image
  if info.type == "BlogPosting" then
    data.mainEntityOfPage = { ["@type"] = "WebPage", ["@id"] = info.canonical }
  end
  if info.type == "WebSite" then data.name = info.site_title end
  data.url = info.canonical
  local logo = absolute(site_model.config.logo)
  if logo then
    data.publisher = { ["@type"] = "Organization", logo = { ["@type"] = "ImageObject", url = logo } }
  end
  return publish.json.encode(data)
end

local function xmlschema(d)
  if d == nil then return nil end
  return liquid.filters.date_to_xmlschema(d)
end

-- The gem's title rule: "Page | Site"; a page without its own title (or
-- titled as the site) is "Site | tagline or description"; later pages of
-- a paginated list start "Page N of M for ".
local function titles(page, config)
  local site_title = smart(config.title or config.name)
  local own = page.kind == "post" and page.title
    or (type(page.meta) == "table" and page.meta.title) or nil
  local page_title = smart(own) or site_title
  local tagline = smart(config.tagline or config.description)
  local title
  if site_title and page_title ~= site_title then
    title = page_title .. " | " .. site_title
  elseif site_title and tagline then
    title = site_title .. " | " .. tagline
  else
    title = page_title or site_title
  end
  local p = page.paginator
  if title and type(p) == "table" and (p.page or 1) > 1 then
    title = "Page " .. p.page .. " of " .. p.total_pages .. " for " .. title
  end
  return title, page_title, site_title
end

local function gather(page)
  local config = site_model.config
  local title, page_title, site_title = titles(page, config)
  local description = plain(page.description or (page.kind == "post" and page.excerpt) or nil)
    or plain(config.description)
  local author, author_twitter = author_of(page)
  local is_post = page.kind == "post" and page.date ~= nil
  local seo_meta = type(page.meta) == "table" and type(page.meta.seo) == "table" and page.meta.seo or {}
  local kind = seo_meta.type or (is_post and "BlogPosting") or (is_home(page) and "WebSite") or "WebPage"
  local modified = type(page.meta) == "table" and (page.meta.last_modified_at or page.meta.updated) or nil
  return {
    title = title, page_title = page_title, site_title = site_title, description = description,
    author = author, author_twitter = author_twitter, canonical = canonical(page),
    image = image_of(page), type = kind, is_post = is_post,
    published = is_post and xmlschema(page.date) or nil,
    modified = modified and xmlschema(modified) or nil,
    locale = (page.locale or config.locale or config.lang or "en_US"):gsub("-", "_"),
  }
end

-- The tag's text, line by line as the gem writes it.
function seo.html(page, with_title)
  local info = gather(page)
  local config = site_model.config
  local out = { "<!-- Begin Jekyll SEO tag v2.8.0 -->" }
  if with_title and info.title then out[#out + 1] = "<title>" .. escape(info.title) .. "</title>" end
  meta(out, "name", "generator", "publish")
  meta(out, "property", "og:title", info.page_title)
  meta(out, "name", "author", info.author)
  meta(out, "property", "og:locale", info.locale)
  meta(out, "name", "description", info.description)
  meta(out, "property", "og:description", info.description)
  out[#out + 1] = '<link rel="canonical" href="' .. escape(info.canonical) .. '" />'
  meta(out, "property", "og:url", info.canonical)
  meta(out, "property", "og:site_name", info.site_title)
  meta(out, "property", "og:image", info.image)
  meta(out, "property", "og:type", info.is_post and "article" or "website")
  meta(out, "property", "article:published_time", info.published)
  local p = page.paginator
  if type(p) == "table" then
    if p.prev_url then out[#out + 1] = '<link rel="prev" href="' .. escape(absolute(p.prev_url)) .. '" />' end
    if p.next_url then out[#out + 1] = '<link rel="next" href="' .. escape(absolute(p.next_url)) .. '" />' end
  end
  meta(out, "name", "twitter:card", info.image and "summary_large_image" or "summary")
  meta(out, "property", "twitter:image", info.image)
  meta(out, "property", "twitter:title", info.page_title)
  local twitter = type(config.twitter) == "table" and config.twitter.username
  if twitter then
    twitter = tostring(twitter):gsub("^@", "")
    meta(out, "name", "twitter:site", "@" .. twitter)
    local creator = info.author_twitter or info.author
    if creator then meta(out, "name", "twitter:creator", "@" .. tostring(creator):gsub("^@", "")) end
  end
  out[#out + 1] = '<script type="application/ld+json">'
  out[#out + 1] = json_ld(info) .. "</script>"
  out[#out + 1] = "<!-- End Jekyll SEO tag -->"
  return table.concat(out, "\n") .. "\n"
end

function seo.setup(site)
  site_model = site
  liquid.tags.seo = function(args, context)
    return seo.html(context.page, not args:find("title%s*=%s*false"))
  end
end

return seo
