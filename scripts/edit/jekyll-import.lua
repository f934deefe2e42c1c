-- usage: publish run jekyll-import [-s SRC] [--dry-run] -- JEKYLL_POSTS_DIR
-- Brings the posts of a Jekyll site's `_posts/` folder (subfolders too)
-- into SRC/posts/ as new posts: the file name becomes
-- YYYY-MM-DD-SLUG.md with SLUG slugified; `category:`/`categories:` and
-- `tag:`/`tags:` become lists (`categories: a b` is two names, as in
-- Jekyll), without duplicates; every other key, and the body, is kept as
-- it is. A post whose target already exists, or that is not Markdown
-- (.md, .markdown), is skipped with a warning. The Jekyll folder is only
-- read.
local dir = ...
if not dir or select("#", ...) > 1 then error("usage: publish run jekyll-import -- JEKYLL_POSTS_DIR", 0) end
dir = dir:gsub("/+$", "")

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The files below `dir`, sorted.
local function list_files()
  local pipe = io.popen("find " .. quote(dir) .. " -type f -print0 2>/dev/null")
  local out = pipe:read("a")
  pipe:close()
  local files = {}
  for path in out:gmatch("([^%z]+)%z") do files[#files + 1] = path end
  table.sort(files)
  if #files == 0 then error("jekyll-import.lua: no files in '" .. dir .. "'", 0) end
  return files
end

-- Jekyll's names: a list, or a string of space-separated names.
local function names(...)
  local out, seen = {}, {}
  local function add(name)
    name = tostring(name)
    if name ~= "" and not seen[name] then
      seen[name] = true
      out[#out + 1] = name
    end
  end
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "table" then
      for _, item in ipairs(v) do
        if type(item) == "string" or type(item) == "number" then add(item) end
      end
    elseif type(v) == "string" then
      for word in v:gmatch("%S+") do add(word) end
    elseif type(v) == "number" then
      add(v)
    end
  end
  return out
end

local function exists(rel)
  local f = io.open(site.source .. "/" .. rel, "rb")
  if f then f:close() end
  return f ~= nil
end

local imported, skipped = 0, 0

local function import(file, day, rest)
  local f = assert(io.open(file, "rb"))
  local text = f:read("a")
  f:close()
  local meta, body = publish.frontmatter(text, file)
  local slug = publish.slugify(rest)
  if slug == "" then slug = publish.slugify(tostring(meta.title or "")) end
  if slug == "" then slug = "post" end
  local target = "posts/" .. day .. "-" .. slug .. ".md"
  if exists(target) then
    publish.log.warn(file .. ": skipped: '" .. target .. "' already exists")
    skipped = skipped + 1
    return
  end
  local categories = names(meta.categories, meta.category)
  local tags = names(meta.tags, meta.tag)
  meta.category, meta.tag = nil, nil
  meta.categories = #categories > 0 and categories or nil
  meta.tags = #tags > 0 and tags or nil
  local title = meta.title
  if title ~= nil then title = tostring(title) end
  site:new_post{ title = title, slug = slug, date = publish.date.parse(day), meta = meta, body = body }
  imported = imported + 1
end

for _, file in ipairs(list_files()) do
  local name = file:match("([^/]*)$")
  local day, rest, ext = name:match("^(%d%d%d%d%-%d%d%-%d%d)%-(.+)%.([%w]+)$")
  -- Anything else is not a post (Jekyll ignores it too), and not counted.
  if day and name:sub(1, 1) ~= "." then
    if ext ~= "md" and ext ~= "markdown" then
      publish.log.warn(file .. ": skipped: not Markdown")
      skipped = skipped + 1
    else
      import(file, day, rest)
    end
  end
end
publish.log.info(("jekyll-import: %d imported, %d skipped"):format(imported, skipped))
