#!/usr/bin/env bash
# A build killed before it commits (SIGKILL, SIGTERM, SIGHUP) leaves DEST
# exactly as it was and no staging folder beside it: a janitor process
# removes it as soon as the build is gone, not at the next build.
#   build-killed.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
src="$work/site"
mkdir -p "$src/posts" "$src/plugins"
printf 'title: Killed\nplugins: [slow]\n' > "$src/config.yaml"
printf -- '---\ntitle: One\n---\none\n' > "$src/posts/2024-01-01-one.md"
printf 'return {}\n' > "$src/plugins/slow.lua"
"$publish" build -s "$src" -d "$work/out" -q
(cd "$work/out" && find . -type f -exec sha256sum {} + | sort) > "$work/before"
# Now a plugin that takes its time in the site hook, after pages began.
cat > "$src/plugins/slow.lua" <<'LUA'
return {
  site = function()
    local stop = os.clock() + 15
    while os.clock() < stop do end
  end,
}
LUA
printf -- '---\ntitle: Two\n---\ntwo\n' > "$src/posts/2024-01-02-two.md"

# (Not SIGINT: a background job of a script starts with SIGINT ignored.)
for sig in KILL TERM HUP; do
  "$publish" build -s "$src" -d "$work/out" -q --no-cache 2> "$work/err" &
  pid=$!
  for i in $(seq 100); do [ -d "$work/.out.publish-tmp" ] && break; sleep 0.05; done
  check "SIG$sig: the build had a staging folder" test -d "$work/.out.publish-tmp"
  sleep 0.3
  kill "-$sig" "$pid"; wait "$pid" 2>/dev/null; pid=""
  for i in $(seq 60); do [ -e "$work/.out.publish-tmp" ] || break; sleep 0.05; done
  check "SIG$sig: no staging folder left" test ! -e "$work/.out.publish-tmp"
  (cd "$work/out" && find . -type f -exec sha256sum {} + | sort) > "$work/after"
  check "SIG$sig: DEST as it was" diff -u "$work/before" "$work/after"
done
finish
