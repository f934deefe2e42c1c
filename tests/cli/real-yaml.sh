#!/usr/bin/env bash
# Real posts' YAML (issue 9): a duplicate key builds with a warning at the
# later key and the later value; `publish run` refuses to change that key
# (and only that key); in a native site a string yes/no/on/off in a key the
# engine reads as a boolean is a warning; a Jekyll site (_config.yml) reads
# YAML 1.1, where `published: no` is false.
#   real-yaml.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC

site="$work/native"
mkdir -p "$site/posts"
echo "title: T" > "$site/config.yaml"
printf -- '---\ntitle: First\ncategories: [a]\ntitle: Again\n---\nBody\n' > "$site/posts/2024-01-02-dup.md"
printf -- '---\ntitle: Hidden\npublished: no\ndraft: Off\n---\nBody\n' > "$site/posts/2024-01-03-no.md"
printf -- '---\ntitle: Other\n---\nBody\n' > "$site/posts/2024-01-04-other.md"
"$publish" build -s "$site" 2> "$work/err"
check "duplicate keys and yes/no strings build (exit 0)" test $? -eq 0
grep -v '^publish: ' "$work/err" > "$work/warnings"
cat > "$work/want" <<'EOF'
posts/2024-01-02-dup.md:4:1: warning: duplicate key 'title' (the later value is used)
posts/2024-01-03-no.md:3:12: warning: 'published: no' is read as the string 'no' (YAML 1.2), not as false; write 'published: false'
posts/2024-01-03-no.md:4:8: warning: 'draft: Off' is read as the string 'Off' (YAML 1.2), not as false; write 'draft: false'
EOF
check "exact warnings" diff -u "$work/want" "$work/warnings"
check "a string 'no' does not unpublish in YAML 1.2" test -f "$site/_site/2024/01/03/no/index.html"

# publish run: changing the duplicated key is refused and nothing is written.
cp -a "$site/posts" "$work/posts.before"
echo 'for _, p in ipairs(site.posts) do p.meta.title = "X" end' > "$work/title.lua"
"$publish" run "$work/title.lua" -s "$site" -q 2> "$work/err"
check "changing a duplicated key fails (exit 1)" test $? -eq 1
cat > "$work/want" <<'EOF'
posts/2024-01-02-dup.md:4:1: error: cannot change 'title': the key is given more than once in the front matter (remove the extra one first)
publish: 1 error; no file was changed
EOF
check "exact refusal" diff -u "$work/want" "$work/err"
check "nothing written" diff -r "$work/posts.before" "$site/posts"

# Other keys of that file, and other files, still change.
echo 'for _, p in ipairs(site.posts) do p.meta.tags = {"t"} end' > "$work/tags.lua"
"$publish" run "$work/tags.lua" -s "$site" -q 2> "$work/err"
check "changing another key works (exit 0)" test $? -eq 0
printf -- '---\ntitle: First\ncategories: [a]\ntitle: Again\ntags:\n  - t\n---\nBody\n' > "$work/want"
check "only the changed key is written" diff -u "$work/want" "$site/posts/2024-01-02-dup.md"

# A Jekyll site reads YAML 1.1: `published: no` is false, with no warning.
jk="$work/jekyll"
mkdir -p "$jk/_posts"
echo 'title: J' > "$jk/_config.yml"
printf -- '---\ntitle: Hidden\npublished: no\n---\nBody\n' > "$jk/_posts/2024-01-03-no.md"
printf -- '---\ntitle: Shown\npublished: YES\n---\nBody\n' > "$jk/_posts/2024-01-04-yes.md"
"$publish" build -s "$jk" 2> "$work/err"
check "jekyll site builds" test $? -eq 0
check "no warning for yes/no in a Jekyll site" test -z "$(grep -v '^publish: ' "$work/err")"
check "published: no is unpublished in a Jekyll site" test ! -e "$jk/_site/2024/01/03/no.html" -a ! -e "$jk/_site/2024/01/03/no/index.html"
check "published: YES is published" test -n "$(find "$jk/_site" -path '*2024/01/04*' -type f)"
finish
