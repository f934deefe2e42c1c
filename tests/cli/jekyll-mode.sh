#!/usr/bin/env bash
# Jekyll mode (issue 9), what the golden site cannot show: the warnings of
# tests/sites/jekyll (exact), --drafts, a Ruby plugin name, a missing
# layout, `layout: nil`, and a file name with a date that does not exist.
#   jekyll-mode.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC

warnings() { grep -v '^publish: ' "$1"; }

"$publish" build -s "$root/tests/sites/jekyll/src" -d "$work/out" --no-cache 2> "$work/err"
check "golden Jekyll site builds" test $? -eq 0
echo "_posts/undated.md: warning: skipped: a post's file name starts with its date (YYYY-MM-DD-title.md)" > "$work/want"
check "undated file in _posts: exact warning" diff -u "$work/want" <(warnings "$work/err")

"$publish" build -s "$root/tests/sites/jekyll/src" -d "$work/drafts" --no-cache --drafts -q
check "--drafts: a draft is dated now, in its own URL" \
  test -n "$(find "$work/drafts" -name idea.html -path "*/$(date -u +%Y/%m/%d)/*")"
check "--drafts: published: no is published too" test -f "$work/drafts/2024/03/01/hidden.html"
check "no draft without --drafts" test -z "$(find "$work/out" -name idea.html)"

# _data in every format, folders nested (compared with what Jekyll 4.3's
# `{{ site.data | jsonify }}` gives for the same files; keys sorted here).
echo 'print(publish.json.encode(site.data))' > "$work/dump.lua"
"$publish" run "$work/dump.lua" -s "$root/tests/sites/jekyll/src" -q > "$work/data.json"
check "site.data: YAML 1.1, JSON, CSV, TSV, nested folders" test "$(cat "$work/data.json")" = \
  '{"authors":{"kim":{"active":true,"name":"Kim"},"lee":{"active":false,"name":"Lee"}},"books":[{"author":"Hofstadter","title":"Gödel, Escher, Bach","year":"1979"},{"author":"Anon","title":"The \"Quoted\" One"},{},{"author":"Someone","title":"Last","year":"2001"}],"links":[{"title":"Home","url":"/"},{"title":"About","url":"/about/"}],"scores":[{"name":"ann","score":"10"},{"name":"bo b","score":"7"}],"team":{"eng":{"members":["Choi"]},"leads":{"lead":"Park"}}}'

# Native data/ nests too; a file and a folder of one name are reported.
native="$work/native"
mkdir -p "$native/data/menu"
echo 'title: N' > "$native/config.yaml"
echo 'x: 1' > "$native/data/menu/main.yaml"
echo 'a,b' > "$native/data/table.csv"
"$publish" run "$work/dump.lua" -s "$native" -q > "$work/data.json"
check "native data/a/b.yaml is site.data.a.b" test "$(cat "$work/data.json")" = '{"menu":{"main":{"x":1}},"table":[]}'
echo 'y: 2' > "$native/data/menu.yaml"
"$publish" run "$work/dump.lua" -s "$native" -q 2> "$work/err"
check "data file and folder of one name: exit 1" test $? -eq 1
check "data file and folder of one name: exact error" test "$(head -1 "$work/err")" = \
  "data/menu/main.yaml: error: site.data.menu.main comes from another file or folder too"

# scripts/edit/jekyll-import.lua converts a whole Jekyll site's posts
# (and drafts) into a native site that then builds.
conv="$work/converted"
mkdir -p "$conv"
echo 'title: Converted' > "$conv/config.yaml"
"$publish" run "$root/scripts/edit/jekyll-import.lua" -s "$conv" -q -- "$root/tests/sites/jekyll/src"
check "import: exit 0" test $? -eq 0
check "import: every dated post and the draft" test "$(ls "$conv/posts" | wc -l)" -eq 9
check "import: folders above _posts are categories" \
  test "$(grep -A3 '^categories:' "$conv/posts/2024-02-01-cats.md" | tr '\n' '|')" = "categories:|  - blog|  - tech|  - Big Deal|"
check "import: one-digit dates padded, .mkdn read as Markdown" test -f "$conv/posts/2017-02-05-loose.md"
check "import: published: no (YAML 1.1) becomes false" grep -qx 'published: false' "$conv/posts/2024-03-01-hidden.md"
check "import: a draft stays a draft" grep -qx 'draft: true' "$conv/posts/$(date -u +%Y-%m-%d)-idea.md"
"$publish" build -s "$conv" -q
check "import: the native site builds" test $? -eq 0

# publish new on a Jekyll site writes into _posts/.
newsite="$work/new"
mkdir -p "$newsite"
echo 'title: N' > "$newsite/_config.yml"
"$publish" new "Hello There" -s "$newsite" -q
check "publish new on a Jekyll site writes _posts/DATE-slug.md" \
  test -f "$newsite/_posts/$(date +%Y-%m-%d)-hello-there.md"

site="$work/site"
mkdir -p "$site/_posts" "$site/_layouts"
printf 'title: T\nplugins:\n  - jekyll-spaceship\ngems: [jekyll-tagging]\n' > "$site/_config.yml"
printf -- '---\ntitle: A\nlayout: post\n---\nA\n' > "$site/_posts/2024-01-01-a.md"
printf -- '---\ntitle: B\nlayout: nil\n---\nB\n' > "$site/_posts/2024-01-02-b.md"
printf -- '---\nlayout: null\n---\nC\n' > "$site/c.md"
"$publish" build -s "$site" 2> "$work/err"
check "unknown Ruby plugins and a missing layout are warnings (exit 0)" test $? -eq 0
cat > "$work/want" <<'EOF'
_config.yml:3:3: warning: Ruby plugin 'jekyll-spaceship' ignored: publish runs Lua plugins; see docs/jekyll.md
_config.yml:4:7: warning: Ruby plugin 'jekyll-tagging' ignored: publish runs Lua plugins; see docs/jekyll.md
_posts/2024-01-01-a.md:3:9: warning: layout 'post' not found in _layouts/; the page is written without a layout
EOF
check "exact warnings" diff -u "$work/want" <(warnings "$work/err")
check "rendered without the missing layout" test "$(cat "$site/_site/2024/01/01/a.html")" = "<p>A</p>"
check "layout: null is no layout" test "$(cat "$site/_site/c.html")" = "<p>C</p>"

printf -- '---\ntitle: Z\n---\nZ\n' > "$site/_posts/2023-02-30-z.md"
"$publish" build -s "$site" -q 2> "$work/err"
check "a date that does not exist fails the build, as in Jekyll (exit 1)" test $? -eq 1
cat > "$work/want" <<'EOF'
_posts/2023-02-30-z.md:1:1: error: invalid date in the file name (a post is YYYY-MM-DD-title.md)
EOF
check "exact error" diff -u "$work/want" <(warnings "$work/err")
finish
