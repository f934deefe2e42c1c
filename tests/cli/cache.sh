#!/usr/bin/env bash
# The build cache: after each change in a series (post edit, rename,
# delete, layout, config, Markdown option, plugin, static file, a future
# post coming due, a damaged or deleted cache), an incremental build's
# output equals a clean --no-cache build's, byte for byte; a rebuild with
# nothing changed is skipped.
#   cache.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
example_site "$src"

noop() { # noop WHAT
  "$publish" build -s "$src" -d "$work/out" > "$work/log"
  check "$1: no-op rebuild is skipped" grep -q 'is up to date' "$work/log"
}
post="$src/posts/2025-10-05-writing-plugins-in-lua.md"

# A config error the engine finds (after the loaders cached Markdown)
# leaves nothing half-written: no cache folder in SRC either.
cp "$src/config.yaml" "$work/config.yaml"
printf 'permalink: 3\n' >> "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "a config error fails the build" test $? -eq 1
check "a config error is reported" grep -q "^config.yaml:.*: error: 'permalink' must be a string" "$work/err"
check "a config error creates no SRC/.publish-cache" test ! -e "$src/.publish-cache"
check "a config error writes no DEST" test ! -e "$work/out"
cp "$work/config.yaml" "$src/config.yaml"

same_as_clean "first build"
check "the cache is in SRC/.publish-cache" test -s "$src/.publish-cache/build.cache"
noop "first build"
"$publish" build -s "$src" -d "$work/out" --no-cache > "$work/log"
check "--no-cache builds again" grep -q 'written' "$work/log"

printf '\nOne more paragraph, with *emphasis*.\n' >> "$post"
same_as_clean "post edit"
noop "post edit"

mv "$post" "$src/posts/2025-10-06-plugins-in-lua.md"
same_as_clean "post rename"

rm "$src/posts/2023-03-12-why-a-static-blog.md"
same_as_clean "post delete"

sed -i 's|</article>|</article><!-- layout changed -->|' "$src/layouts/post.html"
same_as_clean "layout change"
check "layout change reached the output" grep -rq 'layout changed' "$work/out"

sed -i 's|^title: .*|title: 빠른 기록|' "$src/config.yaml"
same_as_clean "config change"

printf 'markdown:\n  unsafe: true\n  smart: true\n' > "$work/md.yaml"
sed -i '/^markdown:/,/^  unsafe: true/d' "$src/config.yaml"
cat "$work/md.yaml" >> "$src/config.yaml"
same_as_clean "markdown option change"

mkdir -p "$src/plugins"
printf 'return { output = function(path, bytes) if path:match("%%.html$") then return bytes .. "<!-- v1 -->" end end }\n' \
  > "$src/plugins/stamp.lua"
sed -i 's|^plugins: \[\(.*\)\]|plugins: [\1, stamp]|' "$src/config.yaml"
same_as_clean "plugin added"
sed -i 's|v1|v2|' "$src/plugins/stamp.lua"
same_as_clean "plugin change"
check "plugin change reached the output" grep -rq -- '<!-- v2 -->' "$work/out"

echo 'body { color: red }' >> "$src/static/css/$(ls "$src/static/css" | head -1)"
same_as_clean "static change"

# A post dated a few seconds ahead is left out, then appears once its time
# has come, although no file changed. (Far enough ahead that two builds on
# a busy machine finish before it is due.)
due_epoch=$(( $(date +%s) + 8 ))
due="$(date -u -d "@$due_epoch" '+%Y-%m-%d %H:%M:%S +00:00')"
printf -- '---\ntitle: Soon\ndate: %s\n---\nSoon here.\n' "$due" > "$src/posts/2099-01-01-soon.md"
same_as_clean "future post"
check "future post left out" test -z "$(grep -rl 'Soon here' "$work/out")"
noop "future post not yet due"
while [ "$(date +%s)" -le "$due_epoch" ]; do sleep 0.2; done
"$publish" build -s "$src" -d "$work/out" -q
check "future post appears when due" test -n "$(grep -rl 'Soon here' "$work/out")"

printf 'garbage' > "$src/.publish-cache/build.cache"
echo 'More.' >> "$src/posts/2025-10-06-plugins-in-lua.md"
same_as_clean "damaged cache"
rm -rf "$src/.publish-cache"
echo 'Even more.' >> "$src/posts/2025-10-06-plugins-in-lua.md"
same_as_clean "deleted cache"
noop "deleted cache"
rm -rf "$work/out"
"$publish" build -s "$src" -d "$work/out" -q
check "a missing DEST is built again" diff -r "$work/out" "$work/clean"

# Racy files: a post saved just before a build (within the file clock's
# tick) is vouched for by its contents on the next build, not answered
# with a full rebuild; an edit that keeps its size and times still shows.
racy="$src/posts/2025-10-06-plugins-in-lua.md"
echo 'Racy A.' >> "$racy"
"$publish" build -s "$src" -d "$work/out" -q
noop "a post saved just before the build"
stamp="$(stat -c '%y' "$racy")"
sed -i 's/Racy A\./Racy B./' "$racy"
touch -d "$stamp" "$racy"
"$publish" build -s "$src" -d "$work/out" > "$work/log"
check "racy edit with the same size and times: rebuilt" grep -q 'written' "$work/log"
check "racy edit with the same size and times: reaches the output" grep -rq 'Racy B' "$work/out"
finish
