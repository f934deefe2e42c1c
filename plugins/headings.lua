-- headings: linkable headings and a table of contents, on the `document`
-- hook (the Markdown tree; see docs/lua-api.md).
--
-- Every heading gets an `id` (a heading that already has one keeps it):
--   github   (default) GitHub's rule: the heading's text lowercased, letters
--            and digits of every script kept (Hangul, kana, CJK, accented
--            Latin), spaces become '-', '-' and '_' kept, everything else
--            (punctuation, symbols, emoji) dropped; no run of '-' is merged.
--   slugify  publish.slugify: each run of what is not a letter or digit
--            becomes one '-', trimmed.
-- The same id twice in a post gets -1, -2, ... (as on GitHub); an empty one
-- is "section". Config `headings: {ids: github|slugify|false, anchor:
-- false|before|after, anchor_text: "#"}`; front matter `heading_ids:`
-- (the same values) overrides `ids` for one post. `anchor` adds a visible
-- link to the heading itself (<a class="anchor" href="#id">#</a>).
--
-- post.toc: the headings from `toc.min_level` to `toc.max_level` (default 2
-- and 3) as a nested list of {level, text, id, children}; post.toc_html: the
-- same as <nav class="toc"><ol>...</ol></nav> when the post has at least
-- `toc.min_headings` of them (default 3, "a long post"), else nil. Front
-- matter `toc: false` drops both, `toc: true` gives toc_html whatever the
-- count. Pages get ids and a toc too.

local headings = {}

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
headings.config = {
  headings = { type = "map", keys = {
    ids = { type = "string|false", values = { "github", "slugify", false }, default = "github",
            doc = "how heading ids are made; false: none" },
    anchor = { type = "string|false", values = { "before", "after", false },
               doc = "a link to the heading beside it" },
    anchor_text = { type = "string|number", doc = "the anchor link's text" },
  } },
  toc = { type = "map", keys = {
    min_level = { type = "integer", min = 0, doc = "the highest heading level listed" },
    max_level = { type = "integer", min = 0, doc = "the lowest heading level listed" },
    min_headings = { type = "integer", min = 0, doc = "fewer headings: no table of contents" },
  } },
}

-- The hook's result depends only on the post, the config and this code:
-- the engine may keep it in the build cache (docs/lua-api.md).
headings.document_cache = true

local settings = { ids = "github", anchor = false, anchor_text = "#",
                   min_level = 2, max_level = 3, min_headings = 3 }

-- Lowercase of the cased letters of Latin-1, Latin Extended-A, Greek and
-- Cyrillic (the scripts where a slug would otherwise keep capitals).
local function lower_codepoint(c)
  if (c >= 0x41 and c <= 0x5A) or (c >= 0xC0 and c <= 0xDE and c ~= 0xD7) then return c + 32 end
  if c >= 0x100 and c <= 0x17F then
    -- Latin Extended-A pairs: even upper/odd lower, except the odd-upper run 0x139-0x148 and 0x179-0x17E.
    if (c >= 0x139 and c <= 0x148) or (c >= 0x179 and c <= 0x17E) then
      return c % 2 == 1 and c + 1 or c
    end
    if c ~= 0x130 and c ~= 0x138 and c ~= 0x149 and c ~= 0x17F and c % 2 == 0 then return c + 1 end
    return c
  end
  if (c >= 0x391 and c <= 0x3A9 and c ~= 0x3A2) then return c + 32 end
  if c >= 0x410 and c <= 0x42F then return c + 32 end
  if c >= 0x400 and c <= 0x40F then return c + 80 end
  return c
end

-- Punctuation and symbols outside ASCII that GitHub drops (Unicode's P and
-- S categories, by block; letters, digits and marks of every script stay).
local DROPPED = {
  { 0x80, 0xBF }, { 0xD7, 0xD7 }, { 0xF7, 0xF7 },
  { 0x2000, 0x2BFF },   -- general punctuation .. arrows, math, shapes, misc symbols
  { 0x2E00, 0x2E7F },   -- supplemental punctuation
  { 0x3000, 0x3003 }, { 0x3008, 0x3020 }, { 0x3030, 0x3030 }, -- CJK punctuation (not 々 〆 〇)
  { 0x30FB, 0x30FB },   -- katakana middle dot
  { 0xFE00, 0xFE0F },   -- variation selectors
  { 0xFE30, 0xFE6F },   -- CJK compatibility forms, small forms
  { 0xFEFF, 0xFEFF }, { 0xFFF0, 0xFFFF }, -- BOM, specials (U+FFFD)
  { 0xFF01, 0xFF0F }, { 0xFF1A, 0xFF20 }, { 0xFF3B, 0xFF40 }, { 0xFF5B, 0xFF65 },
  { 0x1F000, 0x1FAFF }, -- emoji and pictographs
  { 0xE0000, 0xE007F }, -- tags
}

local function dropped(c)
  for _, r in ipairs(DROPPED) do
    if c >= r[1] and c <= r[2] then return true end
  end
  return false
end

-- GitHub's slug of a heading's text (see above).
function headings.github_slug(text)
  local out = {}
  for _, c in utf8.codes(text, true) do
    if c < 0x80 then
      local ch = string.char(c)
      if ch:match("[%w_%-]") then out[#out + 1] = ch:lower()
      elseif ch == " " then out[#out + 1] = "-" end
    elseif not dropped(c) then
      out[#out + 1] = utf8.char(lower_codepoint(c))
    end
  end
  return table.concat(out)
end

local SLUGGERS = {
  github = headings.github_slug,
  slugify = function(text) return publish.slugify(text) end,
}

-- Reads and checks the settings once per build.
function headings.setup(site)
  local h = site.config.headings
  if h ~= nil and type(h) ~= "table" then error("'headings' must be a mapping (ids, anchor, anchor_text)", 0) end
  h = h or {}
  if h.ids ~= nil then
    if h.ids ~= false and not SLUGGERS[h.ids] then
      error("'headings.ids' must be github, slugify or false (got '" .. tostring(h.ids) .. "')", 0)
    end
    settings.ids = h.ids
  end
  if h.anchor ~= nil then
    if h.anchor ~= false and h.anchor ~= "before" and h.anchor ~= "after" then
      error("'headings.anchor' must be false, before or after (got '" .. tostring(h.anchor) .. "')", 0)
    end
    settings.anchor = h.anchor
  end
  if h.anchor_text ~= nil then settings.anchor_text = tostring(h.anchor_text) end
  local t = site.config.toc
  if t ~= nil and type(t) ~= "table" then error("'toc' must be a mapping (min_level, max_level, min_headings)", 0) end
  for _, key in ipairs { "min_level", "max_level", "min_headings" } do
    local v = t and t[key]
    if v ~= nil then
      if math.type(v) ~= "integer" or v < 0 then error("'toc." .. key .. "' must be a whole number", 0) end
      settings[key] = v
    end
  end
end

local function toc_html(entries)
  local parts = {}
  local function list(items)
    parts[#parts + 1] = "<ol>"
    for _, e in ipairs(items) do
      parts[#parts + 1] = '<li><a href="#' .. publish.html.escape(e.id) .. '">' .. publish.html.escape(e.text) .. "</a>"
      if #e.children > 0 then list(e.children) end
      parts[#parts + 1] = "</li>"
    end
    parts[#parts + 1] = "</ol>"
  end
  list(entries)
  return '<nav class="toc" aria-label="Contents">' .. table.concat(parts) .. "</nav>\n"
end

function headings.document(doc, post)
  local style = settings.ids
  local meta = post.meta or {}
  if meta.heading_ids ~= nil then
    if meta.heading_ids ~= false and not SLUGGERS[meta.heading_ids] then
      error("'heading_ids' must be github, slugify or false (got '" .. tostring(meta.heading_ids) .. "')", 0)
    end
    style = meta.heading_ids
  end
  local slug = style and SLUGGERS[style]
  local used, entries, stack, count = {}, {}, {}, 0
  doc:walk {
    heading = function(h)
      local text = h.text
      local id = h:attribute("id")
      if not id and slug then
        local base = slug(text)
        if base == "" then base = "section" end
        id = base
        local n = used[base] or 0
        while used[id] do
          n = n + 1
          id = base .. "-" .. n
        end
        used[base] = n
        h:set_attribute("id", id)
      end
      if not id then return nil end
      used[id] = used[id] or 0
      if settings.anchor then
        -- Written as it is (not a link node): the href matches the id and the
        -- toc byte for byte, and link plugins (noopener, ...) leave it alone.
        local link = publish.node.new("custom_inline", {
          on_enter = '<a class="anchor" href="#' .. publish.html.escape(id) .. '" aria-hidden="true">'
            .. publish.html.escape(settings.anchor_text),
          on_exit = "</a>",
        })
        if settings.anchor == "before" then h:prepend(link)
        else
          h:append(publish.node.new("text", { literal = " " }))
          h:append(link)
        end
      end
      local level = h.level
      if level < settings.min_level or level > settings.max_level then return nil end
      local entry = { level = level, text = text, id = id, children = {} }
      while #stack > 0 and stack[#stack].level >= level do stack[#stack] = nil end
      local parent = stack[#stack]
      local list = parent and parent.children or entries
      list[#list + 1] = entry
      stack[#stack + 1] = entry
      count = count + 1
      return nil
    end,
  }
  if meta.toc == false then
    post.toc, post.toc_html = nil, nil
    return
  end
  post.toc = entries
  if count > 0 and (meta.toc == true or count >= settings.min_headings) then
    post.toc_html = toc_html(entries)
  end
end

return headings
