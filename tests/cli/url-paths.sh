#!/usr/bin/env bash
# One rule from an output path to a link (issue 9): file names with '#',
# '%', spaces, '+' and non-ASCII are written under their own names and
# every link to them (feed, sitemap) reaches the file that was written, on
# a native site and on a Jekyll site.
#   url-paths.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC

# Every URL of site $1 under https://u.example in feed.xml and sitemap.xml,
# decoded, must name a file in $1/_site; prints the ones that do not.
unreachable() {
  python3 - "$1/_site" <<'EOF'
import os, re, sys, urllib.parse
out = sys.argv[1]
text = open(os.path.join(out, "sitemap.xml")).read() + open(os.path.join(out, "feed.xml")).read()
for url in sorted(set(re.findall(r'https://u\.example(/[^"<]*)', text))):
    path = urllib.parse.unquote(url.replace("&amp;", "&")).lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    if not os.path.isfile(os.path.join(out, path)):
        print(url)
EOF
}

names=("c#sharp" "100%" "with space" "a+b" "한글" "q?x")
native="$work/native"
mkdir -p "$native/posts" "$native/pages"
printf 'title: U\nurl: https://u.example\nplugins: [feed, sitemap]\n' > "$native/config.yaml"
for n in "${names[@]}"; do
  printf -- '---\ntitle: T\n---\nx\n' > "$native/posts/2024-01-01-$n.md"
  printf -- '---\ntitle: P\n---\nx\n' > "$native/pages/$n.md"
done
printf -- '---\ntitle: Home\n---\nHome\n' > "$native/pages/index.md"
"$publish" build -s "$native" -q
check "native site builds" test $? -eq 0
for n in "${names[@]}"; do
  check "native: post '$n' is written under its name" test -f "$native/_site/2024/01/01/$n/index.html"
  check "native: page '$n' is written under its name" test -f "$native/_site/$n/index.html"
done
check "native: every feed and sitemap link reaches its file" test -z "$(unreachable "$native")"
check "native: '#' and '%' are encoded in links" \
  grep -q 'https://u.example/2024/01/01/c%23sharp/.*\|https://u.example/100%25/' "$native/_site/sitemap.xml"

jk="$work/jekyll"
mkdir -p "$jk/_posts"
printf 'title: U\nurl: https://u.example\nplugins: [jekyll-feed, jekyll-sitemap]\n' > "$jk/_config.yml"
for n in "${names[@]}"; do
  printf -- '---\ntitle: T\n---\nx\n' > "$jk/_posts/2024-01-01-$n.md"
  printf -- '---\ntitle: P\n---\nx\n' > "$jk/$n.md"
done
printf -- '---\ntitle: Home\n---\nHome\n' > "$jk/index.md"
"$publish" build -s "$jk" -q
check "jekyll site builds" test $? -eq 0
for n in "${names[@]}"; do
  check "jekyll: page '$n' is written under its name" test -f "$jk/_site/$n.html"
done
check "jekyll: post names are Jekyll's :title slugs" \
  test "$(cd "$jk/_site/2024/01/01" && ls | sort | tr '\n' ' ')" = "100.html a+b.html c-sharp.html q-x.html with-space.html 한글.html "
check "jekyll: every feed and sitemap link reaches its file" test -z "$(unreachable "$jk")"
finish
