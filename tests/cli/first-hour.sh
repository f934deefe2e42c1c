#!/usr/bin/env bash
# The first hour with publish (issue 11): each trap a new user meets gives
# its exact message and exit status and writes nothing.
#   first-hour.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC
mkdir "$work/t" # the test's own files

# What a folder holds, to show a failed command wrote nothing.
tree() { (cd "$1" && find . -path ./t -prune -o -print | sort); }

# A site is a site: a folder without config.yaml (a site's posts/, the
# repository root) is refused by every command, and nothing is written.
mkdir -p "$work/site/posts"
printf 'title: T\n' > "$work/site/config.yaml"
printf -- '---\ntitle: A\n---\nHi\n' > "$work/site/posts/2024-01-02-a.md"
tree "$work" > "$work/t/before"
for cmd in build check serve "run $work/noop.lua" "new Title"; do
  (cd "$work/site/posts" && "$publish" $cmd) > "$work/t/out" 2> "$work/t/err"
  check "'$cmd' outside a site exits 1" test $? -eq 1
  check "'$cmd' outside a site says why" \
    diff <(printf ".: error: no config.yaml here (is this the site's folder?)\n") \
         <(grep -v '^publish: ' "$work/t/err")
done
"$publish" build -s "$work/site/posts" 2> "$work/t/err"
check "build -s posts exits 1" test $? -eq 1
check "build -s posts names the folder" \
  grep -qx "$work/site/posts: error: no config.yaml here (is this the site's folder?)" "$work/t/err"
tree "$work" > "$work/t/after"
check "nothing was written outside a site" diff "$work/t/before" "$work/t/after"

finish
