#!/usr/bin/env bash
# The document cache: when every plugin with a `document` hook declares
# `document_cache = true`, a rebuild takes each unchanged document's HTML
# and the fields the hooks set on the post from the build cache instead of
# running the hooks again. The site's plugin counts its calls into
# calls.txt; after every change the output (but calls.txt) must equal a
# clean --no-cache build's, and the count says which documents went
# through the hooks: only the edited ones, all of them after a change to
# any plugin's code or to the config, and every build the ones whose
# hooks warned or set a value the cache cannot keep. A build that takes a
# document from the cache keeps its highlighted blocks there too.
#   document-cache.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/posts" "$src/layouts" "$src/plugins"
cat > "$src/config.yaml" <<'YAML'
title: Document cache
url: https://example.org
permalink: /:slug/
plugins: [template, marks, headings, highlight]
marks:
  style: plain
YAML
cat > "$src/layouts/post.html" <<'HTML'
<h1>{{ post.title }}</h1>
<p class="mark">{{ post.mark.style }} {{ post.mark.links }} {{ post.link_count }}</p>
{{ post.toc_html | raw }}{{ content | raw }}
HTML
cat > "$src/plugins/marks.lua" <<'LUA'
-- test: a cacheable document hook that counts its calls
local marks = { document_cache = true }
marks.config = { marks = { type = "map", keys = { style = { type = "string" } } } }
local calls, style = 0, nil
function marks.setup(site) style = site.config.marks.style end
function marks.document(doc, post)
  calls = calls + 1
  local n = 0
  doc:walk { link = function(link)
    n = n + 1
    link.url = link.url:gsub("^http://", "https://")
    link:set_attribute("data-style", style)
  end }
  post.link_count = n
  post.mark = { style = style, links = n }
  if post.meta.noisy then publish.log.warn("noisy post") end
  if post.meta.dated then post.when = post.date end
end
-- A post hook without `post_cache`: posts are made on every build, so
-- this test sees the document cache alone (cli.post-snapshot tests the
-- snapshots of whole posts).
function marks.post() end
function marks.site(site)
  site:add_page { url = "/calls.txt", layout = false, content = tostring(calls) }
end
return marks
LUA
body='## One\n\nA [link](http://example.com/a) and [another](/b).\n\n## Two\n\n## Three\n\n```python\ndef NAME(x):\n    return x + 1\n```\n'
printf -- "---\ntitle: first\n---\n${body//NAME/first}" > "$src/posts/2024-01-01-first.md"
printf -- "---\ntitle: second\n---\n${body//NAME/second}" > "$src/posts/2024-01-02-second.md"
printf -- "---\ntitle: third\n---\n${body//NAME/third}" > "$src/posts/2024-01-03-third.md"
# The number of entries in the build cache (its header's u64 at byte 40).
entries() { od -An -t u8 -j 40 -N 8 "$src/.publish-cache/build.cache" | tr -d ' '; }

# Builds with the cache into out/ and from scratch into clean/; checks
# they agree but for calls.txt, and that `calls` documents went through
# the hooks of the cached build.
cached_build() { # cached_build WHAT CALLS
  "$publish" build -s "$src" -d "$work/out" > /dev/null 2> "$work/err"
  check "$1: build exits 0" test $? -eq 0
  check "$1: $2 documents through the hooks (got $(cat "$work/out/calls.txt"))" \
    test "$(cat "$work/out/calls.txt")" = "$2"
  rm -rf "$work/clean"
  "$publish" build -s "$src" -d "$work/clean" -q --no-cache 2> "$work/clean-err"
  check "$1: output equals a clean build" diff -r -x calls.txt "$work/out" "$work/clean"
}

cached_build "first build" 3
check "the hooks' fields reach the page" grep -q '<p class="mark">plain 2 2</p>' "$work/out/first/index.html"
check "headings' toc reaches the page" grep -q '<nav class="toc"' "$work/out/first/index.html"
check "highlighted" grep -q '<span class="k">def</span> <span class="nf">first</span>' "$work/out/first/index.html"
check "the cache holds 3 documents and 3 highlighted blocks" test "$(entries)" = 6
check "links rewritten" grep -q 'href="https://example.com/a" data-style="plain"' "$work/out/first/index.html"

printf '\nOne [more](http://example.com/c).\n' >> "$src/posts/2024-01-02-second.md"
cached_build "one post edited" 1
check "the unchanged documents' highlighted blocks stay in the cache" test "$(entries)" = 6
check "the edit's fields" grep -q '<p class="mark">plain 3 3</p>' "$work/out/second/index.html"
check "the others' cached fields" grep -q '<p class="mark">plain 2 2</p>' "$work/out/third/index.html"

sed -i 's/^title: first$/title: first again/' "$src/posts/2024-01-01-first.md"
cached_build "front matter edited" 1

printf '\n-- a comment\n' >> "$src/plugins/marks.lua"
cached_build "plugin code changed" 3

sed -i 's/^  style: plain$/  style: fancy/' "$src/config.yaml"
cached_build "config key changed" 3
check "the new config value reached every page" \
  test "$(grep -l 'data-style="fancy"' "$work/out"/*/index.html | wc -l)" = 3

sed -i 's/^title: Document cache$/title: Another title/' "$src/config.yaml"
cached_build "any config change" 3

printf -- "---\ntitle: noisy\nnoisy: true\n---\n${body//NAME/noisy}" > "$src/posts/2024-01-04-noisy.md"
cached_build "a hook that warns" 1
printf '\nMore.\n' >> "$src/posts/2024-01-03-third.md"
cached_build "a hook that warned is run again" 2
check "and warns again" grep -q 'noisy post' "$work/err"

printf -- "---\ntitle: dated\ndated: true\n---\n${body//NAME/dated}" > "$src/posts/2024-01-05-dated.md"
cached_build "a field the cache cannot keep (a Date)" 2
printf '\nMore.\n' >> "$src/posts/2024-01-03-third.md"
cached_build "such a document is run again" 3

"$publish" build -s "$src" -d "$work/out" -q --no-cache 2> /dev/null
check "--no-cache runs every hook" test "$(cat "$work/out/calls.txt")" = 5

printf 'return { document = function() end } -- no document_cache\n' > "$src/plugins/other.lua"
sed -i 's/^plugins: \[template, marks,/plugins: [template, other, marks,/' "$src/config.yaml"
cached_build "a plugin without document_cache" 5
printf '\nMore.\n' >> "$src/posts/2024-01-03-third.md"
cached_build "turns the cache off" 5
finish
