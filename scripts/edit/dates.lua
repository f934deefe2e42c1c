-- usage: publish run dates [-s SRC] [--dry-run]
-- Adds `date: YYYY-MM-DD` to every post whose front matter has no date,
-- taken from its file name (posts/2024-06-19-x.md). Posts that already
-- have a date, or whose file name has none, are left alone.
if select("#", ...) > 0 then error("usage: publish run dates (no arguments)", 0) end
local added = 0
for _, post in ipairs(site.posts) do
  if post.meta.date == nil then
    local day = post.path:match("([^/]*)$"):match("^(%d%d%d%d%-%d%d%-%d%d)%-")
    local date = day and publish.date.parse(day)
    if date then
      post.meta.date = date
      added = added + 1
    end
  end
end
publish.log.info(("dates: added %d date%s"):format(added, added == 1 and "" or "s"))
