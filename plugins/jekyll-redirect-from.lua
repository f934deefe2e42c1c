-- jekyll-redirect-from: for Jekyll sites that name the gem in `plugins:`.
-- A page or post with `redirect_from: [/old/, ...]` gets a small redirect
-- page at each old URL; one with `redirect_to: URL` is itself written as a
-- redirect there. The redirect page is the gem's (canonical link, script,
-- meta refresh, a link to click), and is left out of the sitemap.

local urls = require "publish.urls"

local redirect = {}

local site_model -- this build's site (setup)

function redirect.setup(site) site_model = site end

local function target_of(site, url)
  if url:match("^%a[%w+.-]*://") then return url end
  return urls.absolute(site, url)
end

function redirect.html(to)
  local href = publish.html.escape(to)
  return table.concat({
    "<!DOCTYPE html>",
    '<html lang="en-US">',
    '  <meta charset="utf-8">',
    "  <title>Redirecting&hellip;</title>",
    '  <link rel="canonical" href="' .. href .. '">',
    '  <script>location="' .. href .. '"</script>',
    '  <meta http-equiv="refresh" content="0; url=' .. href .. '">',
    '  <meta name="robots" content="noindex">',
    "  <h1>Redirecting&hellip;</h1>",
    '  <a href="' .. href .. '">Click here if you are not redirected.</a>',
    "</html>",
  }, "\n") .. "\n"
end

local function as_list(v)
  if type(v) == "string" then return { v } end
  if type(v) == "table" then return v end
  return {}
end

function redirect.site(site)
  local added = {}
  for _, page in ipairs(site.pages) do
    local meta = type(page.meta) == "table" and page.meta or {}
    for _, from in ipairs(as_list(meta.redirect_from)) do
      if type(from) == "string" and from ~= "" then
        added[#added + 1] = {
          url = from:sub(1, 1) == "/" and from or "/" .. from, kind = "redirect", layout = false,
          sitemap = false, content = redirect.html(target_of(site, page.url)),
        }
      end
    end
    if type(meta.redirect_to) == "string" then
      page.redirect_to = meta.redirect_to
      page.sitemap = false
    end
  end
  for _, page in ipairs(added) do site:add_page(page) end
end

-- A page with redirect_to is written as the redirect, not its layout.
function redirect.output(_, bytes, page)
  if page.redirect_to then return redirect.html(target_of(site_model, page.redirect_to)) end
  return bytes
end

return redirect
