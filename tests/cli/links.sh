#!/usr/bin/env bash
# `publish check` checks links (issue 11): every internal link, image and
# #fragment of the built pages must lead to a file the build writes or an
# id in it; each broken one is reported once, at the source file that
# holds it (the post, or the layout), and nothing is written. External
# links are fetched only with --external (here from a server of our own on
# 127.0.0.1: the tests never reach the network). A build does not check
# links.
#   links.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
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

# --external: every http(s) link of another site is fetched, each broken
# one said once at the line that holds it, with its status.
mkdir -p "$work/www" && echo ok > "$work/www/ok.html"
check "a local web server starts" www_start "$work/www"
port="$www_port"; server="$www_pid"
ext="$work/ext"
mkdir -p "$ext/posts" "$ext/layouts"
printf 'title: Ext\nplugins: [template]\n' > "$ext/config.yaml"
printf '{{ content | raw }}\n' > "$ext/layouts/post.html"
cat > "$ext/posts/2024-01-02-e.md" <<MD
---
title: E
---
[fine](http://127.0.0.1:$port/ok.html) and [gone](http://127.0.0.1:$port/gone.html)

[again](http://127.0.0.1:$port/gone.html) and [nobody](http://127.0.0.1:1/x)
MD
"$publish" check -s "$ext" > /dev/null 2> "$work/err"
check "without --external, external links are not fetched" test $? -eq 0 -a ! -s "$work/err"
"$publish" check -s "$ext" --external > /dev/null 2> "$work/err"
check "--external: a broken external link fails the check" test $? -eq 1
gone_col=$(( ${#port} + 46 ))   # after "[fine](http://127.0.0.1:PORT/ok.html) and [gone]("
nobody_col=$(( ${#port} + 51 )) # after "[again](http://127.0.0.1:PORT/gone.html) and [nobody]("
cat > "$work/want" <<WANT
posts/2024-01-02-e.md:4:$gone_col: error: broken link 'http://127.0.0.1:$port/gone.html' (HTTP 404)
posts/2024-01-02-e.md:6:$nobody_col: error: broken link 'http://127.0.0.1:1/x' (no answer)
WANT
check "--external: each broken one at its line, with its status" diff "$work/want" <(grep 'error:' "$work/err")
"$publish" build -s "$ext" --external 2> "$work/err"
check "--external is an option of check only" test $? -eq 2
kill "$server" 2>/dev/null; server=""

# The example site is clean.
"$publish" check -s "$root/site" > /dev/null 2> "$work/err"
check "the example site has no broken link" test $? -eq 0 -a ! -s "$work/err"
finish
