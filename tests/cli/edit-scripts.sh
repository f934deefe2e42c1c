#!/usr/bin/env bash
# The bundled bulk-edit scripts (scripts/edit/*.lua) on the fixture site
# tests/edit/site: for each case the --dry-run output must equal
# tests/edit/expected/CASE.out, the dry run must leave the tree (bytes and
# mtimes) as it was, and the real run must do exactly what the dry run
# showed (the printed diff applied with `git apply` to a fresh copy gives
# the same tree). A no-op script afterwards must change nothing at all.
#   edit-scripts.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
site="$root/tests/edit/site"
expected="$root/tests/edit/expected"
export TZ=UTC

# Bytes, mode and mtime of every file below $1, path order.
tree_state() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 stat -c '%n %a %Y.%y' && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
# Bytes of every file below $1 (and which files there are).
tree_bytes() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }

echo 'local unused = ...' > "$work/noop.lua"

run_case() { # run_case NAME SCRIPT ARGS...
  local name="$1" script="$root/scripts/edit/$2"; shift 2
  rm -rf "$work/dry" "$work/real" "$work/applied"
  cp -a "$site" "$work/dry"; cp -a "$site" "$work/real"; cp -a "$site" "$work/applied"
  local before; before="$(tree_state "$work/dry")"
  "$publish" run "$script" -s "$work/dry" --dry-run -q -- "$@" > "$work/$name.out" 2> "$work/$name.err"
  check "$name: dry run exits 0" test $? -eq 0
  check "$name: dry run output is as expected" diff -u "$expected/$name.out" "$work/$name.out"
  check "$name: dry run writes nothing" test "$before" = "$(tree_state "$work/dry")"

  "$publish" run "$script" -s "$work/real" -q -- "$@" > "$work/$name.real" 2> "$work/$name.err"
  check "$name: run exits 0" test $? -eq 0
  check "$name: -q prints nothing" test ! -s "$work/$name.real"
  grep -v '^publish: dry run' "$work/$name.out" > "$work/$name.patch"
  if [ -s "$work/$name.patch" ]; then
    (cd "$work/applied" && git apply --whitespace=nowarn "$work/$name.patch")
    check "$name: the diff applies" test $? -eq 0
  fi
  check "$name: the run did what the dry run showed" test "$(tree_bytes "$work/real")" = "$(tree_bytes "$work/applied")"

  local after; after="$(tree_state "$work/real")"
  sleep 1.1 # an mtime change would show
  "$publish" run "$work/noop.lua" -s "$work/real" -q
  check "$name: a no-op run afterwards exits 0" test $? -eq 0
  check "$name: a no-op run changes no byte and no mtime" test "$after" = "$(tree_state "$work/real")"
}

run_case retag retag.lua News 뉴스
# The exact retag result: only the category lines changed.
check "retag: categories rewritten in place" diff <(sed -n 7,9p "$work/real/posts/2024-01-02-comments.md") <(printf 'categories:\n  - 뉴스\n  - Tech\n')
check "retag: the rest of the post is as it was" diff <(sed 8d "$work/real/posts/2024-01-02-comments.md") <(sed 8d "$site/posts/2024-01-02-comments.md")
run_case retag-merge retag.lua news News
run_case set set.lua draft true 'date.year < 2023'
run_case set-remove set.lua --remove image
run_case dates dates.lua
run_case feature-image feature-image.lua
run_case jekyll-import jekyll-import.lua "$root/tests/edit/jekyll/_posts"
"$publish" run "$root/scripts/edit/jekyll-import.lua" -s "$work/dry" --dry-run -- "$root/tests/edit/jekyll/_posts" > /dev/null 2> "$work/jekyll.err"
check "jekyll-import: warns about the clash" grep -q "skipped: 'posts/2024-01-02-comments.md' already exists" "$work/jekyll.err"
check "jekyll-import: warns about HTML" grep -q "2016-01-02-page.html: skipped: not Markdown" "$work/jekyll.err"

# Usage errors: exit 2 (a bad filter: 1), nothing written.
cp -a "$site" "$work/usage"
before="$(tree_state "$work/usage")"
"$publish" run "$root/scripts/edit/retag.lua" -s "$work/usage" -- onlyone 2> "$work/err"
check "retag without NEW exits 2 (a usage error)" test $? -eq 2
check "retag without NEW prints its usage, one line" \
  diff <(echo "publish: usage: publish run retag -- OLD NEW (see 'publish run $root/scripts/edit/retag.lua --help')") "$work/err"
"$publish" run "$root/scripts/edit/set.lua" -s "$work/usage" -- k v 'syntax error here' 2> "$work/err"
check "set with a bad filter exits 1" test $? -eq 1
check "set with a bad filter says so" grep -q 'set.lua: bad FILTER' "$work/err"
check "usage errors write nothing" test "$before" = "$(tree_state "$work/usage")"

finish
