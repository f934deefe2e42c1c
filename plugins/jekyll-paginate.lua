-- jekyll-paginate: for Jekyll sites that name the gem in `plugins:`. With
-- config `paginate: N`, the site's index page (index.html or index.md in
-- the folder of `paginate_path`, default "/page:num") gets Jekyll's
-- `paginator` (page, per_page, posts, total_posts, total_pages,
-- previous_page, next_page, previous_page_path, next_page_path: paths
-- without baseurl, as the gem gives them), and copies of it are added at
-- paginate_path for pages 2, 3, ... Without `paginate` it does nothing.

local paginate = {}

local function page_path(format, k, first)
  if k == 1 then return first end
  local path = format:gsub(":num", tostring(k))
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  return path
end

function paginate.site(site)
  local per = tonumber(site.config.paginate)
  if not per or per < 1 then return end
  per = math.floor(per)
  local format = site.config.paginate_path
  if type(format) ~= "string" then format = "/page:num" end
  -- The index page that lives where the numbered pages go.
  local folder = format:gsub(":num.*$", ""):gsub("[^/]*$", "")
  if folder:sub(1, 1) ~= "/" then folder = "/" .. folder end
  local index
  for _, page in ipairs(site.pages) do
    if page.kind == "page" and page.url == folder and page.path
       and page.path:match("index%.[^/]*$") then
      index = page
      break
    end
  end
  if not index then return end
  local posts = site.posts
  local total_pages = math.max(1, math.ceil(#posts / per))
  for k = 1, total_pages do
    local slice = {}
    for j = (k - 1) * per + 1, math.min(k * per, #posts) do slice[#slice + 1] = posts[j] end
    local paginator = {
      page = k, per_page = per, posts = slice, total_posts = #posts, total_pages = total_pages,
      prev_url = k > 1 and page_path(format, k - 1, folder) or nil,
      next_url = k < total_pages and page_path(format, k + 1, folder) or nil,
    }
    if k == 1 then
      index.paginator = paginator
    else
      -- Same page, another URL; the body is still read on first use.
      local copy = setmetatable({}, getmetatable(index))
      for key, v in pairs(index) do copy[key] = v end
      -- The page is a folder: /page2 is written as /page2/index.html.
      copy.url = page_path(format, k, folder):gsub("([^/.]+)$", "%1/")
      copy.paginator = paginator
      copy._doc = nil
      site:add_page(copy)
    end
  end
end

return paginate
