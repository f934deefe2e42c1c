#!/usr/bin/env bash
# Post snapshots: when every plugin with a `post` hook declares
# `post_cache = true` (and every one with a `document` hook
# `document_cache = true`), a rebuild takes each unchanged document's post,
# as it stood after those hooks, from the build cache, and the hooks do
# not run for it. The site's plugin counts its post and document hook
# calls into calls.txt; after every change the output (but calls.txt) and
# the diagnostics must equal a clean --no-cache build's, and the counts
# say which posts went through the hooks: the edited ones only; all of
# them after a change to a plugin's code or the config, with a damaged
# cache, or while some plugin's post hook does not opt in; on every build
# the ones whose hooks warned or set what cannot be kept.
#   post-snapshot.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/posts" "$src/layouts" "$src/plugins"
cat > "$src/config.yaml" <<'YAML'
title: Post snapshots
url: https://example.org
permalink: /:year/:slug/
plugins: [template, excerpt, counter]
counter:
  label: words
YAML
cat > "$src/layouts/post.html" <<'HTML'
<h1>{{ post.title }}</h1>
<p class="n">{{ post.words }} {{ post.label }} {{ post.meta.tags | join(",") }} {{ post.date }}</p>
<p class="x">{{ post.excerpt | raw }}</p>
<p class="t">{{ post.toc | join("/") }} {{ post.shared.a }} {{ post.body | size }}</p>
{% if post.previous %}<a href="{{ post.previous.url }}">{{ post.previous.title }}</a>{% end %}
{% if post.next %}<a href="{{ post.next.url }}">{{ post.next.title }}</a>{% end %}
{{ content | raw }}
HTML
cat > "$src/layouts/page.html" <<'HTML'
{{ content | raw }}
HTML
cat > "$src/plugins/counter.lua" <<'LUA'
-- test: cacheable post and document hooks that count their calls
local counter = { post_cache = true, document_cache = true, incremental = true }
counter.config = { counter = { type = "map", keys = { label = { type = "string" } } } }
local posts, documents = 0, 0
function counter.document(doc, post)
  documents = documents + 1
  local toc = {}
  doc:walk { heading = function(h) toc[#toc + 1] = h.level end }
  post.toc = toc
end
function counter.post(post, site)
  posts = posts + 1
  local n = 0
  for _ in post.content:gmatch("%S+") do n = n + 1 end
  post.words = n
  post.label = site.config.counter.label
  post.shared = { a = "shared" }
  post.same = post.shared -- one table twice: kept as one
  if post.meta.noisy then publish.log.warn("noisy post") end
  if post.meta.callable then post.fn = function() end end
end
function counter.site(site)
  site:add_page { url = "/calls.txt", layout = false, content = posts .. " " .. documents }
  for _, post in ipairs(site.posts) do
    if post.same ~= post.shared then error("a shared table came back as two") end
  end
end
return counter
LUA
for i in 1 2 3 4 5; do
  printf -- "---\ntitle: post %s\ntags: [a, b%s]\n---\n## One\n\nSome words in post %s.\n\n<!--more-->\n\n## Two\n\nMore.\n" \
    "$i" "$i" "$i" > "$src/posts/2024-01-0$i-post$i.md"
done
printf -- "---\ntitle: old\ntags: [c]\npermalink: /old/\n---\nAn old post.\n" > "$src/posts/2023-05-01-old.md"

# build NAME POSTS DOCUMENTS [FLAGS...]: an incremental build; POSTS post
# hook calls and DOCUMENTS document hook calls; output and stderr equal a
# --no-cache build's.
build() {
  local name="$1" posts="$2" documents="$3"; shift 3
  "$publish" build -s "$src" -d "$work/out" "$@" > /dev/null 2> "$work/err"
  check "$name: build exits 0" test $? -eq 0
  check "$name: $posts posts and $documents documents through the hooks (got $(cat "$work/out/calls.txt"))" \
    test "$(cat "$work/out/calls.txt")" = "$posts $documents"
  rm -rf "$work/clean"
  "$publish" build -s "$src" -d "$work/clean" --no-cache "$@" > /dev/null 2> "$work/clean-err"
  check "$name: output equals a clean build" diff -r -x calls.txt "$work/out" "$work/clean"
  check "$name: diagnostics equal a clean build's" diff "$work/err" "$work/clean-err"
}
# A change outside the posts, so the build is not a no-op. (A touched
# post is made again: its snapshot is found by its stat, or by its bytes
# while its times are too recent to vouch for them.)
touch_layout() { printf '<!-- %s -->\n' "$1" >> "$src/layouts/page.html"; }

build "first build" 6 6
check "the hooks' fields reach the page" grep -q '<p class="n">[0-9]* words a,b1 2024-01-01' "$work/out/2024/post1/index.html"
check "document hook fields reach the page" grep -q '<p class="t">2/2 shared [0-9]' "$work/out/2024/post1/index.html"
touch_layout 1
build "nothing changed" 0 0
PUBLISH_TIMINGS=1 "$publish" build -s "$src" -d "$work/out" -q --clean 2> "$work/timings"
check "the timings count the snapshots" grep -q '(6 of 6 posts from snapshots)' "$work/timings"

printf '\nOne more sentence here.\n' >> "$src/posts/2024-01-02-post2.md"
build "a body edited" 1 1
sed -i 's/^title: post 3$/title: post three/' "$src/posts/2024-01-03-post3.md"
build "a title edited" 1 1
sed -i 's/^title: post 4$/title: post 4\ndate: 2023-12-31/' "$src/posts/2024-01-04-post4.md"
build "a date edited (the order changes)" 1 1
touch -d '2001-01-01' "$src/posts/2024-01-01-post1.md"
build "a post touched: made again, its document hooks cached" 1 0
touch_layout 2
build "and found by its new stat" 0 0
mv "$src/posts/2024-01-05-post5.md" "$src/posts/2024-01-06-post6.md"
build "a post renamed" 1 1
printf -- "---\ntitle: new\n---\nNew post.\n" > "$src/posts/2024-02-01-new.md"
build "a post added" 1 1
rm "$src/posts/2024-02-01-new.md"
build "a post deleted" 0 0

printf -- "---\ntitle: noisy\nnoisy: true\n---\nLoud.\n" > "$src/posts/2024-03-01-noisy.md"
build "a post hook that warns" 1 1
touch_layout 3
build "runs again, and warns again" 1 0
check "the warning is said again" grep -q 'noisy post' "$work/err"
rm "$src/posts/2024-03-01-noisy.md"
printf -- "---\ntitle: callable\ncallable: true\n---\nCall.\n" > "$src/posts/2024-03-02-callable.md"
build "a post hook that sets a function" 1 1
touch_layout 4
build "such a post runs again" 1 0
rm "$src/posts/2024-03-02-callable.md"
printf -- "---\ntitle: unknown key\nlayuot: post\n---\nTypo.\n" > "$src/posts/2024-03-03-typo.md"
build "a front matter warning" 1 1
touch_layout 5
build "said again: the post is made again" 1 0
rm "$src/posts/2024-03-03-typo.md"
build "back to six" 0 0

# A permalink clash reported at a post that came from its snapshot (the
# older one is named, at its permalink): the position a clean build gives.
printf -- "---\ntitle: clash\npermalink: /old/\n---\nClash.\n" > "$src/posts/2024-04-01-clash.md"
"$publish" build -s "$src" -d "$work/out" 2> "$work/err"
check "a clash fails the build" test $? -eq 1
"$publish" build -s "$src" -d "$work/clean" --no-cache 2> "$work/clean-err"
check "the clash is reported as a clean build reports it" \
  diff <(grep -v '^publish: ' "$work/err") <(grep -v '^publish: ' "$work/clean-err")
check "at the snapshotted post's permalink" grep -q "^posts/2023-05-01-old.md:4:12: error: 'old/index.html' is also written by" "$work/err"
rm "$src/posts/2024-04-01-clash.md"

printf '\n-- a comment\n' >> "$src/plugins/counter.lua"
build "plugin code changed" 6 6
sed -i 's/^  label: words$/  label: tokens/' "$src/config.yaml"
build "config changed" 6 6
check "the new config value reached every post" \
  test "$(grep -rl --include=index.html ' tokens ' "$work/out" | wc -l)" = 6

# A damaged cache: every blob gets a flipped byte; the build still equals
# a clean one, every post made again.
cache="$src/.publish-cache/build.cache"
end="$(od -An -t u8 -j 48 -N 8 "$cache" | tr -d ' ')"
python3 - "$cache" "$end" <<'PY'
import sys
path, end = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
for i in range(80, end, 7):
    data[i] ^= 0x55
open(path, "wb").write(bytes(data))
PY
touch_layout 6
build "a damaged cache" 6 6
touch_layout 7
build "repaired" 0 0

printf 'return { post = function(post) post.other = 1 end } -- no post_cache\n' > "$src/plugins/other.lua"
sed -i 's/^plugins: \[template, excerpt, counter\]$/plugins: [template, excerpt, other, counter]/' "$src/config.yaml"
build "a post hook without post_cache" 6 6
touch_layout 8
build "turns the snapshots off" 6 0
finish
