#!/usr/bin/env bash
# The build cache must never change the output: after each edit in a
# series (post edit, new post, rename, delete, layout, config, plugin, a
# future post coming due is covered by the cache's unit tests), a cached
# rebuild gives exactly the tree a clean build (--no-cache, fresh DEST) gives.
#   incremental.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/sites/blog/src" "$work/site"

same_as_clean() { # same_as_clean DESCRIPTION (not lib.sh's: -j 1, its own site)
  "$publish" build -s "$work/site" -d "$work/out" -q || { check "$1: cached build" false; return; }
  rm -rf "$work/clean"
  "$publish" build -s "$work/site" -d "$work/clean" -q --no-cache -j 1
  check "$1: cached build equals a clean build" diff -r "$work/out" "$work/clean"
}

same_as_clean "first build"
# A file changed within a clock tick of a build cannot vouch for itself, so
# the first build after the copy may not record a fingerprint; the next does.
sleep 0.1
"$publish" build -s "$work/site" -d "$work/out" -q
"$publish" build -s "$work/site" -d "$work/out" > "$work/log"
check "no-op rebuild is skipped" grep -q "up to date" "$work/log"

printf '\nOne more line.\n' >> "$work/site/posts/2024-07-01-markdown-tour.md"
same_as_clean "post edit"
check "the edit is in the output" grep -q "One more line." "$work/out/2024/07/markdown-tour/index.html"

printf -- '---\ntitle: Brand new\ncategories: [Fresh]\n---\nNew *post*.\n' > "$work/site/posts/2024-09-09-brand-new.md"
same_as_clean "new post"

mv "$work/site/posts/2024-09-09-brand-new.md" "$work/site/posts/2024-09-09-renamed.md"
same_as_clean "rename"
check "the old URL is gone" test ! -e "$work/out/2024/09/brand-new/index.html"

rm "$work/site/posts/2024-09-09-renamed.md"
same_as_clean "delete"

sed -i 's|<h1>{{ post.title }}</h1>|<h1 class="t">{{ post.title }}</h1>|' "$work/site/layouts/post.html"
same_as_clean "layout change"

sed -i 's/^title: Golden Blog/title: Golden Blog Two/' "$work/site/config.yaml"
same_as_clean "config change"

mkdir -p "$work/site/plugins"
printf 'return { post = function(post) post.title = post.title .. "!" end }\n' > "$work/site/plugins/shout.lua"
sed -i 's/^plugins: \[template,/plugins: [shout, template,/' "$work/site/config.yaml"
same_as_clean "plugin added"
printf 'return { post = function(post) post.title = post.title .. "?" end }\n' > "$work/site/plugins/shout.lua"
same_as_clean "plugin change"
check "the plugin change is in the output" grep -q "Markdown tour: code &amp; &lt;tags&gt;?" "$work/out/2024/07/markdown-tour/index.html"

printf 'body { color: #333; }\n' > "$work/site/static/css/site.css"
same_as_clean "static file change"
finish
