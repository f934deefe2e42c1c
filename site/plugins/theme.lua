-- theme: what the example theme's layouts need to know about a post and
-- would be clumsy to work out in a template. Runs in the `post` hook
-- (after Markdown), so it sees post.content.
--
--   post.image_in_body  true when the body already begins with the front
--                       matter `image` (same URL, query string and fragment
--                       ignored): layouts/post.html then does not show it a
--                       second time as a feature figure.
--   post.standfirst     front matter `feature_text`, else `description`
--                       (strings only), whitespace folded: shown under the
--                       headline and used as the meta description.
--   post.art            placeholder art for a post without an image, derived
--                       from its slug so that neighbouring cards differ:
--                       a CSS custom-property string (two hues, an angle and
--                       where the disc sits) for a style attribute.

local theme = {}

-- The post hook reads the post and the config alone: its result may be
-- kept with the post in the build cache (docs/lua-api.md).
theme.post_cache = true

-- Elements that may wrap a leading image without being content themselves.
local WRAPPERS = { p = true, figure = true, a = true, div = true, picture = true, source = true }

local function attribute(tag, name)
  return tag:match("%s" .. name .. '%s*=%s*"([^"]*)"')
      or tag:match("%s" .. name .. "%s*=%s*'([^']*)'")
      or tag:match("%s" .. name .. "%s*=%s*([^%s\"'>]+)")
end

-- The src of the image HTML begins with (through wrapper elements and
-- whitespace), or nil when something else comes first.
function theme.leading_image(html)
  local pos = 1
  while true do
    local s, e, name = html:find("^%s*<(%a%w*)[^>]*>", pos)
    if not s then return nil end
    name = name:lower()
    if name == "img" then return attribute(html:sub(s, e), "src") end
    if not WRAPPERS[name] then return nil end
    pos = e + 1
  end
end

-- A URL without its query string and fragment, with &amp; read as & (the
-- HTML attribute form of the same URL).
local function bare(url)
  return (url:gsub("&amp;", "&"):gsub("[?#].*$", ""))
end

function theme.same_image(a, b, baseurl)
  a, b = bare(a), bare(b)
  if a == b then return true end
  baseurl = type(baseurl) == "string" and baseurl:gsub("/$", "") or ""
  return baseurl ~= "" and (baseurl .. a == b or a == baseurl .. b)
end

local function fold(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  if s == "" then return nil end
  return s
end

-- FNV-1a, 32 bits: a stable number from a slug (the same on every build).
local function hash(s)
  local h = 2166136261
  for i = 1, #s do h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff end
  return h
end

function theme.art(slug)
  local h = hash(tostring(slug or ""))
  local hue = h % 360
  local hue2 = (hue + 60 + (h >> 9) % 120) % 360
  local angle = 45 + ((h >> 16) % 8) * 40
  local x = 15 + (h >> 19) % 70
  local y = 12 + (h >> 24) % 45
  return string.format("--art-h1: %d; --art-h2: %d; --art-angle: %ddeg; --art-x: %d%%; --art-y: %d%%",
    hue, hue2, angle, x, y)
end

function theme.post(post, site)
  local meta = post.meta or {}
  local image = meta.image
  post.image_in_body = false
  if type(image) == "string" and image ~= "" and type(post.content) == "string" then
    local lead = theme.leading_image(post.content)
    post.image_in_body = lead ~= nil and theme.same_image(image, lead, site.config.baseurl)
  end
  post.standfirst = fold(meta.feature_text) or fold(meta.description)
  post.art = theme.art(post.slug)
end

return theme
