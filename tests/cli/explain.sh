#!/usr/bin/env bash
# `publish build --explain [PAGE]`: after each kind of edit, exactly the
# pages that read what changed render again, each with the inputs that
# made it (incremental builds: core/lua/deps.lua).
#   explain.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/sites/blog/src" "$work/site"
site="$work/site"; out="$work/out"

explain() { # explain [PAGE]: the --explain lines of a build (no summary)
  "$publish" build -s "$site" -d "$out" -j 1 --explain "$@" | grep -v '^publish: '
}

explain > "$work/got"
check "first build: every page, no record" test "$(grep -c ' no record$' "$work/got")" -eq 25
check "first build: page order" test "$(head -2 "$work/got")" = "/2024/08/release-1.2/ no record
/2024/07/markdown-tour/ no record"
sleep 0.1

printf '\nOne more line.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
explain > "$work/got"
cat > "$work/want" <<'WANT'
/2024/07/markdown-tour/ post posts/2024-07-01-markdown-tour.md field content changed
/feed.xml page /feed.xml field content changed
WANT
check "body edit: its page and the feed, not the listings" diff -u "$work/want" "$work/got"
printf '\nTwo more lines.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
PUBLISH_TIMINGS=1 "$publish" build -s "$site" -d "$out" -j 1 -q 2> "$work/timings"
check "without --explain the check renders the same pages" grep -q "(2 to render)" "$work/timings"

sed -i 's/^title: .*/title: Tour renamed/' "$site/posts/2024-07-01-markdown-tour.md"
explain /2024/07/markdown-tour/ > "$work/got"
cat > "$work/want" <<'WANT'
/2024/07/markdown-tour/ post posts/2024-07-01-markdown-tour.md field title changed
WANT
check "title edit, one page asked by URL" diff -u "$work/want" "$work/got"
check "the title is in the output" grep -q "Tour renamed" "$out/2024/07/markdown-tour/index.html"

echo '<!-- edited -->' >> "$site/layouts/post.html"
explain about/index.html > "$work/got"
check "layout edit: a page that does not use it is kept" test "$(cat "$work/got")" = "/about/ unchanged (kept)"
echo '<!-- again -->' >> "$site/layouts/post.html"
explain 2024/07/markdown-tour/index.html > "$work/got"
check "layout edit: a post page names the layout" \
  test "$(cat "$work/got")" = "/2024/07/markdown-tour/ layout post.html changed"

sed -i 's/^title: Golden Blog/title: Golden Blog Two/' "$site/config.yaml"
explain /about/ > "$work/got"
check "config edit: every page" test "$(cat "$work/got")" = "/about/ config.yaml changed
/about/ site field title changed"

mkdir -p "$site/plugins"
printf 'return { site = function(site) site.stamp = "x" end }\n' > "$site/plugins/stamp.lua"
sed -i 's/^plugins: \[template,/plugins: [stamp, template,/' "$site/config.yaml"
explain /about/ > "$work/got"
check "site plugin without incremental = true: every page, said why" \
  test "$(cat "$work/got")" = "/about/ plugin 'stamp' does not declare incremental = true"
printf 'return { incremental = true, site = function(site) site.stamp = "x" end }\n' > "$site/plugins/stamp.lua"
explain /about/ > "$work/got"
check "its code changed" test "$(cat "$work/got")" = "/about/ plugins/stamp.lua changed"
sleep 0.1
printf '\nAnother line.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
explain /about/ > "$work/got"
check "declared incremental: pages are kept again" test "$(cat "$work/got")" = "/about/ unchanged (kept)"

rm "$out/about/index.html"
echo 'edited by hand' > "$out/list/index.html"
sleep 0.1
printf '\nA third line.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
explain > "$work/got"
check "a kept page whose file DEST lost renders again" \
  grep -qx "/about/ the output file in the destination changed" "$work/got"
check "so does one edited by hand" grep -qx "/list/ the output file in the destination changed" "$work/got"
"$publish" build -s "$site" -d "$work/clean" --no-cache -q
check "DEST repaired: equals a clean build" diff -r "$out" "$work/clean"
sleep 0.1
printf '\nA fourth line.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
"$publish" build -s "$site" -d "$out" -q --clean
rm -rf "$work/clean"; "$publish" build -s "$site" -d "$work/clean" --no-cache -q
check "--clean keeps the kept pages" diff -r "$out" "$work/clean"

# A page whose metatable is locked cannot be a proxy: every page renders.
printf 'return { incremental = true, site = function(site)\n  local p = site:add_page{ url = "/locked/", layout = false, content = "x" }\n  setmetatable(p, { __metatable = "locked" })\nend }\n' > "$site/plugins/stamp.lua"
explain /about/ > "$work/got"
sleep 0.1
printf '\nA fifth line.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
explain /about/ > "$work/got"
check "a page that cannot be tracked: every page renders, said why" test "$(cat "$work/got")" = \
  "/about/ page '/locked/' cannot be tracked (a locked metatable or a second page with its id)"

"$publish" build -s "$site" -d "$out" --explain > "$work/got"
check "nothing changed" grep -qx "no page renders: nothing changed since the last build" "$work/got"
"$publish" build -s "$site" -d "$work/other" --no-cache --explain > "$work/got"
check "--no-cache: no records" grep -qx "(no records: --no-cache or a check renders every page)" "$work/got"
"$publish" help build > "$work/help"
check "help build lists --explain" grep -q -- "--explain \[PAGE\]" "$work/help"
finish
