-- usage: publish run feature-image [-s SRC] [--dry-run]
-- Sets `image` on every post that has none to the first picture in its
-- body: a Markdown image ![alt](URL) or an HTML <img src="URL">,
-- whichever comes first.
if select("#", ...) > 0 then error("usage: publish run feature-image (no arguments)", 0) end

-- The url of the first image in `body` (Markdown or <img>), or nil.
local function first_image(body)
  local best, url
  local at, _, found = body:find("!%[[^%]]*%]%(%s*<?([^%s)>]+)")
  if at then best, url = at, found end
  local pos = 1
  while true do
    local tag_at, tag_end = body:find("<[Ii][Mm][Gg][%s/][^>]*>", pos)
    if not tag_at or (best and tag_at > best) then break end
    local tag = body:sub(tag_at, tag_end)
    local src = tag:match("[%s/][Ss][Rr][Cc]%s*=%s*\"([^\"]*)\"")
      or tag:match("[%s/][Ss][Rr][Cc]%s*=%s*'([^']*)'")
      or tag:match("[%s/][Ss][Rr][Cc]%s*=%s*([^%s\"'>]+)")
    if src and src ~= "" then
      url = src
      break
    end
    pos = tag_end + 1
  end
  return url
end

local set = 0
for _, post in ipairs(site.posts) do
  if post.meta.image == nil and type(post.body) == "string" then
    local url = first_image(post.body)
    if url then
      post.meta.image = url
      set = set + 1
    end
  end
end
publish.log.info(("feature-image: set %d image%s"):format(set, set == 1 and "" or "s"))
