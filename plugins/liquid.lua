-- liquid: the Liquid template language as Jekyll 4 runs it, as a bundled
-- template plugin (config `plugins: [liquid, ...]` instead of `template`).
-- It renders every page through its layouts (`_layouts/` or `layouts/`,
-- chained by `layout:` in their front matter, the inner result as
-- `{{ content }}`), with includes from `_includes/`, and renders the
-- Liquid in post and page bodies before Markdown when the site asks for it
-- (always in a Jekyll site). Jekyll's objects are what templates see:
-- site, page, content, layout, paginator, jekyll.
--
-- The language lives in plugins/liquid/: compile.lua (templates to Lua
-- functions, once per build), values.lua (Liquid's truth, comparisons and
-- printing) and filters.lua (standard and Jekyll filters). This file
-- reads the template files, keeps the compiled ones, gives compiled code
-- its runtime (includes, loops, cycle, highlight, link, post_url) and
-- turns failures into FILE:LINE:COL errors naming the template.
--
-- For site plugins: liquid.tags.NAME = function(args, context) ... end
-- (a table { block = function(args, body, context) ... end } for a block
-- tag), liquid.filters.NAME = function(input, ...) ... end, and
-- liquid.render_string(source, vars [, name]).

local values = require "liquid.values"
local compiler = require "liquid.compile"
local filter_module = require "liquid.filters"

local format, find, match, gsub = string.format, string.find, string.match, string.gsub
local concat = table.concat
local type, pairs, ipairs, rawget, setmetatable, tostring, pcall, error =
  type, pairs, ipairs, rawget, setmetatable, tostring, pcall, error

local M = { tags = {}, filters = filter_module.filters }

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
M.config = {
  liquid = { type = "map", doc = "Liquid options: strict_variables, bodies" },
  layouts_dir = { type = "string", doc = "the layouts folder" },
  includes_dir = { type = "string", doc = "the includes folder" },
  environment = { type = "string", default = "development", doc = "jekyll.environment" },
}
local helpers = filter_module.helpers

local publish = rawget(_G, "publish")

-- How deep includes may nest: a template that includes itself without end
-- stops here with an error instead of exhausting the stack.
local MAX_DEPTH = 100

---------------------------------------------------------------------------
-- Build state, reset by setup

local state = {
  source = ".",
  site = nil,          -- the model
  view = nil,          -- what templates see as `site`
  layouts_dir = "_layouts",
  includes_dir = "_includes",
  strict = false,      -- liquid.strict_variables
  bodies = false,      -- render Liquid in post and page bodies
  cache = {},          -- relative path -> compiled template | false (no file) | { err }
  chains = {},         -- layout name -> chain
  bodies_cache = {},   -- document path -> { src, t }
  stack = {},          -- includes being rendered (names)
  by_name = nil,       -- post_url index
  by_path = nil,       -- link index
}

-- The one place files are read, so the switch to publish.fs is one line.
local function read_source(rel)
  local fs = publish and publish.fs
  if fs and fs.read then return fs.read(rel) end
  local f = io.open(state.source .. "/" .. rel, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function exists(rel)
  local fs = publish and publish.fs
  if fs and fs.exists then return fs.exists(rel) end
  local f = io.open(state.source .. "/" .. rel, "rb")
  if f then f:close() end
  return f ~= nil
end

---------------------------------------------------------------------------
-- Running compiled templates

-- A failure inside a template, as an error the engine reports at the
-- template's FILE:LINE:COL. Errors already located (an include's) pass.
local function locate(t, err)
  if type(err) == "table" then return err end
  local pos = t.positions[t.where()] or 1
  local line, col = compiler.position(t.src, pos, t.first_line)
  return { message = format("%s:%d:%d: %s", t.name, line, col, tostring(err)), liquid = true }
end

local function run(t, V, O, n)
  local ok, res = pcall(t.render, V, O, n)
  if ok then return res end
  error(locate(t, res), 0)
end

local rt -- the runtime compiled templates get (below)

local function compile(src, name, first_line)
  local tpl = { src = src, name = name, first_line = first_line or 1, strict = state.strict }
  local render, where, positions = compiler.compile(tpl, rt)
  return { render = render, where = where, positions = positions, src = tpl.src, name = name,
    first_line = tpl.first_line }
end
M.compile = compile

-- Per-render state hidden in the scope under a key no template can name.
local STATE = {}

local FORLOOP = {
  __index = function(l, k)
    local i, n = rawget(l, "i"), rawget(l, "length")
    if k == "index" then return i
    elseif k == "index0" then return i - 1
    elseif k == "rindex" then return n - i + 1
    elseif k == "rindex0" then return n - i
    elseif k == "first" then return i == 1
    elseif k == "last" then return i == n
    end
    return nil
  end,
}

-- A new scope: V holds assigns and loop variables, E (its __index) the
-- objects of the page.
local function new_scope(E)
  E[STATE] = { env = E, cycles = {}, offsets = {} }
  return setmetatable({}, { __index = E })
end

---------------------------------------------------------------------------
-- Includes

local function bad_path(name)
  return name == "" or find(name, "^/") or find("/" .. name .. "/", "/%.%.?/") or find(name, "\\", 1, true)
end

local function dir_of(path)
  return match(path, "^(.*)/[^/]*$") or ""
end

-- The file an include names, relative to SRC, or nil and the error.
local function resolve(kind, name, from)
  if bad_path(name) then
    return nil, "invalid file name '" .. name .. "' in '" .. kind .. "' (it must stay inside " ..
      (kind == "include_relative" and "the site" or state.includes_dir .. "/") .. ")"
  end
  local rel
  if kind == "include_relative" then
    local dir = dir_of(from)
    rel = dir == "" and name or dir .. "/" .. name
  else
    rel = state.includes_dir .. "/" .. name
  end
  if state.cache[rel] then return rel end
  if not exists(rel) then return nil, "included file '" .. rel .. "' not found" end
  return rel
end

local function load_include(rel)
  local t = state.cache[rel]
  if t then
    -- Asked again (publish.fs answers from memory): each page that uses
    -- an include or layout records that it read it (core/lua/deps.lua).
    read_source(rel)
    if t.err then error(t.err, 0) end
    return t
  end
  local text = read_source(rel)
  if not text then values.fail("included file '" .. rel .. "' not found") end
  local ok, res = pcall(compile, text, rel, 1)
  if not ok then state.cache[rel] = { err = res }; error(res, 0) end
  state.cache[rel] = res
  return res
end

local function enter(rel)
  local stack = state.stack
  if #stack >= MAX_DEPTH then
    local last = 1
    for i = #stack, 1, -1 do
      if stack[i] == rel then last = i; break end
    end
    local chain = {}
    for i = last, #stack do chain[#chain + 1] = stack[i] end
    chain[#chain + 1] = rel
    values.fail("includes nested more than " .. MAX_DEPTH .. " deep (" .. concat(chain, " -> ") .. ")")
  end
  stack[#stack + 1] = rel
end

local function leave() state.stack[#state.stack] = nil end

---------------------------------------------------------------------------
-- Documents for link and post_url

local function basename_noext(path)
  return (gsub(match(path, "[^/]*$"), "%.[^.]*$", ""))
end

local function post_index()
  local site = state.site
  local posts = site and site.posts or {}
  if state.by_name and state.by_name.n == #posts then return state.by_name end
  local idx = { n = #posts }
  for _, post in ipairs(posts) do
    if type(post.path) == "string" then
      local name = basename_noext(post.path)
      idx[name] = idx[name] or post
      idx[gsub(post.path, "%.[^./]*$", "")] = post
    end
  end
  state.by_name = idx
  return idx
end

local function find_post(name)
  local idx = post_index()
  local post = idx[name]
  if post then return post end
  -- "category/2024-06-19-slug": the post in that folder
  local base = match(name, "[^/]*$")
  local p = idx[base]
  if p and find("/" .. p.path, "/" .. gsub(name, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0") .. "%.[^./]*$") then
    return p
  end
  return nil
end

local function page_index()
  local site = state.site
  local pages = site and site.pages or {}
  local posts = site and site.posts or {}
  local count = #pages + #posts
  if state.by_path and state.by_path.n == count then return state.by_path end
  local idx = { n = count }
  for _, list in ipairs { posts, pages } do
    for _, p in ipairs(list) do
      if type(p.path) == "string" then idx[p.path] = idx[p.path] or p end
    end
  end
  state.by_path = idx
  return idx
end

---------------------------------------------------------------------------
-- The runtime of compiled templates

-- Code as Rouge writes it when it knows no lexer: & < > only.
local function escape(s) return (gsub(s, "[&<>]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;" })) end

-- Line numbers beside the code, as Rouge's table formatter lays them out.
local function lineno_table(html)
  local n = select(2, gsub(html, "\n", "")) + 1
  local nums = {}
  for i = 1, n do nums[i] = tostring(i) end
  return '<table class="rouge-table"><tbody><tr><td class="gutter gl"><pre class="lineno">' ..
    concat(nums, "\n") .. '\n</pre></td><td class="code"><pre>' .. html ..
    '\n</pre></td></tr></tbody></table>'
end

local function unknown_var(name) values.fail("undefined variable " .. name) end

rt = {
  index = values.index,
  strict_index = function(obj, key)
    local v = values.index(obj, key)
    if v == nil and type(obj) == "table" then unknown_var(tostring(key)) end
    return v
  end,
  strict_var = function(V, name)
    local v = V[name]
    if v == nil then unknown_var(name) end
    return v
  end,
  to_s = values.to_s,
  truthy = values.truthy,
  equal = values.equal,
  compare = values.compare,
  contains = values.contains,
  range = values.range,
  filters = M.filters,
  tags = M.tags,
  EMPTY = values.EMPTY,
  BLANK = values.BLANK,
  concat = concat,
  rawget = rawget,
}

function rt.for_items(coll, limit, offset, reversed, V, key)
  local items = values.items(coll)
  if limit == nil and offset == nil and not reversed then return items end
  local st = V[STATE]
  local from = 0
  if offset == "continue" then from = st.offsets[key] or 0
  elseif offset ~= nil then from = values.to_integer(offset, "offset") or 0 end
  local to = #items
  if limit ~= nil then to = math.min(to, from + (values.to_integer(limit, "limit") or 0)) end
  local out = {}
  for i = from + 1, to do out[#out + 1] = items[i] end
  st.offsets[key] = from + #out
  if reversed then
    local n = #out
    for i = 1, n // 2 do out[i], out[n + 1 - i] = out[n + 1 - i], out[i] end
  end
  return out
end

function rt.forloop(n, parent)
  return setmetatable({ length = n, parentloop = parent, i = 0 }, FORLOOP)
end

local TABLELOOP = {}
TABLELOOP.__index = function(l, k)
  local i, cols = rawget(l, "i"), rawget(l, "cols")
  local col = (i - 1) % cols + 1
  if k == "col" then return col
  elseif k == "col0" then return col - 1
  elseif k == "col_first" then return col == 1
  elseif k == "col_last" then return col == cols
  elseif k == "row" then return (i - 1) // cols + 1
  elseif k == "open" then return TABLELOOP.open
  elseif k == "close" then return TABLELOOP.close
  end
  return FORLOOP.__index(l, k)
end
function TABLELOOP.open(l) return format('<td class="col%d">', l.col) end
function TABLELOOP.close(l)
  if rawget(l, "i") < rawget(l, "length") and l.col_last then
    return format('</td></tr>\n<tr class="row%d">', l.row + 1)
  end
  return "</td>"
end

function rt.tableloop(n, cols)
  cols = cols ~= nil and values.to_integer(cols, "cols") or nil
  if not cols or cols <= 0 then cols = math.max(n, 1) end
  return setmetatable({ length = n, cols = cols, i = 0 }, TABLELOOP)
end

function rt.cycle(V, group, list, count)
  local cycles = V[STATE].cycles
  local key = values.to_s(group)
  local i = cycles[key] or 0
  cycles[key] = (i + 1) % count
  return list[i + 1]
end

-- increment/decrement: counters live below the assigns, so `{{ x }}`
-- sees them unless x was assigned.
function rt.counter(V, name, step)
  local env = V[STATE].env
  local v = rawget(env, name)
  if type(v) ~= "number" then v = 0 end
  if step > 0 then
    env[name] = v + 1
    return values.to_s(v)
  end
  env[name] = v - 1
  return values.to_s(v - 1)
end

function rt.check_include(kind, name, from)
  if kind == "render" then kind = "include" end
  local _, err = resolve(kind, name, from)
  return err
end

function rt.include(V, O, n, kind, name, params, from)
  name = values.to_s(name)
  local rel, err = resolve(kind, name, from)
  if not rel then values.fail(err) end
  local t = load_include(rel)
  enter(rel)
  if params then
    local saved = rawget(V, "include")
    V.include = params
    n = run(t, V, O, n)
    V.include = saved
  else
    n = run(t, V, O, n)
  end
  leave()
  return n
end

-- Liquid's render: the partial sees only what it is given.
function rt.render_tag(O, n, name, params, mode, value, alias)
  local rel, err = resolve("include", name, "")
  if not rel then values.fail(err) end
  local t = load_include(rel)
  alias = alias or match(name, "([^/]*)$"):gsub("%.[^.]*$", "")
  local function once(item, loop)
    local E = {}
    for k, v in pairs(params) do E[k] = v end
    if mode then E[alias] = item end
    if loop then E.forloop = loop end
    local V = new_scope(E)
    enter(rel)
    n = run(t, V, O, n)
    leave()
  end
  if mode == "for" then
    local items = values.items(value)
    local loop = rt.forloop(#items)
    for i = 1, #items do loop.i = i; once(items[i], loop) end
  else
    once(value)
  end
  return n
end

function rt.highlight(code, lang, opts)
  code = gsub(gsub(code, "^[\r\n]+", ""), "[\r\n]+$", "")
  local html
  local hl = publish and publish.highlight
  if hl then html = hl(code, lang) end
  if html then html = gsub(html, "\n$", "") else html = escape(code) end
  if opts.linenos then html = lineno_table(html) end
  return format('<figure class="highlight"><pre><code class="language-%s" data-lang="%s">%s</code></pre></figure>',
    lang, lang, html)
end

function rt.link(path)
  path = match(values.to_s(path), "^%s*(.-)%s*$")
  local doc = page_index()[path]
  if not doc then values.fail("could not find document '" .. path .. "' in tag 'link'") end
  return M.filters.relative_url(doc.url)
end

function rt.post_url(name)
  name = match(values.to_s(name), "^%s*(.-)%s*$")
  local post = find_post(name)
  if not post then values.fail("could not find post '" .. name .. "' in tag 'post_url'") end
  return M.filters.relative_url(post.url)
end

-- The `context` a tag written in Lua receives.
local Context = {}
Context.__index = Context

function Context:get(expr)
  local fn = helpers.env.expression(expr)
  return fn(self.scope)
end
function Context:set(name, value) self.scope[name] = value end
function Context:render(source)
  local t = compile(source, self.name or "tag", 1)
  local out = {}
  local n = run(t, self.scope, out, 0)
  return concat(out, "", 1, n)
end

local function context_of(V, name)
  return setmetatable({ scope = V, site = V.site, page = V.page, name = name }, Context)
end

function rt.tag(name, args, V)
  local out = M.tags[name](args, context_of(V, name))
  if out == nil then return "" end
  return values.to_s(out)
end

function rt.block_tag(name, args, body, V)
  local def = M.tags[name]
  local out = def.block(args, body, context_of(V, name))
  if out == nil then return "" end
  return values.to_s(out)
end

-- Conditions and expressions compiled from text at render time (for
-- where_exp, group_by_exp and Lua tags), cached by text.
local cond_cache, expr_cache = {}, {}

local function compile_snippet(kind, text)
  local tpl = { src = text, name = kind, first_line = 1 }
  local lx = compiler.new_lexer(tpl, text, 1)
  lx.uses = {}
  local code = kind == "condition" and lx:condition() or lx:filtered(rt)
  if not lx:done() then values.fail("unexpected text in expression '" .. text .. "'") end
  local src = "local rt = ... local I, S, T, EQ, CMP, CONTAINS, RANGE, TOS, FL, EMPTY, BLANK = " ..
    "rt.index, rt.to_s, rt.truthy, rt.equal, rt.compare, rt.contains, rt.range, rt.to_s, " ..
    "rt.filters, rt.EMPTY, rt.BLANK return function(V) return " .. code .. " end"
  return load(src, "=" .. kind, "t", {})(rt)
end

local function snippet(cache, kind, text)
  local fn = cache[text]
  if not fn then
    local ok, res = pcall(compile_snippet, kind, text)
    if not ok then
      values.fail("bad " .. kind .. " '" .. text .. "': " ..
        (type(res) == "table" and gsub(res.message, "^[^:]*:%d+:%d+: ", "") or tostring(res)))
    end
    fn = res
    cache[text] = fn
  end
  return fn
end

helpers.env.condition = function(text) return snippet(cond_cache, "condition", text) end
helpers.env.expression = function(text) return snippet(expr_cache, "expression", text) end
helpers.env.scope = function() return setmetatable({}, { __index = state.scope_env or {} }) end

---------------------------------------------------------------------------
-- What templates see

-- site.categories / site.tags in Jekyll's order: as first met going
-- through the posts oldest first, each post's names in its order.
local function ordered_index(site, field)
  local map = site[field]
  if type(map) ~= "table" then return map end
  local posts = site.posts or {}
  local keys, seen = {}, {}
  for i = #posts, 1, -1 do
    local names = posts[i][field]
    if type(names) == "table" then
      for _, name in ipairs(names) do
        if not seen[name] and map[name] ~= nil then seen[name] = true; keys[#keys + 1] = name end
      end
    end
  end
  for _, name in ipairs(values.sorted_keys(map)) do
    if not seen[name] then keys[#keys + 1] = name end
  end
  local view = {}
  for k, v in pairs(map) do view[k] = v end
  return setmetatable(view, { __keys = keys })
end

local function site_view(site)
  local pages = { n = -1 }
  local indexes = {}
  return setmetatable({}, {
    __index = function(_, k)
      if k == "pages" or k == "html_pages" then
        local all = site.pages or {}
        if pages.n ~= #all then
          local list = {}
          for _, p in ipairs(all) do
            if p.kind ~= "post" and (k == "pages" or true) then list[#list + 1] = p end
          end
          pages = { n = #all, list = list }
        end
        return pages.list
      end
      if k == "documents" then return site.posts end
      if k == "categories" or k == "tags" then
        local cached = indexes[k]
        if not cached or cached.map ~= site[k] or cached.n ~= #(site.posts or {}) then
          cached = { map = site[k], n = #(site.posts or {}), view = ordered_index(site, k) }
          indexes[k] = cached
        end
        return cached.view
      end
      local v = site[k]
      if v == nil and type(site.config) == "table" then v = site.config[k] end
      if type(v) == "function" then return nil end
      return v
    end,
  })
end

-- Jekyll's paginator names on publish's paginator.
local PAGINATOR = {
  __index = function(p, k)
    local raw = rawget(p, "_p")
    local v = raw[k]
    if v ~= nil then return v end
    if k == "previous_page" then return raw.page > 1 and raw.page - 1 or nil end
    if k == "next_page" then return raw.page < raw.total_pages and raw.page + 1 or nil end
    if k == "previous_page_path" then return raw.prev_url end
    if k == "next_page_path" then return raw.next_url end
    return nil
  end,
}
local paginators = setmetatable({}, { __mode = "k" })

local function paginator_view(p)
  if type(p) ~= "table" then return p end
  local v = paginators[p]
  if not v then v = setmetatable({ _p = p }, PAGINATOR); paginators[p] = v end
  return v
end

local jekyll_object

local function page_env(page, content, layout)
  local E = {
    site = state.view, page = page, content = content, layout = layout,
    paginator = paginator_view(page.paginator), jekyll = jekyll_object,
  }
  state.scope_env = E
  return E
end

---------------------------------------------------------------------------
-- Layouts

local layout_key_line = require("publish.layouts").key_line

local function no_layout(name)
  return name == nil or name == false or name == "" or name == "none" or name == "null"
end

local function load_layout(name)
  local rel = state.layouts_dir .. "/" .. name .. ".html"
  if find(name, "%.%w+$") and not exists(rel) then rel = state.layouts_dir .. "/" .. name end
  local t = state.cache[rel]
  if t ~= nil then
    if t then read_source(rel) end -- recorded for this page, as in load_include
    if t and t.err then error(t.err, 0) end
    return t
  end
  local text
  if not bad_path(name) then text = read_source(rel) end
  if not text then state.cache[rel] = false; return false end
  local ok, res = pcall(function()
    local meta, body, body_line = {}, text, 1
    if find(text, "^%-%-%-") or find(text, "^\239\187\191%-%-%-") then
      meta, body, body_line = publish.frontmatter(text, rel)
      -- Jekyll's front matter pattern also eats one blank line after the
      -- closing fence.
      local blank = match(body, "^[ \t\r]*\n")
      if blank then body = body:sub(#blank + 1); body_line = (body_line or 1) + 1 end
    end
    local t2 = compile(body, rel, body_line or 1)
    t2.meta = type(meta) == "table" and meta or {}
    t2.layout_name = name
    local parent = t2.meta.layout
    if not no_layout(parent) then
      if type(parent) ~= "string" then
        error({ message = format("%s:%d:1: 'layout' must be a layout name", rel, layout_key_line(text)) }, 0)
      end
      t2.parent = gsub(parent, "%.html$", "")
      t2.parent_line = layout_key_line(text)
    end
    return t2
  end)
  if not ok then
    if type(res) == "string" then res = { message = res } end
    state.cache[rel] = { err = res }
    error(res, 0)
  end
  state.cache[rel] = res
  return res
end

-- The layouts from `name` outwards, each with its `layout` object (its
-- front matter under the inner layouts' keys, as Jekyll merges them).
local function layout_chain(name)
  local chain = state.chains[name]
  if chain then
    for i = 1, #chain do load_layout(chain[i].t.layout_name) end -- recorded for this page
    return chain
  end
  chain = {}
  local seen = {}
  local t = load_layout(name)
  if not t then error("unknown layout '" .. name .. "'", 0) end
  local merged = {}
  while true do
    local layout = {}
    for k, v in pairs(t.meta) do layout[k] = v end
    for k, v in pairs(merged) do layout[k] = v end
    merged = layout
    chain[#chain + 1] = { t = t, layout = layout }
    seen[t.layout_name] = #chain
    local parent = t.parent
    if not parent then break end
    if seen[parent] then
      local names = {}
      for i = seen[parent], #chain do names[#names + 1] = chain[i].t.layout_name end
      names[#names + 1] = parent
      error({ message = format("%s:%d:1: layout cycle: %s", t.name, t.parent_line, concat(names, " -> ")) }, 0)
    end
    local p = load_layout(parent)
    if not p then
      error({ message = format("%s:%d:1: unknown layout '%s'", t.name, t.parent_line, parent) }, 0)
    end
    t = p
  end
  state.chains[name] = chain
  return chain
end

---------------------------------------------------------------------------
-- Rendering

local function render_template(t, E)
  state.stack = {}
  local V = new_scope(E)
  local out = {}
  local n = run(t, V, out, 0)
  return concat(out, "", 1, n)
end

-- Renders template source with `vars` as its variables (tests, plugins).
function M.render_string(src, vars, name)
  local E = {}
  for k, v in pairs(vars or {}) do E[k] = v end
  if E.site == nil then E.site = state.view end
  if E.jekyll == nil then E.jekyll = jekyll_object end
  E.paginator = paginator_view(E.paginator)
  state.scope_env = E
  return render_template(compile(src, name or "template", 1), E)
end

local function is_html(path) return type(path) == "string" and find(path, "%.html?$") ~= nil end


-- The Liquid of a document's body, rendered (then Markdown unless HTML).
local function render_body(doc, src)
  local key = doc.path or doc.url or "page"
  local cached = state.bodies_cache[key]
  if not cached or cached.src ~= src then
    cached = { src = src, t = compile(src, key, doc.body_line or 1) }
    state.bodies_cache[key] = cached
  end
  -- `content` in a body is nil (in Jekyll it is whatever the document
  -- rendered before this one left behind).
  local out = render_template(cached.t, page_env(doc, nil, nil))
  if is_html(doc.path) then return out end
  return helpers.markdown(out)
end

local function wants_liquid(doc)
  local meta = type(doc.meta) == "table" and doc.meta or doc
  return meta.render_with_liquid ~= false
end

local function body_has_liquid(s)
  return type(s) == "string" and find(s, "{[{%%]") ~= nil
end

-- Jekyll's names a post has that publish's model lacks.
local function add_jekyll_fields(post)
  if post.kind == "post" then
    if post.id == nil and type(post.url) == "string" then
      post.id = gsub(gsub(post.url, "/$", ""), "%.html$", "")
    end
    if post.collection == nil then post.collection = "posts" end
  end
  if post.relative_path == nil then post.relative_path = post.path end
  if post.name == nil and type(post.path) == "string" then post.name = match(post.path, "[^/]*$") end
end

local function config_table(site)
  local cfg = type(site.config) == "table" and site.config.liquid
  return type(cfg) == "table" and cfg or {}
end

-- A site read by Jekyll's rules (site.reader, see docs/jekyll.md): the
-- engine says which reader read the site; no guessing from its files.
local function is_jekyll_site(site)
  return type(site.reader) == "table" and site.reader.yaml_11 == true
end

-- A folder: config key `key`, else the first of `names` that exists.
local function folder(cfg, key, ...)
  if type(cfg[key]) == "string" then return (gsub(cfg[key], "/+$", "")) end
  local last
  for i = 1, select("#", ...) do
    local name = select(i, ...)
    if name then
      if exists(name) then return name end
      last = name
    end
  end
  return last
end

function M.setup(site)
  publish = rawget(_G, "publish")
  values.bind(publish)
  helpers.env.publish = publish
  helpers.env.site = site
  helpers.reset()
  state.site = site
  state.source = type(site.source) == "string" and site.source or "."
  state.view = site_view(site)
  local cfg = type(site.config) == "table" and site.config or {}
  local lcfg = config_table(site)
  state.strict = lcfg.strict_variables == true
  if lcfg.bodies ~= nil then state.bodies = lcfg.bodies == true else state.bodies = is_jekyll_site(site) end
  local reader = type(site.reader) == "table" and site.reader or {}
  state.layouts_dir = folder(cfg, "layouts_dir", "_layouts", reader.layouts, "layouts")
  state.includes_dir = folder(cfg, "includes_dir", "_includes", "includes", reader.includes,
    state.layouts_dir)
  state.cache, state.chains, state.bodies_cache = {}, {}, {}
  state.stack, state.by_name, state.by_path = {}, nil, nil
  local env = "development"
  local getenv = os and os.getenv
  if getenv then env = getenv("JEKYLL_ENV") or env end
  if type(cfg.environment) == "string" then env = cfg.environment end
  jekyll_object = { environment = env, version = "4.3.1" }
end

-- Post bodies before the excerpt and feed plugins read post.content.
function M.post(post, site)
  if not state.bodies or not wants_liquid(post) then return end
  if post.template then return end
  local body = post.body
  if not body_has_liquid(body) then return end
  if site then state.site = site end
  add_jekyll_fields(post)
  post.content = render_body(post, body)
end

function M.site(site)
  for _, post in ipairs(site.posts or {}) do add_jekyll_fields(post) end
  for _, page in ipairs(site.pages or {}) do
    if page.kind == "page" then add_jekyll_fields(page) end
  end
end

function M.render(page, site)
  if site then state.site = site end
  local content, rendered = page.content, false
  if page.kind == "page" and wants_liquid(page) then
    if page.template then
      content = render_body(page, page.content or "")
      rendered = true
    elseif state.bodies then
      local body = page.body
      if body_has_liquid(body) then content = render_body(page, body); rendered = true end
    end
    if rendered then page.content = content end
  end
  local layout = page.layout
  if no_layout(layout) then
    if rendered then return content end
    return nil
  end
  if type(layout) ~= "string" then error("'layout' must be a layout name", 0) end
  local chain = layout_chain((gsub(layout, "%.html$", "")))
  for i = 1, #chain do
    content = render_template(chain[i].t, page_env(page, content, chain[i].layout))
  end
  return content
end

return M
