-- The categories plugin: Unicode URLs, pagination, index pages, post
-- links, and names that slug the same kept apart with a warning. Also the
-- paginate plugin (home pages and the archive), which shares the engine library publish.pager.
--   publish run tests/lua/test_categories.lua -s tests/lua/site -q

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
local check = dofile(here .. "/plugin_check.lua")
local categories = require "categories"
local paginate = require "paginate"

-- 23 posts: all in 뉴스, every third also in "Dev Notes", tags alternate.
local function make_posts()
  local posts = {}
  for i = 1, 23 do
    local cats = { "뉴스" }
    if i % 3 == 0 then cats[2] = "Dev Notes" end
    posts[i] = check.post {
      title = "Post " .. i, slug = "post-" .. i, categories = cats,
      tags = { i % 2 == 0 and "짝수" or "odd" },
      date = check.date(2023 + i // 10, 1 + i % 12, 1 + i % 28),
    }
  end
  return posts
end

-- Korean names keep their letters; pages split by `paginate`.
do
  local site = check.site(make_posts(), { paginate = 5 })
  local warnings = check.warnings(function() categories.site(site) end)
  check.eq(#warnings, 0, "no warnings for distinct names")
  local pages = check.by_url(site)
  local news = pages["/categories/뉴스/"]
  check.ok(news ~= nil, "korean category page at /categories/뉴스/")
  if news then
    check.eq(news.kind, "category", "category kind")
    check.eq(news.layout, "category", "category layout")
    check.eq(news.title, "뉴스", "category title is the name")
    check.eq(news.name, "뉴스", "category name")
    check.eq(#news.posts, 5, "5 posts on page 1")
    check.eq(news.posts[1], site.posts[1], "newest post first")
    local pg = news.paginator
    check.eq(pg.page, 1, "paginator.page")
    check.eq(pg.per_page, 5, "paginator.per_page")
    check.eq(pg.total_pages, 5, "23 posts in 5 pages")
    check.eq(pg.total_posts, 23, "paginator.total_posts")
    check.eq(pg.prev_url, nil, "no prev on page 1")
    check.eq(pg.next_url, "/categories/뉴스/page/2/", "next url")
    check.eq(pg.next_href, "/categories/%EB%89%B4%EC%8A%A4/page/2/", "next href percent-encoded")
    check.eq(pg.first_url, "/categories/뉴스/", "first url")
    check.eq(pg.last_url, "/categories/뉴스/page/5/", "last url")
  end
  local last = pages["/categories/뉴스/page/5/"]
  check.ok(last ~= nil, "last page exists")
  if last then
    check.eq(#last.posts, 3, "3 posts on the last page")
    check.eq(last.paginator.prev_url, "/categories/뉴스/page/4/", "prev url on the last page")
    check.eq(last.paginator.next_url, nil, "no next on the last page")
    check.eq(last.posts[3], site.posts[23], "oldest post last")
  end
  check.eq(pages["/categories/뉴스/page/6/"], nil, "no page 6")
  check.eq(pages["/categories/뉴스/page/1/"], nil, "page 1 is the category URL itself")
  local dev = pages["/categories/dev-notes/"]
  check.ok(dev ~= nil and #dev.posts == 5 and dev.paginator.total_posts == 7, "Dev Notes -> dev-notes, 7 posts")
  local tag = pages["/tags/짝수/"]
  check.ok(tag ~= nil and tag.kind == "tag" and tag.paginator.total_posts == 11, "korean tag page, 11 posts")
  check.ok(pages["/tags/odd/page/3/"] ~= nil and pages["/tags/odd/page/4/"] == nil, "12 odd posts in 3 pages")

  -- Index pages, sorted by name, with counts.
  local index = pages["/categories/"]
  check.ok(index ~= nil and index.kind == "categories" and index.layout == "categories", "categories index")
  if index then
    check.eq(#index.list, 2, "two categories listed")
    check.eq(index.list[1].name, "Dev Notes", "sorted by name")
    check.eq(index.list[2].url, "/categories/뉴스/", "list url")
    check.eq(index.list[2].href, "/categories/%EB%89%B4%EC%8A%A4/", "list href")
    check.eq(index.list[2].count, 23, "list count")
  end
  check.ok(pages["/tags/"] ~= nil and pages["/tags/"].kind == "tags", "tags index")
  check.eq(site.category_list and #site.category_list, 2, "site.category_list")

  -- Links from posts.
  local p3 = nil
  for _, post in ipairs(site.posts) do if post.slug == "post-3" then p3 = post end end
  check.eq(#p3.category_links, 2, "post links to both categories")
  check.eq(p3.category_links[1].name, "뉴스", "links in the post's order")
  check.eq(p3.category_links[2].url, "/categories/dev-notes/", "link url")
  check.eq(p3.tag_links[1].href, "/tags/odd/", "tag link href")
end

-- Names that slug the same are reported and kept apart; a name with no
-- letters is reported and skipped.
do
  local posts = {
    check.post { slug = "a", path = "posts/a.md", categories = { "News" }, date = check.date(2024, 1, 1) },
    check.post { slug = "b", path = "posts/b.md", categories = { "news" }, date = check.date(2024, 1, 2) },
    check.post { slug = "c", path = "posts/c.md", categories = { "News" }, tags = { "!!!" }, date = check.date(2024, 1, 3) },
  }
  local site = check.site(posts, {})
  local warnings = check.warnings(function() categories.site(site) end)
  check.eq(#warnings, 2, "one warning for the collision, one for the empty slug")
  local w = table.concat(warnings, "\n")
  check.ok(w:find("'News'", 1, true) and w:find("'news'", 1, true), "warning names both", w)
  check.ok(w:find("posts/a.md", 1, true) and w:find("posts/b.md", 1, true), "warning names the posts", w)
  check.ok(w:find("news-2", 1, true) ~= nil, "warning gives the new slug", w)
  check.ok(w:find("'!!!'", 1, true) ~= nil, "empty slug warned", w)
  local pages = check.by_url(site)
  check.ok(pages["/categories/news/"] and pages["/categories/news/"].name == "News", "first name keeps the slug")
  check.ok(pages["/categories/news-2/"] and pages["/categories/news-2/"].name == "news", "second gets -2")
  check.eq(pages["/categories/news/"].paginator.total_posts, 2, "not merged: News has 2")
  check.eq(pages["/categories/news-2/"].paginator.total_posts, 1, "not merged: news has 1")
  check.eq(pages["/tags/"], nil, "no tags index when no tag has a page")
  for _, page in ipairs(site.pages) do
    check.ok(not (page.url:find("^/tags/.") ), "no page for '!!!'", page.url)
  end
end

-- Layout overrides, paginate 0 = one page.
do
  local site = check.site(make_posts(), { paginate = 0, category_layout = "list", tag_layout = "tag" })
  categories.site(site)
  local pages = check.by_url(site)
  check.eq(#pages["/categories/뉴스/"].posts, 23, "paginate 0: all on one page")
  check.eq(pages["/categories/뉴스/"].layout, "list", "category_layout")
  check.eq(pages["/tags/odd/"].layout, "tag", "tag_layout")
  check.eq(pages["/categories/뉴스/page/2/"], nil, "no second page")
end

-- paginate: home pages and the archive.
do
  local site = check.site(make_posts(), { paginate = 10 })
  paginate.site(site)
  local pages = check.by_url(site)
  local home = pages["/"]
  check.ok(home and home.kind == "home" and home.layout == "home", "home page")
  check.eq(#home.posts, 10, "10 on the home page")
  check.eq(home.paginator.next_url, "/page/2/", "home next")
  check.eq(pages["/page/3/"] and #pages["/page/3/"].posts, 3, "3 on home page 3")
  check.eq(pages["/page/4/"], nil, "no home page 4")
  local archive = pages["/archive/"]
  check.ok(archive and archive.kind == "archive", "archive page")
  local total, last_year = 0, math.huge
  for _, group in ipairs(archive.years) do
    check.ok(group.year < last_year, "years newest first")
    last_year = group.year
    for _, post in ipairs(group.posts) do
      check.eq(post.date.year, group.year, "post in its year")
      total = total + 1
    end
  end
  check.eq(total, 23, "every post in the archive")
  check.eq(#archive.years, 3, "three years")

  -- A page of the site's own at "/" wins.
  site = check.site(make_posts(), {})
  site:add_page { url = "/", kind = "page", title = "Welcome" }
  paginate.site(site)
  local homes = 0
  for _, page in ipairs(site.pages) do if page.url == "/" then homes = homes + 1 end end
  check.eq(homes, 1, "pages/index wins over the home page")
end

-- category_titles / tag_titles: labels shown, names and URLs as written.
do
  local site = check.site(make_posts(), { paginate = 0, category_titles = { ["Dev Notes"] = "개발 노트" },
    tag_titles = { odd = "홀수" } })
  categories.site(site)
  local pages = {}
  for _, page in ipairs(site.pages) do pages[page.url] = page end
  local dev = pages["/categories/dev-notes/"]
  check.eq(dev and dev.title, "개발 노트", "category page title is the display title")
  check.eq(dev and dev.name, "Dev Notes", "category page name as written")
  check.eq(pages["/categories/뉴스/"].title, "뉴스", "no title given: the name")
  check.eq(pages["/tags/odd/"].title, "홀수", "tag_titles")
  local titles = {}
  for _, entry in ipairs(site.category_list) do titles[entry.name] = entry.title end
  check.eq(titles["Dev Notes"], "개발 노트", "list entry title")
  check.eq(titles["뉴스"], "뉴스", "list entry title defaults to the name")
  local p3 = site.posts[#site.posts - 2]
  check.eq(p3.category_links[2].title, "개발 노트", "post link title")
  check.eq(p3.category_links[2].name, "Dev Notes", "post link name")
  check.eq(p3.category_links[2].url, "/categories/dev-notes/", "post link url unchanged")
  check.eq(p3.categories[2], "Dev Notes", "post categories unchanged")
end

-- A category_titles that is not a map of strings is an error naming the key.
do
  local ok, err = pcall(categories.site, check.site(make_posts(), { category_titles = { "News" } }))
  check.eq(ok, false, "a list is refused")
  check.eq(err, "config 'category_titles' must be a map from name to display title", "list message")
  ok, err = pcall(categories.site, check.site(make_posts(), { tag_titles = { odd = { "x" } } }))
  check.eq(ok, false, "a list value is refused")
  check.eq(err, "config 'tag_titles.odd' must be a string (the title shown for 'odd')", "value message")
end

check.done()
