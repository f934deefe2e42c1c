#!/usr/bin/env bash
# A write that fails (a file too large for the limit, a full disk) is an
# error at the file it could not write, with exit 1 and DEST as it was.
# The file-size limit (ulimit -f) works everywhere; the full disk needs a
# small tmpfs, mounted only where the test may (as root).
#   disk-full.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
mounted=""
cleanup() { [ -n "$mounted" ] && umount "$mounted" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
src="$work/site"
mkdir -p "$src/posts"
printf 'title: Full\n' > "$src/config.yaml"
printf -- '---\ntitle: Small\n---\nsmall\n' > "$src/posts/2024-01-01-small.md"
"$publish" build -s "$src" -d "$work/out" -q
(cd "$work/out" && find . -type f -exec sha256sum {} + | sort) > "$work/before"
{ printf -- '---\ntitle: Big\n---\n'; head -c 20000 /dev/zero | tr '\0' 'x'; printf '\n'; } \
  > "$src/posts/2024-01-02-big.md"

# 8 blocks of 512 bytes: the big page cannot be written.
(trap '' XFSZ; ulimit -f 8; "$publish" build -s "$src" -d "$work/out" -q -j 2 --no-cache) 2> "$work/err"
check "too large: exit 1" test $? -eq 1
printf '%s\n' "$work/out/2024/01/02/big/index.html: error: cannot write: File too large" \
  "publish: 1 error; '$work/out' left as it was" > "$work/want"
check "too large: the message names the file" diff -u "$work/want" "$work/err"
(cd "$work/out" && find . -type f -exec sha256sum {} + | sort) > "$work/after"
check "too large: DEST as it was" diff -u "$work/before" "$work/after"

mkdir -p "$work/tmpfs"
if mount -t tmpfs -o size=16k tmpfs "$work/tmpfs" 2>/dev/null; then
  mounted="$work/tmpfs"
  "$publish" build -s "$src" -d "$work/tmpfs/out" -q -j 2 --no-cache 2> "$work/err"
  check "full disk: exit 1" test $? -eq 1
  check "full disk: the message names a file" \
    grep -qE "^$work/tmpfs/out/[^:]+: error: cannot write: No space left on device$" "$work/err"
  check "full disk: nothing left behind" test -z "$(ls -A "$work/tmpfs")"
else
  echo "(no tmpfs here: the full-disk case is not run)"
fi
finish
