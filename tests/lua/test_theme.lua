-- The example theme's plugin (site/plugins/theme.lua): the lead image is
-- not shown twice, the standfirst, and placeholder art per slug.
--   publish run tests/lua/test_theme.lua -s tests/lua/site -q

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
local check = dofile(here .. "/plugin_check.lua")
local theme = dofile(here .. "/../../site/plugins/theme.lua")

local function run(fields, config)
  local post = check.post(fields)
  theme.post(post, { config = config or {} })
  return post
end

local LEAD = "https://img.example.com/a/lead.png"

-- The body opens with the front matter image: not repeated by the layout.
do
  local p = run { meta = { image = LEAD }, content = '<p><img src="' .. LEAD .. '" alt="x" /></p>\n<h2>T</h2>' }
  check.eq(p.image_in_body, true, "body starting with the image")
  -- Query strings and fragments do not make another picture; &amp; is &.
  p = run { meta = { image = LEAD .. "?w=1200&h=630" },
            content = '\n  <figure><a href="/x"><img alt="" src="' .. LEAD .. '?w=600&amp;h=315#f"></a></figure>' }
  check.eq(p.image_in_body, true, "same image, other query string, through figure and a")
  p = run { meta = { image = "/images/a.svg" }, content = "<p><img src='/blog/images/a.svg'></p>" }
  check.eq(p.image_in_body, false, "another path is another image")
  p = run({ meta = { image = "/images/a.svg" }, content = "<p><img src='/blog/images/a.svg'></p>" },
          { baseurl = "/blog" })
  check.eq(p.image_in_body, true, "baseurl prefix in the body")
end

-- Anything before the image (text, a heading), or another image: shown.
do
  local p = run { meta = { image = LEAD }, content = '<p>Intro <img src="' .. LEAD .. '"></p>' }
  check.eq(p.image_in_body, false, "text before the image")
  p = run { meta = { image = LEAD }, content = '<h2>T</h2><p><img src="' .. LEAD .. '"></p>' }
  check.eq(p.image_in_body, false, "heading before the image")
  p = run { meta = { image = LEAD }, content = '<p><img src="https://img.example.com/a/other.png"></p>' }
  check.eq(p.image_in_body, false, "another first image")
  p = run { meta = {}, content = '<p><img src="' .. LEAD .. '"></p>' }
  check.eq(p.image_in_body, false, "no front matter image")
  p = run { meta = { image = 12 }, content = '<p><img src="12"></p>' }
  check.eq(p.image_in_body, false, "image that is not a string")
  check.eq(theme.leading_image('<p><img data-src="x" src=plain.png></p>'), "plain.png", "unquoted src")
end

-- The standfirst: feature_text, else description, folded; strings only.
do
  local p = run { meta = { feature_text = "  러시아 대통령 푸틴이\n 24년 만에   방문했다.\n", description = "d" } }
  check.eq(p.standfirst, "러시아 대통령 푸틴이 24년 만에 방문했다.", "feature_text folded and trimmed")
  p = run { meta = { description = "A short summary." } }
  check.eq(p.standfirst, "A short summary.", "description when there is no feature_text")
  p = run { meta = { feature_text = "  \n", description = "D" } }
  check.eq(p.standfirst, "D", "blank feature_text falls back")
  p = run { meta = { feature_text = { "list" } } }
  check.eq(p.standfirst, nil, "not a string: no standfirst")
end

-- Placeholder art: stable for a slug, different for neighbours.
do
  local a, b = theme.art("writing-plugins-in-lua"), theme.art("what-jekyll-front-matter-means")
  check.eq(theme.art("writing-plugins-in-lua"), a, "same slug, same art")
  check.ok(a ~= b, "two slugs, two arts", a .. " / " .. b)
  local shape = "^%-%-art%-h1: %d+; %-%-art%-h2: %d+; %-%-art%-angle: %d+deg; %-%-art%-x: %d+%%; %-%-art%-y: %d+%%$"
  check.ok(a:match(shape), "art is a custom-property list", a)
  local seen, distinct = {}, 0
  for i = 1, 50 do
    local hue = theme.art("post-" .. i):match("h1: (%d+)")
    if not seen[hue] then distinct = distinct + 1; seen[hue] = true end
  end
  check.ok(distinct >= 35, "hues spread over 50 slugs", distinct .. " distinct")
  check.eq(run({ slug = "x" }).art, theme.art("x"), "post.art from the slug")
end

check.done()
