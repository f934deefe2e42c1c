#!/usr/bin/env bash
# The CLI contract: exit statuses, --help, --version, usage errors, `new`,
# `check` writing nothing, and the summary line.
#   usage.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

out="$("$publish" --version)"; check "--version exits 0" test $? -eq 0
check "--version prints the version" grep -Eq '^publish [0-9]+\.[0-9]+\.[0-9]+$' <<<"$out"
"$publish" --help > "$work/help"; check "--help exits 0" test $? -eq 0
check "--help lists run" grep -q 'run SCRIPT' "$work/help"

"$publish" frobnicate 2> "$work/err"; check "unknown command exits 2" test $? -eq 2
check "unknown command is named" grep -q "error: unknown command 'frobnicate'" "$work/err"
"$publish" build --nope 2> "$work/err"; check "unknown option exits 2" test $? -eq 2
check "unknown option is named" grep -q "error: unknown option '--nope'" "$work/err"
"$publish" build -j 0 2> "$work/err"; check "bad -j exits 2" test $? -eq 2
"$publish" build -s "$work/missing" 2> "$work/err"; check "missing site exits 1" test $? -eq 1
check "missing site is named" grep -q "missing: error: site folder not found" "$work/err"

# new: creates a dated post with front matter, refuses to overwrite it.
mkdir -p "$work/site"
printf 'title: T\ntimezone: Asia/Seoul\n' > "$work/site/config.yaml"
"$publish" new '서울의 "가을"' -s "$work/site" --category 여행 -q
check "new exits 0" test $? -eq 0
post="$(ls "$work/site/posts/"*.md 2>/dev/null | head -1)"
check "new names the file date-slug.md" bash -c "[[ '$(basename "$post")' =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}-서울의-가을\.md$ ]]"
check "new writes the title" grep -q '^title: .*서울의 .*가을' "$post"
check "new writes the category" grep -q '여행' "$post"
"$publish" new '서울의 "가을"' -s "$work/site" 2> "$work/err"
check "new refuses to overwrite" test $? -eq 1
check "new says why" grep -qE "^error: cannot create the post: 'posts/[0-9]{4}-[0-9]{2}-[0-9]{2}-서울의-가을.md' already exists$" "$work/err"

# check: validates, writes nothing.
"$publish" check -s "$work/site" > "$work/out"
check "check exits 0 on a good site" test $? -eq 0
check "check writes no output" test ! -e "$work/site/_site"

# build: summary line, then an unchanged rebuild.
"$publish" build -s "$work/site" > "$work/out"
check "build exits 0" test $? -eq 0
check "build prints a summary" grep -Eq '^publish: [0-9]+ files? in .* \([0-9]+ written, [0-9]+ unchanged, [0-9]+ removed\) in [0-9.]+ s$' "$work/out"
"$publish" build -s "$work/site" > "$work/out"
check "a rebuild with nothing changed does nothing" grep -q "is up to date (nothing changed)" "$work/out"
"$publish" build -s "$work/site" --no-cache > "$work/out"
check "a rebuild without the cache writes nothing new" grep -q '(0 written,' "$work/out"
"$publish" build -s "$work/site" -q > "$work/out"
check "-q prints nothing" test ! -s "$work/out"
# A document slower to read than `slow_seconds` is named in a warning
# (0 makes every one "slow"); warnings do not fail the build.
printf 'title: T\ntimezone: Asia/Seoul\nslow_seconds: 0\n' > "$work/site/config.yaml"
"$publish" build -s "$work/site" --no-cache > /dev/null 2> "$work/err"
check "a slow post still builds" test $? -eq 0
check "a slow post is named with its time" grep -Eq '^posts/[^:]+\.md: warning: slow to read: [0-9]+\.[0-9]{2} s \(front matter and Markdown\)$' "$work/err"
printf 'title: T\nslow_seconds: soon\n' > "$work/site/config.yaml"
"$publish" build -s "$work/site" 2> "$work/err"
check "a bad slow_seconds is an error" test $? -eq 1
check "a bad slow_seconds is explained" grep -q "^config.yaml:2:15: error: 'slow_seconds' must be a number of seconds$" "$work/err"
# A destination that is the site, holds it, or lies in a source folder
# would delete the sources: refused, nothing touched.
(cd "$work/site" && find . -type f | sort) > "$work/before"
for dest in "$work/site" "$work" "$work/site/posts" "$work/site/posts/_site"; do
  "$publish" build -s "$work/site" -d "$dest" 2> "$work/err"
  check "destination $dest is refused" test $? -eq 1
  check "destination $dest is explained" grep -q "error: destination '$dest' would replace the site's own files" "$work/err"
done
(cd "$work/site" && find . -type f | sort) > "$work/after"
check "no source file was removed" diff "$work/before" "$work/after"
# A Jekyll site's source folders are its own: _layouts, _posts at any
# depth...; a folder a native site reads (posts/) is only output here.
mkdir -p "$work/jekyll/_layouts" "$work/jekyll/blog/_posts" "$work/jekyll/_data"
printf 'title: J\n' > "$work/jekyll/_config.yml"
printf '<html>{{ content }}</html>\n' > "$work/jekyll/_layouts/default.html"
printf -- '---\nlayout: default\n---\nhello\n' > "$work/jekyll/blog/_posts/2024-01-02-a.md"
printf 'a: 1\n' > "$work/jekyll/_data/x.yml"
(cd "$work/jekyll" && find . -type f | sort) > "$work/before"
for dest in "$work/jekyll/_layouts" "$work/jekyll/_data/out" "$work/jekyll/blog/_posts/out"; do
  "$publish" build -s "$work/jekyll" -d "$dest" 2> "$work/err"
  check "Jekyll destination $dest is refused" test $? -eq 1
  check "Jekyll destination $dest is explained" grep -q "error: destination '$dest' would replace the site's own files" "$work/err"
done
(cd "$work/jekyll" && find . -type f | sort) > "$work/after"
check "no Jekyll source file was removed" diff "$work/before" "$work/after"
"$publish" build -q -s "$work/jekyll" -d "$work/jekyll/posts" 2> "$work/err"
check "a Jekyll site may build into posts/" test $? -eq 0
check "the post is there" grep -q "<html><p>hello</p>" "$work/jekyll/posts/blog/2024/01/02/a.html"
finish
