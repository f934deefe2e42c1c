-- Shared by the bundled-plugin tests (test_excerpt, test_categories,
-- test_feed): a tiny check/report harness and a fake site to feed hooks.
-- Run only under `publish run`, so the tests see the real `publish`
-- library (core/lua/lib_*.c) and never a stand-in that could drift from it.

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
assert(publish, "run the Lua tests with the real binary: publish run " .. here .. "/test_NAME.lua -s tests/lua/site")

local check = { passed = 0, failed = 0, here = here }

function check.ok(cond, name, detail)
  if cond then
    check.passed = check.passed + 1
  else
    check.failed = check.failed + 1
    io.stderr:write("FAIL: " .. name .. (detail and ("\n  " .. detail) or "") .. "\n")
  end
end

function check.eq(got, want, name)
  check.ok(got == want, name, "got:  " .. tostring(got) .. "\n  want: " .. tostring(want))
end

-- Prints the summary; exits 1 when something failed.
function check.done()
  print(check.passed .. " passed, " .. check.failed .. " failed")
  if check.failed > 0 then os.exit(1) end
end

-- Calls fn with publish.log.warn captured; returns the warnings.
function check.warnings(fn)
  local saved, got = publish.log.warn, {}
  publish.log.warn = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring(select(i, ...)) end
    got[#got + 1] = table.concat(parts, " ")
  end
  local ok, err = pcall(fn)
  publish.log.warn = saved
  if not ok then error(err, 0) end
  return got
end

local function date(y, mo, d, h)
  if publish.date.make then return publish.date.make(y, mo, d, h or 9, 0, 0, 540) end
  return publish.date.parse(string.format("%04d-%02d-%02dT%02d:00:00+09:00", y, mo, d, h or 9))
end
check.date = date

-- A post table as the engine makes it (only the fields plugins read).
function check.post(fields)
  local post = {
    kind = "post", title = fields.title or "Untitled", slug = fields.slug or "untitled",
    categories = fields.categories or {}, tags = fields.tags or {},
    meta = fields.meta or {}, body = fields.body or "", content = fields.content or "",
    date = fields.date or date(2024, 6, 19),
  }
  post.path = fields.path or ("posts/" .. post.slug .. ".md")
  post.url = fields.url or ("/" .. post.slug .. "/")
  for k, v in pairs(fields) do if post[k] == nil then post[k] = v end end
  return post
end

-- A site with these posts (sorted newest first, indexed by category and
-- tag as the engine does) and config.
function check.site(posts, config)
  table.sort(posts, function(a, b)
    if a.date.epoch ~= b.date.epoch then return a.date.epoch > b.date.epoch end
    return a.path < b.path
  end)
  local site = {
    config = config or {}, posts = posts, pages = {}, title = "Test site",
    url = "https://example.com", baseurl = "", language = "ko", author = "Tester",
    time = date(2026, 11, 25),
  }
  for _, field in ipairs { "categories", "tags" } do
    local map, names = {}, {}
    for _, post in ipairs(posts) do
      for _, name in ipairs(post[field]) do
        if not map[name] then map[name] = {}; names[#names + 1] = name end
        table.insert(map[name], post)
      end
    end
    table.sort(names)
    site[field] = map
    site[field == "categories" and "category_names" or "tag_names"] = names
  end
  for _, post in ipairs(posts) do site.pages[#site.pages + 1] = post end
  function site:add_page(page)
    if page.url:sub(1, 1) ~= "/" then page.url = "/" .. page.url end
    page.kind = page.kind or "page"
    self.pages[#self.pages + 1] = page
    return page
  end
  return site
end

-- The pages of a site by URL.
function check.by_url(site)
  local map = {}
  for _, page in ipairs(site.pages) do map[page.url] = page end
  return map
end

-- The example post shipped with the example site (raw HTML body).
function check.read(path)
  local f = assert(io.open(here .. "/../../" .. path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

return check
