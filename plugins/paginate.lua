-- paginate: the home page and the archive.
--
-- Home: `/` (kind "home", layout "home"), the newest posts, `paginate` per
-- page (config; default 10), then `/page/2/`, `/page/3/`, ... with the usual
-- paginator (see pager.lua). Archive: `/archive/` (kind "archive", layout
-- "archive"), every post, grouped by year newest first: page.years = array
-- of {year, posts}. A page from pages/ that already has the URL `/` or
-- `/archive/` wins, and that page is not made (pages/index.html can still
-- read site.posts itself). Config `home_layout` / `archive_layout` rename
-- the layouts; `archive: false` turns the archive off.

local pager = require "publish.pager"

local paginate = {}

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
paginate.config = {
  paginate = pager.CONFIG_KEY,
  home_layout = { type = "string", default = "home", doc = "layout of the home pages" },
  archive = { type = "boolean", default = true, doc = "false: no /archive/ page" },
  archive_layout = { type = "string", default = "archive", doc = "layout of /archive/" },
}

-- Posts (newest first) -> array of {year, posts}, one pass.
function paginate.by_year(posts)
  local years, current = {}, nil
  for _, post in ipairs(posts) do
    local year = post.date and post.date.year
    if not current or current.year ~= year then
      current = { year = year, posts = {} }
      years[#years + 1] = current
    end
    current.posts[#current.posts + 1] = post
  end
  return years
end

function paginate.site(site)
  local config = site.config
  local posts = site.posts
  if not pager.url_taken(site, "/") then
    pager.paginate(site, posts, "/", pager.per_page(config), {
      kind = "home", layout = config.home_layout or "home", title = site.title,
    })
  end
  if config.archive ~= false and not pager.url_taken(site, "/archive/") then
    site:add_page {
      url = "/archive/", kind = "archive", layout = config.archive_layout or "archive",
      title = "Archive", posts = posts, years = paginate.by_year(posts),
    }
  end
end

return paginate
