#!/usr/bin/env bash
# `publish check` checks links (issue 11): every internal link, image and
# #fragment of the built pages must lead to a file the build writes or an
# id in it; each broken one is reported once, at the source file that
# holds it (the post, or the layout), and nothing is written. External
# links are not fetched. A build does not check links.
#   links.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC

site="$work/site"
mkdir -p "$site/posts" "$site/pages" "$site/layouts" "$site/static/img"
printf 'title: Links\nurl: https://example.com\nbaseurl: /blog\nplugins: [template]\n' > "$site/config.yaml"
cat > "$site/layouts/post.html" <<'HTML'
<html><body><nav><a href="/blog/">home</a> <a href="/blog/missing-nav/">nav</a></nav>
<h1 id="top">{{ page.title }}</h1>{{ content | raw }}</body></html>
HTML
cp "$site/layouts/post.html" "$site/layouts/page.html"
cat > "$site/posts/2024-01-02-a.md" <<'MD'
---
title: A
---
Fine: [a page](/blog/about/), [its id](/blog/about/#team), [a static file](/blog/img/cat.png),
[external](https://other.org/x), [mail](mailto:a@b.c), [this page](#top), [a post](../../03/b/).

[gone](/blog/nope/) and ![missing image](/blog/img/dog.png)
[bad fragment](/blog/about/#nobody) [bad self](#nowhere)
[relative](../b/) [own site, absolute](https://example.com/blog/gone/)
MD
printf -- '---\ntitle: B\n---\n<a href="/blog/2024/01/02/a/#top">back</a>\n' > "$site/posts/2024-01-03-b.md"
printf -- '---\ntitle: About\n---\n<h2 id="team">Team</h2>\n' > "$site/pages/about.md"
printf -- '---\ntitle: Home\n---\nHome\n' > "$site/pages/index.md"
echo png > "$site/static/img/cat.png"

(cd "$site" && find . | sort) > "$work/before"
"$publish" check -s "$site" > "$work/out" 2> "$work/err"
check "broken links fail check (exit 1)" test $? -eq 1
cat > "$work/want" <<'TXT'
layouts/page.html:1:53: error: broken link '/blog/missing-nav/'
layouts/post.html:1:53: error: broken link '/blog/missing-nav/'
posts/2024-01-02-a.md:7:8: error: broken link '/blog/nope/'
posts/2024-01-02-a.md:7:42: error: broken link '/blog/img/dog.png'
posts/2024-01-02-a.md:8:16: error: broken link '/blog/about/#nobody'
posts/2024-01-02-a.md:8:48: error: broken link '#nowhere'
posts/2024-01-02-a.md:9:12: error: broken link '../b/'
posts/2024-01-02-a.md:9:40: error: broken link 'https://example.com/blog/gone/'
publish: 8 errors found
TXT
check "each broken link once, at its source" diff -u "$work/want" "$work/err"
(cd "$site" && find . | sort) > "$work/after"
check "check writes nothing" diff "$work/before" "$work/after"

# Fixed, the site checks clean; a build never checked links.
sed -i 's|/blog/missing-nav/|/blog/about/|' "$site/layouts/post.html" "$site/layouts/page.html"
head -5 "$site/posts/2024-01-02-a.md" > "$work/a.md" && cp "$work/a.md" "$site/posts/2024-01-02-a.md"
"$publish" check -s "$site" > "$work/out" 2> "$work/err"
check "a site without broken links checks clean" test $? -eq 0 -a ! -s "$work/err"
printf -- '---\ntitle: C\n---\n[x](/blog/nope/)\n' > "$site/posts/2024-01-04-c.md"
"$publish" build -s "$site" -q 2> "$work/err"
check "build does not check links" test $? -eq 0 -a ! -s "$work/err"

# The example site is clean.
"$publish" check -s "$root/site" > /dev/null 2> "$work/err"
check "the example site has no broken link" test $? -eq 0 -a ! -s "$work/err"
finish
