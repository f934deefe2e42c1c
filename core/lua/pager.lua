-- Pagination shared by the bundled plugins that list posts (paginate for
-- the home page, categories for category and tag pages). Not a plugin: no
-- hooks. It only slices and adds pages; it decides nothing about layouts.

local urls = require "publish.urls"

local pager = {}

-- The `paginate` config key, declared by every plugin that paginates.
pager.CONFIG_KEY = {
  type = "integer|false", default = 10, min = 0,
  doc = "posts per listing page; 0 or false: all on one page",
}

-- Posts per page from config `paginate`: default 10; 0, false or a
-- non-number means everything on one page (math.huge).
function pager.per_page(config)
  local n = config.paginate
  if n == nil then return 10 end
  n = tonumber(n)
  if not n or n <= 0 then return math.huge end
  return math.floor(n)
end

-- Adds the pages of one listing: page 1 at `base` ("/tags/lua/"), page k at
-- base .. "page/k/". Every page gets url, posts (its slice), all_posts and
-- paginator {page, per_page, total_pages, total_posts, posts, prev_url,
-- next_url, first_url, last_url} (URLs as page URLs; *_href forms are
-- baseurl-prefixed and percent-encoded for links), plus the fields of
-- `fields`. An empty listing still has its first page. Returns the pages.
function pager.paginate(site, posts, base, per, fields)
  local total = #posts
  local all_on_one = per == math.huge
  if all_on_one then per = math.max(total, 1) end
  local count = math.max(1, math.ceil(total / per))
  local function url_of(k)
    if k == 1 then return base end
    return base .. "page/" .. k .. "/"
  end
  local made = {}
  for k = 1, count do
    local slice = {}
    local first = (k - 1) * per
    for j = 1, math.min(per, total - first) do slice[j] = posts[first + j] end
    local paginator = {
      page = k, per_page = all_on_one and total or per,
      total_pages = count, total_posts = total, posts = slice,
      first_url = url_of(1), last_url = url_of(count),
      prev_url = k > 1 and url_of(k - 1) or nil,
      next_url = k < count and url_of(k + 1) or nil,
    }
    paginator.first_href = urls.href(site, paginator.first_url)
    paginator.last_href = urls.href(site, paginator.last_url)
    paginator.prev_href = paginator.prev_url and urls.href(site, paginator.prev_url) or nil
    paginator.next_href = paginator.next_url and urls.href(site, paginator.next_url) or nil
    local page = { url = url_of(k), posts = slice, all_posts = posts, paginator = paginator }
    for key, v in pairs(fields) do page[key] = v end
    made[k] = site:add_page(page)
  end
  return made
end

-- True when some page already has this URL (a pages/index.md owns "/").
function pager.url_taken(site, url)
  for _, page in ipairs(site.pages) do
    if page.url == url then return true end
  end
  return false
end

return pager
