-- categories: one listing page per category and per tag, paginated, an
-- index page of each, and links from every post to its categories and tags.
--
-- URLs: `/categories/SLUG/`, `/categories/SLUG/page/2/`, ... and the same
-- under `/tags/`, with SLUG = publish.slugify(name), which keeps the letters
-- of any script (`/categories/뉴스/`; the page URL and output folder are the
-- Unicode form, links use `href`, percent-encoded).
--
-- Two names that give the same slug ("News" and "news") are different
-- categories to the author, so they are not merged: a warning names both
-- and their posts, the first in name order keeps the slug and the next gets
-- `SLUG-2` (then -3, ...). A name whose slug is empty (only punctuation) is
-- warned about and gets no page.
--
-- Display names: config `category_titles` / `tag_titles` map a name as
-- posts write it to the label the site shows ({News: 뉴스}); URLs, slugs
-- and front matter keep the name as written. Every page, list entry and
-- link below has `title` (the label, the name when none is given) besides
-- `name`. An imported blog whose posts say `News` can so read 뉴스.
--
-- Config: `paginate` (posts per page, default 10; 0 or false: one page),
-- `category_layout` (default "category"), `tag_layout` (default
-- "category": one layout serves both, `page.kind` tells them apart),
-- `categories_layout` / `tags_layout` for the index pages (defaults
-- "categories" and "tags").
--
-- Pages made: kind "category"/"tag" with title, name, slug, posts (this
-- page's), all_posts, paginator {page, per_page, total_pages, total_posts,
-- posts, prev_url, next_url, first_url, last_url}; kind "categories"/"tags"
-- with `list` = array of {name, title, url, href, count} sorted by name. The
-- same list is kept as site.category_list / site.tag_list, and each post
-- gets post.category_links / post.tag_links = array of {name, title, url,
-- href}.
-- The paginator URLs are page URLs (Unicode); hrefs are paginator.prev_href
-- and so on.

local urls = require "publish.urls"
local pager = require "publish.pager"

local categories = {}

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
categories.config = {
  paginate = pager.CONFIG_KEY,
  category_layout = { type = "string", default = "category", doc = "layout of a category's pages" },
  categories_layout = { type = "string", default = "categories", doc = "layout of /categories/" },
  tag_layout = { type = "string", default = "category", doc = "layout of a tag's pages" },
  tags_layout = { type = "string", default = "tags", doc = "layout of /tags/" },
  category_titles = { type = "map", doc = "category name -> the title shown for it" },
  tag_titles = { type = "map", doc = "tag name -> the title shown for it" },
}

local function post_paths(posts, most)
  local names = {}
  for i = 1, math.min(#posts, most) do names[i] = posts[i].path or posts[i].url or "?" end
  local text = table.concat(names, ", ")
  if #posts > most then text = text .. " and " .. (#posts - most) .. " more" end
  return text
end

-- Slugs for every name of one taxonomy, with collisions reported and made
-- distinct. Returns name -> slug (names with an empty slug are absent).
function categories.assign_slugs(names, map, what)
  local slug_of, owner = {}, {}
  for _, name in ipairs(names) do
    local base = publish.slugify(name)
    if base == "" then
      publish.log.warn(what .. " '" .. name .. "' has no letters or digits for a URL; no page made for it (posts: "
        .. post_paths(map[name], 5) .. ")")
    else
      local slug = base
      if owner[slug] then
        local k = 2
        while owner[base .. "-" .. k] do k = k + 1 end
        slug = base .. "-" .. k
        local first = owner[base]
        publish.log.warn(what .. " names '" .. first .. "' (" .. post_paths(map[first], 3) .. ") and '"
          .. name .. "' (" .. post_paths(map[name], 3) .. ") have the same slug '" .. base
          .. "'; they are kept apart: '" .. name .. "' gets '" .. slug .. "'")
      end
      owner[slug] = name
      slug_of[name] = slug
    end
  end
  return slug_of
end

-- The config map name -> display title (`key`), checked: a map of strings.
function categories.titles(config, key)
  local titles = config[key]
  if titles == nil then return {} end
  if type(titles) ~= "table" or #titles > 0 then
    error("config '" .. key .. "' must be a map from name to display title", 0)
  end
  for name, title in pairs(titles) do
    if type(title) ~= "string" and type(title) ~= "number" then
      error("config '" .. key .. "." .. tostring(name) .. "' must be a string (the title shown for '"
        .. tostring(name) .. "')", 0)
    end
  end
  return titles
end

local function build_taxonomy(site, spec)
  local config = site.config
  local titles = categories.titles(config, spec.titles_key)
  local map = site[spec.field] or {}
  local names = site[spec.names_field]
  if not names then
    names = {}
    for name in pairs(map) do names[#names + 1] = name end
    table.sort(names)
  end
  local slug_of = categories.assign_slugs(names, map, spec.what)
  local per = pager.per_page(config)
  local layout = config[spec.layout_key] or "category"
  local list, link_of = {}, {}
  for _, name in ipairs(names) do
    local slug = slug_of[name]
    if slug then
      local posts = map[name]
      local title = titles[name] ~= nil and tostring(titles[name]) or name
      local base = "/" .. spec.prefix .. "/" .. slug .. "/"
      pager.paginate(site, posts, base, per, {
        kind = spec.kind, layout = layout, title = title, name = name, slug = slug,
        taxonomy = spec.prefix,
      })
      local entry = { name = name, title = title, url = base, href = urls.href(site, base), count = #posts }
      list[#list + 1] = entry
      link_of[name] = { name = name, title = title, url = base, href = entry.href }
    end
  end
  if #list > 0 then
    local index_url = "/" .. spec.prefix .. "/"
    site:add_page {
      url = index_url, kind = spec.prefix, layout = config[spec.index_layout_key] or spec.prefix,
      title = spec.index_title, list = list,
    }
  end
  for _, post in ipairs(site.posts) do
    local links = {}
    for _, name in ipairs(post[spec.prefix] or {}) do
      links[#links + 1] = link_of[name]
    end
    post[spec.links_field] = links
  end
  return list
end

function categories.site(site)
  site.category_list = build_taxonomy(site, {
    field = "categories", names_field = "category_names", what = "category",
    prefix = "categories", kind = "category", layout_key = "category_layout",
    index_layout_key = "categories_layout", index_title = "Categories",
    links_field = "category_links", titles_key = "category_titles",
  })
  site.tag_list = build_taxonomy(site, {
    field = "tags", names_field = "tag_names", what = "tag",
    prefix = "tags", kind = "tag", layout_key = "tag_layout",
    index_layout_key = "tags_layout", index_title = "Tags",
    links_field = "tag_links", titles_key = "tag_titles",
  })
end

return categories
