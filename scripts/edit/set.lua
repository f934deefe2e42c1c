-- usage: publish run set [-s SRC] [--dry-run] -- KEY VALUE [FILTER]
--        publish run set [-s SRC] [--dry-run] -- --remove KEY [FILTER]
-- Sets (or removes) the front-matter key KEY on every post for which the
-- Lua expression FILTER is true (every post when FILTER is left out).
-- VALUE is read as YAML, so `true`, `3`, `2024-06-19` and `[a, b]` keep
-- their type; quote it for a string ('"3"'). FILTER sees the post's
-- fields (`title`, `slug`, `date`, `categories`, `tags`, `path`, `body`),
-- `meta`, `post` and the usual globals, e.g.
--   publish run set -- draft true 'date.year < 2015'
--   publish run set -- --remove layout 'meta.layout == "post"'
local args = { ... }
local remove = args[1] == "--remove"
local key, value_text, filter
if remove then
  key, filter = args[2], args[3]
  if not key or #args > 3 then error("usage: publish run set -- --remove KEY [FILTER]", 0) end
else
  key, value_text, filter = args[1], args[2], args[3]
  if not key or not value_text or #args > 3 then error("usage: publish run set -- KEY VALUE [FILTER]", 0) end
end
if key == "" then error("set.lua: KEY must not be empty", 0) end

local value
if not remove then
  value = publish.yaml.load(value_text, "VALUE")
  if value == nil then error("set.lua: VALUE '" .. value_text .. "' is empty or null; use --remove", 0) end
end

local current -- the post the filter is looking at
local env = setmetatable({}, {
  __index = function(_, name)
    if name == "post" then return current end
    if name == "meta" then return current.meta end
    local v = current[name]
    if v ~= nil then return v end
    return _G[name]
  end,
})
local test = function() return true end
if filter and filter ~= "" then
  local chunk, err = load("return " .. filter, "=FILTER", "t", env)
  if not chunk then error("set.lua: bad FILTER: " .. err, 0) end
  test = chunk
end

-- A deep copy, so posts do not share one table.
local function copy(v)
  if type(v) ~= "table" or getmetatable(v) then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

local matched = 0
for _, post in ipairs(site.posts) do
  current = post
  if test() then
    matched = matched + 1
    if remove then post.meta[key] = nil else post.meta[key] = copy(value) end
  end
end
publish.log.info(("set: %d post%s matched"):format(matched, matched == 1 and "" or "s"))
