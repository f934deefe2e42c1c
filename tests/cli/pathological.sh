#!/usr/bin/env bash
# Markdown that makes cmark-gfm super-linear or very deep must not stall a
# build: past the limits of core/markdown.h the excess markup is text, a
# warning names the post, and the build (with and without a `document`
# plugin walking every node) finishes well inside the harness's time bound.
# The bound is this script's `timeout`, not a timed assertion.
#   pathological.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
site="$work/site"
mkdir -p "$site/posts" "$site/plugins"
printf 'title: t\npermalink: /:slug/\nplugins: []\n' > "$site/config.yaml"
post() { # post NAME: front matter, then the body from stdin
  { printf -- '---\ntitle: %s\n---\n' "$1"; cat; } > "$site/posts/2024-01-01-$1.md"
}
python3 - "$site/posts" <<'PY'
import sys, os
d = sys.argv[1]
def post(name, body):
    with open(os.path.join(d, "2024-01-01-" + name + ".md"), "w") as f:
        f.write("---\ntitle: " + name + "\n---\n" + body)
post("images", "![[]()" * 40000 + "\n")
post("quotes", ">" * 50000 + " deep\n")
post("lists", "* " * 50000 + "deep\n")
post("emphasis", "*" * 50000 + "x" + "*" * 50000 + "\n")
post("brackets", "[" * 50000 + "x" + "]" * 50000 + "\n")
post("www", ("www." + "_" * 10) * 20000 + "\n")
post("table", "|a" * 5000 + "|\n" + "|-" * 5000 + "|\n" + ("|x" * 5000 + "|\n") * 200)
post("fine", "A [link](/x) and www.example.org.\n\n```\n" + "[" * 2000 + "\n```\n")
PY

build() { # build OUT: exit status in $status, stderr in $work/stderr
  status=0
  timeout 120 "$publish" build -s "$site" -d "$1" 2> "$work/stderr" || status=$?
}

build "$work/out"
check "plain build finishes" test "$status" -eq 0
for name in images quotes lists brackets www table; do
  check "warning for $name" grep -q "^posts/2024-01-01-$name.md: warning: Markdown past publish's limits" "$work/stderr"
done
check "exact warning text" grep -qxF \
  "posts/2024-01-01-images.md: warning: Markdown past publish's limits (more than 1000 '[' in one paragraph): the excess is shown as text" \
  "$work/stderr"
check "no warning for a fine post (code is never counted)" bash -c "! grep -q 'fine.md' '$work/stderr'"
check "nesting is cut at 32 levels" test "$(grep -o '<blockquote>' "$work/out/quotes/index.html" | wc -l)" -eq 32
check "the rest of the markers are text" grep -q '&gt;&gt;&gt; deep' "$work/out/quotes/index.html"
check "lists cut at 32 levels" test "$(grep -o '<ul>' "$work/out/lists/index.html" | wc -l)" -eq 32
check "a table past 128 columns is text" bash -c "! grep -q '<table>' '$work/out/table/index.html'"
check "the fine post is untouched" grep -qF '<pre><code>[[[[' "$work/out/fine/index.html"

# The same with a document plugin visiting every node (the tree bridge).
cat > "$site/plugins/visit.lua" <<'LUA'
local count = 0
return {
  document = function(doc)
    doc:walk { block = function() count = count + 1 end, inline = function() count = count + 1 end }
    doc.first_child:insert_before(publish.node.new("html_block", { literal = "<!-- visited -->\n" }))
  end,
}
LUA
printf 'title: t\npermalink: /:slug/\nplugins: [visit]\n' > "$site/config.yaml"
build "$work/out2"
check "document-hook build finishes" test "$status" -eq 0
check "deep emphasis walked and rendered" grep -q '^<!-- visited -->' "$work/out2/emphasis/index.html"
check "the walked output is the same Markdown" \
  cmp <(tail -n +2 "$work/out2/quotes/index.html") "$work/out/quotes/index.html"
finish
