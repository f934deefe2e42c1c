-- usage: publish run retag [-s SRC] [--dry-run] -- OLD NEW
-- Renames the category or tag OLD to NEW on every post and page, in
-- `categories:`, `category:`, `tags:` and `tag:`. Where a post already has
-- NEW, the two merge into one. A list stays a list; a string stays a
-- string (names in a string are separated by spaces, as the engine reads
-- them, so NEW may not contain a space there). Only posts that had OLD
-- are rewritten, and of those only the lines of the keys that held it.
local old, new = ...
if not old or not new or old == "" or new == "" or select("#", ...) > 2 then
  error("usage: publish run retag -- OLD NEW", 0)
end
if old == new then return end

-- The new value of a list, or nil when OLD is not in it.
local function retag_list(list)
  local found = false
  for _, name in ipairs(list) do
    if name == old then found = true end
  end
  if not found then return nil end
  local out, seen = {}, {}
  for _, name in ipairs(list) do
    if name == old then name = new end
    if type(name) ~= "string" or not seen[name] then
      if type(name) == "string" then seen[name] = true end
      out[#out + 1] = name
    end
  end
  return out
end

local function retag_string(s)
  local words = {}
  for word in s:gmatch("%S+") do words[#words + 1] = word end
  local list = retag_list(words)
  if not list then return nil end
  if new:find("%s") then
    -- A space would split NEW into two names: keep the names as a list.
    return list
  end
  return table.concat(list, " ")
end

local changed = 0
local function retag(doc)
  local meta = doc.meta
  local touched = false
  for _, key in ipairs({ "categories", "category", "tags", "tag" }) do
    local value = meta[key]
    local replacement
    if type(value) == "table" then
      replacement = retag_list(value)
    elseif type(value) == "string" then
      replacement = retag_string(value)
    end
    if replacement ~= nil then
      meta[key] = replacement
      touched = true
    end
  end
  if touched then changed = changed + 1 end
end

for _, post in ipairs(site.posts) do retag(post) end
for _, page in ipairs(site.pages) do retag(page) end
publish.log.info(("retag: '%s' -> '%s' in %d file%s"):format(old, new, changed, changed == 1 and "" or "s"))
