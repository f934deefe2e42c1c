-- excerpt: gives every post a short HTML teaser (post.excerpt) and a plain
-- text form for meta descriptions and feeds (post.excerpt_text).
--
-- Where the excerpt comes from, first match wins:
--   1. front matter `excerpt` (plain text is escaped and put in <p>; a value
--      that already contains tags is used as HTML);
--   2. the Markdown before the separator (front matter `excerpt_separator`,
--      else config `excerpt_separator`, else `<!--more-->`), rendered;
--   3. the first paragraph of the content that has text in it (an image-only
--      or empty <p> is skipped), or the first text block of a raw-HTML body.
-- The result is then cut to config `excerpt_length` characters (default 200;
-- 0 or false: never cut). Characters are counted in the text only, an
-- entity counts as one and a run of whitespace as one; the cut never falls
-- inside a UTF-8 sequence, tag or entity, closes every tag left open and
-- ends with "…". Pages from pages/ get no excerpt; only posts do.

local excerpt = {}

local DEFAULT_LENGTH = 200
local DEFAULT_SEPARATOR = "<!--more-->"
local ELLIPSIS = "…"

-- Elements that never have a closing tag.
local VOID = {
  area = true, base = true, br = true, col = true, embed = true, hr = true,
  img = true, input = true, link = true, meta = true, param = true,
  source = true, track = true, wbr = true,
}

-- Elements whose content is not text a reader sees; dropped from excerpts.
local DROPPED = { script = true, style = true, template = true }

-- One unit of text: an entity, a run of whitespace, or one UTF-8 character.
local function next_unit(s, i)
  local _, e = s:find("^&#?%w+;", i)
  if e then return e end
  _, e = s:find("^%s+", i)
  if e then return e end
  _, e = s:find("^[\0-\127\194-\244][\128-\191]*", i)
  return e or i -- a stray continuation byte: take it alone
end

-- Number of units in a text run (see next_unit), without a loop in Lua.
local function text_units(s)
  local t = s:gsub("&#?%w+;", "&"):gsub("%s+", " ")
  return utf8.len(t) or #t
end

-- The end of the tag that starts at i (the index of '>'), honouring quoted
-- attribute values; nil when the tag never closes.
local function tag_end(s, i)
  local j = i + 1
  while true do
    local k = s:find("[\"'>]", j)
    if not k then return nil end
    local c = s:sub(k, k)
    if c == ">" then return k end
    local close = s:find(c, k + 1, true)
    if not close then return nil end
    j = close + 1
  end
end

-- Copies `html` keeping at most `limit` text units (nil: no limit), dropping
-- comments, scripts and close tags that close nothing, and closing every
-- tag still open at the end. Returns the HTML and whether it was cut.
function excerpt.truncate_html(html, limit)
  local out, stack = {}, {}
  local count = 0
  local i, len = 1, #html
  local cut = false

  -- True when there is visible text at or after position i.
  local function more_text_after(from)
    local rest = html:sub(from):gsub("<!%-%-.-%-%->", ""):gsub("<[^>]*>", "")
    return rest:find("%S") ~= nil
  end

  while i <= len do
    local lt = html:find("<", i, true)
    local text_end = (lt or len + 1) - 1
    if text_end >= i then
      local run = html:sub(i, text_end)
      local n = text_units(run)
      if limit and count + n >= limit then
        -- The limit is reached in this run: keep whole units up to it, and
        -- cut only if visible text follows.
        local keep_to, j = i - 1, i
        while count < limit and j <= text_end do
          local e = next_unit(html, j)
          if e > text_end then e = text_end end
          count = count + 1
          keep_to = e
          j = e + 1
        end
        if more_text_after(keep_to + 1) then
          local piece = html:sub(i, keep_to)
          -- Mid-word: back up to the word's start when that loses little,
          -- so cards end on "the" rather than "categ".
          if not html:sub(keep_to + 1, keep_to + 1):match("^[%s<]?$") then
            local space = piece:match(".*()%s")
            if space and space > #piece * 0.8 then piece = piece:sub(1, space - 1) end
          end
          out[#out + 1] = (piece:gsub("%s+$", ""))
          out[#out + 1] = ELLIPSIS
          cut = true
          break
        end
        -- Only whitespace and tags remain: keep them all, uncounted.
        out[#out + 1] = run
        limit = nil
      else
        out[#out + 1] = run
        count = count + n
      end
    end
    if not lt then break end
    i = lt
    if html:find("^<!%-%-", i) then
      local _, e = html:find("-->", i + 4, true)
      i = (e or len) + 1
    else
      local slash, name = html:match("^<(/?)([%a][%w:%-]*)", i)
      local e = name and tag_end(html, i)
      if not e then
        -- Not a tag ("a < b" in raw HTML): it is text.
        out[#out + 1] = "&lt;"
        count = count + 1
        i = i + 1
      else
        local lname = name:lower()
        if slash == "" and DROPPED[lname] then
          local _, ce = html:find("</" .. lname .. "%s*>", e + 1)
          if not ce then
            local _, ce2 = html:find("</" .. name .. "%s*>", e + 1)
            ce = ce2
          end
          i = (ce or len) + 1
        elseif slash == "/" then
          -- Close the innermost matching element, and whatever was left
          -- open inside it; a close tag with no opener is dropped.
          for k = #stack, 1, -1 do
            if stack[k] == lname then
              for m = #stack, k + 1, -1 do
                out[#out + 1] = "</" .. stack[m] .. ">"
                stack[m] = nil
              end
              stack[k] = nil
              out[#out + 1] = html:sub(i, e)
              break
            end
          end
          i = e + 1
        else
          out[#out + 1] = html:sub(i, e)
          local self_closing = html:sub(e - 1, e - 1) == "/"
          if not VOID[lname] and not self_closing then stack[#stack + 1] = lname end
          i = e + 1
        end
      end
    end
  end
  for k = #stack, 1, -1 do out[#out + 1] = "</" .. stack[k] .. ">" end
  return table.concat(out), cut
end

-- Elements that make a front matter excerpt HTML rather than text; a
-- made-up "<excerpt>" or "<3" is text and gets escaped.
local HTML_ELEMENTS = {}
for name in ([[a abbr b bdi bdo blockquote br cite code del dfn div em figcaption
  figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span
  strong sub sup time u ul var wbr]]):gmatch("%S+") do
  HTML_ELEMENTS[name] = true
end

-- Does a front matter excerpt contain HTML tags (of known elements)?
local function looks_like_html(s)
  for name in s:gmatch("</?(%a[%w]*)[%s/>]") do
    if HTML_ELEMENTS[name:lower()] then return true end
  end
  return false
end

-- The first paragraph of rendered content that has text in it; failing
-- that, the first blank-line separated block with text (raw-HTML bodies
-- without <p>).
local function first_paragraph(content)
  local pos = 1
  while true do
    local s, e = content:find("<[pP][%s>]", pos)
    if not s then break end
    local _, ce = content:find("</[pP]%s*>", e)
    if not ce then break end
    local para = content:sub(s, ce)
    if publish.html.text(para):find("[^%s\194\160]") then return para end
    pos = ce + 1
  end
  for block in (content .. "\n\n"):gmatch("(.-)\n%s*\n") do
    if publish.html.text(block):find("[^%s\194\160]") then return block end
  end
  return nil
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The untruncated excerpt HTML of a post, or nil.
function excerpt.source(post, config)
  local meta = post.meta or {}
  local given = meta.excerpt
  if type(given) == "string" or type(given) == "number" then
    given = trim(tostring(given))
    if given ~= "" then
      if looks_like_html(given) then return given end
      return "<p>" .. publish.html.escape(given) .. "</p>"
    end
  end
  local separator = meta.excerpt_separator
  if type(separator) ~= "string" or separator == "" then separator = config.excerpt_separator end
  if type(separator) ~= "string" or separator == "" then separator = DEFAULT_SEPARATOR end
  -- An HTML comment separator in Markdown reaches the HTML as it is (raw
  -- HTML passes through unless the site turned that off), so the rendered
  -- content can be cut there without reading the source again; inside a
  -- code block it is escaped and rightly not found.
  local markdown = config.markdown
  local unsafe = not (type(markdown) == "table" and markdown.unsafe == false)
  if unsafe and separator:find("^<!%-%-.*%-%->$") and type(post.content) == "string" then
    local at = post.content:find(separator, 1, true)
    if at then
      local html = post.content:sub(1, at - 1)
      if publish.html.text(html):find("%S") then return trim(html) end
    end
    return first_paragraph(post.content)
  end
  local body = post.body
  if type(body) == "string" then
    local at = body:find(separator, 1, true)
    if at then
      local html = publish.markdown(body:sub(1, at - 1))
      if publish.html.text(html):find("%S") then return trim(html) end
    end
  end
  if type(post.content) == "string" then return first_paragraph(post.content) end
  return nil
end

-- The configured length: a positive integer, or nil for "do not cut".
function excerpt.length(config)
  local n = config.excerpt_length
  if n == nil then return DEFAULT_LENGTH end
  if n == false or n == 0 then return nil end
  n = tonumber(n)
  if not n or n < 0 then return DEFAULT_LENGTH end
  return math.floor(n)
end

function excerpt.post(post, site)
  local config = site and site.config or {}
  local limit = excerpt.length(config)
  local html = excerpt.source(post, config)
  if not html then
    post.excerpt, post.excerpt_text = "", ""
    return
  end
  post.excerpt = excerpt.truncate_html(html, limit)
  local text = trim(publish.html.text(html))
  if limit then text = publish.utf8.truncate(text, limit) end
  post.excerpt_text = text
end

return excerpt
