-- The schema of config.yaml and of front matter: every key the engine reads,
-- with its type and default, and the checks that turn a typo or a value of
-- the wrong type into a diagnostic at its line and column instead of a
-- setting silently ignored. Plugins declare their own config keys in their
-- module table (`config = { KEY = DECLARATION }`, see docs/lua-api.md);
-- a site declares its own front-matter rules under `schema:` in config.
-- This module only checks and suggests; it reads no file and fills in no
-- default (site.config stays as written).

local schema = {}

-- A declaration: { type = "string" | "integer" | "number" | "boolean" |
-- "list" | "map" | "date" | "false" | "any" (alternatives joined by "|"),
-- default = value, doc = "one line", items = DECLARATION (lists),
-- keys = { NAME = DECLARATION } (maps; other keys are reported),
-- values = { allowed, ... }, min = number, required = true (site schema),
-- describe = "what it must be" (replaces the type's words in errors),
-- core = true (checked by the C core, which reads it before Lua runs) }.

-- The hooks a plugin may define, in pipeline order (docs/design.md).
schema.HOOKS = { "setup", "post", "document", "site", "render", "output", "finish" }

-- Keys of a plugin table that are not hooks but are understood.
schema.PLUGIN_FIELDS = {
  config = true, document_cache = true, highlight_ahead = true, incremental = true, post_cache = true,
}

local MARKDOWN = {
  type = "map", doc = "Markdown options",
  keys = {
    unsafe = { type = "boolean", default = true, doc = "raw HTML passes through" },
    smart = { type = "boolean", default = false, doc = "curly quotes and dashes" },
    hardbreaks = { type = "boolean", default = false, doc = "a newline is a <br>" },
    extensions = { type = "list", core = true,
                   doc = "GFM extensions to turn on (default: all but tagfilter)" },
  },
}

-- config.yaml keys the engine (C core and engine.lua) reads.
schema.CONFIG = {
  title = { type = "string|number", doc = "the site's name" },
  description = { type = "string", doc = "one line about the site" },
  url = { type = "string", default = "", doc = "https://example.com (no trailing slash)" },
  baseurl = { type = "string", default = "", doc = "a path prefix for every link" },
  language = { type = "string", default = "en", doc = "the site's language (lang attribute)" },
  author = { type = "string|map", doc = "a name, or {name, email, uri}" },
  timezone = { type = "string", default = "UTC", doc = "dates without a zone are read in it" },
  permalink = { type = "string", default = "/:year/:month/:day/:slug/",
                doc = "URL pattern of posts, or pretty, date, ordinal, none" },
  destination = { type = "string", default = "_site", doc = "the output folder" },
  plugins = { type = "list", core = true, doc = "the active plugins, in order" },
  markdown = MARKDOWN,
  slow_seconds = { type = "number", default = 1, min = 0,
                   describe = "a number of seconds",
                   doc = "a document slower to read is named in a warning" },
  allow_outside = { type = "list", core = true,
                    doc = "folders outside the site that symlinks may lead to" },
  schema = { type = "map", doc = "the site's own rules: {posts: {KEY: RULE}, pages: ..., config: ...}",
             keys = {
               posts = { type = "map" }, pages = { type = "map" }, config = { type = "map" },
             } },
}

-- Front-matter keys the engine reads (other keys reach templates untouched).
local NAMES = { type = "list|string|number", items = { type = "string|number" },
                describe = "a list of names or a space-separated string" }
schema.FRONT_MATTER = {
  title = { type = "string|number|date", describe = "a string" },
  date = { type = "date|string", describe = "a date like 2024-06-19 or 2024-06-19 09:30:00 +09:00" },
  categories = NAMES, category = NAMES, tags = NAMES, tag = NAMES,
  -- `published: no` is a string in YAML 1.2: the C core warns about it
  -- (site.c) and the post stays published; other strings are errors.
  published = { type = "boolean|yaml11_boolean", default = true, describe = "true or false" },
  draft = { type = "boolean|yaml11_boolean", default = false, describe = "true or false" },
  layout = { type = "string|false", describe = "a layout name or false" },
  permalink = { type = "string" },
  slug = { type = "string" },
  excerpt = { type = "string" },
  excerpt_separator = { type = "string" },
}

-- Jekyll's documented config keys (its own, and those of the plugins it
-- commonly runs with): in a Jekyll site (_config.yml) they are never
-- "unknown", and their Jekyll types win over ours (`markdown: kramdown`).
local ANY = { type = "any" }
schema.JEKYLL_CONFIG = {}
for name in ([[
  source destination collections_dir plugins_dir layouts_dir data_dir includes_dir sass
  collections safe include exclude keep_files encoding markdown_ext strict_front_matter
  show_drafts limit_posts future unpublished whitelist plugins gems markdown highlighter
  lsi excerpt_separator incremental detach port host baseurl show_dir_listing permalink
  paginate paginate_path timezone quiet verbose defaults liquid kramdown commonmark
  redcarpet url title description author lang locale tagline twitter facebook logo social
  google_site_verification webmaster_verifications feed theme remote_theme livereload
  livereload_port livereload_min_delay livereload_max_delay livereload_ignore open_url
  profile disable_disk_cache webrick ssl_cert ssl_key skip_initial_build
  jekyll-archives jekyll_archives jekyll-mentions jekyll-seo-tag jekyll-feed sitemap
  github repository email name future lang excerpt_length
]]):gmatch("%S+") do schema.JEKYLL_CONFIG[name] = ANY end

---------------------------------------------------------------------------
-- Names

-- Optimal string alignment distance (a swap of two neighbours is one edit:
-- "yaer" is one step from "year"), on bytes, case-insensitive.
function schema.distance(a, b)
  a, b = a:lower(), b:lower()
  local la, lb = #a, #b
  if math.abs(la - lb) > 3 then return 4 end
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    for j = 1, lb do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

-- The candidate nearest to `name` if it is near enough to be a typo of it
-- (one edit per three letters, at most two), else nil. `candidates` is an
-- array or a set (name -> anything); ties go to the first in sorted order.
-- Suggestions are asked for every unknown front-matter key of every post
-- (10,000 posts ask the same few names again and again): the sorted
-- candidates and each name's answer are kept per candidate table, and
-- dropped when the table's size changes.
local nearest_memo = setmetatable({}, { __mode = "k" })

local function sorted_candidates(candidates)
  local list = {}
  if candidates[1] ~= nil then
    for i, c in ipairs(candidates) do list[i] = c end
  else
    for c in pairs(candidates) do list[#list + 1] = c end
  end
  table.sort(list)
  return list
end

function schema.nearest(name, candidates)
  local count = 0
  for _ in pairs(candidates) do count = count + 1 end
  local memo = nearest_memo[candidates]
  if not memo or memo.count ~= count then
    memo = { count = count, list = sorted_candidates(candidates), answers = {} }
    nearest_memo[candidates] = memo
  end
  local known = memo.answers[name]
  if known ~= nil then return known or nil end
  local best, best_d = nil, math.min(2, math.max(1, #name // 3)) + 1
  for _, c in ipairs(memo.list) do
    -- The distance is at least the difference in length.
    if c ~= name and math.abs(#c - #name) < best_d then
      local d = schema.distance(name, c)
      if d < best_d then best, best_d = c, d end
    end
  end
  memo.answers[name] = best or false
  return best
end

-- Whether an unknown front-matter key is let through without a warning:
-- it is no misspelling of a known one (`image`, `feature_text`). Asked for
-- every such key of every document: answered once per name (the
-- engine's keys do not change).
local quiet_names = {}
function schema.quiet_front_matter_key(name)
  local quiet = quiet_names[name]
  if quiet == nil then
    quiet = schema.nearest(tostring(name), schema.FRONT_MATTER) == nil
    quiet_names[name] = quiet
  end
  return quiet
end

-- "; did you mean 'x'?" or "".
function schema.suggest(name, candidates)
  local near = schema.nearest(name, candidates)
  return near and ("; did you mean '" .. near .. "'?") or ""
end

---------------------------------------------------------------------------
-- Types

local function is_date(v) return type(v) == "table" and publish.date.is(v) end

-- YAML lists and maps are both Lua tables: a table with [1] is a list; an
-- empty one is either.
local function is_list(v) return type(v) == "table" and not is_date(v) and (v[1] ~= nil or next(v) == nil) end
local function is_map(v) return type(v) == "table" and not is_date(v) and (v[1] == nil) end

local CHECKS = {
  string = function(v) return type(v) == "string" end,
  integer = function(v) return math.type(v) == "integer" end,
  number = function(v) return type(v) == "number" end,
  boolean = function(v) return type(v) == "boolean" end,
  list = is_list, map = is_map, date = is_date,
  ["false"] = function(v) return v == false end,
  any = function() return true end,
  yaml11_boolean = function(v)
    return type(v) == "string" and ({ yes = true, no = true, on = true, off = true, y = true,
                                      n = true })[v:lower()] ~= nil
  end,
}

local WORDS = {
  string = "a string", integer = "an integer", number = "a number", boolean = "true or false",
  list = "a list", map = "a mapping", date = "a date", ["false"] = "false", any = "anything",
}

-- "string|number" -> {"string", "number"}, split once per spelling: every
-- key of every post is matched against its declaration's type.
local alternatives_of = {}
local function alternatives(type_spec)
  local out = alternatives_of[type_spec]
  if out then return out end
  out = {}
  for t in type_spec:gmatch("[^|]+") do out[#out + 1] = t end
  alternatives_of[type_spec] = out
  return out
end

function schema.matches(decl, v)
  local types = alternatives(decl.type or "any")
  for i = 1, #types do
    local t = types[i]
    local check = CHECKS[t]
    if not check then error("unknown type '" .. t .. "' in a schema declaration", 0) end
    if check(v) then return true end
  end
  return false
end

local function describe(decl)
  if decl.describe then return decl.describe end
  local words = {}
  for _, t in ipairs(alternatives(decl.type or "any")) do words[#words + 1] = WORDS[t] or t end
  return table.concat(words, " or ")
end

-- How a wrong value is shown in a message: scalars as written, tables by kind.
function schema.show(v)
  if is_date(v) then return "a date" end
  if type(v) == "table" then return (v[1] ~= nil) and "a list" or "a mapping" end
  if type(v) == "string" then
    if #v > 40 then v = publish.utf8.truncate(v, 37) .. "..." end
    return "'" .. v .. "'"
  end
  return tostring(v)
end

---------------------------------------------------------------------------
-- Checking

-- Checks `value` against `decl`; `where` has path (the file), name (the
-- dotted key for messages), pos (the position entry from the C core:
-- {value line, value col, key line, key col, sub = ...}) and
-- report(level, path, line, col, message). Returns true when it is valid.
-- True when `value` passes `decl` with nothing more to look at (no allowed
-- values, minimum or keys; a list's items, if declared, each plainly
-- passing: a post's categories and tags): the common case, decided without
-- building a place for a message (every key of every post comes here).
-- Stricter than schema.check at worst (it walks up to #value, check's
-- ipairs to the first nil), never looser.
local function plainly_ok(decl, value)
  if value == nil or decl.values or decl.min or decl.keys or not schema.matches(decl, value) then
    return false
  end
  local items = decl.items
  if items and is_list(value) then
    for i = 1, #value do
      if not plainly_ok(items, value[i]) then return false end
    end
  end
  return true
end

-- decl -> a function(v) answering plainly_ok(decl, v), made once per
-- declaration (every key of every document asks: looking up the type's
-- alternatives and checks each time was most of a build's schema work),
-- or false for one plainly_ok must judge (allowed values, a minimum, keys,
-- a type no check knows: schema.matches raises for that).
local plain_fns = setmetatable({}, { __mode = "k" })
local function plain_fn(decl)
  local fn = plain_fns[decl]
  if fn ~= nil then return fn end
  fn = false
  local types = alternatives(decl.type or "any")
  -- No alternative at all ("" or "|") is for plainly_ok to report.
  local checks, known = {}, #types > 0 and not (decl.values or decl.min or decl.keys)
  for i = 1, #types do
    checks[i] = CHECKS[types[i]]
    known = known and checks[i] ~= nil
  end
  local items = decl.items and plain_fn(decl.items)
  if known and (items or not decl.items) then
    local first, n = checks[1], #checks
    fn = function(v)
      if v == nil then return false end
      if not first(v) then
        local ok = false
        for i = 2, n do
          if checks[i](v) then ok = true; break end
        end
        if not ok then return false end
      end
      if items and is_list(v) then
        for i = 1, #v do
          if not items(v[i]) then return false end
        end
      end
      return true
    end
  end
  plain_fns[decl] = fn
  return fn
end

function schema.check(value, decl, where)
  local pos = where.pos or {}
  local function fail(message)
    where.report("error", where.path, pos[1] or 1, pos[2] or 1, message)
    return false
  end
  if value == nil then
    if decl.required then
      return fail("'" .. where.name .. "' is required")
    end
    return true
  end
  if not schema.matches(decl, value) then
    return fail("'" .. where.name .. "' must be " .. describe(decl) .. ", not " .. schema.show(value))
  end
  if decl.values then
    local ok = false
    for _, allowed in ipairs(decl.values) do ok = ok or allowed == value end
    if not ok then
      local shown = {}
      for i, allowed in ipairs(decl.values) do shown[i] = schema.show(allowed) end
      return fail("'" .. where.name .. "' must be one of " .. table.concat(shown, ", ") ..
        ", not " .. schema.show(value) .. schema.suggest(tostring(value), decl.values))
    end
  end
  if decl.min and type(value) == "number" and value < decl.min then
    return fail("'" .. where.name .. "' must be at least " .. decl.min .. ", not " .. value)
  end
  local ok = true
  local sub = pos.sub or {}
  if decl.items and is_list(value) then
    for i, item in ipairs(value) do
      if not plainly_ok(decl.items, item) then
        ok = schema.check(item, decl.items, {
          path = where.path, name = where.name .. "[" .. i .. "]", pos = sub[i] or pos,
          report = where.report,
        }) and ok
      end
    end
  end
  if decl.keys and is_map(value) then
    ok = schema.check_keys(value, decl.keys, where, sub) and ok
  end
  return ok
end

-- The keys of map `value` against `keys` (name -> declaration): each known
-- one checked, each unknown one a warning (with the nearest known name),
-- unless where.quiet_unknown(name) says it is fine.
-- Whether check_keys would have nothing to say: each key known and its
-- value plainly passing, or unknown and let through, and no required key
-- absent. Decided without sorting or building anything (every document of
-- a build comes through here, and nearly all of them pass).
local function keys_plainly_ok(value, keys, where)
  for name, v in pairs(value) do
    local decl = keys[name]
    if decl then
      if not decl.core then
        local plain = plain_fn(decl)
        if plain then
          if not plain(v) then return false end
        elseif not plainly_ok(decl, v) then
          return false
        end
      end
    elseif not (where.quiet_unknown and where.quiet_unknown(name, keys)) then
      return false
    end
  end
  for name, decl in pairs(keys) do
    if decl.required and value[name] == nil then return false end
  end
  return true
end

function schema.check_keys(value, keys, where, sub)
  if keys_plainly_ok(value, keys, where) then return true end
  local ok = true
  local names = {}
  for name in pairs(value) do names[#names + 1] = name end
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  local prefix = where.prefix or (where.name and (where.name .. ".")) or ""
  for _, name in ipairs(names) do
    local decl = keys[name]
    local pos = sub[name] or {}
    if decl then
      if not decl.core and not plainly_ok(decl, value[name]) then
        ok = schema.check(value[name], decl, {
          path = where.path, name = prefix .. name, pos = pos, report = where.report,
        }) and ok
      end
    elseif not (where.quiet_unknown and where.quiet_unknown(name, keys)) then
      local near = schema.nearest(tostring(name), keys)
      local hint = near and ("; did you mean '" .. prefix .. near .. "'?") or where.unknown_hint or ""
      where.report("warning", where.path, pos[3] or pos[1] or 1, pos[4] or pos[2] or 1,
        "unknown key '" .. prefix .. tostring(name) .. "'" .. hint)
    end
  end
  -- Required keys that are absent.
  local wanted = {}
  for name, decl in pairs(keys) do
    if decl.required and value[name] == nil then wanted[#wanted + 1] = name end
  end
  table.sort(wanted)
  for _, name in ipairs(wanted) do
    where.report("error", where.path, where.missing_line or 1, 1,
      "'" .. prefix .. name .. "' is required" .. (where.missing_what or ""))
    ok = false
  end
  return ok
end

-- The rules of a site schema entry (`schema: {posts: {image: RULE}}`) as
-- declarations. A rule is a type name ("string"), or a map with type,
-- required, values, items, min. A malformed rule is reported at its line
-- and left out. Returns name -> declaration.
function schema.site_rules(rules, pos, report, path, section)
  local out = {}
  local sub = pos and pos.sub or {}
  for name, rule in pairs(rules) do
    local at = sub[name] or {}
    local decl = type(rule) == "string" and { type = rule } or rule
    local bad
    if type(decl) ~= "table" or is_list(decl) and next(decl) ~= nil then
      bad = "must be a type name or a mapping like {type: string, required: true}"
    elseif decl.type ~= nil and (type(decl.type) ~= "string" or not decl.type:find("[^|]")) then
      bad = "'type' must be a type name like string, integer, list"
    else
      for t in (decl.type or "any"):gmatch("[^|]+") do
        if not CHECKS[t] then
          bad = "unknown type '" .. t .. "'" .. schema.suggest(t, CHECKS) ..
            " (known: string, integer, number, boolean, list, map, date, any)"
          break
        end
      end
      for key in pairs(decl) do
        if not bad and not ({ type = true, required = true, values = true, items = true, min = true,
                               describe = true, default = true, doc = true })[key] then
          bad = "unknown rule '" .. tostring(key) .. "'" ..
            schema.suggest(tostring(key), { "type", "required", "values", "items", "min" })
        end
      end
      if not bad and decl.values ~= nil and not is_list(decl.values) then
        bad = "'values' must be a list of allowed values"
      end
      if not bad and decl.items ~= nil then
        local t = type(decl.items) == "string" and decl.items or (type(decl.items) == "table" and decl.items.type)
        if type(t) ~= "string" or not CHECKS[t] then bad = "'items' must be a type name"
        else decl = setmetatable({ items = { type = t } }, { __index = decl }) end
      end
    end
    if bad then
      report("error", path, at[3] or at[1] or 1, at[4] or at[2] or 1,
        "schema rule '" .. section .. "." .. tostring(name) .. "': " .. bad)
    else
      out[name] = decl
    end
  end
  return out
end

-- A names value as front matter gives it (categories, tags): "News",
-- "dev notes" or { "a", "b" } -> array of names, de-duplicated. The loader
-- and site:new_post both read categories and tags through this, so a new
-- post's lists are the ones it will have when it is loaded again.
-- (`add_words` is not a closure made per call: every post asks twice.)
local function add_words(out, seen, s)
  for word in s:gmatch("%S+") do
    if not seen[word] then seen[word] = true; out[#out + 1] = word end
  end
end

function schema.name_list(...)
  local out, seen = {}, {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    local t = type(v)
    if t == "table" then
      for _, item in ipairs(v) do
        local kind = type(item)
        if kind == "string" then
          if not seen[item] then seen[item] = true; out[#out + 1] = item end
        elseif kind == "number" then
          add_words(out, seen, tostring(item))
        end
      end
    elseif t == "string" then
      add_words(out, seen, v)
    elseif t == "number" then
      add_words(out, seen, tostring(v))
    end
  end
  return out
end

return schema
