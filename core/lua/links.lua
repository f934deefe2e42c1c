-- Link checking for `publish check`: every internal link, image and
-- #fragment in the rendered pages must lead to a file the build writes (a
-- page or a static file) or to an `id` in it. Each page's links and ids are
-- kept as it is rendered (not its HTML); at the end each broken link is
-- reported once, at the source file that holds it (the post, else the
-- layout or include it comes from). External http(s) links are fetched
-- only when asked (`check --external`), all at once, through C.

local links = {}

local TAGS = { a = true, link = true, img = true, script = true, source = true, iframe = true,
               video = true, audio = true, area = true }

local function decode_entities(s)
  return (s:gsub("&amp;", "&"):gsub("&#39;", "'"):gsub("&quot;", '"'))
end

local function percent_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- "/a/../b/./c" -> "/b/c" (a path that climbs above the root stays at it).
local function normalize(path)
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then parts[#parts] = nil
    elseif part ~= "." then parts[#parts + 1] = part end
  end
  local out = "/" .. table.concat(parts, "/")
  if path:sub(-1) == "/" and out ~= "/" then out = out .. "/" end
  return out
end

-- A checker for one site (site.url and site.baseurl say which absolute
-- links are internal).
function links.new(site)
  local self = {
    pages = {},   -- { url, output, source, targets = { raw... } }
    outputs = {}, -- output path -> ids (set) or true for non-HTML
    base = (site.baseurl or ""):gsub("/+$", ""),
    origin = (site.url or ""):gsub("/+$", ""),
  }
  return setmetatable(self, { __index = links })
end

-- Records one rendered page: its output path, and for HTML its links and ids.
function links:page(page, output, bytes)
  if not output:match("%.html?$") then
    self.outputs[output] = true
    return
  end
  local ids, targets = {}, {}
  for tag, attrs in bytes:gmatch("<(%a[%w]*)(%s[^>]*)>") do
    tag = tag:lower()
    for name, _, value in attrs:gmatch("([%w_:%-]+)%s*=%s*([\"'])(.-)%2") do
      name = name:lower()
      if name == "id" or (name == "name" and tag == "a") then
        ids[decode_entities(value)] = true
      elseif (name == "href" or name == "src") and TAGS[tag] then
        targets[#targets + 1] = value
      end
    end
  end
  self.outputs[output] = ids
  self.pages[#self.pages + 1] = { url = page.url, output = output, source = page.path, targets = targets,
                                  layout = type(page.layout) == "string" and page.layout or nil }
end

-- A static file the build copies (its path under DEST).
function links:static(path)
  self.outputs[path] = true
end

-- The output path a link leads to, and its fragment; nil for a link that
-- is not checked (external, mailto:, data:, ...).
function links:resolve(raw, page_url)
  local url = decode_entities(raw)
  if url == "" then return nil end
  if url:find("^//") then return nil end
  local scheme = url:match("^(%a[%w+.%-]*):")
  if scheme then
    if self.origin == "" or url:sub(1, #self.origin) ~= self.origin then return nil end
    url = url:sub(#self.origin + 1)
    if url == "" then url = "/" end
  end
  local fragment = url:match("#(.*)$")
  url = url:gsub("#.*$", ""):gsub("%?.*$", "")
  if url == "" then return page_url, fragment, true end -- "#x" or "?q": this page
  if url:sub(1, 1) ~= "/" then
    local dir = page_url:match("^(.*/)") or "/"
    url = dir .. url
  elseif self.base ~= "" then
    if url == self.base or url:sub(1, #self.base + 1) == self.base .. "/" then
      url = url:sub(#self.base + 1)
      if url == "" then url = "/" end
    end
  end
  return normalize(percent_decode(url)), fragment, false
end

-- The output file a site-relative path names, if the build writes it.
function links:target(path)
  local rel = path:gsub("^/+", "")
  if rel == "" or path:sub(-1) == "/" then
    rel = rel .. "index.html"
    return self.outputs[rel] and rel
  end
  if self.outputs[rel] then return rel end
  local index = rel .. "/index.html"
  return self.outputs[index] and index
end

-- Where `raw` is written: the page's source file first, then the layouts
-- (a link from a template); {path, line, col} or nil.
local function locate(raw, files, read)
  for _, file in ipairs(files) do
    local text = read(file)
    local at = text and text:find(raw, 1, true)
    if at then
      local line = 1
      local before = text:sub(1, at - 1)
      local last = 0
      for nl in before:gmatch("()\n") do line = line + 1; last = nl end
      local col = utf8.len(before:sub(last + 1)) or (#before - last)
      return { file, line, col + 1 }
    end
  end
  return nil
end

-- Where a broken link `raw` of `page` is written: its source, its own
-- layout, then every template; {path, line, col}, and whether it was found.
local function where_is(page, raw, layouts, read)
  local files = {}
  if page.source then files[1] = page.source end
  for _, l in ipairs(layouts) do
    if page.layout and l:match("/" .. page.layout:gsub("%p", "%%%0") .. "%.html?$") then
      files[#files + 1] = l
    end
  end
  for _, l in ipairs(layouts) do files[#files + 1] = l end
  local where = locate(raw, files, read)
  if where then return where, true end
  return { page.source or page.output, 1, 1 }, false
end

-- An http(s) link to another site, or nil.
function links:external(raw)
  local url = decode_entities(raw)
  if not url:match("^[Hh][Tt][Tt][Pp][Ss]?://") then return nil end
  if self.origin ~= "" and url:sub(1, #self.origin) == self.origin then return nil end
  return (url:gsub("#.*$", ""))
end

-- Reports every broken link: report(path, line, col, message). `layouts`
-- is the list of template files to look in for links no source holds.
-- `fetch` (only for `check --external`): {url...} -> {url = HTTP status,
-- 0 for no answer}.
function links:finish(report, layouts, fetch)
  local texts = {}
  local function read(file)
    if texts[file] == nil then texts[file] = publish.fs.read(file) or false end
    return texts[file] or nil
  end
  local said = {}
  -- A link made by a template filter is written nowhere as it reads: said
  -- once, at the first page that has it.
  local function broken(page, raw, message)
    local where, found = where_is(page, raw, layouts, read)
    local key = found and (where[1] .. ":" .. where[2] .. ":" .. where[3] .. "\0" .. raw) or raw
    if not said[key] then
      said[key] = true
      report(where[1], where[2], where[3], message)
    end
  end
  local external, first = {}, {}
  for _, page in ipairs(self.pages) do
    for _, raw in ipairs(page.targets) do
      local path, fragment, same = self:resolve(raw, page.url)
      if path then
        local output = same and page.output or self:target(path)
        local bad = output == nil
        if not bad and fragment and fragment ~= "" then
          local ids = self.outputs[output]
          bad = type(ids) == "table" and not ids[percent_decode(fragment)]
        end
        if bad then broken(page, raw, "broken link '" .. raw .. "'") end
      elseif fetch then
        local url = self:external(raw)
        if url and not first[url] then
          first[url] = { page = page, raw = raw }
          external[#external + 1] = url
        end
      end
    end
  end
  if #external == 0 then return end
  local statuses = fetch(external)
  for _, url in ipairs(external) do
    local status = statuses[url] or 0
    if status == 0 or status >= 400 then
      local at = first[url]
      broken(at.page, at.raw, "broken link '" .. at.raw .. "' (" ..
        (status == 0 and "no answer" or ("HTTP " .. status)) .. ")")
    end
  end
end

return links
