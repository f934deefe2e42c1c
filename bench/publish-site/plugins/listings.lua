-- listings: the bench's listing pages, exactly the work bench/hugo/ does
-- (bench/README.md, "What both sides build"): a home page of the newest 50
-- posts, one unpaginated page per category with all its posts, the
-- category index, and each post's links to its categories. The bundled
-- paginate and categories plugins make more (a paginated home, tag pages,
-- paginated categories), which Hugo would then have to make too.

local urls = require "publish.urls"

local listings = {}

-- Everything rendering needs is in the pages' and site's fields, where it
-- is recorded: a one-post edit re-renders only what that post reaches.
listings.incremental = true

local HOME_POSTS = 50

function listings.site(site)
  local newest = {}
  for i = 1, math.min(HOME_POSTS, #site.posts) do newest[i] = site.posts[i] end
  site:add_page { url = "/", kind = "home", layout = "home", title = site.title, posts = newest }
  local list, link_of = {}, {}
  for _, name in ipairs(site.category_names) do
    local url = "/categories/" .. publish.slugify(name) .. "/"
    local posts = site.categories[name]
    site:add_page { url = url, kind = "category", layout = "category", title = name, name = name, posts = posts }
    local entry = { name = name, title = name, url = url, href = urls.href(site, url), count = #posts }
    list[#list + 1] = entry
    link_of[name] = entry
  end
  site:add_page { url = "/categories/", kind = "categories", layout = "categories", title = "Categories", list = list }
  for _, post in ipairs(site.posts) do
    local links = {}
    for _, name in ipairs(post.categories) do links[#links + 1] = link_of[name] end
    post.category_links = links
  end
end

return listings
