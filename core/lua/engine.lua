-- The build pipeline's Lua half: turns the documents the C core read and
-- rendered into posts and pages, loads the plugins in config order and runs
-- their hooks, and hands every output page's bytes back to C to write.
-- It does no file I/O of its own and knows nothing of threads: reading,
-- front matter, Markdown and writing are the C core's.

local schema = require "publish.schema"
local links = require "publish.links"
local deps = require "publish.deps"
local snapshots = require "publish.snapshots"
local link_checker -- `publish check`: the links of the rendered pages

local engine = {}

-- The runtime's host table (core/lua/sandbox.c), handed to this chunk
-- only: traceback, getenv, stderr, and begin/finish around every plugin
-- call (the running plugin for capabilities, and the per-call limits).
local host = ...

local internal -- ctx.internal: this run's C functions (docs/internals.md lists them)

local PERMALINK_STYLES = {
  date = "/:categories/:year/:month/:day/:title:output_ext",
  pretty = "/:categories/:year/:month/:day/:title/",
  ordinal = "/:categories/:year/:y_day/:title:output_ext",
  weekdate = "/:categories/:year/W:week/:short_day/:title:output_ext",
  none = "/:categories/:title:output_ext",
}

-- The rules of the reader that read this site (site.c: native or Jekyll);
-- set by new_site.
local reader = {}
local layout_names -- see layout_exists

---------------------------------------------------------------------------
-- Reporting

-- The position of a front matter key, for diagnostics about its value.
local function key_position(doc, key)
  local pos = doc and doc.positions and doc.positions[key]
  if pos then return pos[1], pos[2] end
  return 1, 1
end

-- While report() runs: the key under which its error is said once per
-- run, passed to C so that render workers agree on it (core/render.h).
local once_key

local function fail_at(doc, key, message)
  local line, col = key_position(doc, key)
  internal.error(doc.path, line, col, message, once_key)
end

-- Where a plugin called site:add_page (its file and line), so a problem
-- with a page no document stands behind still has a place. Kept beside
-- the pages, not in them: a page is the plugin's plain data.
local getinfo = host.getinfo
local added_at = setmetatable({}, { __mode = "k" })
local function caller_position(level)
  local info = getinfo(level + 1, "Sl")
  if info and info.currentline and info.currentline > 0 and info.source:sub(1, 1) == "@" then
    return { info.short_src, info.currentline }
  end
end

-- A problem with output page `page` (its document `doc`): at the
-- document's `key` when a document stands behind it, else where a plugin
-- added it.
local function fail_page(page, doc, key, message)
  if doc.path then return fail_at(doc, key, message) end
  local at = added_at[page]
  if at then
    internal.error(at[1], at[2], 1, "page '" .. tostring(page.url) .. "': " .. message)
  else
    internal.error("", 0, 0, "page '" .. tostring(page.url) .. "' (added by a plugin): " .. message)
  end
end

-- How a message names an output page: its source file, or the plugin
-- line that added it.
local function page_origin(page)
  if page.path then return "'" .. page.path .. "'" end
  local at = added_at[page]
  if at then return "page '" .. page.url .. "' added at " .. at[1] .. ":" .. at[2] end
  return "page '" .. page.url .. "'"
end

-- Traceback frames inside this file say nothing to a plugin author; for an
-- error in a layout only the layout frames (includes) say something.
local function trim_traceback(tb, only)
  local kept = {}
  for line in tb:gmatch("[^\n]+") do
    local other_file = only and line ~= "stack traceback:" and not line:find(only, 1, true)
    if not other_file and not line:find("core/lua/engine.lua", 1, true) and not line:find("[C]: in ?", 1, true)
       and not line:find("in function 'xpcall'", 1, true)
       and not line:find("%(...tail calls...%)") then
      kept[#kept + 1] = line
    end
  end
  if #kept <= 1 then return "" end
  return "\n" .. table.concat(kept, "\n")
end

local function traceback_handler(err)
  if type(err) == "table" then return err end
  return { message = tostring(err), traceback = host.traceback("", 2) }
end

-- Turns an error raised by a plugin or template into one diagnostic.
-- "FILE:LINE:COL: msg" is a located error (templates); "FILE:LINE: msg" is
-- a Lua runtime error (shown with its traceback); anything else is about
-- the page being processed.
local reported = {}

local report_once -- the reporting itself, below

local function report(err, doc, hook_name, plugin_name, at)
  local message = err.message
  if type(message) ~= "string" then
    message = type(err) == "table" and "(error object is a table value)" or tostring(err)
  end
  local path, line, col, rest = message:match("^([^:\n]+):(%d+):(%d+): (.*)$")
  local lua_path, lua_line, lua_rest
  if not path then lua_path, lua_line, lua_rest = message:match("^([^:\n]+):(%d+): (.*)$") end
  -- A broken layout, or a plugin bug, fails every page it meets: say it
  -- once (naming the first page) rather than once per page.
  local key = message .. "\0" .. (doc and doc.path or "")
  if (path or lua_path) and not (path or lua_path):find("^posts/") then key = message end
  if reported[key] then return end -- the build has failed already
  reported[key] = true
  once_key = key
  report_once(err, doc, hook_name, plugin_name, at, message, key, path, line, col, rest,
    lua_path, lua_line, lua_rest)
  once_key = nil
end

function report_once(err, doc, hook_name, plugin_name, at, message, key, path, line, col, rest,
                     lua_path, lua_line, lua_rest)
  local tb = err.traceback and trim_traceback(err.traceback,
    (path or message):match("^layouts/") and "layouts/" or nil) or ""
  if path then
    internal.error(path, tonumber(line), tonumber(col), (rest:gsub("^error: ", "")), key)
    return
  end
  if lua_path then
    local where = plugin_name and (" (in '" .. hook_name .. "' of plugin '" .. plugin_name .. "'") or ""
    if where ~= "" then
      where = where .. (at and (", at " .. at .. ")") or doc and doc.path and (", on '" .. doc.path .. "')") or ")")
    end
    internal.error(lua_path, tonumber(lua_line), 1, lua_rest .. where .. tb, key)
    return
  end
  if doc and doc.path then
    local key_name = err.key or (message:find("layout", 1, true) and "layout") or nil
    fail_at(doc, key_name, message)
  elseif doc and doc.url then
    internal.error("", 0, 0, "page '" .. doc.url .. "': " .. message .. tb, key)
  else
    internal.error(plugin_name and ("plugins/" .. plugin_name .. ".lua") or "", 0, 0, message .. tb, key)
  end
end

-- config.yaml (or Jekyll's _config.yml) as a document, for diagnostics.
local config_doc = { path = "config.yaml" }
local ctx_bundled_plugins = {} -- names of the plugins built into the binary

-- A problem with a config key, reported at that key's value.
local function config_error(key, message)
  fail_at(config_doc, key, message)
end

---------------------------------------------------------------------------
-- Plugins

-- Calls fn(...) as plugin `name`: under its capabilities and the per-call
-- limits. Returns xpcall's results; a limit exceeded replaces an error
-- that says less ("not enough memory").
local function call_plugin(name, fn, ...)
  host.begin(name)
  local ok, result = xpcall(fn, traceback_handler, ...)
  local limit = host.finish()
  if not ok and limit and type(result) ~= "table" then result = { message = limit } end
  return ok, result
end

-- A plugins entry that is a map, {name: gallery, allow: [exec, ...]}:
-- grants the capabilities and returns the name; nil when reported. Any
-- other entry is returned as it is.
local function plugin_entry(entry, key)
  if type(entry) ~= "table" or entry[1] ~= nil then return entry end
  local name, allow = entry.name, entry.allow
  for k in pairs(entry) do
    if k ~= "name" and k ~= "allow" then
      config_error(key, "unknown key '" .. tostring(k) .. "' in a plugins entry (name, allow)")
      return nil
    end
  end
  if type(name) ~= "string" then
    config_error(key, "a plugins entry needs a 'name'")
    return nil
  end
  if allow ~= nil and (type(allow) ~= "table" or (#allow == 0 and next(allow) ~= nil)) then
    config_error(key, "'allow' of plugin '" .. name .. "' must be a list of capabilities")
    return nil
  end
  for _, capability in ipairs(allow or {}) do
    local ok, err = host.grant(name, tostring(capability))
    if not ok then
      config_error(key, err .. " for plugin '" .. name .. "'")
      return nil
    end
  end
  return name
end

-- The plugin names to load: the reader's base plugins, then those the
-- config lists (Jekyll also reads the older `gems:`), each once.
local function plugin_names(site)
  local names, seen = {}, {}
  for _, name in ipairs(reader.base_plugins or {}) do
    seen[name] = true
    names[#names + 1] = { name = name }
  end
  for _, key in ipairs(reader.plugin_keys or { "plugins" }) do
    local listed = site.config[key]
    if listed ~= nil then
      if type(listed) ~= "table" or (#listed == 0 and next(listed) ~= nil) then
        config_error(key, "'" .. key .. "' must be a list of plugin names")
        return nil
      end
      for i, item in ipairs(listed) do
        local name = plugin_entry(item, key)
        if name ~= nil and not seen[name] then
          seen[name] = true
          names[#names + 1] = { name = name, key = key, index = i }
        end
      end
    end
  end
  return names
end

local HOOK_SET = {}
for _, hook in ipairs(schema.HOOKS) do HOOK_SET[hook] = true end

-- A plugin table may hold helpers besides its hooks (other plugins call
-- them), but a function named like a hook with a typo (`posts`, `Render`)
-- would silently never run: that is an error. `config` must be a table of
-- key declarations.
local function check_plugin_table(name, mod)
  local where = "plugins/" .. name .. ".lua"
  local ok = true
  local keys = {}
  for key in pairs(mod) do
    if type(key) == "string" then keys[#keys + 1] = key end
  end
  table.sort(keys)
  for _, key in ipairs(keys) do
    local near = not HOOK_SET[key] and not schema.PLUGIN_FIELDS[key] and schema.nearest(key, schema.HOOKS)
    if near and type(mod[key]) == "function" then
      local info = getinfo(mod[key], "S")
      local line = info and info.linedefined > 0 and info.linedefined or 0
      internal.error(where, line, line > 0 and 1 or 0,
        "'" .. key .. "' is not a hook; did you mean '" .. near .. "'?")
      ok = false
    elseif HOOK_SET[key] and type(mod[key]) ~= "function" then
      internal.error(where, 0, 0, "hook '" .. key .. "' must be a function, not " .. type(mod[key]))
      ok = false
    end
  end
  local decls = mod.config
  if decls ~= nil then
    if type(decls) ~= "table" then
      internal.error(where, 0, 0, "'config' must be a table of config key declarations")
      return false
    end
    for key, decl in pairs(decls) do
      local good, err = pcall(schema.matches, type(decl) == "table" and decl or { type = "?" }, nil)
      if type(decl) ~= "table" or not good then
        internal.error(where, 0, 0, "config key '" .. tostring(key) .. "': " ..
          (good and "a declaration must be a table like { type = \"integer\", default = 10 }" or err))
        ok = false
      end
    end
  end
  return ok
end

local function load_plugins(site)
  local names = plugin_names(site)
  if not names then return nil end
  local plugins = {}
  local bundled = {}
  for _, known in ipairs(ctx_bundled_plugins) do bundled[known] = true end
  for _, entry in ipairs(names) do
    local name, key = entry.name, entry.key or "plugins"
    if type(name) ~= "string" then
      local what = type(name) == "table" and (#name > 0 and "list" or "mapping") or type(name)
      config_error(key, "'" .. key .. "' item " .. entry.index .. " must be a plugin name, not a " .. what)
    elseif not name:match("^[%w_%-%.]+$") then
      config_error(key, "bad plugin name '" .. name .. "'")
    elseif not reader.ruby_plugins and not bundled[name]
        and not publish.fs.exists("plugins/" .. name:gsub("%.", "/") .. ".lua") then
      -- require's own message lists Lua's whole search path: say where a
      -- plugin can be, and the nearest name there is.
      local at = config_doc.positions and config_doc.positions[key]
      local pos = at and at.sub and at.sub[entry.index] or {}
      local known = {}
      for k in pairs(bundled) do known[#known + 1] = k end
      for _, file in ipairs(publish.fs.list("plugins") or {}) do
        if file:match("%.lua$") then known[#known + 1] = file:gsub("%.lua$", "") end
      end
      internal.error(config_doc.path, pos[1] or 1, pos[2] or 1, "no plugin '" .. name ..
        "' (plugins/ or bundled)" .. schema.suggest(name, known))
      plugins.incomplete = true
    else
      local ok, mod = call_plugin(name, require, name)
      local missing = not ok and type(mod) == "table" and type(mod.message) == "string"
        and mod.message:find("module '" .. name .. "' not found", 1, true) == 1
      if missing and reader.ruby_plugins then
        -- A Jekyll site names Ruby gems; the common ones have Lua
        -- equivalents of the same name, the rest cannot run here.
        local line, col = key_position(config_doc, entry.key)
        internal.warn(config_doc.path, line, col, "Ruby plugin '" .. name
          .. "' ignored: publish runs Lua plugins; see docs/jekyll.md")
      elseif not ok then
        report(mod, nil, "load", name)
      elseif type(mod) ~= "table" then
        internal.error("plugins/" .. name .. ".lua", 0, 0, "plugin '" .. name .. "' must return a table of hooks")
      elseif check_plugin_table(name, mod) then
        plugins[#plugins + 1] = { name = name, hooks = mod }
      else
        plugins.incomplete = true
      end
    end
  end
  return plugins
end

---------------------------------------------------------------------------
-- Config and front matter against the schema (core/lua/schema.lua)

local function report_level(level, path, line, col, message)
  if level == "error" then internal.error(path, line, col, message)
  else internal.warn(path, line, col, message) end
end

-- The site's own rules (config `schema:`), by section: posts, pages,
-- config. Returns them and false when one was malformed (reported).
local function site_rules(config)
  local rules, ok = {}, true
  local declared = config.schema
  local at = config_doc.positions and config_doc.positions.schema
  if type(declared) ~= "table" then return rules, ok end
  local function report_rule(...)
    ok = false
    report_level(...)
  end
  for _, section in ipairs({ "posts", "pages", "config" }) do
    if type(declared[section]) == "table" then
      local pos = at and at.sub and at.sub[section]
      rules[section] = schema.site_rules(declared[section], pos, report_rule, config_doc.path,
        section)
    end
  end
  return rules, ok
end

-- Every config key: the engine's, the active plugins' (their `config`
-- table), the site's own (schema.config); in a Jekyll site Jekyll's keys.
-- `complete` is false when a plugin failed to load (its keys are unknown,
-- so nothing is called unknown).
local function check_config(site, plugins, complete, rules)
  local keys = {}
  for name, decl in pairs(schema.CONFIG) do keys[name] = decl end
  local jekyll = config_doc.path == "_config.yml"
  if jekyll then
    for name, decl in pairs(schema.JEKYLL_CONFIG) do keys[name] = decl end
  end
  for _, p in ipairs(plugins) do
    for name, decl in pairs(p.hooks.config or {}) do
      if keys[name] == nil then keys[name] = decl end
    end
  end
  for name, decl in pairs(rules.config or {}) do keys[name] = decl end
  return schema.check_keys(site.config, keys, {
    path = config_doc.path, prefix = "", report = report_level,
    unknown_hint = " (no plugin reads it; declare a key of your own under 'schema: {config: ...}')",
    -- A Jekyll site carries many keys for its theme: only a near miss of
    -- a known key is worth a word there.
    quiet_unknown = function(name)
      return not complete or (jekyll and schema.nearest(tostring(name), keys) == nil)
    end,
  }, config_doc.positions or {})
end

-- The front-matter keys the engine reads, then the site's rules for this
-- kind of document. Returns false when the document must be left out.
-- An unknown front-matter key is a template's own unless it looks like a
-- misspelt key of the engine's.
local quiet_front_matter_key = schema.quiet_front_matter_key

local function check_front_matter(doc, rules)
  local where = {
    path = doc.path, prefix = "", report = report_level, missing_line = 1,
    quiet_unknown = quiet_front_matter_key,
  }
  local ok = schema.check_keys(doc.meta, schema.FRONT_MATTER, where, doc.positions or {})
  local own = rules[doc.kind == "post" and "posts" or "pages"]
  if own then
    local strict = {
      path = doc.path, prefix = "", report = report_level, missing_line = 1,
      missing_what = " (schema." .. (doc.kind == "post" and "posts" or "pages") .. ")",
      quiet_unknown = function() return true end,
    }
    ok = schema.check_keys(doc.meta, own, strict, doc.positions or {}) and ok
  end
  return ok
end

-- PUBLISH_TIMINGS=1 prints where a build spends its time (for bench/).
local timings = host.getenv("PUBLISH_TIMINGS") and {} or nil

-- How run_hook treats each hook; a field left out is false:
--   stop_on_error   the first hook that raises ends the run (the page or
--                   post is abandoned); otherwise every plugin's hook runs
--                   and each error is reported
--   stop_on_string  the first string a hook returns is the result (render)
--   replace_arg     a string a hook returns replaces argument N for the
--                   hooks after it; the last one is the result (output)
--   drop_on_false   a hook returning false ends the run, result false (post)
--   time            "each": one timing per call; any other string: the
--                   total of the calls, kept in timings[time]
--   call            how to call a hook (default call_plugin)
--   at              at(doc, ...) -> the position an error names, or nil
local HOOK_POLICY = {
  setup = { time = "each" },
  site = { time = "each" },
  finish = { time = "each" },
  post = { stop_on_error = true, drop_on_false = true },
  render = { stop_on_error = true, stop_on_string = true },
  output = { stop_on_error = true, replace_arg = 2 },
  document = {
    stop_on_error = true, time = "document",
    at = function(doc, tree)
      local line, col = internal.document_at(tree)
      return line and (doc.path .. ":" .. line .. ":" .. col)
    end,
  },
}

-- Calls hook `hook` of every plugin that has it, in order, under
-- HOOK_POLICY[hook]; an error is reported against `doc`. Returns ok (false
-- when a hook raised: already reported) and the result the policy names.
local function run_hook(plugins, hook, doc, ...)
  local policy = HOOK_POLICY[hook]
  local call = policy.call or call_plugin
  local args = policy.replace_arg and table.pack(...)
  local ok_all, result = true, nil
  for _, p in ipairs(plugins) do
    local fn = p.hooks[hook]
    if fn then
      local t0 = policy.time and timings and internal.clock()
      local ok, value
      if args then
        ok, value = call(p.name, fn, table.unpack(args, 1, args.n))
      else
        ok, value = call(p.name, fn, ...)
      end
      if t0 then
        if policy.time == "each" then
          timings[#timings + 1] = string.format("%s.%s %.3f", p.name, hook, internal.clock() - t0)
        else
          timings[policy.time] = (timings[policy.time] or 0) + internal.clock() - t0
        end
      end
      if not ok then
        report(value, doc, hook, p.name, policy.at and policy.at(doc, ...))
        if policy.stop_on_error then return false end
        ok_all = false
      elseif policy.drop_on_false and value == false then
        return true, false
      elseif type(value) == "string" then
        if policy.stop_on_string then return true, value end
        if args then args[policy.replace_arg] = value end
      end
    end
  end
  if args then result = args[policy.replace_arg] end
  return ok_all, result
end

---------------------------------------------------------------------------
-- Posts and pages

local name_list = schema.name_list

local function two(n) return string.format("%02d", n) end

-- Permalink tokens: each computes its text for one post, only when the
-- pattern uses it (this runs for every post of a large site).
-- Jekyll's `:title`: the name with every run of characters other than
-- letters, digits (any script) and . _ ~ ! $ & ' ( ) + , ; = @ made one
-- "-", case kept ("c#sharp" -> "c-sharp", "a+b" stays).
local function pretty_slug(s)
  s = s:gsub("[^%w%.%_~!%$&'%(%)%+,;=@\128-\255]+", "-")
  return (s:gsub("^%-+", ""):gsub("%-+$", ""))
end

local function date_fmt(fmt) return function(p) return publish.date.format(p.date, fmt) end end

-- The categories in a URL: slugs on a native site; on a Jekyll site
-- lowercased and otherwise kept, as Jekyll does (reader.url_categories).
local function url_categories(p, slugged)
  local cats, seen = {}, {}
  for _, c in ipairs(p.categories) do
    local part = (slugged or reader.slug_categories) and publish.slugify(c) or c:lower()
    if part ~= "" and not seen[part] then seen[part] = true; cats[#cats + 1] = part end
  end
  return table.concat(cats, "/")
end

-- Every token Jekyll knows for posts, plus :slug.
local TOKENS = {
  year = function(p) return tostring(p.date.year) end,
  month = function(p) return two(p.date.month) end,
  day = function(p) return two(p.date.day) end,
  i_month = function(p) return tostring(p.date.month) end,
  i_day = function(p) return tostring(p.date.day) end,
  short_year = function(p) return two(p.date.year % 100) end,
  short_month = date_fmt("%b"),
  long_month = date_fmt("%B"),
  short_day = date_fmt("%a"),
  long_day = date_fmt("%A"),
  week = date_fmt("%V"),
  w_year = date_fmt("%G"),
  w_day = date_fmt("%u"),
  hour = function(p) return two(p.date.hour) end,
  minute = function(p) return two(p.date.min) end,
  second = function(p) return two(p.date.sec) end,
  slug = function(p) return p.slug end,
  title = function(p) return reader.pretty_titles and pretty_slug(p.slug) or p.slug end,
  name = function(p) return p.slug end,
  y_day = function(p) return publish.date.format(p.date, "%j") end,
  categories = function(p) return url_categories(p) end,
  slugified_categories = function(p) return url_categories(p, true) end,
  output_ext = function(p) return p.output_ext or ".html" end,
  collection = function() return "posts" end,
}

-- The first token of `pattern` that is not a permalink token, or nil.
local function unknown_token(pattern)
  for token in pattern:gmatch(":([%a_]+)") do
    if not TOKENS[token] then return token end
  end
  return nil
end

-- A pattern split once into its text and its tokens' functions, in order
-- ("/:year/:slug/" -> {"/", TOKENS.year, "/", TOKENS.slug, "/"}): the
-- site's pattern is expanded for every post.
local permalink_parts = {}
local function split_permalink(pattern)
  local parts = permalink_parts[pattern]
  if parts then return parts end
  parts = {}
  local at = 1
  for first, token, after in pattern:gmatch("():([%a_]+)()") do
    if first > at then parts[#parts + 1] = pattern:sub(at, first - 1) end
    parts[#parts + 1] = TOKENS[token]
    at = after
  end
  if at <= #pattern then parts[#parts + 1] = pattern:sub(at) end
  permalink_parts[pattern] = parts
  return parts
end

local function expand_permalink(pattern, post)
  local parts = split_permalink(pattern)
  local out = {}
  for i = 1, #parts do
    local part = parts[i]
    out[i] = type(part) == "function" and part(post) or part
  end
  local url = table.concat(out)
  if url:find("//", 1, true) then url = url:gsub("//+", "/") end
  return url
end

-- "/a/b/" -> "a/b/index.html"; "/feed.xml" -> "feed.xml"; "/a" -> "a/index.html".
-- A URL names a file only when it ends in a file type a web server knows;
-- "/2024/release-1.2" is a folder with an index.html, like "/about".
local FILE_TYPES = {
  html = true, htm = true, xml = true, json = true, txt = true, css = true, js = true,
  rss = true, atom = true, svg = true, png = true, jpg = true, jpeg = true, gif = true,
  webp = true, ico = true, pdf = true, webmanifest = true, csv = true, md = true,
}

-- The one rule from an output path to its URL in the model: `%`, `#` and
-- `?` would change a link's meaning, so they are always percent-encoded
-- (a file "c#.html" is linked as "c%23.html"); on a Jekyll site every byte
-- a link cannot hold is too (spaces, non-ASCII: page.url as Jekyll gives
-- it), elsewhere those stay readable and links encode them
-- (publish.url.encode, which leaves %XX alone). engine.output_path
-- decodes %XX back to the file's name.
local function url_of_path(path)
  local url = path
  if path:find("[%%#?]") then
    url = path:gsub("[%%#?]", function(c) return string.format("%%%02X", c:byte()) end)
  end
  if reader.escape_urls then url = publish.url.encode(url) end
  return url
end
engine.url_of_path = url_of_path

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

function engine.output_path(url)
  local path = unescape(url):gsub("^/+", "")
  if path == "" or path:sub(-1) == "/" then return path .. "index.html", url end
  local ext = path:match("[^/]*%.([%w]+)$")
  if not (ext and FILE_TYPES[ext:lower()]) then return path .. "/index.html", url .. "/" end
  return path, url
end

local function title_from_slug(slug)
  local words = slug:gsub("[-_]+", " ")
  return (words:gsub("^%l", string.upper))
end

-- What a page's `layout:` says: a name, or false for none (`layout: nil`,
-- `null`, `none`, `false`, as Jekyll reads them); absent: the reader's
-- default for the kind (Jekyll has none).
local function layout_of(doc, default)
  local layout = doc.meta.layout
  if layout == nil then return default or false end
  if layout == false or layout == publish.null or layout == "nil" or layout == "none"
     or layout == "null" or layout == "" then
    return false
  end
  return layout
end

-- The extension the page's output gets: .html for Markdown and HTML, the
-- source's own otherwise (Jekyll: feed.xml, robots.txt, a .text post).
local function output_ext(doc)
  if doc.markdown then return ".html" end
  if doc.sass then return ".css" end
  local ext = doc.path:match("(%.[^./]+)$")
  if not ext or ext == ".htm" then return ".html" end
  return ext
end

-- The site's post permalink pattern, checked once: a style name or a
-- pattern of known tokens. nil when it is wrong (reported).
local checked_permalink
local function site_permalink(site)
  if checked_permalink ~= nil then return checked_permalink or nil end
  local pattern = site.config.permalink or reader.default_permalink or "/:year/:month/:day/:slug/"
  if type(pattern) ~= "string" then
    config_error("permalink", "'permalink' must be a string like /:year/:month/:slug/")
    checked_permalink = false
    return nil
  end
  pattern = PERMALINK_STYLES[pattern] or pattern
  local bad = unknown_token(pattern)
  if bad then
    config_error("permalink", "unknown permalink token ':" .. bad .. "'")
    checked_permalink = false
    return nil
  end
  checked_permalink = pattern
  return pattern
end

-- Fields of posts and pages that are not held in the Lua heap but fetched
-- from C each time they are read, as long as nothing set them: `body`
-- (the Markdown source, read again from disk, see build.c) and `content`
-- (the rendered HTML, from the build cache or C's content store:
-- internal.content). A large site's text thus never sits in the heap all
-- at once (nor is it copied into every render worker); only what a page
-- reads is, for as long as it uses it. A plugin that sets the field
-- replaces it as on any table, and setting it to nil clears it (either
-- way the field naming its source, LAZY_SOURCE, becomes false). LAZY_FIELDS[name](page)
-- returns the value; it reads the page with rawget, so a wrapper that
-- moves the fields to a backing table with this metatable (deps.lua's
-- proxies) keeps working.
local LAZY_FIELDS = {
  body = function(page)
    if not rawget(page, "body_start") then return nil end
    local body, err = internal.read_body(page.path, page.body_start)
    if not body then error(err, 3) end
    return body
  end,
  content = function(page)
    local id = rawget(page, "content_id")
    if id then return internal.content(id) end
  end,
}
local LAZY_SOURCE = { body = "body_start", content = "content_id" }
-- What stands for a lazy field's value in incremental builds' records
-- (core/lua/deps.lua) without fetching it: content by its cache key.
local LAZY_HASH = {
  content = function(page)
    local id = rawget(page, "content_id")
    if id then return internal.content_hash(id) end
  end,
}
-- Lazy fields that pairs() lists (content was always in the table; a
-- build's body never was).
local LAZY_LISTED = { content = true }

local LAZY = {}
function LAZY.__index(page, key)
  local fetch = LAZY_FIELDS[key]
  if fetch then return fetch(page) end
end
-- Set once, the field is the table's: the source is dropped, so that
-- setting it to nil later (or now) leaves it nil.
function LAZY.__newindex(page, key, value)
  if LAZY_SOURCE[key] then rawset(page, LAZY_SOURCE[key], false) end
  rawset(page, key, value)
end
-- The table's own fields, then the listed lazy ones it does not hold.
function LAZY.__pairs(page)
  return function(t, k)
    local v
    if k == nil or not LAZY_LISTED[k] or rawget(t, k) ~= nil then
      k, v = next(t, k)
      if k ~= nil then return k, v end
    end
    while true do
      k = next(LAZY_LISTED, k)
      if k == nil then return nil end
      if rawget(t, k) == nil then
        v = t[k]
        if v ~= nil then return k, v end
      end
    end
  end, page, nil
end

-- A post's date: front matter wins over the file name, as in Jekyll.
-- nil when there is none or it is bad (reported).
local function post_date(doc, now)
  local meta = doc.meta
  local date = meta.date
  if type(date) == "string" then
    local parsed = publish.date.parse(date)
    if not parsed then
      fail_at(doc, "date", "invalid date '" .. date .. "'")
      return nil
    end
    date = parsed
  elseif date ~= nil and getmetatable(date) ~= getmetatable(now) then
    fail_at(doc, "date", "'date' must be a date like 2024-06-19 or 2024-06-19 09:30:00 +09:00")
    return nil
  end
  date = date or doc.name_date
  if date and reader.dates_in_site_zone and date.offset ~= nil then
    -- Jekyll shows and links a post in the site's zone, whatever zone its
    -- date was written in (2024-06-12 02:10 +0900 is June 11 in UTC).
    local wall = os.date("%Y-%m-%d %H:%M:%S", date.epoch)
    local here = publish.date.parse(wall)
    if here and here.offset ~= date.offset then date = here end
  end
  -- A draft needs no date (Jekyll's _drafts/title.md): it is dated now.
  if not date and doc.draft then date = now end
  if not date then
    -- 2025-02-30-x.md has a date the calendar does not: say that, not
    -- that the date is missing.
    local written = (doc.path:match("[^/]*$") or ""):match("^(%d%d%d%d%-%d%d%-%d%d)%-")
    if written then
      fail_at(doc, nil, "invalid date '" .. written .. "' in the file name")
    else
      fail_at(doc, nil, "post has no date: name the file YYYY-MM-DD-slug.md or set 'date'")
    end
    return nil
  end
  return date
end

-- The post is filled as a plain table and given its metatable (LAZY) at
-- the end: every field set on a table with a __newindex is a call. The
-- permalink tokens read only fields set here, never a lazy one.
local function make_post(doc, site, now, options)
  local meta = doc.meta
  local post = {
    kind = "post", path = doc.path, meta = meta, body = doc.body, body_start = doc.body_start,
    content = doc.content, content_id = doc.content_id, body_line = doc.body_line,
  }
  local date = post_date(doc, now)
  if not date then return nil end -- reported
  post.date = date
  local slug = meta.slug
  if slug ~= nil and type(slug) ~= "string" then
    fail_at(doc, "slug", "'slug' must be a string")
    return nil
  end
  post.slug = slug or doc.name_slug
  post.title = meta.title ~= nil and tostring(meta.title) or title_from_slug(post.slug)
  -- Folders above a Jekyll _posts/ are categories, before the listed ones.
  local folders = doc.folder_categories and name_list((doc.folder_categories:gsub("/", " "))) or {}
  post.categories = name_list(folders, meta.categories, meta.category)
  post.tags = name_list(meta.tags, meta.tag)
  post.draft = doc.draft == true or meta.draft == true or meta.published == false
  if post.draft and not options.drafts then
    if internal.draft_skipped then internal.draft_skipped() end
    return nil
  end
  if date.epoch > now.epoch and not options.future then
    if internal.future_post then internal.future_post(date.epoch) end
    return nil
  end
  post.layout = layout_of(doc, reader.post_layout)
  for k, v in pairs(meta) do
    if post[k] == nil and k ~= "permalink" and type(k) == "string" then
      -- What LAZY would do: a lazy field with a source is not nil; one set
      -- drops its source.
      local source = LAZY_SOURCE[k]
      if not (source and post[source]) then
        if source then post[source] = false end
        post[k] = v
      end
    end
  end
  post.output_ext = output_ext(doc)
  local permalink = meta.permalink
  if permalink ~= nil and type(permalink) ~= "string" then
    fail_at(doc, "permalink", "'permalink' must be a string")
    return nil
  end
  local pattern = site_permalink(site)
  if permalink then
    -- Front matter permalinks take tokens too (`permalink: /:title/`).
    pattern = permalink
    local bad = unknown_token(permalink)
    if bad then
      fail_at(doc, "permalink", "unknown permalink token ':" .. bad .. "'")
      return nil
    end
  end
  if not pattern then return nil end -- reported at the config key
  local url = expand_permalink(pattern, post)
  if url:sub(1, 1) ~= "/" then url = "/" .. url end
  post.url = url_of_path(url)
  post._doc = doc
  return setmetatable(post, LAZY)
end

-- A page's URL. Native: pages/about.md -> /about/. Jekyll
-- (reader.pages_keep_path): about.md -> /about.html (/about/ with a pretty
-- or slash-ended permalink style), feed.xml -> /feed.xml, a/index.md -> /a/.
local function page_url(doc, site, rel)
  local ext = output_ext(doc)
  local folder, base = rel:match("^(.-)([^/]*)$")
  if doc.sass then return "/" .. rel .. ext end
  if not reader.pages_keep_path then
    if base == "index" then return "/" .. folder end
    return "/" .. rel .. "/"
  end
  if ext ~= ".html" then return "/" .. rel .. ext end
  if base == "index" then return "/" .. folder end
  local style = site.config.permalink
  if type(style) == "string" and (style == "pretty" or style:sub(-1) == "/") then
    return "/" .. rel .. "/"
  end
  return "/" .. rel .. ".html"
end

local PAGE_TOKENS = { path = true, basename = true, output_ext = true, name = true }

local function make_page(doc, site)
  local meta = doc.meta
  local rel = doc.path
  if doc.sass and reader.static ~= "" and rel:sub(1, #reader.static + 1) == reader.static .. "/" then
    -- static/css/main.scss -> /css/main.css (a native site's Sass)
    rel = rel:sub(#reader.static + 2)
  elseif not reader.pages_keep_path then
    rel = rel:gsub("^pages/", "")
  end
  rel = rel:gsub("%.[^./]*$", "")
  local url = page_url(doc, site, rel)
  if type(meta.permalink) == "string" then
    url = meta.permalink
    local bad
    for token in url:gmatch(":([%a_]+)") do
      if not PAGE_TOKENS[token] then bad = bad or token end
    end
    if bad then
      fail_at(doc, "permalink", "unknown permalink token ':" .. bad .. "'")
      return nil
    end
    local folder, base = rel:match("^(.-)([^/]*)$")
    local values = { path = folder:gsub("/$", ""), basename = base, name = base, output_ext = output_ext(doc) }
    url = url:gsub(":([%a_]+)", values):gsub("//+", "/")
  end
  if url:sub(1, 1) ~= "/" then url = "/" .. url end
  url = url_of_path(url)
  local page = setmetatable({
    kind = "page", path = doc.path, meta = meta, body = doc.body, body_start = doc.body_start,
    content = doc.content, content_id = doc.content_id, body_line = doc.body_line, url = url,
    template = doc.path:match("%.html?$") ~= nil,
    title = meta.title ~= nil and tostring(meta.title)
      or (not reader.untitled_pages and title_from_slug(rel:match("[^/]*$")) or nil),
  }, LAZY)
  page.layout = layout_of(doc, reader.page_layout)
  if doc.sass then page.layout = false end -- CSS, never wrapped
  for k, v in pairs(meta) do
    if page[k] == nil and type(k) == "string" then page[k] = v end
  end
  page._doc = doc
  return page
end

local function newest_first(a, b)
  if a.date.epoch ~= b.date.epoch then return a.date.epoch > b.date.epoch end
  -- Same instant: a stable, documented order (Jekyll's: the later path
  -- first, as its list sorted by date and path is reversed).
  if reader.later_path_first then return a.path > b.path end
  return a.path < b.path
end

local function index_by(posts, field)
  local map, names = {}, {}
  for _, post in ipairs(posts) do
    for _, name in ipairs(post[field]) do
      local list = map[name]
      if not list then list = {}; map[name] = list; names[#names + 1] = name end
      list[#list + 1] = post
    end
  end
  table.sort(names)
  return map, names
end

local function new_site(ctx)
  ctx_bundled_plugins = ctx.bundled_plugins or {}
  config_doc = { path = ctx.config_name or "config.yaml", positions = ctx.config_positions }
  reader = ctx.reader or {}
  checked_permalink = nil
  layout_names = nil
  local config = ctx.config
  local site = {
    config = config, source = ctx.source, dest = ctx.dest, data = ctx.data, reader = reader,
    time = ctx.now, posts = {}, pages = {},
    -- A url that is not a string is the config checks' to report at its
    -- line; the engine itself must not trip over it.
    title = config.title, url = (type(config.url) == "string" and config.url or ""):gsub("/+$", ""),
    baseurl = (type(config.baseurl) == "string" and config.baseurl or ""):gsub("/+$", ""),
    description = config.description, language = config.language or "en",
    author = config.author,
  }
  function site:add_page(page)
    if type(page) ~= "table" or type(page.url) ~= "string" then
      error("add_page needs a table with a string 'url'", 2)
    end
    if page.url:sub(1, 1) ~= "/" then page.url = "/" .. page.url end
    if page.kind == nil then page.kind = "page" end
    added_at[page] = added_at[page] or caller_position(2)
    self.pages[#self.pages + 1] = page
    return page
  end
  return site
end

-- Front-matter defaults (config `defaults:`, as Jekyll has them): each
-- entry's `values` apply to documents under `scope.path` (a folder or a
-- glob; empty = all) of `scope.type` (posts, pages, drafts); the front
-- matter wins, then the more specific path, then the later entry.
local function glob_match(pattern, path)
  local lua = "^" .. pattern:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", "[^/]*") .. "$"
  return path:match(lua) ~= nil
end

local function scope_matches(scope, doc)
  local kind = scope.type
  if kind ~= nil then
    local doc_type = doc.kind == "post" and (doc.draft and "drafts" or "posts") or "pages"
    if kind ~= doc_type and not (kind == "posts" and doc_type == "drafts") then return false end
  end
  local path = type(scope.path) == "string" and scope.path:gsub("^%./", ""):gsub("^/+", ""):gsub("/+$", "") or ""
  if path == "" then return true, 0 end
  if path:find("*", 1, true) then return glob_match(path, doc.path), #path end
  return doc.path == path or doc.path:sub(1, #path + 1) == path .. "/", #path
end

local function apply_defaults(site, doc)
  local defaults = site.config.defaults
  if type(defaults) ~= "table" or #defaults == 0 then return end
  local hits = {}
  for i, entry in ipairs(defaults) do
    if type(entry) == "table" and type(entry.values) == "table" then
      local ok, weight = scope_matches(type(entry.scope) == "table" and entry.scope or {}, doc)
      if ok then hits[#hits + 1] = { weight = weight, order = i, values = entry.values } end
    end
  end
  table.sort(hits, function(x, y)
    if x.weight ~= y.weight then return x.weight > y.weight end
    return x.order > y.order
  end)
  for _, hit in ipairs(hits) do
    for k, v in pairs(hit.values) do
      if doc.meta[k] == nil then doc.meta[k] = v end
    end
  end
end

-- The document cache (docs/lua-api.md, "Caching document hooks"). When
-- every plugin with a `document` hook declares `document_cache = true` (its
-- result depends only on the document, the config and the plugins' code),
-- what the hooks made of a document is kept in the build cache: the HTML
-- and the fields they set on the post, as Lua text replayed on a later
-- build whose key matches (C makes the key: doc.h). This is the part of
-- the key only the engine knows; nil: no caching.
local function document_cache_what(plugins, options)
  local names, any = {}, false
  for _, p in ipairs(plugins) do
    if p.hooks.document then
      if p.hooks.document_cache ~= true then return nil end
      any = true
    end
    names[#names + 1] = p.name
  end
  if not any then return nil end
  return table.concat(names, ",") .. ";drafts=" .. tostring(options.drafts == true)
    .. ";future=" .. tostring(options.future == true)
end

-- A value set on a post as Lua source, appended to `out`; false when it
-- cannot be written back as it was (a function, a table with a metatable
-- such as a Date, a cycle, or a table the post held before the hooks ran,
-- whose identity a copy would lose).
local function freeze(v, out, before, open)
  local t = type(v)
  if t == "string" or t == "number" then
    out[#out + 1] = string.format("%q", v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" and getmetatable(v) == nil and not open[v] and not before[v] then
    open[v] = true
    out[#out + 1] = "{"
    for k, x in pairs(v) do
      if type(k) ~= "string" and type(k) ~= "number" then return false end
      out[#out + 1] = "["
      if not freeze(k, out, before, open) then return false end
      out[#out + 1] = "]="
      if not freeze(x, out, before, open) then return false end
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
    open[v] = nil
  else
    return false
  end
  return true
end

-- What the hooks changed on `page` since `before` (field -> value) as the
-- Lua text the cache keeps; nil when a value cannot be kept.
local function document_effects(page, before)
  local held = {}
  for _, v in pairs(before) do
    if type(v) == "table" then held[v] = true end
  end
  local out = { "return {set={" }
  for k, v in pairs(page) do
    if k ~= "content" and before[k] ~= v then
      if type(k) ~= "string" then return nil end
      out[#out + 1] = string.format("[%q]=", k)
      if not freeze(v, out, held, {}) then return nil end
      out[#out + 1] = ","
    end
  end
  out[#out + 1] = "},unset={"
  for k in pairs(before) do
    if page[k] == nil then
      if type(k) ~= "string" then return nil end
      out[#out + 1] = string.format("%q,", k)
    end
  end
  out[#out + 1] = "}}"
  return table.concat(out)
end

-- A cached result's effects, replayed on the page made from the document.
local function replay_document_effects(page, effects)
  local chunk = load(effects, "=document cache", "t", {})
  local record = chunk and chunk()
  for k, v in pairs(record and record.set or {}) do page[k] = v end
  for _, k in ipairs(record and record.unset or {}) do page[k] = nil end
end

-- The `document` hooks over one post's or page's Markdown tree (a
-- publish.Node of type "document"), then its HTML. The tree is freed either
-- way; an error names the plugin line and the node a walk was at. With a
-- cache key (doc.cache_key), the result is stored unless the hooks said
-- something (a warning would not be said again by a cached result).
local function run_document_hooks(plugins, doc, page)
  local tree = doc.tree
  doc.tree = nil
  if not page then internal.discard_document(tree); return end
  local key, before, said = doc.cache_key, nil, nil
  if key then
    before = {}
    for k, v in pairs(page) do before[k] = v end
    said = internal.diagnostics()
  end
  if not run_hook(plugins, "document", doc, tree, page) then
    internal.discard_document(tree)
    return
  end
  page.content = internal.render_document(tree)
  if key and internal.diagnostics() == said then
    local effects = document_effects(page, before)
    if effects then internal.store_document(key, page.content, effects, doc.highlight_keys) end
  end
end

-- Builds site.posts from the documents, pulled one at a time from the
-- worker threads, with the front-matter defaults and the plugins'
-- `document` hooks when given `plugins` (a build). Shared by build and run
-- (no plugins, no defaults: a script sees and writes back the front matter
-- as it is in the file). A build (`rules` given) first checks each
-- document's front matter against the schema; a run does not (a bulk edit
-- is how a bad value gets fixed).
local function collect(site, ctx, options, plugins, rules)
  local posts, pages = {}, {}
  local with_tree = false
  for _, p in ipairs(plugins or {}) do
    if p.hooks.document then with_tree = true end
  end
  local ahead
  for _, p in ipairs(plugins or {}) do
    if p.hooks.document and type(p.hooks.highlight_ahead) == "table" then ahead = p.hooks.highlight_ahead end
  end
  -- Posts of unchanged documents come from their snapshot when the
  -- plugins allow it (core/lua/snapshots.lua).
  local snap = plugins and rules and snapshots.what(plugins, options)
  snapshots.start(internal, ctx.now)
  internal.load(with_tree, with_tree and document_cache_what(plugins, options) or nil, ahead, snap)
  while true do
    local said = snap and internal.diagnostics()
    local doc = internal.next_doc()
    if not doc then break end
    local page = snapshots.take(doc, LAZY)
    if page then
      posts[#posts + 1] = page
      goto next_doc
    end
    if plugins then apply_defaults(site, doc) end
    if rules and not check_front_matter(doc, rules) then
      page = nil -- reported
    elseif doc.kind == "post" then
      page = make_post(doc, site, ctx.now, options)
      if page then posts[#posts + 1] = page end
    elseif not options.drafts and (doc.meta.published == false or doc.meta.draft == true) then
      if internal.draft_skipped then internal.draft_skipped() end
      page = nil -- an unpublished page, as with posts
    else
      page = make_page(doc, site)
      if page then pages[#pages + 1] = page end
    end
    if doc.tree then
      run_document_hooks(plugins, doc, page)
    elseif doc.cached_effects and page then
      replay_document_effects(page, doc.cached_effects)
    end
    if snap and page then snapshots.made(doc, page, said) end
    -- From here on a page's document only names where a problem is
    -- (report, fail_at): its path and key positions. The rest of the
    -- loader's table is some 350 bytes a post would carry to the end of
    -- the build (35 MB at 100,000 posts).
    if page then page._doc = { path = doc.path, positions = doc.positions } end
    ::next_doc::
  end
  if timings and timings.document then
    timings[#timings + 1] = string.format("document hooks %.3f", timings.document)
  end
  return posts, pages
end

-- Whether `posts` is already in newest_first order: the second sort of a
-- build (after the post hooks) nearly always finds it so, and checking is
-- one comparison per post instead of a sort's n log n. The order is total
-- (the path breaks ties), so a sorted list is the one sort would give.
local function in_order(posts)
  for i = 2, #posts do
    if newest_first(posts[i], posts[i - 1]) then return false end
  end
  return true
end

-- The heap (MB) past which the build settles the collector after the load.
local SETTLE_MB = 128

local function link_neighbours(posts)
  -- In C when every post has what newest_first reads (lua/sort_posts.c).
  if not in_order(posts) and not internal.sort_posts(posts, reader.later_path_first == true) then
    table.sort(posts, newest_first)
  end
  for i, post in ipairs(posts) do
    post.previous = posts[i + 1] -- older
    post.next = posts[i - 1]     -- newer
  end
end

---------------------------------------------------------------------------
-- Build

-- Layout names in the reader's layouts folder (any extension), listed once.
local function layout_exists(name)
  if not layout_names then
    layout_names = {}
    for _, file in ipairs(publish.fs.list(reader.layouts or "layouts") or {}) do
      layout_names[file:gsub("%.[^.]*$", "")] = true
    end
  end
  return layout_names[name] == true
end

-- What a plugin keeps in its module table, for the check below: for each
-- field, its value, or for a table its length and number of keys.
local function shape(v)
  if type(v) ~= "table" then return v end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return "table " .. #v .. " " .. n
end

local function plugin_state(plugins)
  local state = {}
  for _, p in ipairs(plugins) do
    local fields = {}
    for k, v in pairs(p.hooks) do fields[k] = shape(v) end
    state[p.name] = fields
  end
  return state
end

-- Pages render in parallel, each worker with its own copy of every
-- plugin: what a render or output hook adds to its module table is not
-- seen by the other workers or by `finish`. Saying so on every build
-- (whatever -j) makes the mistake visible before it makes output wrong.
local function check_plugin_state(plugins, before)
  for _, p in ipairs(plugins) do
    local was = before[p.name]
    local changed
    for k, v in pairs(p.hooks) do
      if was[k] ~= shape(v) and type(v) ~= "function" then changed = k; break end
    end
    if changed then
      internal.warn("plugins/" .. p.name .. ".lua", 0, 0, "plugin '" .. p.name .. "' changed its module field '"
        .. tostring(changed) .. "' while rendering pages; pages render in parallel, so other pages and the"
        .. " finish hook may not see it (keep state for finish in the site hook; see docs/lua-api.md)")
    end
  end
end

-- Checks a page before rendering (its url, its output path, no other
-- page writes it) and sets page.output; false when reported.
local function prepare_page(page, seen)
  if type(page.url) ~= "string" then
    local where = page.path or "a page added by a plugin"
    internal.error(page.path or "", page.path and 1 or 0, page.path and 1 or 0,
      "page has no url (a plugin set 'url' to " .. tostring(page.url) .. ")" ..
      (page.path and "" or " in " .. where))
    return
  end
  local output, url = engine.output_path(page.url)
  page.url = url
  page.output = output
  local doc = page._doc or { path = page.path, url = page.url }
  local earlier = seen[output]
  if earlier then
    -- Said at the user's own file where there is one: a document's
    -- permalink rather than the (perhaps bundled) plugin's line.
    if not doc.path and earlier.path then
      fail_at(earlier._doc or earlier, "permalink",
        "'" .. output .. "' is also written by " .. page_origin(page))
    else
      fail_page(page, doc, "permalink", "'" .. output .. "' is also written by " .. page_origin(earlier))
    end
    return
  end
  seen[output] = page
  if reader.missing_layout_warns and type(page.layout) == "string" and not layout_exists(page.layout) then
    -- Jekyll warns and renders the page without it.
    local line, col = key_position(doc.path and doc, "layout")
    internal.warn(doc.path or "", doc.path and line or 0, doc.path and col or 0, "layout '" .. page.layout
      .. "' not found in " .. (reader.layouts or "layouts") .. "/; the page is written without a layout")
    page.layout = false
  end
  return true
end

-- Template files, for finding where a broken link no page source holds
-- was written.
local function template_files(folder, out)
  for _, name in ipairs(publish.fs.list(folder) or {}) do
    local path = folder .. "/" .. name
    if name:match("%.html?$") then out[#out + 1] = path
    elseif not name:find(".", 1, true) then template_files(path, out) end
  end
  return out
end

-- `publish check`: every internal link, image and #fragment leads to a
-- file the build writes, or an id in it (core/lua/links.lua).
local function check_links(ctx)
  for _, path in ipairs(ctx.static_files or {}) do
    link_checker:static(path)
    -- Sass sources are written as CSS.
    if path:match("%.s[ac]ss$") then link_checker:static((path:gsub("%.s[ac]ss$", ".css"))) end
  end
  local layouts = template_files(reader.layouts or "layouts", {})
  if reader.includes and reader.includes ~= reader.layouts then template_files(reader.includes, layouts) end
  link_checker:finish(function(path, line, col, message) internal.error(path, line, col, message) end, layouts,
    ctx.options.external and internal.fetch or nil)
  link_checker = nil
end

-- Renders a prepared page through the render and output hooks and hands
-- its bytes to C.
local function render_page(page, site, plugins)
  local doc = page._doc or { path = page.path, url = page.url }
  local output = page.output
  -- What the hooks read is this page's record (core/lua/deps.lua).
  deps.begin_page(page)
  local ok, bytes = run_hook(plugins, "render", doc, page, site)
  if ok then
    if bytes == nil then bytes = page.content or "" end
    ok, bytes = run_hook(plugins, "output", doc, output, bytes, page)
  end
  if not ok then return deps.abort_page() end
  deps.end_page(page, bytes)
  if link_checker then link_checker:page(page, output, bytes) end
  local t0 = timings and internal.clock()
  local err
  ok, err = internal.write(output, bytes)
  if timings then timings.write = (timings.write or 0) + internal.clock() - t0 end
  if not ok then
    local permalink = page.meta and page.meta.permalink
    if type(permalink) == "string" and err:find("outside the destination", 1, true) then
      err = "permalink '" .. permalink .. "' leads outside the destination"
    end
    fail_page(page, doc, "permalink", err)
  end
end

-- Prepares and renders every page, this process's share of them when
-- the build forks workers; the workers exit here.
local function render_pages(ctx, site, plugins, options)
  local seen, ready = {}, {}
  for _, page in ipairs(site.pages) do
    if prepare_page(page, seen) then ready[#ready + 1] = page end
  end
  -- Pages whose recorded inputs all hash the same keep their output.
  local t_deps = internal.clock()
  deps.start(ctx, site, plugins, config_doc.path, LAZY_HASH, LAZY, LAZY_FIELDS)
  local t_plan = internal.clock()
  ready = deps.plan(ready, options.explain)
  if timings then
    timings[#timings + 1] = string.format("records: proxies %.3f, check %.3f (%d to render)", t_plan - t_deps,
      internal.clock() - t_plan, #ready)
  end
  local t_render = internal.clock()
  local total = #ready
  -- Every core renders a share of the pages (forked workers, see
  -- core/render.h): process `index` of `count` renders one consecutive
  -- block, so the first page to meet an error is the same for every -j.
  local before = plugin_state(plugins)
  local index, count = internal.fork(total)
  -- `check` renders in this process alone (nothing to write, no workers).
  link_checker = options.check and count == 1 and links.new(site) or nil
  local first, last = total * index // count + 1, total * (index + 1) // count
  for i = first, last do
    render_page(ready[i], site, plugins)
    if (i - first + 1) % 256 == 0 then internal.progress("rendering", (i - first + 1) * count, total) end
  end
  check_plugin_state(plugins, before)
  if index > 0 then internal.worker_exit() end
  internal.join()
  if timings then
    timings[#timings + 1] = string.format("render+write %.3f (write %.3f)", internal.clock() - t_render,
      timings.write or 0)
    host.stderr("publish: lua timings: " .. table.concat(timings, ", ") .. "\n")
  end
end

function engine.build(ctx)
  internal = ctx.internal
  local options = ctx.options
  -- Before the plugins load, so they see the functions it wraps.
  deps.init(ctx, host)
  local site = new_site(ctx)
  -- Documents that failed to load are already reported; the rest still go
  -- through every step so that one run reports every problem it can.
  local plugins = load_plugins(site)
  if not plugins then return end
  local rules, rules_ok = site_rules(site.config)
  if not check_config(site, plugins, not plugins.incomplete, rules) or not rules_ok then
    -- Plugins would run on settings that are not what the user meant:
    -- stop here, after checking every document's front matter too.
    collect(site, ctx, options, nil, rules)
    return
  end
  if not run_hook(plugins, "setup", nil, site) then return end

  local t_collect = internal.clock()
  local posts, pages = collect(site, ctx, options, plugins, rules)
  if timings then
    timings[#timings + 1] = string.format("collect %.3f (%d of %d posts from snapshots)",
      internal.clock() - t_collect, snapshots.count(), #posts)
  end
  -- A large load's garbage collected and the collector settled
  -- (core/lua/heap.c): the post hooks' garbage then dies young
  -- instead of piling up until the heap doubles (100k posts: 700 -> 648
  -- MB peak). It costs a full collection (~1 s at 100k): below SETTLE_MB
  -- of heap, where memory is not what binds, the build does without.
  if collectgarbage("count") > SETTLE_MB * 1024 then internal.settle_heap() end
  local t_posts = internal.clock()
  -- Post hooks already see every post (newest first), so a post's body can
  -- link to another (Liquid's post_url); the list is redone after them.
  local all = table.move(posts, 1, #posts, 1, {})
  link_neighbours(all)
  site.posts = all
  site.pages = table.move(pages, 1, #pages, 1, {})
  local kept = {}
  for _, post in ipairs(posts) do
    if snapshots.taken(post) then
      kept[#kept + 1] = post -- its hooks ran when it was snapshotted
    else
      local said = internal.diagnostics()
      local ok, result = run_hook(plugins, "post", post._doc, post, site)
      local keep = ok and result ~= false
      if keep then
        kept[#kept + 1] = post
        snapshots.hooked(post, said)
      end
    end
  end
  posts = kept
  if timings then
    timings[#timings + 1] = string.format("post hooks %.3f (lua heap %.0f MB)", internal.clock() - t_posts,
      collectgarbage("count") / 1024)
  end
  link_neighbours(posts)
  site.posts = posts
  site.categories, site.category_names = index_by(posts, "categories")
  site.tags, site.tag_names = index_by(posts, "tags")
  site.pages = {}
  for _, post in ipairs(posts) do site.pages[#site.pages + 1] = post end
  for _, page in ipairs(pages) do site.pages[#site.pages + 1] = page end

  if not deps.site(ctx, site, run_hook, plugins) then return end

  render_pages(ctx, site, plugins, options)
  if link_checker and not internal.failed() then check_links(ctx) end
  if internal.failed() then return end
  run_hook(plugins, "finish", nil, site)
end

-- For `publish run`: the site with every post (drafts and future ones too),
-- no plugins and no rendering.
function engine.load(ctx)
  internal = ctx.internal
  local site = new_site(ctx)
  local posts, pages = collect(site, ctx, { drafts = true, future = true })
  link_neighbours(posts)
  site.posts = posts
  site.pages = pages
  site.categories, site.category_names = index_by(posts, "categories")
  site.tags, site.tag_names = index_by(posts, "tags")
  return site
end

return engine
