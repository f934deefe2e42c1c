#!/usr/bin/env bash
# What a build may do to DEST and beside it. publish removes only files it
# wrote: a first build into a folder that holds other files is refused
# (-d, destination:, a _site symlink alike) until --clean; planted
# symlinks at the names publish creates beside DEST or in SRC (the
# manifest's temporary file, the staging folder, .publish-cache) redirect
# nothing; static copies never widen permissions.
#   destination.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/posts" "$src/static"
printf 'title: Dest\n' > "$src/config.yaml"
printf -- '---\ntitle: Hello\n---\nHi.\n' > "$src/posts/2024-01-01-hello.md"
sums() { (cd "$1" && find . -exec stat -c '%n %s %Y' {} + | sort; find . -type f -exec sha256sum {} + | sort); }

# An unrelated folder: notes, a docs/ tree, a .git kept by every rule.
unrelated() {
  rm -rf "$1"; mkdir -p "$1/docs/img" "$1/.git"
  printf 'my notes\n' > "$1/notes.txt"
  printf 'a\n' > "$1/docs/a.md"; printf 'b\n' > "$1/docs/b.md"; printf 'png' > "$1/docs/img/x.png"
  printf 'ref: refs/heads/main\n' > "$1/.git/HEAD"
}
msg="error: 'docs/a.md' and 3 more files were not written by publish; empty the folder or pass --clean"

unrelated "$work/folder"
sums "$work/folder" > "$work/before"
"$publish" build -s "$src" -d "$work/folder" -q 2> "$work/err"
check "-d into a foreign folder: exit 1" test $? -eq 1
printf '%s\n' "$work/folder: $msg" "publish: 1 error; '$work/folder' left as it was" > "$work/want"
check "-d into a foreign folder: message" diff -u "$work/want" "$work/err"
sums "$work/folder" > "$work/after"
check "-d into a foreign folder: nothing touched" diff -u "$work/before" "$work/after"
check "-d into a foreign folder: no staging left" test ! -e "$work/.folder.publish-tmp"

printf 'title: Dest\ndestination: ../folder\n' > "$src/config.yaml"
"$publish" build -s "$src" -q 2> "$work/err"
check "destination: into a foreign folder: refused" grep -qxF "$src/../folder: $msg" "$work/err"
printf 'title: Dest\n' > "$src/config.yaml"

ln -s "$work/folder" "$src/_site"
"$publish" build -s "$src" -q 2> "$work/err"
check "_site symlink to a foreign folder: refused" grep -qxF "$src/_site: $msg" "$work/err"
sums "$work/folder" > "$work/after"
check "_site symlink to a foreign folder: nothing touched" diff -u "$work/before" "$work/after"
rm "$src/_site"

"$publish" build -s "$src" -d "$work/folder" --clean -q 2> "$work/err"
check "--clean: exit 0" test $? -eq 0
check "--clean: the foreign files are gone" test ! -e "$work/folder/notes.txt" -a ! -e "$work/folder/docs"
check "--clean: .git stays" test -f "$work/folder/.git/HEAD"
check "--clean: the site is there" test -f "$work/folder/2024/01/01/hello/index.html"
printf 'mine\n' > "$work/folder/CNAME"
"$publish" build -s "$src" -d "$work/folder" -q 2> "$work/err"
check "a file added after a build is kept" test -f "$work/folder/CNAME"
"$publish" build -s "$src" -d "$work/folder" --clean -q 2> "$work/err"
check "--clean removes it" test ! -e "$work/folder/CNAME"
mkdir -p "$work/empty"
"$publish" build -s "$src" -d "$work/empty" -q 2> "$work/err"
check "an empty folder is fine" test $? -eq 0

# Planted symlinks at the names publish creates.
printf 'victim\n' > "$work/victim.txt"
mkdir -p "$work/victim-dir"; printf 'keep\n' > "$work/victim-dir/keep.txt"
dest="$work/out"
"$publish" build -s "$src" -d "$dest" -q
ln -s "$work/victim.txt" "$work/.out.publish-manifest.tmp"
ln -s "$work/victim-dir" "$work/.out.publish-tmp"
printf -- '---\ntitle: Two\n---\nTwo.\n' > "$src/posts/2024-01-02-two.md"
"$publish" build -s "$src" -d "$dest" -q 2> "$work/err"
check "planted temp links: build ok" test $? -eq 0
check "planted manifest temp link: target untouched" test "$(cat "$work/victim.txt")" = victim
check "planted staging link: target untouched" test "$(ls "$work/victim-dir")" = keep.txt
check "planted staging link: the link is gone" test ! -L "$work/.out.publish-tmp"
check "planted temp links: the new post is built" test -f "$dest/2024/01/02/two/index.html"
rm -rf "$src/.publish-cache"
ln -s "$work/victim-dir" "$src/.publish-cache"
printf -- '---\ntitle: Three\n---\nThree.\n' > "$src/posts/2024-01-03-three.md"
"$publish" build -s "$src" -d "$dest" 2> "$work/err" > /dev/null
check "symlinked .publish-cache: build ok" test $? -eq 0
check "symlinked .publish-cache: warning" \
  grep -qx '.publish-cache: warning: symlink not followed; the build is not cached' "$work/err"
check "symlinked .publish-cache: nothing written through it" test "$(ls -A "$work/victim-dir")" = keep.txt
rm "$src/.publish-cache"

# Copies keep no more permission than their source, at most 0644/0755.
printf 'secret\n' > "$src/static/private.txt"; chmod 0640 "$src/static/private.txt"
printf 'mine\n' > "$src/static/mine.txt"; chmod 0600 "$src/static/mine.txt"
printf 'open\n' > "$src/static/open.txt"; chmod 0666 "$src/static/open.txt"
printf '#!/bin/sh\n' > "$src/static/run.sh"; chmod 0777 "$src/static/run.sh"
(umask 022; "$publish" build -s "$src" -d "$dest" -q)
check "0640 copied as 0640" test "$(stat -c %a "$dest/private.txt")" = 640
check "0600 copied as 0600" test "$(stat -c %a "$dest/mine.txt")" = 600
check "0666 copied as 0644" test "$(stat -c %a "$dest/open.txt")" = 644
check "0777 copied as 0755" test "$(stat -c %a "$dest/run.sh")" = 755
chmod 0600 "$src/static/private.txt"
(umask 022; "$publish" build -s "$src" -d "$dest" -q)
check "a narrower source narrows the copy" test "$(stat -c %a "$dest/private.txt")" = 600
finish
