-- Post snapshots (docs/lua-api.md, "Caching post hooks"): a post as it
-- stands after its `document` and `post` hooks goes to the build cache,
-- and a later build takes it from there for an unchanged document instead
-- of making the post and running those hooks again. C keys, stores and
-- reads the snapshots (core/doc.h, core/lua/snapshot.h); this module
-- decides which plugins allow them and which posts may be kept: a post
-- whose making or hooks said anything (a warning would not be said again)
-- or that depends on the clock (a draft dated now) is made on every
-- build.

local snapshots = {}

local internal, now
local fresh = {}  -- post -> its document's snapshot_id, when it may be kept
local taken = {}  -- posts that came from their snapshot
-- post -> the field hashes its snapshot carries (core/lua/snapshot.h), for
-- the record check (core/lua/deps.lua)
local field_hashes = {}

-- The part of the key only the engine knows (C adds the config file, the
-- plugins' code, the Markdown options and the engine's identity), or nil
-- when some plugin's `document` or `post` hook has not said that it may
-- be cached.
function snapshots.what(plugins, options)
  local names = {}
  for _, p in ipairs(plugins) do
    local hooks = p.hooks
    if hooks.document and hooks.document_cache ~= true then return nil end
    if hooks.post and hooks.post_cache ~= true then return nil end
    names[#names + 1] = p.name
  end
  return "posts:" .. table.concat(names, ",") .. ";drafts=" .. tostring(options.drafts == true)
    .. ";future=" .. tostring(options.future == true)
end

-- A build's start: `ctx_internal` and the build's moment (a draft without
-- a date is dated with it).
function snapshots.start(ctx_internal, ctx_now)
  internal, now = ctx_internal, ctx_now
  fresh, taken, field_hashes = {}, {}, {}
end

-- The post a document's snapshot holds (with the engine's metatable
-- `lazy`), or nil when it must be made.
function snapshots.take(doc, lazy)
  local post = doc.snapshot
  if not post then return nil end
  doc.snapshot = nil
  taken[post] = true
  field_hashes[post] = doc.field_hashes
  doc.field_hashes = nil
  return setmetatable(post, lazy)
end

-- A post made from `doc`, with `said` the number of diagnostics before
-- the document was pulled: it may be kept after its post hooks if nothing
-- was said since.
function snapshots.made(doc, post, said)
  if doc.snapshot_id and post.kind == "post" and not rawequal(post.date, now)
     and internal.diagnostics() == said then
    fresh[post] = doc.snapshot_id
  end
end

function snapshots.taken(post)
  return taken[post] == true
end

-- post -> the field hashes its snapshot carries (a string for C), for the
-- posts taken from their snapshot this build.
function snapshots.field_hashes()
  return field_hashes
end

-- How many posts came from their snapshot (PUBLISH_TIMINGS).
function snapshots.count()
  local n = 0
  for _ in pairs(taken) do n = n + 1 end
  return n
end

-- After `post`'s hooks kept it, `said` diagnostics before them.
function snapshots.hooked(post, said)
  local id = fresh[post]
  if id and internal.diagnostics() == said then internal.snapshot_put(id, post) end
  fresh[post] = nil
end

return snapshots
