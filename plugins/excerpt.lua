-- excerpt: gives every post a short HTML teaser (post.excerpt) and a plain
-- text form for meta descriptions and feeds (post.excerpt_text).
--
-- Where the excerpt comes from, first match wins:
--   1. front matter `excerpt` (plain text is escaped and put in <p>; a value
--      that already contains tags is used as HTML);
--   2. the Markdown before the separator (front matter `excerpt_separator`,
--      else config `excerpt_separator`, else `<!--more-->`), rendered with
--      the link reference definitions of the whole post;
--   3. the first paragraph of the content that has text in it (an image-only
--      or empty <p> is skipped), or the first text block of a raw-HTML body.
-- The result is then cut to config `excerpt_length` characters (default 200;
-- 0 or false: never cut). Characters are counted in the text only, an
-- entity counts as one and a run of whitespace as one; the cut never falls
-- inside a UTF-8 sequence, tag or entity, closes every tag left open and
-- ends with "…". A cut inside a word backs up to the word's start; then, if
-- what follows the last complete sentence is a fragment of less than a
-- third of the excerpt, the excerpt ends with that sentence instead ("...
-- home page. …", never "... home page. None…"). The plain form
-- (excerpt_text) is cut the same way. Pages from pages/ get no excerpt;
-- only posts do.

local excerpt = {}

-- A post's excerpt depends on the post and the config alone: it may be
-- kept with the post in the build cache (docs/lua-api.md).
excerpt.post_cache = true

local DEFAULT_LENGTH = 200
local DEFAULT_SEPARATOR = "<!--more-->"

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
excerpt.config = {
  excerpt_length = { type = "integer|false", default = DEFAULT_LENGTH, min = 0,
                     doc = "characters of an excerpt; 0 or false: not cut" },
  excerpt_separator = { type = "string", default = DEFAULT_SEPARATOR,
                        doc = "what ends the excerpt in a post's body" },
}
local ELLIPSIS = "…"

-- Copies `html` keeping at most `limit` text units (nil: no limit), dropping
-- comments, scripts and close tags that close nothing, and closing every
-- tag still open at the end. Returns the HTML and whether it was cut. The
-- work is done in C (publish.html.truncate, see docs/lua-api.md): it is
-- the plugin's hot path in large builds.
function excerpt.truncate_html(html, limit)
  return publish.html.truncate(html, limit, ELLIPSIS)
end

-- Where sentences end in `s`, in order: after each letter or digit (of
-- any script) followed by . ! or ? and closing quotes or brackets, the
-- position of the next byte when `after` (an anchored class: "^%s",
-- "^[%s<]") matches it. What s:gmatch("[^%s%p][%.!%?][\"'%)%]]*()%s")
-- finds, looked for from each . ! ? instead of trying a match at every
-- byte (every post's excerpt asks, on the main thread).
local function sentence_ends(s, after)
  local ends, at = {}, 1
  while true do
    local j = s:find("[%.!%?]", at)
    if not j then return ends end
    at = j + 1
    if j > 1 and s:find("^[^%s%p]", j - 1) then
      local k = s:match("^[\"'%)%]]*()", j + 1)
      if s:find(after, k) then
        ends[#ends + 1] = k
        at = k + 1
      end
    end
  end
end

-- The end (byte after the punctuation) of the last sentence in plain
-- `text`, or nil. A sentence ends with . ! ? (and closing quotes or
-- brackets) after a letter or digit of any script, before whitespace; or
-- with the ideographic full stop 。 or a full-width ！ ？, which need none.
local function last_sentence_end_text(text)
  local ends = sentence_ends(text, "^%s")
  local best = ends[#ends]
  for e in text:gmatch("\227\128\130()") do if not best or e > best then best = e end end
  for e in text:gmatch("\239\188[\129\159]()") do if not best or e > best then best = e end end
  return best
end

-- The spans of `html`'s tags (from a '<' to its '>', or to the end when
-- unclosed) as a sorted array {open1, close1, open2, close2, ...}.
local function tag_spans(html)
  local spans, at = {}, 1
  while true do
    local lt = html:find("<", at, true)
    if not lt then return spans end
    local gt = html:find(">", lt, true) or #html + 1
    spans[#spans + 1], spans[#spans + 2] = lt, gt
    at = gt + 1
  end
end

-- Is byte `pos` inside one of `spans` (between a '<' and its '>')? `from`
-- is where to start looking (positions are asked in increasing order);
-- returns the answer and where to start next time.
local function in_tag(spans, pos, from)
  local i = from
  while spans[i] and spans[i + 1] < pos do i = i + 2 end
  return spans[i] ~= nil and spans[i] < pos, i
end

-- The same in the text of `html` (not inside its tags).
local function last_sentence_end(html)
  local best
  local spans, from = tag_spans(html), 1
  local inside
  for _, e in ipairs(sentence_ends(html, "^[%s<]")) do
    inside, from = in_tag(spans, e - 1, from)
    if not inside then best = e end
  end
  from = 1
  for e in html:gmatch("\227\128\130()") do
    inside, from = in_tag(spans, e - 1, from)
    if not inside and (not best or e > best) then best = e end
  end
  return best
end

local function visible_length(html)
  local text = publish.html.text(html):gsub("%s+", " ")
  return publish.utf8.len(text)
end

-- A cut excerpt (HTML ending in the ellipsis) made to end with its last
-- complete sentence when only a short fragment follows that sentence.
function excerpt.sentence_cut(html)
  local at = html:match(".*()" .. ELLIPSIS)
  if not at then return html end
  local kept = html:sub(1, at - 1)
  local stop = last_sentence_end(kept)
  if not stop then return html end
  local fragment = visible_length(kept:sub(stop))
  if fragment == 0 or fragment * 3 >= visible_length(kept) then return html end
  -- Cutting there leaves open tags; a truncate with no limit closes them.
  return (publish.html.truncate(kept:sub(1, stop - 1) .. " " .. ELLIPSIS, nil))
end

-- The same for plain text (post.excerpt_text) that was `cut`.
function excerpt.sentence_cut_text(text, cut)
  if not cut or text:sub(-#ELLIPSIS) ~= ELLIPSIS then return text end
  local kept = text:sub(1, -#ELLIPSIS - 1)
  local stop = last_sentence_end_text(kept)
  if not stop then return text end
  local fragment = publish.utf8.len((kept:sub(stop):gsub("^%s+", "")))
  if fragment == 0 or fragment * 3 >= publish.utf8.len(kept) then return text end
  return kept:sub(1, stop - 1) .. " " .. ELLIPSIS
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

-- Without leading and trailing whitespace. Found with find and a match
-- anchored at the last non-space, not gsub("%s+$"), which tries every
-- run of spaces in the text to its end.
local function trim(s)
  local first = s:find("%S")
  if not first then return "" end
  return s:sub(first, s:match(".*()%S"))
end

-- The untruncated excerpt HTML of a post, or nil.
-- The link reference definitions (`[name]: url "title"`) of Markdown
-- `text`, one per line, skipping fenced code: the part of a post before
-- its separator is rendered with them, so `[a link][name]` defined further
-- down still links (as Jekyll does). A definition's title continued on the
-- next line is not followed.
function excerpt.reference_definitions(text)
  local defs, fence = {}, nil
  for line in text:gmatch("[^\n]*") do
    local marker = line:match("^ ? ? ?(```+)") or line:match("^ ? ? ?(~~~+)")
    if fence then
      if marker and marker:sub(1, 1) == fence:sub(1, 1) and #marker >= #fence
         and not line:match("^ ? ? ?[`~]+%s*[^%s`~]") then
        fence = nil
      end
    elseif marker then
      fence = marker
    elseif line:match("^ ? ? ?%[[^%]]+%]:%s*%S") then
      defs[#defs + 1] = line
    end
  end
  return table.concat(defs, "\n")
end

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
  -- post.content is read once: it is fetched from C at every read.
  local content = unsafe and separator:find("^<!%-%-.*%-%->$") and post.content
  if type(content) == "string" then
    local at = content:find(separator, 1, true)
    if at then
      local html = content:sub(1, at - 1)
      if publish.html.text(html):find("%S") then return trim(html) end
    end
    return first_paragraph(content)
  end
  local body = post.body
  if type(body) == "string" then
    local at = body:find(separator, 1, true)
    if at then
      local defs = excerpt.reference_definitions(body:sub(at + #separator))
      local html = publish.markdown(body:sub(1, at - 1) .. (defs ~= "" and ("\n\n" .. defs .. "\n") or ""))
      if publish.html.text(html):find("%S") then return trim(html) end
    end
  end
  if content == nil or content == false then content = post.content end
  if type(content) == "string" then return first_paragraph(content) end
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
  local cut_html, cut = excerpt.truncate_html(html, limit)
  post.excerpt = cut and excerpt.sentence_cut(cut_html) or cut_html
  local text = trim(publish.html.text(html))
  if limit then text = excerpt.sentence_cut_text(publish.utf8.truncate(text, limit)) end
  post.excerpt_text = text
end

return excerpt
