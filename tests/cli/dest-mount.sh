#!/usr/bin/env bash
# A DEST that is a mount point (a tmpfs, another disk) cannot take a
# rename from the staging folder beside it (EXDEV): the staging folder then
# goes inside DEST under a name no build counts, carries or removes
# (.publish-tmp). The first build into the empty mount, a one-post edit, a
# no-op, a file the user added and --clean all behave as on one file
# system, and nothing is left inside DEST. Needs to mount a tmpfs (root);
# skipped (exit 77) where it cannot.
#   dest-mount.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
dest="$work/mnt"
mkdir -p "$dest"
cleanup() { umount "$dest" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=16m publish-test "$dest" 2>/dev/null; then
  echo "skipped: cannot mount a tmpfs here"
  exit 77
fi
cp -r "$root/site" "$work/site"
post="$(ls "$work/site/posts/"*.md | head -1)"

"$publish" build -s "$work/site" -d "$dest" > "$work/log" 2> "$work/err"
check "first build into the mount point succeeds" test $? -eq 0
check "no error" test ! -s "$work/err"
check "no staging folder left inside DEST" test ! -e "$dest/.publish-tmp"
"$publish" build -s "$work/site" -d "$work/clean" -q --no-cache
check "same bytes as a build on one file system" diff -r "$dest" "$work/clean"

echo 'An edit on the mount.' >> "$post"
"$publish" build -s "$work/site" -d "$dest" > "$work/log" 2> "$work/err"
check "edit: succeeds" test $? -eq 0
check "edit: some written, the rest unchanged" grep -Eq '\([1-9] written, [0-9]+ unchanged, 0 removed\)' "$work/log"
rm -rf "$work/clean"
"$publish" build -s "$work/site" -d "$work/clean" -q --no-cache
check "edit: same bytes as a clean build" diff -r "$dest" "$work/clean"
"$publish" build -s "$work/site" -d "$dest" > "$work/log"
check "no-op" grep -q 'is up to date' "$work/log"

echo 'mine' > "$dest/notes.txt"
echo 'Another edit.' >> "$post"
"$publish" build -s "$work/site" -d "$dest" -q
check "a file the user added is kept" grep -qx mine "$dest/notes.txt"
"$publish" build -s "$work/site" -d "$dest" --clean > "$work/log"
check "--clean removes it" test ! -e "$dest/notes.txt"
check "--clean: nothing else removed" grep -Eq '\(0 written, [0-9]+ unchanged, 1 removed\)' "$work/log"
check "no staging folder left inside DEST" test ! -e "$dest/.publish-tmp"
finish
