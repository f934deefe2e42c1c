-- The Lua half of bulk edits (`publish run`): the methods a script uses to
-- change posts as data (post:rename, post:move, post:delete,
-- site:new_post) and the bookkeeping behind them, one entry per post or
-- page: where it is, where it goes, whether it was deleted or is new, and
-- the C snapshot of what the script first saw. Nothing here touches the
-- disk: when the script has returned, C (core/lua/edit.c) compares each
-- entry's post with its snapshot, rewrites what changed and commits it all
-- at once (core/edit.h).
--
-- C loads this file once per run and calls edit.prepare(site, c), where
-- `c` holds the C helpers: c.snapshot(post) (a userdata freezing post.meta
-- and the fields derived from it), c.exists(relpath) (a file is there,
-- below SRC) and c.confine(dir) (the folder normalised below SRC, or nil
-- when it climbs out). edit.entries() then gives C the entries, in path
-- order with new posts after, in the order they were made.

local edit = {}
local name_list = require("publish.schema").name_list

local state -- this run's: c, entries (array), by_post (post -> entry)

-- A script's mistake, raised at the script's line: the methods run in
-- protect(), which re-raises with the caller's position.
local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local function protect(fn)
  return function(...)
    local ok, result = pcall(fn, ...)
    if not ok then error(result, 2) end
    return result
  end
end

local function check_arg(value, n, method, want)
  if type(value) ~= want then
    fail("bad argument #%d to '%s' (%s expected, got %s)", n, method, want,
      value == nil and "no value" or type(value))
  end
end

-- The entry of a post that is still there.
local function live_entry(post, method)
  check_arg(post, 1, method, "table")
  if not state then fail("%s: bulk edits are not enabled", method) end
  local entry = state.by_post[post]
  if not entry then fail("%s: not a post or page of this site", method) end
  if entry.deleted then fail("%s: '%s' was deleted", method, entry.path) end
  return entry
end

-- Raises unless `path` is free: no other live entry goes there, and no
-- file is there other than the entry's own original (`entry` nil: a post
-- that has none yet). A path freed by a rename in this run still exists
-- until the commit.
local function check_free(entry, path)
  local own = entry and entry.path == path
  if not own and state.c.exists(path) then fail("'%s' already exists", path) end
  for _, other in ipairs(state.entries) do
    if other ~= entry and not other.deleted and other.target == path then
      fail("'%s' is already the path of another post", path)
    end
  end
end

local function set_target(entry, path)
  check_free(entry, path)
  entry.target = path
  rawset(entry.post, "path", path)
end

-- One plain file name: not empty, no '/', '\', leading '.', NUL or control.
local function valid_slug(slug)
  return slug ~= "" and slug:sub(1, 1) ~= "." and not slug:find("[/\\%z\1-\31]")
end

local function base_name(path)
  return path:match("([^/]*)$")
end

local function rename(post, slug)
  if type(slug) == "number" then slug = tostring(slug) end
  check_arg(slug, 2, "rename", "string")
  local entry = live_entry(post, "rename")
  if not valid_slug(slug) then
    fail("rename: invalid slug '%s' (one file name, no '/' or leading '.')", slug)
  end
  local target = entry.target
  local base = base_name(target)
  local folder = target:sub(1, #target - #base)
  local is_post = entry.kind == "post"
  local prefix = is_post and base:match("^%d%d%d%d%-%d%d%-%d%d%-") or ""
  local ext = base:match("^.+(%.[^.]*)$") or ""
  set_target(entry, folder .. prefix .. slug .. ext)
  if is_post then
    rawset(post, "slug", slug)
    -- An explicit `slug:` would override the file name: keep them agreeing.
    local meta = rawget(post, "meta")
    if type(meta) == "table" and type(rawget(meta, "slug")) == "string" then rawset(meta, "slug", slug) end
  end
end

local function confined_folder(dir, method)
  local clean = state.c.confine(dir)
  if not clean then fail("%s: folder '%s' is outside the source folder", method, dir) end
  return clean
end

local function move(post, dir)
  check_arg(dir, 2, "move", "string")
  local entry = live_entry(post, "move")
  local folder = confined_folder(dir, "move")
  local base = base_name(entry.target)
  set_target(entry, folder ~= "" and folder .. "/" .. base or base)
end

local function delete(post)
  live_entry(post, "delete").deleted = true
end

local methods = {
  rename = protect(rename),
  move = protect(move),
  delete = protect(delete),
}
local POST = { __name = "publish.EditPost", __index = methods }

local function attach_methods(item)
  if getmetatable(item) == nil then
    setmetatable(item, POST)
  else
    -- Not ours to replace: plain fields instead.
    for name, fn in pairs(methods) do rawset(item, name, fn) end
  end
end

local function add_entry(item, kind, is_new)
  local entry = {
    post = item, kind = kind, path = rawget(item, "path"), target = rawget(item, "path"),
    body = rawget(item, "body"), new = is_new, deleted = false,
  }
  entry.snap = state.c.snapshot(item)
  state.entries[#state.entries + 1] = entry
  state.by_post[item] = entry
  attach_methods(item)
  return entry
end

-- A copy of new_post's `meta` with title and date filled in when given.
local function new_meta(spec, title, date, date_given)
  local meta = {}
  if spec.meta ~= nil then
    if type(spec.meta) ~= "table" then fail("new_post: 'meta' must be a table") end
    for k, v in pairs(spec.meta) do meta[k] = v end
  end
  if title ~= nil and meta.title == nil then meta.title = title end
  if date_given and meta.date == nil then meta.date = date end
  return meta
end

-- site:new_post{title=, slug=, date=, meta=, body=, dir=} -> post
local function new_post(site, spec)
  check_arg(site, 1, "new_post", "table")
  check_arg(spec, 2, "new_post", "table")
  if not state then fail("new_post: bulk edits are not enabled") end
  local title = spec.title
  if title ~= nil and type(title) ~= "string" and type(title) ~= "number" then
    fail("new_post: 'title' must be a string")
  end
  local slug = spec.slug
  if slug == nil then
    if title == nil then fail("new_post: needs a 'title' or a 'slug'") end
    slug = publish.slugify(title)
  end
  if type(slug) == "number" then slug = tostring(slug) end
  if type(slug) ~= "string" or not valid_slug(slug) then
    fail("new_post: invalid slug '%s'", type(slug) == "string" and slug or "?")
  end

  local date, date_given = spec.date, spec.date ~= nil
  if type(date) == "string" then
    local parsed = publish.date.parse(date)
    if not parsed then fail("new_post: invalid date '%s'", date) end
    date = parsed
  elseif not date_given then
    date = publish.date.now()
  end
  if not publish.date.is(date) then fail("new_post: 'date' must be a date or a string like 2024-06-19") end

  -- The reader's posts folder: posts/ on a native site, _posts/ on Jekyll's.
  local reader = type(rawget(site, "reader")) == "table" and rawget(site, "reader") or {}
  local folder = confined_folder(spec.dir == nil and (reader.posts or "posts") or spec.dir, "new_post")
  local path = string.format("%s%s%04d-%02d-%02d-%s.md", folder, folder ~= "" and "/" or "",
    date.year, date.month, date.day, slug)
  local body = spec.body
  if body == nil then body = "" end
  if type(body) ~= "string" then fail("new_post: 'body' must be a string") end

  local meta = new_meta(spec, title, date, date_given)
  local post = {
    kind = "post", slug = slug, title = title == nil and slug or title, date = date, meta = meta,
    body = body, categories = name_list(meta.categories, meta.category), tags = name_list(meta.tags, meta.tag),
    path = path,
  }
  check_free(nil, path)
  add_entry(post, "post", true)
  if type(rawget(site, "posts")) == "table" then
    local posts = rawget(site, "posts")
    posts[#posts + 1] = post
  end
  return post
end

function edit.prepare(site, c)
  state = { c = c, entries = {}, by_post = setmetatable({}, { __mode = "k" }) }
  for _, list in ipairs { "posts", "pages" } do
    local items = rawget(site, list)
    if type(items) == "table" then
      for _, item in ipairs(items) do
        if type(item) == "table" and type(rawget(item, "path")) == "string" then
          add_entry(item, list == "posts" and "post" or "page", false)
        end
      end
    end
  end
  -- Entries in path order, so the diff and the errors read in order.
  table.sort(state.entries, function(a, b) return a.path < b.path end)
  rawset(site, "new_post", protect(new_post))
end

function edit.entries()
  return state and state.entries
end

return edit
