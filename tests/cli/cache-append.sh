#!/usr/bin/env bash
# The build cache file grows by appending (core/cache.c): over a series of
# one-post edits, adds and deletes, most saves append to the same file and
# some compact it into a new one, and after every step the output equals
# a clean --no-cache build, byte for byte. Bytes after the index in force
# (what a save killed before its header leaves) are ignored. Two builds
# saving the same cache at once both succeed and leave a sound cache.
#   cache-append.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
example_site "$src"
cache="$src/.publish-cache/build.cache"


same_as_clean "first build"
posts=("$src"/posts/*.md)
appends=0; compactions=0
for i in $(seq 1 24); do
  inode="$(stat -c %i "$cache")"; size="$(stat -c %s "$cache")"
  case $((i % 4)) in
    0) printf -- '---\ntitle: Added %d\ndate: 2024-01-%02d\n---\nNew post %d.\n' "$i" "$i" "$i" \
         > "$src/posts/2024-01-$(printf %02d "$i")-added-$i.md" ;;
    1) rm -f "$src"/posts/2024-01-*-added-*.md ;;
    *) printf '\nEdit %d, with *emphasis*.\n' "$i" >> "${posts[$((i % ${#posts[@]}))]}" ;;
  esac
  same_as_clean "step $i"
  if [ "$(stat -c %i "$cache")" = "$inode" ]; then
    [ "$(stat -c %s "$cache")" -gt "$size" ] && appends=$((appends + 1))
  else
    compactions=$((compactions + 1))
  fi
done
check "most saves append to the file ($appends of 24)" test "$appends" -ge 12
check "some saves compact it ($compactions of 24)" test "$compactions" -ge 1
check "no temporary file is left" test "$(ls "$src/.publish-cache" | grep -c '^build.cache.')" -eq 0

# What a save killed before its header leaves: bytes after the index.
printf 'half an append that never got its header' >> "$cache"
"$publish" build -s "$src" -d "$work/out" > "$work/log" 2> "$work/err"
check "bytes after the index: the cache still loads (a no-op)" grep -q 'is up to date' "$work/log"
printf '\nAfter the killed save.\n' >> "${posts[0]}"
same_as_clean "after a killed save"

# Two builds at once (serve and a build, say) saving the one cache.
printf '\nTwo builds at once.\n' >> "${posts[1]}"
"$publish" build -s "$src" -d "$work/out2" -q 2> "$work/err2" & other=$!
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "the first of two builds at once exits 0" test $? -eq 0
wait "$other"
check "the second of two builds at once exits 0" test $? -eq 0
check "two builds at once: no warnings" test ! -s "$work/err" -a ! -s "$work/err2"
check "two builds at once: the same output" diff -r "$work/out" "$work/out2"
printf '\nAnd one more.\n' >> "${posts[1]}"
same_as_clean "after two builds at once"
finish
