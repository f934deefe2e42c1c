-- usage: publish run jekyll-import [-s SRC] [--dry-run] -- JEKYLL_DIR
-- Converts a Jekyll site's posts into SRC/posts/ of a native site, for
-- those who want a native site (a Jekyll site also builds as it is:
-- `publish build -s JEKYLL_DIR`). JEKYLL_DIR is the Jekyll site (a folder
-- with _config.yml: every `_posts/` and `_drafts/` in it, at any depth)
-- or one `_posts/` folder (subfolders too). The file name becomes
-- YYYY-MM-DD-SLUG.md with SLUG slugified (Jekyll's one-digit months and
-- days are padded); the folders above a `_posts/` are categories, as
-- Jekyll reads them, before the post's own; `category:`/`categories:` and
-- `tag:`/`tags:` become lists (`categories: a b` is two names, as in
-- Jekyll), without duplicates; a draft gets `draft: true` (dated today
-- unless it has a date); `published: no` and the like (YAML 1.1, as
-- Jekyll read them) become true/false; every other key, and the body, is
-- kept as it is.
-- Markdown is the site's `markdown_ext` (default md, markdown, mkdown,
-- mkdn, mkd). A post whose target already exists, or that is not
-- Markdown, is skipped with a warning. Layouts, includes, pages, _data
-- and static files are not converted (the summary says so). The Jekyll
-- folder is only read.
local dir = ...
if not dir or select("#", ...) > 1 then error("usage: publish run jekyll-import -- JEKYLL_DIR", 0) end
dir = dir:gsub("/+$", "")

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- A whole Jekyll site, or just a posts folder.
local config_text = read_file(dir .. "/_config.yml")
local whole_site = config_text ~= nil
local markdown_ext = { md = true, markdown = true, mkdown = true, mkdn = true, mkd = true }
if whole_site then
  local config = publish.yaml.load(config_text) or {}
  if type(config.markdown_ext) == "string" then
    markdown_ext = {}
    for ext in config.markdown_ext:gmatch("[^,%s]+") do markdown_ext[ext:gsub("^%.", ""):lower()] = true end
  end
end

-- The files below `dir`, sorted (for a whole site: those in a _posts or
-- _drafts folder, not below a folder Jekyll ignores other than those).
local function list_files()
  local filter = whole_site and " \\( -path '*/_posts/*' -o -path '*/_drafts/*' \\) -not -path '*/_site/*'" or ""
  local pipe = io.popen("find " .. quote(dir) .. filter .. " -type f -print0 2>/dev/null")
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

-- "blog/tech/_posts/x.md" below dir -> {"blog", "tech"}; drafts likewise.
local function folder_categories(file)
  local rel = file:sub(#dir + 2)
  local above = rel:match("^(.-)/?_posts/") or rel:match("^(.-)/?_drafts/") or ""
  local out = {}
  for part in above:gmatch("[^/]+") do out[#out + 1] = part end
  return out
end

local function import(file, day, rest, draft)
  local text = assert(read_file(file))
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
  local categories = names(folder_categories(file), meta.categories, meta.category)
  if draft then meta.draft = true end
  -- Jekyll read `published: no` as YAML 1.1, false; a native site would
  -- read the string "no" (the keys publish reads as booleans).
  for _, key in ipairs { "published", "draft", "sitemap", "render_with_liquid" } do
    local v = type(meta[key]) == "string" and meta[key]:lower()
    if v == "yes" or v == "on" then meta[key] = true elseif v == "no" or v == "off" then meta[key] = false end
  end
  local tags = names(meta.tags, meta.tag)
  meta.category, meta.tag = nil, nil
  meta.categories = #categories > 0 and categories or nil
  meta.tags = #tags > 0 and tags or nil
  local title = meta.title
  if title ~= nil then title = tostring(title) end
  site:new_post{ title = title, slug = slug, date = publish.date.parse(day), meta = meta, body = body }
  imported = imported + 1
end

-- Jekyll's post names: YYYY-M-D-title.ext (one-digit month and day too).
local function post_name(name)
  local y, m, d, rest, ext = name:match("^(%d%d%d%d)%-(%d%d?)%-(%d%d?)%-(.+)%.([%w]+)$")
  if not y then return nil end
  return string.format("%s-%02d-%02d", y, tonumber(m), tonumber(d)), rest, ext
end

local today = publish.date.format(publish.date.now(), "%Y-%m-%d")

for _, file in ipairs(list_files()) do
  local name = file:match("([^/]*)$")
  local draft = file:find("/_drafts/", #dir, true) ~= nil
  local day, rest, ext = post_name(name)
  if draft and not day then
    rest, ext = name:match("^(.+)%.([%w]+)$")
    day = today
  end
  -- Anything else is not a post (Jekyll ignores it too), and not counted.
  if day and name:sub(1, 1) ~= "." then
    if not markdown_ext[ext:lower()] then
      publish.log.warn(file .. ": skipped: not Markdown")
      skipped = skipped + 1
    else
      import(file, day, rest, draft)
    end
  end
end
publish.log.info(("jekyll-import: %d imported, %d skipped"):format(imported, skipped)
  .. (whole_site and "; layouts, includes, pages, _data and static files are not converted:"
    .. " copy them (docs/jekyll.md)" or ""))
