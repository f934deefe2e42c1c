#!/usr/bin/env bash
# Field hashes carried by post snapshots (core/lua/snapshot.h): the record
# check takes a snapshotted post's field hashes instead of hashing the
# values again, unless something can have changed them since the post was
# taken. Here a site hook changes posts, driven by a data file: in place,
# in tables nested in the front matter (`post.meta.badges`, and
# `post.info`, which is the same table as `post.meta.info`), by
# assignment (`post.title`) and with rawset on the post; each build must
# render exactly the pages whose inputs changed (a plugin's output hook
# says which) and equal a clean --no-cache build.
#   field-hashes.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"; out="$work/out"
mkdir -p "$src/posts" "$src/layouts" "$src/plugins" "$src/data"
cat > "$src/config.yaml" <<'YAML'
title: Field hashes
url: https://example.org
permalink: /:slug/
plugins: [template, mutate]
YAML
cat > "$src/layouts/post.html" <<'HTML'
<h1>{{ post.title }}</h1>
<p>{{ post.meta.badges | join(",") }} {{ post.meta.info.n }} {{ post.date }}</p>
<p>{% for l in post.links %}{{ l.name }} {% end %}{{ post.stamp }}</p>
{{ content | raw }}
HTML
day=1
for slug in a b c; do
  cat > "$src/posts/2024-01-0$day-$slug.md" <<MD
---
title: Post $slug
badges: [x]
info: { n: 1 }
---
Body of $slug.
MD
  day=$((day + 1))
done
cat > "$src/plugins/mutate.lua" <<'LUA'
-- test: a site hook that changes posts' nested tables in place, and an
-- output hook that says which pages rendered
local mutate = { incremental = true }
function mutate.site(site)
  local boost = site.data.boost
  local shared = { name = "shared" }
  for _, post in ipairs(site.posts) do
    post.links = { shared }
    if post.slug == boost.badge then
      local badges = post.meta.badges
      badges[#badges + 1] = boost.label
    end
    if post.slug == boost.info then post.info.n = boost.n end
    if post.slug == boost.stamp then rawset(post, "stamp", boost.label) end
    if post.slug == boost.retitle then post.title = "Retitled" end
  end
end
function mutate.output(path, bytes)
  publish.log.warn("rendered " .. path)
  return bytes
end
return mutate
LUA
boost() {
  printf 'badge: %s\nlabel: %s\ninfo: %s\nn: %s\nstamp: %s\nretitle: %s\n' "$@" none | head -6 > "$src/data/boost.yaml"
}
boost b gold c 2 none

# build NAME WANT: a build renders exactly WANT (output paths, one a line)
# and equals a clean build.
build() {
  PUBLISH_TIMINGS=1 "$publish" build -s "$src" -d "$out" -j 1 > /dev/null 2> "$work/err"
  grep -o 'rendered [^ ]*' "$work/err" | sed 's/^rendered //' | sort > "$work/got"
  printf '%s' "$2" | sort > "$work/want"
  check "$1: renders exactly what changed" diff -u "$work/want" "$work/got"
  rm -rf "$work/clean"
  "$publish" build -s "$src" -d "$work/clean" --no-cache -q 2> /dev/null
  check "$1: equals a clean build" diff -r "$out" "$work/clean"
  sleep 0.1 # the next edit gets another mtime
}

build "first build" "a/index.html
b/index.html
c/index.html
"
check "the gold badge on post b" grep -q '<p>x,gold 1 ' "$out/b/index.html"
check "n is 2 on post c" grep -q '<p>x 2 ' "$out/c/index.html"

printf 'More of a.\n' >> "$src/posts/2024-01-01-a.md"
build "a body edit" "a/index.html
"
check "the other posts came from their snapshots" grep -q '(2 of 3 posts from snapshots)' "$work/err"

boost b silver c 2 none
build "the hook appends another badge to post b's meta" "b/index.html
"
check "silver on post b" grep -q '<p>x,silver 1 ' "$out/b/index.html"

boost b silver a 2 none
build "the hook changes post.info, the same table as post.meta.info, of post a instead of c" "a/index.html
c/index.html
"
check "n is 2 on post a" grep -q '<p>x 2 ' "$out/a/index.html"
check "n is 1 on post c" grep -q '<p>x 1 ' "$out/c/index.html"

boost c silver a 2 none
build "the badge goes to post c" "b/index.html
c/index.html
"
check "post b is as written again" grep -q '<p>x 1 ' "$out/b/index.html"

printf 'More of c.\n' >> "$src/posts/2024-01-03-c.md"
build "post c edited while the hook changes it" "c/index.html
"

boost c silver a 2 b
build "the hook sets a field of post b with rawset" "b/index.html
"
check "the stamp on post b" grep -q 'shared silver</p>' "$out/b/index.html"

boost c silver a 2 b a
build "the hook sets the title of post a" "a/index.html
"
check "post a retitled" grep -q '<h1>Retitled</h1>' "$out/a/index.html"
finish
