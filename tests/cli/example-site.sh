#!/usr/bin/env bash
# The example site (site/) as a reader sees it: the Korean news post has one
# lead image and its standfirst, the site has one news category shown as
# 뉴스, the home page fills its grid, and excerpts end at a boundary.
#   example-site.sh PUBLISH REPO_ROOT
publish="$1"; root="$2"
source "$(dirname "$0")/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$root/site" "$work/site"
rm -rf "$work/site/_site" "$work/site/.publish-cache"
"$publish" build -s "$work/site" -q --no-cache
check "the example site builds" test $? -eq 0
out="$work/site/_site"
post="$out/2024/06/19/putin-visits-north-korea/index.html"
lead="s1600/blogspot.png"

# The lead image: the body opens with the front matter image, so once only.
check "lead image once on the post page" test "$(grep -o "<img[^>]*$lead" "$post" | wc -l)" -eq 1
check "no feature figure on the post" bash -c "! grep -q 'class=\"post__image\"' '$post'"
# ... while a post whose body does not open with its image keeps the figure.
check "feature figure where the body lacks it" \
  grep -q 'class="post__image"' "$out/2024/11/08/seoul-autumn-walks/index.html"
# It stays the card and Open Graph image.
check "og:image is the lead image" grep -q "og:image\" content=\"https://blogger.*$lead" "$post"
check "the home card shows it" grep -q "$lead" "$out/index.html"

# The standfirst under the headline, and the meta description.
check "standfirst under the headline" \
  grep -q '<p class="post__standfirst">러시아 대통령 푸틴이 24년 만에 북한을 방문해 김정은과' "$post"
check "standfirst is the whole feature_text" grep -q '지원을 차단하기 위한 노력을 계속할 것이라고 밝혔다.</p>' "$post"
check "meta description is the feature_text" \
  grep -q '<meta name="description" content="러시아 대통령 푸틴이 24년 만에 북한을 방문해' "$post"

# One news category, labelled 뉴스; its URL keeps the name as written.
check "one news category page" test -f "$out/categories/news/index.html"
check "no second news category" test ! -e "$out/categories/뉴스"
check "category label 뉴스 on the post" grep -q 'class="category-link" href="/categories/news/">뉴스</a>' "$post"
check "category page titled 뉴스" grep -q '<h1 class="list-header__title">뉴스</h1>' "$out/categories/news/index.html"
check "both news posts in it" test "$(grep -c 'class="card"' "$out/categories/news/index.html")" -eq 2

# The home page fills a 3- and a 2-column grid; placeholder art differs.
check "six cards on the home page" test "$(grep -c '<article class="card">' "$out/index.html")" -eq 6
arts="$(grep -o 'style="--art-h1: [^"]*"' "$out/index.html")"
check "art on every card" test "$(printf '%s\n' "$arts" | wc -l)" -eq 6
check "no two cards with the same art" test "$(printf '%s\n' "$arts" | sort -u | wc -l)" -eq 6

# Excerpts end at a sentence or a word, never after a stray fragment.
check "excerpt ends with its last sentence" grep -q 'card on the home page. …</p>' "$out/index.html"
check "no stray fragment" bash -c "! grep -q 'home page. None' '$out/index.html'"
finish
