-- The bundled templating plugin: turns SRC/layouts/*.html (and pages whose
-- body is itself a template) into Lua functions, once per build, and
-- renders every page through its layout chain. It reads only layout and
-- partial files; front matter, dates, slugs and JSON come from `publish`.
--
-- A template is translated to Lua source that has exactly one Lua line per
-- template line and is loaded with the chunk name "@layouts/NAME.html", so
-- a runtime error (indexing nil, a failing filter) already reads
-- "layouts/NAME.html:LINE: ..." without any mapping table. Syntax errors
-- are found while translating and raised as "FILE:LINE:COL: message".
--
-- Expressions are plain Lua evaluated with the render context as _ENV:
-- page, site, post, content, paginator, loop, `set` names and for-loop
-- variables all live in that one table, so includes see them too. Names
-- that are not there fall back to a few safe globals, then to nil.
--
-- For other plugins and tests: M.filters (add a filter before rendering),
-- M.compile(source, name, first_line) -> fn(ctx, out, n) -> n, and
-- M.render_string(source, vars [, name]) -> string.

local concat, sort = table.concat, table.sort
local find, sub, gsub, match, byte, format, rep =
  string.find, string.sub, string.gsub, string.match, string.byte, string.format, string.rep
local type, tostring, getmetatable, rawget, pairs, error = type, tostring, getmetatable, rawget, pairs, error

local M = {}

local publish = rawget(_G, "publish")

---------------------------------------------------------------------------
-- Build state: set by setup, reset per build

local state = {
  site = nil,     -- for url filters
  cache = {},     -- "layouts/x.html" -> { fn, ... } | { err } | false (no file)
  chains = {},    -- layout name -> array of cache entries, innermost first
  pages = {},     -- page path -> { src, fn } for page templates
  stack = {},     -- includes being rendered, for cycle errors
  urls = { relative = {}, absolute = {} }, -- url filter results (url_memo)
}

---------------------------------------------------------------------------
-- Output helpers

-- Escaping is the engine's (publish.html.escape, publish.html.escape_xml,
-- publish.url.encode, publish.url.escape): one rule for every plugin.
local escape
local null -- publish.null: a null item in a YAML list

-- Layouts and includes are read with publish.fs (paths relative to SRC,
-- confined to it): string, or nil and a message.
local function fs_read(rel)
  return publish.fs.read(rel)
end

local function bind_publish()
  publish = rawget(_G, "publish")
  escape = publish.html.escape
  null = publish and publish.null
end
bind_publish()

-- Formatted dates, per date table and format: a post's date is printed on
-- many pages (its own, lists, feeds). An entry is only trusted while the
-- table still holds the same instant and zone. A plain table, not a weak
-- one: post dates live for the whole build anyway, and the collector's
-- work on a 100,000-key weak table cost 20% of a large build's rendering.
-- Each build has its own Lua state, so it lasts one build.
local date_memo = {}

local function memo_date(d, fmt, make)
  local m = date_memo[d]
  local epoch, offset = rawget(d, "epoch"), rawget(d, "offset")
  if not m or m.epoch ~= epoch or m.offset ~= offset then
    m = { epoch = epoch, offset = offset }
    date_memo[d] = m
  end
  local s = m[fmt]
  if not s then s = make(d, fmt); m[fmt] = s end
  return s
end

local function date_tostring(d) return tostring(d) end

-- What `{{ v }}` prints. Tables print only when they know how (dates);
-- anything else would put "table: 0x..." in a page, so it is an error
-- pointing at the template line: `level` counts from here to the compiled
-- template (3 through out_escaped/out_raw).
local function to_text(v, level)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if v == math.floor(v) and v >= -2^53 and v <= 2^53 then return format("%d", v) end
    return tostring(v)
  end
  if v == nil or v == null then return "" end
  if t == "boolean" then return tostring(v) end
  local mt = getmetatable(v)
  if t == "table" and mt and mt.__tostring then
    if rawget(v, "epoch") then return memo_date(v, true, date_tostring) end
    return tostring(v)
  end
  error("cannot output a " .. t .. " value (use a filter such as join or json)", level or 3)
end

local function out_escaped(v)
  if type(v) == "string" then return escape(v) end
  return escape(to_text(v))
end

local function out_raw(v)
  if type(v) == "string" then return v end
  return to_text(v)
end

---------------------------------------------------------------------------
-- Filters (M.filters: a site plugin may add its own before the first
-- render; names are checked when a template is compiled)

local function is_absolute(s)
  return find(s, "^%a[%w+.%-]*:") ~= nil or find(s, "^//") ~= nil
end

local function site_field(name)
  local site = state.site
  if not site then return "" end
  local v = site[name]
  if v == nil and type(site.config) == "table" then v = site.config[name] end
  if type(v) ~= "string" then return "" end
  return v
end

-- For filters: their caller (level 4 from to_text) is the template.
local function str(v)
  if type(v) == "string" then return v end
  return to_text(v, 4)
end

-- URLs repeat across pages (navigation, tag links), so results are
-- remembered per build and per baseurl/url.
local function url_memo(kind, key)
  local memo = state.urls[kind]
  if memo.key ~= key then memo = { key = key, urls = {} }; state.urls[kind] = memo end
  return memo.urls
end

local function relative_url(v)
  if v == nil or v == null then return nil end
  local path = str(v)
  local base = site_field("baseurl")
  local memo = url_memo("relative", base)
  local url = memo[path]
  if url then return url end
  if is_absolute(path) then
    url = path
  else
    url = sub(path, 1, 1) == "/" and path or "/" .. path
    base = gsub(base, "/+$", "")
    if base ~= "" and sub(base, 1, 1) ~= "/" then base = "/" .. base end
    -- Non-ASCII letters (Korean category names) and spaces are encoded;
    -- '%' is kept so an already encoded path is not encoded twice.
    url = publish.url.encode(base .. url)
  end
  memo[path] = url
  return url
end

local function size(v)
  if v == nil or v == null then return 0 end
  if type(v) == "string" then return utf8.len(v) or #v end
  if type(v) == "table" then
    local n = #v
    if n > 0 then return n end
    for _ in pairs(v) do n = n + 1 end
    return n
  end
  return #str(v)
end

local filters = {
  raw = function(v) return v end,
  escape = function(v)
    if v == nil or v == null then return nil end
    return escape(str(v))
  end,
  xml_escape = function(v)
    if v == nil or v == null then return nil end
    return publish.html.escape_xml(str(v))
  end,
  date = function(v, fmt)
    if v == nil or v == null then return nil end
    if type(v) == "string" then
      local d = publish.date.parse(v)
      if not d then error("date: cannot read '" .. v .. "' as a date", 2) end
      v = d
    end
    if type(v) ~= "table" then error("date: expected a date, got a " .. type(v) .. " value", 2) end
    return memo_date(v, fmt or "%Y-%m-%d", publish.date.format)
  end,
  default = function(v, d)
    if v == nil or v == false or v == "" or v == null
       or (type(v) == "table" and getmetatable(v) == nil and next(v) == nil) then
      return d
    end
    return v
  end,
  truncate = function(v, n, ellipsis)
    if v == nil or v == null then return nil end
    local cut = publish.utf8.truncate(str(v), n, ellipsis)
    return cut
  end,
  strip_html = function(v)
    if v == nil or v == null then return nil end
    return publish.html.text(str(v))
  end,
  url_encode = function(v)
    if v == nil or v == null then return nil end
    return publish.url.escape(str(v))
  end,
  json = function(v) return publish.json.encode(v) end,
  join = function(v, sep)
    if v == nil or v == null then return nil end
    if type(v) ~= "table" then return str(v) end
    local parts = {}
    for i = 1, #v do parts[i] = str(v[i]) end
    return concat(parts, sep or " ")
  end,
  size = size,
  upcase = function(v)
    if v == nil or v == null then return nil end
    return string.upper(str(v))
  end,
  downcase = function(v)
    if v == nil or v == null then return nil end
    return string.lower(str(v))
  end,
  slugify = function(v)
    if v == nil or v == null then return nil end
    return publish.slugify(str(v))
  end,
  relative_url = relative_url,
  absolute_url = function(v)
    if v == nil or v == null then return nil end
    local path = str(v)
    if is_absolute(path) then return path end
    local site_url = site_field("url")
    local memo = url_memo("absolute", site_url .. "\0" .. site_field("baseurl"))
    local url = memo[path]
    if not url then
      url = gsub(site_url, "/+$", "") .. relative_url(path)
      memo[path] = url
    end
    return url
  end,
  first = function(v)
    if type(v) == "table" then return v[1] end
    if type(v) == "string" then return match(v, "^[\0-\127\194-\244][\128-\191]*") end
    return nil
  end,
  last = function(v)
    if type(v) == "table" then return v[#v] end
    if type(v) == "string" then return match(v, "[\0-\127\194-\244][\128-\191]*$") end
    return nil
  end,
  limit = function(v, n)
    if v == nil or v == null then return nil end
    if type(v) ~= "table" then error("limit: expected a list, got a " .. type(v) .. " value", 2) end
    local out = {}
    for i = 1, math.min(#v, math.tointeger(n) or 0) do out[i] = v[i] end
    return out
  end,
}
M.filters = filters

-- A last filter whose output is already safe HTML: no second escaping.
local NO_ESCAPE = { raw = true, escape = true, xml_escape = true }

---------------------------------------------------------------------------
-- Loops

local EMPTY = {}

-- `loop` inside a for: only `index` is stored per iteration; the rest is
-- derived on access, which is rare next to iterating.
local LOOP = {
  __index = function(t, k)
    local i = rawget(t, "index")
    if k == "first" then return i == 1
    elseif k == "last" then return i == rawget(t, "length")
    elseif k == "index0" then return i - 1
    elseif k == "rindex" then return rawget(t, "length") - i + 1
    end
    return nil
  end,
}

local function new_loop(n, parent)
  return setmetatable({ length = n, parent = parent, index = 0 }, LOOP)
end

local function loop_items(v)
  if v == nil or v == null then return EMPTY, 0 end
  if type(v) == "table" then
    local n = #v
    -- A map (site.categories) would silently print nothing.
    if n == 0 and next(v) ~= nil then
      error("cannot loop over a table with keys by value (use {% for key, value in ... %})", 2)
    end
    return v, n
  end
  error("cannot loop over a " .. type(v) .. " value", 2)
end

local function key_before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function loop_keys(v)
  if v == nil or v == null then return EMPTY, 0 end
  if type(v) ~= "table" then error("cannot loop over a " .. type(v) .. " value", 2) end
  local keys, n = {}, 0
  for k in pairs(v) do n = n + 1; keys[n] = k end
  sort(keys, key_before)
  return keys, n
end

---------------------------------------------------------------------------
-- Compiler

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return"
           .. " then true until while"):gmatch("%a+") do
  KEYWORDS[w] = true
end

local function trim(s) return match(s, "^%s*(.-)%s*$") end

local function count_newlines(s, i, j)
  local n = 0
  i = i or 1
  j = j or #s
  while true do
    local p = find(s, "\n", i, true)
    if not p or p > j then return n end
    n = n + 1
    i = p + 1
  end
end

-- A Lua string literal without raw newlines, so generated code keeps one
-- line per template line.
local QUOTE = { ["\n"] = "\\n", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\" }
local function quote(s)
  return '"' .. gsub(s, '[%c"\\]', function(c)
    return QUOTE[c] or format("\\%03d", byte(c))
  end) .. '"'
end

-- Skips a Lua string or long bracket starting at i; returns the index
-- after it. A quoted string stops at a newline (Lua reports the error).
local function skip_string(s, i)
  local c = byte(s, i)
  if c == 91 then -- [
    local eq = match(s, "^%[(=*)%[", i)
    local close = find(s, "]" .. eq .. "]", i, true)
    if not close then return #s + 1 end
    return close + #eq + 2
  end
  i = i + 1
  while true do
    local p = find(s, "[\n\\" .. string.char(c) .. "]", i)
    if not p then return #s + 1 end
    local d = byte(s, p)
    if d == 92 then i = p + 2
    else return p + 1 end
  end
end

-- Scans Lua code from i for `closer` ("}}", "%}" or ")") outside strings
-- and brackets; returns its index or nil. With closer "|" it instead returns
-- the list of top-level `|` positions up to the end.
local function scan_code(s, i, closer)
  local depth, bars = 0, {}
  while true do
    local p = find(s, "[\"'%[%]{}()%%|]", i)
    if not p then
      if closer == "|" then return bars end
      return nil
    end
    local c = byte(s, p)
    if c == 34 or c == 39 or (c == 91 and find(s, "^%[=*%[", p)) then
      i = skip_string(s, p)
    elseif c == 40 or c == 91 or c == 123 then
      depth = depth + 1; i = p + 1
    elseif c == 125 then -- }
      if depth <= 0 and closer == "}}" and byte(s, p + 1) == 125 then return p end
      depth = depth - 1; i = p + 1
    elseif c == 41 or c == 93 then
      if c == 41 and depth <= 0 and closer == ")" then return p end
      depth = depth - 1; i = p + 1
    elseif c == 37 then -- %
      if depth <= 0 and closer == "%}" and byte(s, p + 1) == 125 then return p end
      i = p + 1
    else -- |
      if depth <= 0 and closer == "|" then bars[#bars + 1] = p end
      i = p + 1
    end
  end
end

local Compiler = {}
Compiler.__index = Compiler

-- Line and column (in characters, for Korean text) of byte `pos`.
function Compiler:position(pos)
  local line = self.first_line + count_newlines(self.src, 1, pos - 1)
  local p = pos - 1
  while p >= 1 and byte(self.src, p) ~= 10 do p = p - 1 end
  local line_start = p + 1
  local col = (utf8.len(self.src, line_start, pos - 1, true) or (pos - line_start)) + 1
  return line, col
end

function Compiler:fail(pos, message)
  local line, col = self:position(pos)
  error(format("%s:%d:%d: %s", self.name, line, col, message), 0)
end

-- Splits the source into text, output ({{ }}), tag ({% %}) and comment
-- tokens, each non-text token with its position, line and trim flags.
function Compiler:tokenize()
  local src, toks = self.src, {}
  local pos, line = 1, self.first_line
  while true do
    local s = find(src, "{[{%%#]", pos)
    if not s then
      if pos <= #src then toks[#toks + 1] = { t = "text", s = sub(src, pos), line = line } end
      break
    end
    if s > pos then
      toks[#toks + 1] = { t = "text", s = sub(src, pos, s - 1), line = line }
      line = line + count_newlines(src, pos, s - 1)
    end
    local kind = byte(src, s + 1)
    local start = s + 2
    local ltrim = byte(src, start) == 45 -- -
    if ltrim then start = start + 1 end
    local e, tok
    if kind == 35 then -- {# comment #}
      e = find(src, "#}", start, true)
      if not e then self:fail(s, "unclosed '{#'") end
      tok = { t = "comment" }
    elseif kind == 123 then
      e = scan_code(src, start, "}}")
      if not e then self:fail(s, "unclosed '{{'") end
      tok = { t = "out" }
    else
      e = scan_code(src, start, "%}")
      if not e then self:fail(s, "unclosed '{%'") end
      tok = { t = "tag" }
    end
    local stop = e - 1
    tok.rtrim = stop >= start and byte(src, stop) == 45
    if tok.rtrim then stop = stop - 1 end
    tok.body, tok.pos, tok.line, tok.ltrim = sub(src, start, stop), s, line, ltrim
    toks[#toks + 1] = tok
    line = line + count_newlines(src, s, e + 1)
    pos = e + 2
  end
  return toks
end

-- A line that holds only tags and comments leaves nothing behind: its
-- indentation and its newline go (Jinja's trim_blocks + lstrip_blocks).
-- Then explicit {%- -%} trims eat all whitespace on their side.
local function tidy(toks)
  local function block(t) return t and (t.t == "tag" or t.t == "comment") end
  local n, i = #toks, 1
  while i <= n do
    if block(toks[i]) then
      local j = i
      while true do
        local nx = toks[j + 1]
        if block(nx) then j = j + 1
        elseif nx and nx.t == "text" and find(nx.s, "^[ \t]*$") and block(toks[j + 2]) then j = j + 2
        else break end
      end
      local prev, nxt = toks[i - 1], toks[j + 1]
      local prev_ok = prev == nil or (prev.t == "text" and
        (find(prev.s, "\n[ \t]*$") ~= nil or (i == 2 and find(prev.s, "^[ \t]*$") ~= nil)))
      local next_ok = nxt == nil or (nxt.t == "text" and
        (find(nxt.s, "^[ \t]*\r?\n") ~= nil or (j + 1 == n and find(nxt.s, "^[ \t]*$") ~= nil)))
      if prev_ok and next_ok then
        if prev then prev.strip_end = true end
        if nxt then nxt.strip_start = true end
        for k = i + 1, j - 1 do
          if toks[k].t == "text" then toks[k].clear = true end
        end
      end
      i = j + 1
    else
      i = i + 1
    end
  end
  for k = 1, n do
    local t = toks[k]
    if t.t == "text" then
      if t.clear then t.s = "" end
      if t.strip_start then t.s = gsub(t.s, "^[ \t]*\r?\n?", "", 1) end
      if t.strip_end then t.s = gsub(t.s, "[ \t]*$", "", 1) end
    end
  end
  for k = 1, n do
    local t = toks[k]
    if t.t ~= "text" then
      local prev, nxt = toks[k - 1], toks[k + 1]
      if t.ltrim and prev and prev.t == "text" then prev.s = gsub(prev.s, "%s+$", "", 1) end
      if t.rtrim and nxt and nxt.t == "text" then nxt.s = gsub(nxt.s, "^%s+", "", 1) end
    end
  end
end

-- Checks that `code` is one Lua expression (as it will be emitted,
-- inside parentheses); the message quotes what the author wrote.
function Compiler:check(tok, code, what, shown)
  local ok, err = load("return " .. code, "=expression", "t", {})
  if ok then
    ok = load("return (" .. code .. ")", "=expression", "t", {})
    err = "not a single expression"
  end
  if not ok then
    err = gsub(err, "^expression:%d+: ", "")
    self:fail(tok.pos, format("bad %s '%s': %s", what, shown or trim(code), err))
  end
end

-- Translates `expr | f | g(args)` to Lua code; returns the code and the
-- name of the last filter (nil without filters).
function Compiler:expression(tok, text)
  local bars = scan_code(text, 1, "|")
  local parts, from = {}, 1
  for _, p in ipairs(bars) do parts[#parts + 1] = sub(text, from, p - 1); from = p + 1 end
  parts[#parts + 1] = sub(text, from)
  local base = trim(parts[1])
  if base == "" then self:fail(tok.pos, "empty expression") end
  self:check(tok, base, "expression")
  local code = "(" .. base .. ")"
  local last
  for k = 2, #parts do
    local seg = trim(parts[k])
    local name, rest = match(seg, "^([%a_][%w_]*)(.*)$")
    if not name then
      if seg == "" then self:fail(tok.pos, "empty filter after '|'") end
      self:fail(tok.pos, "bad filter '" .. seg .. "'")
    end
    if not filters[name] then self:fail(tok.pos, "unknown filter '" .. name .. "'") end
    rest = trim(rest)
    if rest == "" then
      if name ~= "raw" then code = format("__F.%s(%s)", name, code) end
    else
      -- The argument list must be one (...) that spans the whole rest.
      local close = byte(rest, 1) == 40 and scan_code(rest, 2, ")")
      if close ~= #rest then
        self:fail(tok.pos, "bad filter '" .. seg .. "': arguments go in parentheses, like " .. name .. "(x)")
      end
      local args = sub(rest, 2, -2)
      if trim(args) == "" then
        code = format("__F.%s(%s)", name, code)
      else
        self:check(tok, "f(" .. args .. ")", "arguments", name .. "(" .. trim(args) .. ")")
        code = format("__F.%s(%s,%s)", name, code, args)
      end
    end
    last = name
  end
  return code, last
end

function Compiler:name_ok(tok, name)
  if KEYWORDS[name] or sub(name, 1, 2) == "__" or name == "_ENV" then
    self:fail(tok.pos, "'" .. name .. "' cannot be a variable name")
  end
end

function Compiler:include_exists(tok, path)
  if find(path, "^/") or find("/" .. path .. "/", "/%.%./") then
    self:fail(tok.pos, "include path '" .. path .. "' must stay inside layouts/")
  end
  if find(path, "\0", 1, true) then self:fail(tok.pos, "include path contains a NUL byte") end
  local ok, err = fs_read("layouts/" .. path)
  if not ok then self:fail(tok.pos, (gsub(err, "^cannot read ('[^']*'): No such file or directory$",
    "include not found %1"))) end
end

-- The Lua being generated for one template: its pieces, the template line
-- they have reached, outputs not yet added to `__n`, the open blocks and
-- the count of for loops (their locals are numbered).
local Gen = {}
Gen.__index = Gen

local function new_gen()
  return setmetatable({
    code = { "local __F,__e,__r,__inc,__items,__keys,__rg,__loop=... return function(_ENV,__o,__n) " },
    cur = 1, pending = 0, blocks = {}, nfor = 0,
  }, Gen)
end

function Gen:at(line)
  if line > self.cur then self.code[#self.code + 1] = rep("\n", line - self.cur); self.cur = line end
end

function Gen:emit(s)
  self.code[#self.code + 1] = s
  self.cur = self.cur + count_newlines(s)
end

function Gen:append(value)
  self.pending = self.pending + 1
  self:emit(format("__o[__n+%d]=%s ", self.pending, value))
end

function Gen:flush()
  if self.pending > 0 then self:emit(format("__n=__n+%d ", self.pending)); self.pending = 0 end
end

-- A for loop keeps `loop` up to date only when something inside it may
-- read it: an expression naming `loop`, or an include.
function Gen:may_read_loop()
  local blocks = self.blocks
  for i = #blocks, 1, -1 do
    local b = blocks[i]
    if b.kind == "for" then
      if b.uses_loop then return end
      b.uses_loop = true
    end
  end
end

-- The code of each tag, by its first word: handler(compiler, gen, tok,
-- rest, top, word), `rest` the tag after its word, `top` the innermost
-- open block.
local TAGS = {}

TAGS["if"] = function(self, g, tok, rest)
  if rest == "" then self:fail(tok.pos, "'if' needs a condition") end
  g:emit("if " .. self:expression(tok, rest) .. " then ")
  g.blocks[#g.blocks + 1] = { kind = "if", tok = tok }
end

TAGS["elseif"] = function(self, g, tok, rest, top)
  if not top or top.kind ~= "if" then self:fail(tok.pos, "'elseif' without 'if'") end
  if top.has_else then self:fail(tok.pos, "'elseif' after 'else'") end
  if rest == "" then self:fail(tok.pos, "'elseif' needs a condition") end
  g:emit("elseif " .. self:expression(tok, rest) .. " then ")
end

TAGS["else"] = function(self, g, tok, rest, top)
  if rest ~= "" then self:fail(tok.pos, "'else' takes no condition (use 'elseif')") end
  if not top then self:fail(tok.pos, "'else' without 'if' or 'for'") end
  if top.has_else then self:fail(tok.pos, "'else' twice in one block") end
  top.has_else = true
  g:emit(top.kind == "if" and "else " or "end else ")
end

-- end, endif and endfor.
local function close_block(self, g, tok, rest, top, word)
  if rest ~= "" then self:fail(tok.pos, "'" .. word .. "' takes nothing after it") end
  if not top then self:fail(tok.pos, "'" .. word .. "' without an open 'if' or 'for'") end
  if word ~= "end" and word ~= "end" .. top.kind then
    self:fail(tok.pos, "'" .. word .. "' closes a '" .. top.kind .. "'")
  end
  g.blocks[#g.blocks] = nil
  if top.kind == "if" then
    g:emit("end ")
  else
    local k = top.n
    local restore = format("%s=__lv%d ", top.var, k)
    if top.key then restore = restore .. format("%s=__lk%d ", top.key, k) end
    if top.uses_loop then
      restore = restore .. format("loop=__ls%d ", k)
      -- Same text plus loop upkeep: the line count does not change.
      g.code[top.head] = top.head_loop
    end
    g:emit((top.has_else and "end " or "end end ") .. restore .. "end ")
  end
end
TAGS["end"], TAGS.endif, TAGS.endfor = close_block, close_block, close_block

TAGS["for"] = function(self, g, tok, rest)
  local a, b, list = match(rest, "^([%a_][%w_]*)%s*,%s*([%a_][%w_]*)%s+in%s+(.+)$")
  if not a then
    a, list = match(rest, "^([%a_][%w_]*)%s+in%s+(.+)$")
  end
  if not a then self:fail(tok.pos, "bad 'for': expected {% for x in list %} or {% for k, v in table %}") end
  self:name_ok(tok, a)
  if b then self:name_ok(tok, b) end
  g.nfor = g.nfor + 1
  local k = g.nfor
  local expr = self:expression(tok, list)
  local open, save, assign
  if b then
    -- k, v over a table, keys sorted
    open = format("do local __lx%d=%s local __lt%d,__ln%d=__keys(__lx%d) ", k, expr, k, k, k)
    save = format("local __lk%d,__lv%d=__rg(_ENV,%q),__rg(_ENV,%q) ", k, k, a, b)
    assign = format("local __kk=__lt%d[__li%d] %s=__kk %s=__lx%d[__kk] ", k, k, a, b, k)
  else
    open = format("do local __lt%d,__ln%d=__items(%s) ", k, k, expr)
    save = format("local __lv%d=__rg(_ENV,%q) ", k, a)
    assign = format("%s=__lt%d[__li%d] ", a, k, k)
  end
  local loop_head = format("if __ln%d>0 then for __li%d=1,__ln%d do ", k, k, k)
  local head = open .. save .. loop_head .. assign
  local head_loop = open .. save ..
    format("local __ls%d=loop if __ln%d>0 then local __lp%d=__loop(__ln%d,__ls%d) loop=__lp%d " ..
      "for __li%d=1,__ln%d do __lp%d.index=__li%d ", k, k, k, k, k, k, k, k, k, k) .. assign
  g:emit(head)
  local blocks = g.blocks
  blocks[#blocks + 1] = { kind = "for", tok = tok, n = k, var = b or a, key = b and a or nil,
    head = #g.code, head_loop = head_loop }
  -- `for x in loop.parent...`: the loop outside must be kept.
  if find(list, "%f[%w_]loop%f[^%w_]") then
    blocks[#blocks].uses_loop = nil
    for i = #blocks - 1, 1, -1 do
      if blocks[i].kind == "for" then blocks[i].uses_loop = true; break end
    end
  end
end

TAGS["set"] = function(self, g, tok, rest)
  local name, expr = match(rest, "^([%a_][%w_]*)%s*=%s*(.-)$")
  if not name or sub(expr, 1, 1) == "=" then
    self:fail(tok.pos, "bad 'set': expected {% set name = value %}")
  end
  self:name_ok(tok, name)
  if expr == "" then self:fail(tok.pos, "'set' needs a value") end
  g:emit(name .. "=" .. self:expression(tok, expr) .. " ")
end

TAGS["include"] = function(self, g, tok, rest)
  local path = match(rest, '^"([^"]+)"$') or match(rest, "^'([^']+)'$")
  if not path then self:fail(tok.pos, "bad 'include': expected {% include \"partials/name.html\" %}") end
  self:include_exists(tok, path)
  g:may_read_loop()
  g:emit(format("__n=__inc(%s,_ENV,__o,__n) ", quote(path)))
end

-- Emits Lua with the same line numbers as the template: the header sits
-- on line 1, each token's code on the token's line, text as escaped
-- literals (no raw newlines). Consecutive outputs are batched into one
-- `__n` update.
function Compiler:generate(toks)
  local g = new_gen()
  for _, tok in ipairs(toks) do
    if tok.t ~= "text" and find(tok.body, "%f[%w_]loop%f[^%w_]") then g:may_read_loop() end
    if tok.t == "text" then
      if tok.s ~= "" then g:at(tok.line); g:append(quote(tok.s)) end
    elseif tok.t == "out" then
      g:at(tok.line)
      local expr, last = self:expression(tok, tok.body)
      g:append((NO_ESCAPE[last] and "__r(" or "__e(") .. expr .. ")")
    elseif tok.t == "tag" then
      g:flush()
      g:at(tok.line)
      local body = trim(tok.body)
      local word, rest = match(body, "^([%a_][%w_]*)%s*(.-)$")
      if not word then
        if body == "" then self:fail(tok.pos, "empty tag") end
        self:fail(tok.pos, "unknown tag '" .. body .. "'")
      end
      local handler = TAGS[word]
      if not handler then self:fail(tok.pos, "unknown tag '" .. word .. "'") end
      handler(self, g, tok, rest, g.blocks[#g.blocks], word)
    end
  end
  g:flush()
  local open = g.blocks[#g.blocks]
  if open then
    self:fail(open.tok.pos, "unclosed '" .. open.kind .. "' (missing {% end %})")
  end
  g.code[#g.code + 1] = " return __n end"
  return concat(g.code)
end

-- The include helper is defined below; compiled templates get it as an
-- upvalue through the chunk's `...`.
local include

-- Compiles template source to a function(ctx, out, n) -> n that appends
-- its output to `out` from index n + 1. `name` is the path shown in errors
-- (relative to SRC), `first_line` the file line the source starts on.
local function compile(src, name, first_line)
  if sub(src, 1, 3) == "\239\187\191" then src = sub(src, 4) end
  local c = setmetatable({ src = src, name = name, first_line = first_line or 1 }, Compiler)
  local toks = c:tokenize()
  tidy(toks)
  local code = c:generate(toks)
  local chunk, err = load(code, "@" .. name, "t", {})
  if not chunk then
    -- Expressions are checked one by one, so this is rare (a name that Lua
    -- rejects in an odd place); keep the line, add column 1.
    local line, msg = match(err, ":(%d+): (.*)$")
    error(format("%s:%s:1: %s", name, line or "1", msg or err), 0)
  end
  return chunk(filters, out_escaped, out_raw, include, loop_items, loop_keys, rawget, new_loop)
end
M.compile = compile

---------------------------------------------------------------------------
-- Layouts and includes



-- The line of `layout:` in a layout's front matter, for errors about it.
local layout_key_line = require("publish.layouts").key_line

-- A template that failed to compile keeps its error for the build, so
-- the pages using it fail at once with the same message instead of
-- compiling it again each.
local function remember(rel, build, ...)
  local ok, t = pcall(build, ...)
  if not ok then t = { err = t } end
  state.cache[rel] = t
  if t.err then error(t.err, 0) end
  return t
end

local function compile_layout(name, rel, text)
  local meta, body, body_line = nil, text, 1
  if find(text, "^%-%-%-") or find(text, "^\239\187\191%-%-%-") then
    meta, body, body_line = publish.frontmatter(text, rel)
  end
  local parent = type(meta) == "table" and meta.layout or nil
  if parent == false then parent = nil end
  if parent ~= nil and type(parent) ~= "string" then
    error(format("%s:%d:1: 'layout' must be a layout name", rel, layout_key_line(text)), 0)
  end
  return {
    fn = compile(body, rel, body_line or 1),
    name = name, path = rel,
    parent = parent and gsub(parent, "%.html$", "") or nil,
    parent_line = parent and layout_key_line(text) or nil,
  }
end

-- The compiled layout NAME, or false when there is no such file.
local function load_layout(name)
  local rel = "layouts/" .. name .. ".html"
  local t = state.cache[rel]
  if t ~= nil then
    -- Asked again (publish.fs answers from memory): each page that uses a
    -- layout records that it read it (core/lua/deps.lua).
    if t then fs_read(rel) end
    if t and t.err then error(t.err, 0) end
    return t
  end
  local text
  if not find(name, "^/") and not find("/" .. name .. "/", "/%.%./") and not find(name, "\0", 1, true) then
    local err
    text, err = fs_read(rel)
    if not text and not find(err, "No such file or directory$") then error(err, 0) end
  end
  if not text then state.cache[rel] = false; return false end
  return remember(rel, compile_layout, name, rel, text)
end

local function compile_include(rel, text)
  return { fn = compile(text, rel, 1), path = rel }
end

include = function(path, ctx, out, n)
  local rel = "layouts/" .. path
  local t = state.cache[rel]
  if t then fs_read(rel) end -- recorded for this page too, as in load_layout
  if not t then
    local text, err = fs_read(rel)
    if not text then
      error(find(err, "No such file or directory$") and "include not found '" .. rel .. "'" or err, 2)
    end
    t = remember(rel, compile_include, rel, text)
  elseif t.err then
    error(t.err, 0)
  end
  local stack = state.stack
  for i = 1, #stack do
    if stack[i] == rel then
      local names = {}
      for k = i, #stack do names[#names + 1] = stack[k] end
      names[#names + 1] = rel
      error("include cycle: " .. concat(names, " -> "), 2)
    end
  end
  stack[#stack + 1] = rel
  n = t.fn(ctx, out, n)
  stack[#stack] = nil
  return n
end

-- "unknown layout 'pots'; did you mean 'post'?" (the nearest layout file).
local function unknown_layout(name)
  local names = {}
  for _, file in ipairs(publish.fs.list("layouts") or {}) do
    local base = file:match("^(.+)%.html$")
    if base then names[#names + 1] = base end
  end
  return "unknown layout '" .. name .. "'" .. require("publish.schema").suggest(name, names)
end

-- The layouts from `name` outwards: { post, default, base }; resolved
-- once per build and name.
local function layout_chain(name)
  local chain = state.chains[name]
  if chain then
    for i = 1, #chain do load_layout(chain[i].name) end -- recorded for this page
    return chain
  end
  local seen = {}
  chain = {}
  local t = load_layout(name)
  if not t then error(unknown_layout(name), 0) end
  while true do
    chain[#chain + 1] = t
    seen[t.name] = #chain
    local parent = t.parent
    if not parent then
      state.chains[name] = chain
      return chain
    end
    if seen[parent] then
      local names = {}
      for i = seen[parent], #chain do names[#names + 1] = chain[i].name end
      names[#names + 1] = parent
      error("layout cycle: " .. concat(names, " -> "), 0)
    end
    local p = load_layout(parent)
    if not p then
      error(format("%s:%d:1: %s", t.path, t.parent_line or 1, unknown_layout(parent)), 0)
    end
    t = p
  end
end

---------------------------------------------------------------------------
-- Rendering

-- Library tables are shared by every template and plugin: a template sees
-- them through read-only proxies, so `(function() string.format = nil
-- end)()` in one expression cannot change what another one (or a plugin)
-- calls. Sub-tables (publish.html) are wrapped as they are reached.
local proxies = setmetatable({}, { __mode = "k" })
local function read_only(t, name)
  local proxy = proxies[t]
  if proxy then return proxy end
  proxy = setmetatable({}, {
    __index = function(_, k)
      local v = t[k]
      -- A sub-table's proxy is made once; its name only then.
      if type(v) == "table" then return proxies[v] or read_only(v, name .. "." .. tostring(k)) end
      return v
    end,
    __newindex = function(_, k)
      error("'" .. name .. "' is read-only in templates (cannot set '" .. tostring(k) .. "')", 2)
    end,
    __pairs = function()
      return function(_, k)
        local nk, v = next(t, k)
        if type(v) == "table" then v = read_only(v, name .. "." .. tostring(nk)) end
        return nk, v
      end, proxy, nil
    end,
    __len = function() return #t end,
    __metatable = false,
  })
  proxies[t] = proxy
  return proxy
end

-- Names an expression may use besides the context.
local BASE = {
  tostring = tostring, tonumber = tonumber, type = type, pairs = pairs, ipairs = ipairs,
  next = next, select = select, string = read_only(string, "string"), math = read_only(math, "math"),
  table = read_only(table, "table"), utf8 = read_only(utf8, "utf8"),
  os = read_only({ date = os.date, time = os.time }, "os"), publish = publish and read_only(publish, "publish"),
}
local CONTEXT = { __index = BASE }

local function new_context(page, site, content)
  local ctx = {}
  local vars = page.vars
  if type(vars) == "table" then
    for k, v in pairs(vars) do ctx[k] = v end
  end
  ctx.site, ctx.page, ctx.content = site, page, content
  if page.paginator ~= nil then ctx.paginator = page.paginator end
  if page.kind == "post" then ctx.post = page end
  return setmetatable(ctx, CONTEXT)
end

local function run(fn, ctx)
  if state.stack[1] then state.stack = {} end -- left over by an error
  local out = {}
  local n = fn(ctx, out, 0)
  return concat(out, "", 1, n)
end

-- Renders template source with `vars` as the context (a new table with
-- the same fields is used). For tests and plugins that render a string.
function M.render_string(src, vars, name)
  local ctx = setmetatable({}, CONTEXT)
  for k, v in pairs(vars or EMPTY) do ctx[k] = v end
  return run(compile(src, name or "template", 1), ctx)
end

function M.setup(site)
  bind_publish()
  BASE.publish = publish and read_only(publish, "publish")
  state.site = site
  state.cache = {}
  state.chains = {}
  state.pages = {}
  state.stack = {}
  state.urls = { relative = {}, absolute = {} }
end

function M.render(page, site)
  local layout = page.layout
  if (layout == nil or layout == false) and not page.template then return nil end
  if site then state.site = site end
  -- Read once: a post's content is fetched from C at every read.
  local content = page.content
  local ctx = new_context(page, site or state.site, content)
  if page.template then
    local key = page.path or page.url or "page"
    local cached = state.pages[key]
    local src = content or ""
    if not cached or cached.src ~= src then
      cached = { src = src, fn = compile(src, key, page.body_line or 1) }
      state.pages[key] = cached
    end
    content = run(cached.fn, ctx)
  end
  if layout ~= nil and layout ~= false then
    if type(layout) ~= "string" then error("'layout' must be a layout name", 0) end
    local chain = layout_chain((gsub(layout, "%.html$", "")))
    for i = 1, #chain do
      ctx.content = content
      content = run(chain[i].fn, ctx)
    end
  end
  return content
end

return M
