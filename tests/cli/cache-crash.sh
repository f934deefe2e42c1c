#!/usr/bin/env bash
# A build killed after each write to its build cache in turn (the puts
# while it renders, then each step of the save: an append's blobs, index
# and header; a compaction's copy, index, header and rename): the next
# build's output equals a clean --no-cache build's, byte for byte, and
# the build after that is a no-op. A preloaded library
# (cache_crash_preload.c, built here with cc) ends the process after the
# Nth such write. Skipped (77) where it cannot be preloaded (the
# sanitizer build) or cc is missing.
#   cache-crash.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
ldd "$publish" | grep -q 'libasan' && exit 77
# No compiler is a skip; a preload library that does not compile is a failure.
command -v cc > /dev/null || exit 77
if ! cc -shared -fPIC -O1 -o "$work/crash.so" "$root/tests/cli/cache_crash_preload.c" -ldl; then
  echo "FAIL: tests/cli/cache_crash_preload.c does not compile" >&2
  exit 1
fi
src="$work/site"
example_site "$src"

# same_as_clean (lib.sh), then the build after it must do nothing.
settles_clean() { # settles_clean WHAT
  same_as_clean "$1"
  "$publish" build -s "$src" -d "$work/out" > "$work/log"
  check "$1: the next build is a no-op" grep -q 'is up to date' "$work/log"
}

# crash_each WHAT CHANGE: for N = 1, 2, ...: makes the change (a shell
# command) on a copy of the site as it is now, builds with the kill after
# the Nth cache write, then checks the next builds; until a build runs
# through. Sets `kills`.
crash_each() {
  local what="$1" change="$2" n rc
  # SRC (its cache included), DEST and DEST's manifest beside it.
  cp -a "$src" "$work/before"; cp -a "$work/out" "$work/out-before"
  cp "$work/.out.publish-manifest" "$work/manifest-before"
  kills=0
  for n in $(seq 1 60); do
    rm -rf "$src" "$work/out"; cp -a "$work/before" "$src"; cp -a "$work/out-before" "$work/out"
    cp "$work/manifest-before" "$work/.out.publish-manifest"
    (cd "$src" && eval "$change")
    PUB_CRASH_AFTER=$n LD_PRELOAD="$work/crash.so" "$publish" build -s "$src" -d "$work/out" -q \
      2> "$work/err"
    rc=$?
    if [ $rc -ne 99 ]; then
      check "$what: the build that ran through exits 0" test $rc -eq 0
      break
    fi
    kills=$((kills + 1))
    settles_clean "$what, killed after cache write $n"
  done
  rm -rf "$work/before" "$work/out-before" "$work/manifest-before"
}

settles_clean "first build"
crash_each "a one-post edit (append)" \
  "printf '\nOne more line.\n' >> posts/2025-10-05-writing-plugins-in-lua.md"
check "a one-post edit: killed at $kills points (puts, blobs, index, header)" test "$kills" -ge 4
# Most posts deleted: the save compacts (a new file renamed into place).
crash_each "most posts deleted (compaction)" \
  "ls posts/*.md | tail -n +3 | xargs rm -f"
check "a compaction: killed at $kills points (copy, index, header, rename)" test "$kills" -ge 4
finish
