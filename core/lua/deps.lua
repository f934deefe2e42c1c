-- Incremental builds, the Lua half (core/deps.c stores the records): while
-- a page renders, what it reads is recorded (which posts and pages and
-- which of their fields, which site fields and data, which files through
-- publish.fs, which environment variables), with a hash of each value.
-- The next build, once the `site` hook has run, keeps a page whose
-- recorded inputs all hash the same (its output stays as it is) and
-- renders the others. Verifying by value needs no list of what changed
-- and stays right when a plugin computes a page's fields from many posts.
--
-- Recording works on the objects themselves: when rendering starts,
-- every page (posts included), `site` and `site.data` become proxies, a
-- table with a metatable over a backing table holding the fields, so
-- indexing, setting fields, pairs, ipairs and # work as before (rawget
-- and next on a page do not see its fields). What cannot be tracked makes
-- the page render every time (the clock, publish.http, math.random), and
-- a site plugin that does not declare `incremental = true` makes every
-- page render (its module state is out of sight). docs/internals.md has
-- the record format and docs/lua-api.md what a plugin may share.

local deps = {}

local snapshots = require "publish.snapshots"

local internal, host
local tracking = false   -- this build keeps records (not a check, not --no-cache)
local lua_lines = false  -- record lines made by object_lines below, never by C

-- The objects: proxy -> backing table, proxy -> id ("post posts/a.md",
-- "page /feed.xml", "site", "data"), id -> proxy.
local backing, ids, by_id = {}, {}, {}
-- Value hashes, computed once per build and field: proxy -> field -> hex.
-- A page's own are dropped once its record is made (deps.end_page).
local memo = {}

-- The page rendering now; `reads` is true while it renders (what it
-- reads is in the recorder, core/lua/deps_record.c: internal.recorder).
local current, reads, files, env_reads
local recorder  -- its functions: index, note, has, begin, stop, reads, lines
local frozen    -- proxy -> field -> hash of a value the page itself replaced
local own       -- fields the page set on itself while rendering
local volatile  -- why the page renders every time, or nil
-- Fields a page set on itself while rendering: another page reading them
-- would depend on the order pages render in (proxy -> field -> true).
local dirty = {}

-- Posts taken from their snapshot carry their fields' hashes (proxy ->
-- bytes, core/lua/snapshot.h), which the check takes instead of hashing
-- the value again while nothing can have changed it: such a post becomes a
-- proxy before the `site` hook (deps.site), and `touched` (proxy -> {field
-- = true}) gets each field the hook reads (the recorder notes them while
-- `watching`: a table read could be changed in place) and each field
-- anyone sets until the check.
local carried, touched, watching = {}, nil, false

-- field -> function(backing table) -> a string standing for a lazy field's
-- value without fetching it (engine.lua's LAZY_HASH: content), or nil.
local lazy_hash = {}

local KEYS = "*keys" -- a pseudo-field: the set of a table's keys (pairs)
local LEN = "*len"   -- a pseudo-field: its length (#)

local function note(t, k) recorder.note(t, k) end

---------------------------------------------------------------------------
-- Hashing values

local format, concat, sort = string.format, table.concat, table.sort
local hash_value -- internal.hash_value: deep, keys sorted, proxies by id

local function hex(h) return format("%x", h) end

local function value_hash(v) return hash_value(v, ids) end

local function keys_hash(b)
  local set = {}
  for k in pairs(b) do set[k] = true end
  return hash_value(set, ids)
end

-- The hash of field k of object t as it is now (once per build).
local function field_hash(t, k)
  local m = memo[t]
  if not m then
    m = {}
    memo[t] = m
  end
  local h = m[k]
  if h then return h end
  local b = backing[t]
  -- A lazy value (content) by what stands for it (its cache key), not
  -- fetched.
  local lazy = lazy_hash[k]
  if lazy and rawget(b, k) == nil then h = lazy(b) end
  if h == nil then
    if k == KEYS then h = keys_hash(b)
    elseif k == LEN then h = hex(#b)
    else h = value_hash(b[k]) end
  end
  m[k] = h
  return h
end

---------------------------------------------------------------------------
-- Proxies

local PROXY = {}

-- In C for the common case (deps.init: the recorder's index), which
-- calls this, at a page's first read of the field, for a proxy some page
-- set fields on and for `time`.
local function lua_index(t, k)
  if reads or watching then
    if k == "time" and t == by_id.site then
      -- The build's time: the clock.
      volatile = volatile or "reads site.time (the clock)"
      return backing[t][k]
    end
    note(t, k)
    local d = dirty[t]
    if d and d[k] and t ~= current then
      volatile = volatile or ("reads field '" .. tostring(k) .. "' of " .. ids[t]
        .. ", which that page set while rendering")
    end
  end
  return backing[t][k]
end

PROXY.__index = lua_index

function PROXY.__newindex(t, k, v)
  if reads then
    if recorder.has(t, k) then
      -- The page read the old value first: that is what it depends on.
      local fz = frozen[t] or {}
      frozen[t] = fz
      if fz[k] == nil then fz[k] = field_hash(t, k) end
    end
    if t == current then
      own[k] = true
      local d = dirty[t] or {}
      dirty[t] = d
      d[k] = true
    else
      volatile = volatile or ("sets field '" .. tostring(k) .. "' of " .. ids[t] .. " while rendering")
    end
  elseif watching then
    note(t, k) -- the recorder's set becomes `touched` after the hook
  elseif touched and not rawequal(rawget(backing[t], k), v) then
    local f = touched[t]
    if not f then
      f = {}
      touched[t] = f
    end
    f[k] = true
  end
  backing[t][k] = v
  local m = memo[t]
  if m then
    m[k] = nil
    m[KEYS] = nil
    m[LEN] = nil
  end
end

function PROXY.__pairs(t)
  local b = backing[t]
  local r = reads or watching
  if r then note(t, KEYS) end
  -- pairs of the backing table: a post's lazy content is listed too
  -- (engine.lua's LAZY).
  local step = pairs(b)
  return function(_, k)
    local nk, v = step(b, k)
    if nk ~= nil and r then note(t, nk) end
    return nk, v
  end, t, nil
end

function PROXY.__len(t)
  if reads or watching then note(t, LEN) end
  return #backing[t]
end

---------------------------------------------------------------------------
-- Files, the environment and what cannot be tracked

-- The results of a pcall of a wrapped function: an error is raised
-- again at the line that called the wrapper (a C function's own message
-- would otherwise name this file). Call as `return as_caller(pcall(...))`.
local function as_caller(ok, ...)
  if not ok then error((...), 2) end
  return ...
end

local file_memo = {} -- path -> { hash, results... } (once per build)

local function pack_hash(...)
  return hash_value(table.pack(...), ids)
end

-- publish.fs.read/exists/list read once per build and path, recorded as
-- inputs of the page that asks: a template plugin's cache of compiled
-- layouts asks again on every use (cheap here), so each page that uses a
-- layout records it.
local function wrap_fs(fs)
  for _, name in ipairs({ "read", "exists", "list" }) do
    local real = fs[name]
    local kind = name == "read" and "file" or name
    local cache = {}
    file_memo[kind] = cache
    fs[name] = function(path, ...)
      if type(path) ~= "string" or select("#", ...) > 0 then
        if reads then volatile = volatile or ("calls publish.fs." .. name .. " with options") end
        return as_caller(pcall(real, path, ...))
      end
      local hit = cache[path]
      if not hit then
        -- An error is the caller's, at the caller's line (as unwrapped).
        hit = table.pack(pcall(real, path))
        if not hit[1] then error(hit[2], 2) end
        table.remove(hit, 1)
        hit.n = hit.n - 1
        hit.hash = pack_hash(table.unpack(hit, 1, hit.n))
        cache[path] = hit
      end
      if files then
        local seen = files[kind]
        if not seen then
          seen = {}
          files[kind] = seen
        end
        seen[path] = hit.hash
      end
      return table.unpack(hit, 1, hit.n)
    end
  end
end

local function untracked(fn, what, needs_args)
  return function(...)
    if reads and (not needs_args or select("#", ...) < needs_args) then
      volatile = volatile or what
    end
    return as_caller(pcall(fn, ...))
  end
end

-- Wraps what plugins call that the records must see. Called before the
-- plugins load, so they keep the wrapped functions.
function deps.init(ctx, host_table)
  internal, host = ctx.internal, host_table
  hash_value = internal.hash_value
  recorder = internal.recorder(backing, dirty, lua_index)
  PROXY.__index = recorder.index
  -- For tests: records written by deps.lua's own way, to compare with C's.
  lua_lines = host.getenv("PUBLISH_RECORD_LINES") == "lua"
  local os_, publish_ = rawget(_G, "os"), rawget(_G, "publish")
  os_.time = untracked(os_.time, "reads the clock (os.time)", 1)
  os_.date = untracked(os_.date, "reads the clock (os.date)", 2)
  os_.clock = untracked(os_.clock, "reads the clock (os.clock)")
  local getenv = os_.getenv
  os_.getenv = function(name)
    local ok, v = pcall(getenv, name)
    if not ok then error(v, 2) end
    if env_reads and type(name) == "string" then env_reads[name] = value_hash(v) end
    return v
  end
  local math_ = rawget(_G, "math")
  math_.random = untracked(math_.random, "calls math.random")
  if publish_.http then
    for name, fn in pairs(publish_.http) do
      if type(fn) == "function" then publish_.http[name] = untracked(fn, "calls publish.http." .. name) end
    end
  end
  wrap_fs(publish_.fs)
end

---------------------------------------------------------------------------
-- Records

local find = string.find

local function escape(s)
  s = tostring(s)
  if not (find(s, "%", 1, true) or find(s, "\t", 1, true) or find(s, "\n", 1, true)) then return s end
  return (s:gsub("[%%\t\n]", function(c) return format("%%%02X", c:byte()) end))
end

local function unescape(s)
  if not s:find("%", 1, true) then return s end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- What every page depends on as a whole: the engine, the options, the
-- config file and the site's own plugin files (their code and module
-- state are out of sight).
local globals       -- escaped name -> hash
local globals_line  -- the record line of them
local full_reason   -- why every page renders this build, or nil

local function site_plugin_files(folder, out)
  for _, name in ipairs(publish.fs.list(folder) or {}) do
    local path = folder .. "/" .. name
    if name:match("%.lua$") then out[#out + 1] = path
    elseif not name:find(".", 1, true) then site_plugin_files(path, out) end
  end
  return out
end

local function global_inputs(ctx, plugins, config_path)
  local inputs = {}
  local function add(name, value) inputs[escape(name)] = value end
  add("engine", hex(internal.engine_id()))
  add("options", pack_hash(ctx.options.drafts, ctx.options.future, ctx.dest, host.getenv("TZ")))
  add(config_path, pack_hash(publish.fs.read(config_path)))
  local bundled = {}
  for _, name in ipairs(ctx.bundled_plugins or {}) do bundled[name] = true end
  local own_code = {}
  for _, p in ipairs(plugins) do
    local file = "plugins/" .. p.name:gsub("%.", "/") .. ".lua"
    if not bundled[p.name] or publish.fs.exists(file) then
      own_code[#own_code + 1] = p.name
      -- Only posts' fields carry what `post` and `document` hooks do to
      -- pages, and those are recorded by value; the other hooks can leave
      -- state for rendering where records cannot see it.
      local hooks = p.hooks
      local reaches = hooks.setup or hooks.site or hooks.render or hooks.output
      if reaches and hooks.incremental ~= true and not full_reason then
        full_reason = "plugin '" .. p.name .. "' does not declare incremental = true"
      end
    end
  end
  if #own_code > 0 then
    for _, path in ipairs(site_plugin_files("plugins", {})) do add(path, pack_hash(publish.fs.read(path))) end
  end
  return inputs
end

-- One line of a record: `id`, then each field and its hash, fields sorted.
local function record_line(id, hashes)
  local fields = {}
  for k in pairs(hashes) do fields[#fields + 1] = k end
  sort(fields)
  local out = { id }
  for _, k in ipairs(fields) do
    out[#out + 1] = k
    out[#out + 1] = hashes[k]
  end
  return concat(out, "\t")
end

-- Why a record's input differs now, or nil when it does not.
local function describe(id, field)
  if id == "site" then return "site field " .. field end
  if id == "data" then return "data " .. field end
  return id .. " field " .. field
end

local function changed(id, field, h)
  if id == "!" then return unescape(field) .. " (renders every time)" end
  if id == "build" then
    if globals[field] == h then return nil end
    return field == "engine" and "the publish binary changed"
      or field == "options" and "the build options changed"
      or unescape(field) .. " changed"
  end
  if id == "file" or id == "exists" or id == "list" then
    local path = unescape(field)
    local hit = file_memo[id][path]
    local now = hit and hit.hash
    if not now then
      publish.fs[id == "file" and "read" or id](path)
      now = file_memo[id][path].hash
    end
    if now == h then return nil end
    local layout = path:match("^layouts/(.*)$") or path:match("^_layouts/(.*)$")
    if id == "file" and layout then return "layout " .. layout .. " changed" end
    local include = path:match("^_includes/(.*)$")
    if id == "file" and include then return "include " .. include .. " changed" end
    return (id == "file" and "file " or id == "exists" and "whether a file exists: " or "folder listing ")
      .. path .. " changed"
  end
  if id == "env" then
    if value_hash(host.getenv(unescape(field))) == h then return nil end
    return "environment variable " .. unescape(field) .. " changed"
  end
  local t = by_id[unescape(id)]
  if not t then return unescape(id) .. " is gone" end
  local number = field:match("^%%N(.*)$")
  if number then field = tonumber(number) else field = unescape(field) end
  if field == nil then return "a damaged record" end
  if field_hash(t, field) == h then return nil end
  if field == KEYS then return unescape(id) .. " has other fields" end
  return describe(unescape(id), field == LEN and "length" or field) .. " changed"
end

-- Lines of records judged this build: line -> reason, or false when it
-- still holds (pages share many: a post's title is on every listing that
-- shows it).
local verdicts = {}

-- The reasons record `text` no longer holds (all of them when `all`,
-- else the first), or nil when every input hashes the same.
local function why(text, all)
  local reasons
  local body = text:find("\n", 1, true)
  if not body then return { "a damaged record" } end
  for line in text:gmatch("([^\n]*)\n", body + 1) do
    local found = verdicts[line]
    if found == nil then
      found = false
      local id = line:match("^[^\t]*")
      local n = 0
      for field, h in line:gmatch("\t([^\t]*)\t([^\t]*)") do
        n = n + 1
        local reason = changed(id, field, h)
        if reason then
          found = found or {}
          found[#found + 1] = reason
        end
      end
      if n == 0 then found = { "a damaged record" } end
      verdicts[line] = found
    end
    if found then
      reasons = reasons or {}
      for _, reason in ipairs(found) do reasons[#reasons + 1] = reason end
      if not all then return reasons end
    end
  end
  return reasons
end

---------------------------------------------------------------------------
-- The build's side

-- Whether a record's line holds now: deps_check.c's judge for the lines
-- it does not judge itself.
local function line_holds(line)
  local id = line:match("^[^\t]*")
  local n = 0
  for field, h in line:gmatch("\t([^\t]*)\t([^\t]*)") do
    n = n + 1
    if changed(id, field, h) then return false end
  end
  return n > 0
end

-- The engine's metatable of posts and pages and its lazy fields (for the
-- check: any other field such a table lacks is nil).
local lazy_meta, lazy_fields

-- Whether this build records: a build with a cache (not a check, not
-- --no-cache). `plugins` are the loaded plugins; `config_path` the config
-- file; `lazy` engine.lua's LAZY_HASH, `meta` and `fields` its LAZY
-- metatable and LAZY_FIELDS. Makes the proxies. Call after the `site`
-- hook, before rendering.
function deps.start(ctx, site, plugins, config_path, lazy, meta, fields)
  if not internal.record_count() or ctx.options.check then return end
  tracking = true
  lazy_hash, lazy_meta, lazy_fields = lazy or {}, meta or false, fields or {}
  globals = global_inputs(ctx, plugins, config_path)
  globals_line = record_line("build", globals)
  -- Every page (posts included), `site` and `site.data` become proxies in
  -- one C call (core/lua/deps_proxy.c): the table keeps its identity, its
  -- fields move to a backing table with its old metatable, and it gets
  -- PROXY. A record names a page by its source file ("post posts/a.md",
  -- "page pages/about.md") or, added by a plugin, its output ("page
  -- /feed.xml").
  local data = type(site.data) == "table" and site.data or nil
  local failed = internal.proxify(data, site, { site.pages, site.posts }, PROXY, backing, ids, by_id)
  if failed[1] and not full_reason then
    full_reason = "page '" .. tostring(failed[1].url) .. "' cannot be tracked (a locked metatable or a "
      .. "second page with its id)"
  end
end

-- Runs the `site` hook (`run(plugins, "site", nil, site)`, engine.lua's
-- run_hook; returns what it does). When this build keeps records, the
-- posts taken from their snapshot become proxies first, so that what the
-- hook reads of them (a table it could change in place) and what anyone
-- sets on them until the check is seen: their other fields keep the
-- hashes their snapshot carries (the check does not hash them again).
function deps.site(ctx, site, run, plugins)
  if not internal.record_count() or ctx.options.check then return run(plugins, "site", nil, site) end
  local hashes, posts = snapshots.field_hashes(), {}
  for _, post in ipairs(site.posts) do
    if hashes[post] then posts[#posts + 1] = post end
  end
  local t0 = internal.clock()
  internal.proxify(nil, nil, { posts }, PROXY, backing, ids, by_id)
  for _, post in ipairs(posts) do
    if backing[post] then carried[post] = hashes[post] end
  end
  if host.getenv("PUBLISH_TIMINGS") then
    -- Apart from `records: proxies` (the other pages, after the hook).
    host.stderr(string.format("publish: record timings: proxies of posts from snapshots %.3f (%d posts)\n",
      internal.clock() - t0, #posts))
  end
  recorder.begin()
  watching = true
  local ok = run(plugins, "site", nil, site)
  watching = false
  touched = recorder.reads()
  recorder.stop()
  -- A field a hook rawset on a proxy would be out of the records' sight:
  -- it moves to the backing table, as one set by assignment.
  for _, post in ipairs(posts) do
    if next(post) ~= nil then
      local b, f = backing[post], touched[post] or {}
      touched[post] = f
      for k, v in next, post do
        rawset(post, k, nil)
        b[k] = v
        f[k] = true
      end
    end
  end
  return ok
end

-- The pages to render of `ready` (prepared pages, in order), with the
-- reasons, for --explain: says why each renders ("" for every page, else
-- a URL or output path). The other pages are kept.
local function plan_explained(ready, explain)
  local old = internal.records()
  local any = next(old) ~= nil
  local render = {}
  for _, page in ipairs(ready) do
    local output = page.output
    local text = old[output]
    local reasons
    if full_reason then
      reasons = { full_reason }
    elseif not text then
      reasons = { any and "new page" or "no record" }
    else
      reasons = why(text, true)
    end
    -- A page not rendered must be kept: its file claimed as unchanged.
    if not reasons and not internal.keep(output, text:match("^[^\n]*")) then
      reasons = { "the output file in the destination changed" }
    elseif not reasons then
      internal.record(output, text)
    end
    if reasons then render[#render + 1] = page end
    if explain == "" or explain == page.url or explain == output or explain == "/" .. output then
      for _, reason in ipairs(reasons or (explain ~= "" and { "unchanged (kept)" } or {})) do
        internal.explain(page.url .. " " .. reason)
      end
    end
  end
  return render
end

-- The pages to render of `ready` (prepared pages, in order): the others
-- are kept as the last build left them (deps_check.c judges the records).
-- Says why each renders when `explain` is set ("" for every page, else a
-- URL or output path).
function deps.plan(ready, explain)
  if not tracking then
    if explain then internal.explain("(no records: --no-cache or a check renders every page)") end
    return ready
  end
  if explain then return plan_explained(ready, explain) end
  if full_reason then return ready end
  local outputs = {}
  for i, page in ipairs(ready) do
    local b = backing[page]
    outputs[i] = b and rawget(b, "output") or page.output
  end
  local render = {}
  for i, at in ipairs(internal.check(outputs, by_id, backing, ids, lazy_hash, lazy_meta, lazy_fields,
    line_holds, carried, touched or {})) do
    render[i] = ready[at]
  end
  touched = nil
  return render
end

-- Around one page's render and output hooks.
function deps.begin_page(page)
  if not tracking then return end
  current, reads, files, env_reads = page, true, {}, {}
  recorder.begin()
  frozen, own, volatile = {}, {}, nil
end

-- The page rendered to `bytes`: its record goes to C.
local escaped_ids = {} -- proxy -> its id as records write it

-- Field names and paths as records write them, escaped once per build.
local escaped = setmetatable({}, { __index = function(t, k)
  local e = type(k) == "number" and ("%N" .. k) or escape(k) -- escape never leaves a % alone
  t[k] = e
  return e
end })

-- The record line of object t: the fields in `names` (sorted here) and
-- their hashes.
local function by_escaped(a, b) return escaped[a] < escaped[b] end

local function object_line(t, id, names, n, numbers)
  -- Any fixed order will do; raw names sort fastest (a number key among
  -- them cannot be compared with a string: by the escaped form then).
  if n > 1 then sort(names, numbers and by_escaped or nil) end
  local fz, m = frozen[t], memo[t]
  local out = { id }
  for i = 1, n do
    local k = names[i]
    local h = fz and fz[k]
    if not h then
      h = m and m[k]
      if not h then
        h = field_hash(t, k)
        m = memo[t]
      end
    end
    out[2 * i] = escaped[k]
    out[2 * i + 1] = h
  end
  return concat(out, "\t")
end

local object_lines, finish_record -- below

function deps.end_page(page, bytes)
  if not tracking or not reads then return end
  -- Built in C when every name is plain (the common case).
  local lines = not lua_lines and recorder.lines(ids, backing, memo, frozen, own, page, lazy_hash)
  if lines then
    lines[#lines + 1] = globals_line
  else
    lines = { globals_line }
    object_lines(page, lines)
  end
  finish_record(page, bytes, lines)
  -- Most of what a post's page reads is its own fields, which few other
  -- pages read (neighbours and listings read a few, and hash them again):
  -- kept for the build, these hashes were ~50 MB in each render process
  -- at 100k posts.
  memo[page] = nil
end

function object_lines(page, lines)
  for t, fields in pairs(recorder.reads()) do
    local id = escaped_ids[t]
    if not id then
      id = escape(ids[t])
      escaped_ids[t] = id
    end
    local fz = frozen[t]
    local names, n, numbers = {}, 0, false
    local mine = t == page
    for k in pairs(fields) do
      local tk = type(k)
      if tk ~= "string" and tk ~= "number" then
        volatile = volatile or "reads a field whose key is a " .. tk
      elseif not (mine and own[k] and not (fz and fz[k])) then
        n = n + 1
        names[n] = k
        numbers = numbers or tk == "number"
      end
    end
    if n > 0 then lines[#lines + 1] = object_line(t, id, names, n, numbers) end
  end
end

function finish_record(page, bytes, lines)
  for kind, paths in pairs(files) do
    local hashes = {}
    for path, h in pairs(paths) do hashes[escaped[path]] = h end
    lines[#lines + 1] = record_line(kind, hashes)
  end
  if next(env_reads) then
    local hashes = {}
    for name, h in pairs(env_reads) do hashes[escaped[name]] = h end
    lines[#lines + 1] = record_line("env", hashes)
  end
  if volatile then lines[#lines + 1] = "!\t" .. escape(volatile) .. "\t-" end
  sort(lines)
  current, reads, files, env_reads = nil, nil, nil, nil
  recorder.stop()
  internal.record(page.output, hex(internal.hash(bytes)) .. "\n" .. concat(lines, "\n") .. "\n")
end

-- A page whose hooks failed: nothing is recorded (the build fails).
function deps.abort_page()
  current, reads, files, env_reads = nil, nil, nil, nil
  recorder.stop()
end

return deps
