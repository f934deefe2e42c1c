#!/usr/bin/env bash
# Page records written in C (core/lua/deps_record.c) are the records
# deps.lua's own way writes (PUBLISH_RECORD_LINES=lua), byte for byte; and
# what takes deps.lua's way (a number key, a name that needs escaping,
# pairs over a tracked object, a field the page set itself) still keeps
# and renders exactly the right pages.
#   record-lines.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/sites/blog/src" "$work/site"
site="$work/site"; out="$work/out"
sed -i 's/^plugins: \[/plugins: [probe, /' "$site/config.yaml"
mkdir -p "$site/plugins"
cat > "$site/plugins/probe.lua" <<'LUA'
-- Pages whose reads take each way of recording.
local probe = { incremental = true }
function probe.site(site)
  site:add_page { url = "/keys/", layout = "keys", title = "Keys" }
  site:add_page { url = "/numbers/", layout = "numbers", title = "Numbers", "first", "second" }
  site:add_page { url = "/escaped/", layout = "escaped", title = "Escaped", ["a%b"] = "percent", ["t\tab"] = 1 }
  site:add_page { url = "/own/", layout = "own", title = "Own", count = 1 }
end
function probe.render(page)
  if page.url == "/own/" then
    page.stamp = page.title .. "!"   -- set, never read first: not an input
    page.count = page.count + 1      -- read, then set: its old value is
  end
end
return probe
LUA
printf '%s\n' '<ul>{% for k, v in site.data %}<li>{{ k }}</li>{% end %}</ul>' > "$site/layouts/keys.html"
printf '%s\n' '{{ page[1] }} {{ page[2] }} {{ site.title }}' > "$site/layouts/numbers.html"
printf '%s\n' '{{ page["a%b"] }} {{ page["t\tab"] }}' > "$site/layouts/escaped.html"
printf '%s\n' '{{ page.stamp }} {{ page.count }}' > "$site/layouts/own.html"

build() { "$publish" build -s "$site" -d "$out" -j 1 -q "$@"; }

check "first build" build
cp "$site/.publish-cache/pages" "$work/pages-c"
check "the records name the pages that took deps.lua's way" \
  grep -q $'^page /numbers/index.html\t%N1\t' "$work/pages-c"
rm -rf "$site/.publish-cache" "$out" "$work/.out.publish-manifest"
check "build with deps.lua's record lines" env PUBLISH_RECORD_LINES=lua "$publish" build -s "$site" -d "$out" -j 1 -q
check "records from C equal deps.lua's, byte for byte" cmp "$work/pages-c" "$site/.publish-cache/pages"
check "outputs" test "$(cat "$out/own/index.html")" = "Own! 2"

explain() { "$publish" build -s "$site" -d "$out" -j 1 --explain "$@" | grep -v '^publish: '; }
sleep 0.1
printf '\nOne more line.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
explain > "$work/got"
cat > "$work/want" <<'WANT'
/2024/07/markdown-tour/ post posts/2024-07-01-markdown-tour.md field content changed
/feed.xml page /feed.xml field content changed
WANT
check "a body edit renders its page and the feed, none of the probes" diff -u "$work/want" "$work/got"

sed -i 's/^title: .*/title: Golden Blog 2/' "$site/config.yaml"
explain /numbers/ > "$work/got"
check "the number-key page read site.title" grep -qx "/numbers/ site field title changed" "$work/got"

sleep 0.1
printf '  - name: Second\n' >> "$site/data/team.yaml"
explain /keys/ > "$work/got"
check "pairs over site.data: a data edit renders the page" grep -qx "/keys/ data team changed" "$work/got"
printf '\nTwo more lines.\n' >> "$site/posts/2024-07-01-markdown-tour.md"
explain /keys/ > "$work/got"
check "pairs over site.data: kept when data did not change" grep -qx "/keys/ unchanged (kept)" "$work/got"
finish
