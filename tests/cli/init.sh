#!/usr/bin/env bash
# `publish init` with the installed binary (issue 11): `cmake --install`
# puts one self-contained publish on the PATH; from a clean folder far from
# the repository it makes a new site, builds it, and says what to run next;
# it refuses a folder that has content.
#   init.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC

cmake --install "$(dirname "$publish")" --prefix "$work/prefix" > "$work/install.log" 2>&1
check "cmake --install succeeds" test $? -eq 0
check "one file is installed: bin/publish" \
  diff <(echo ./bin/publish) <(cd "$work/prefix" && find . -type f)
export PATH="$work/prefix/bin:$PATH"
check "the installed publish is the one on the PATH" test "$(command -v publish)" = "$work/prefix/bin/publish"

mkdir "$work/home"; cd "$work/home"
publish init blog > "$work/out" 2> "$work/err"
check "init exits 0" test $? -eq 0
check "init prints no warning or error" test ! -s "$work/err"
check "init says what it made" grep -Eq "^publish: made a new site in 'blog' \([0-9]+ files\)$" "$work/out"
check "init builds the site" grep -Eq "^publish: [0-9]+ files in 'blog/_site' \(" "$work/out"
check "the last line says what to run next" \
  diff <(echo "publish: next: publish serve -s blog, then open http://127.0.0.1:4000/ (publish new \"TITLE\" -s blog writes a post)") \
       <(tail -1 "$work/out")
check "the new site has its config" test -f blog/config.yaml
check "the new site has the example posts" test "$(ls blog/posts | wc -l)" -gt 3
check "the home page is built" grep -q '<html' blog/_site/index.html
check "the feed is built" test -s blog/_site/feed.xml
publish check -s blog > /dev/null 2> "$work/err"
check "the new site checks clean" test $? -eq 0 -a ! -s "$work/err"
publish new "Hello world" -s blog -q
check "a post can be added" test -n "$(ls blog/posts/*-hello-world.md 2>/dev/null)"
publish build -s blog -q
check "and the site rebuilt with it" test -n "$(find blog/_site -path '*hello-world*' -name index.html)"

# A folder with content is refused, and left as it was.
(find blog -type f | sort; cat blog/config.yaml) > "$work/before"
publish init blog > "$work/out" 2> "$work/err"
check "init into a site exits 1" test $? -eq 1
check "init into a site says why" diff <(echo "blog: error: not empty (init makes a site in a new or empty folder)") "$work/err"
(find blog -type f | sort; cat blog/config.yaml) > "$work/after"
check "the folder is untouched" diff "$work/before" "$work/after"

# --empty: no example posts; the site still builds. A folder holding only
# .git is empty enough.
mkdir -p notes/.git
(cd notes && publish init --empty -q) > "$work/out" 2> "$work/err"
check "init --empty in the current folder exits 0" test $? -eq 0
check "init --empty writes no posts" test -d notes/posts -a -z "$(ls notes/posts)"
check "init --empty builds" test -f notes/_site/index.html
check "in the current folder, the next step has no -s" \
  diff <(echo "publish: next: publish serve, then open http://127.0.0.1:4000/ (publish new \"TITLE\" writes a post)") "$work/out"

# The bundled scripts travel in the binary too.
publish run retag --help > "$work/out"
check "the installed binary knows the bundled scripts" grep -q '^usage: publish run retag' "$work/out"
finish
