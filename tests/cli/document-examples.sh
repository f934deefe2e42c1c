#!/usr/bin/env bash
# The three `document` hook examples of docs/lua-api.md (each a ```lua block
# after `<!-- example plugin: NAME -->`) are the very plugins the golden site
# tests/sites/document-hook runs, byte for byte; and an error in a document
# hook names the plugin line and the node's place in the post.
#   document-examples.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/docs"
awk -v dir="$work/docs" '
  /<!-- example plugin: / { name = $4; getline; if ($0 ~ /^```lua/) { out = 1; next } }
  out && /^```$/ { out = 0; next }
  out { print > (dir "/" name ".lua") }' "$root/docs/lua-api.md"
for name in noopener lazy-images callouts; do
  check "docs/lua-api.md has the '$name' example" test -s "$work/docs/$name.lua"
  check "'$name' in the docs is the tested plugin" \
    cmp "$work/docs/$name.lua" "$root/tests/sites/document-hook/src/plugins/$name.lua"
done
check "the example site's callouts plugin is the documented one" \
  cmp "$work/docs/callouts.lua" "$root/site/plugins/callouts.lua"

# A plugin error inside a walk: plugin line, and the node's path:line:col
# (front matter lines counted).
site="$work/site"
mkdir -p "$site/posts" "$site/plugins"
printf 'title: t\npermalink: /:slug/\nplugins: [strict]\n' > "$site/config.yaml"
printf -- '---\ntitle: A\n---\nText.\n\nSee ![a cat](cat.png).\n' > "$site/posts/2024-01-01-a.md"
cat > "$site/plugins/strict.lua" <<'LUA'
return {
  document = function(doc)
    doc:walk {
      image = function(img)
        if not img.url:match("^/") then error("image '" .. img.url .. "' is not site-relative") end
      end,
    }
  end,
}
LUA
status=0
"$publish" build -s "$site" -d "$work/out" -q 2> "$work/stderr" || status=$?
check "a document hook error fails the build" test "$status" -eq 1
check "the error names the plugin line and the node" grep -qxF \
  "plugins/strict.lua:5:1: error: image 'cat.png' is not site-relative (in 'document' of plugin 'strict', at posts/2024-01-01-a.md:6:5)" \
  "$work/stderr"
check "nothing was written" test ! -e "$work/out"

# A node kept past its post raises when used in the next one.
cat > "$site/plugins/strict.lua" <<'LUA'
local kept
return {
  document = function(doc)
    if kept then return kept.type end
    kept = doc.first_child
  end,
}
LUA
printf -- '---\ntitle: B\n---\nMore.\n' > "$site/posts/2024-01-02-b.md"
status=0
"$publish" build -s "$site" -d "$work/out" -q 2> "$work/stderr" || status=$?
check "a node kept between posts fails cleanly" test "$status" -eq 1
check "it says why" grep -qF \
  "plugins/strict.lua:4:1: error: this node's document was already rendered (keep no nodes between posts) (in 'document' of plugin 'strict', on 'posts/2024-01-02-b.md')" \
  "$work/stderr"
finish
