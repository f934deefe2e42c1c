#!/usr/bin/env bash
# `publish run` itself on the fixture site tests/edit/site: renames, moves,
# deletions and new posts as the files they produce; modes kept; and the
# errors that must stop a run before any file is written (exact messages).
#   edit-api.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
site="$root/tests/edit/site"
export TZ=UTC

tree_state() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 stat -c '%n %a %Y.%y' && find . -type f -print0 | sort -z | xargs -0 sha256sum); }

# ---- renames, moves, deletions, new posts --------------------------------
cp -a "$site" "$work/s"
chmod 0600 "$work/s/posts/2024-01-02-comments.md"
cat > "$work/ops.lua" <<'EOF'
for _, post in ipairs(site.posts) do
  if post.slug == "comments" then post:rename("renamed"); post.meta.title = "Renamed" end
  if post.slug == "crlf" then post:move("posts/archive") end
  if post.slug == "plain" then post:delete() end
end
for _, page in ipairs(site.pages) do
  if page.path == "pages/about.md" then page:rename("about-us") end
end
local p = site:new_post{ title = "Brand new 글", date = "2024-09-01 10:00", meta = { tags = { "x" } }, body = "Hello.\n" }
assert(p.path == "posts/2024-09-01-brand-new-글.md", p.path)
-- A new post's lists read its front matter as a loaded post's do: a string
-- is split at spaces, the singular keys count, names are not repeated.
local q = site:new_post{ slug = "lists", date = "2024-09-02",
  meta = { categories = "dev notes", category = "dev", tags = "a", tag = 7 } }
assert(table.concat(q.categories, ",") == "dev,notes", table.concat(q.categories, ","))
assert(table.concat(q.tags, ",") == "a,7", table.concat(q.tags, ","))
q:delete()
EOF
"$publish" run "$work/ops.lua" -s "$work/s" > "$work/out" 2> "$work/err"
check "ops: exits 0" test $? -eq 0
check "ops: summary" grep -qx 'publish: 0 changed, 3 renamed, 1 created, 1 deleted' "$work/out"
check "ops: renamed post has the new name" test -f "$work/s/posts/2024-01-02-renamed.md"
check "ops: the old name is gone" test ! -e "$work/s/posts/2024-01-02-comments.md"
check "ops: the rename kept the mode" test "$(stat -c %a "$work/s/posts/2024-01-02-renamed.md")" = 600
check "ops: the renamed post's title changed" grep -qx 'title: Renamed' "$work/s/posts/2024-01-02-renamed.md"
check "ops: moved post" cmp "$work/s/posts/archive/2023-05-01-crlf.md" "$site/posts/2023-05-01-crlf.md"
check "ops: moved post's old path is gone" test ! -e "$work/s/posts/2023-05-01-crlf.md"
check "ops: deleted post is gone" test ! -e "$work/s/posts/2020-12-31-plain.md"
check "ops: page renamed" cmp "$work/s/pages/about-us.md" "$site/pages/about.md"
check "ops: new post" diff "$work/s/posts/2024-09-01-brand-new-글.md" <(printf -- '---\ntitle: Brand new 글\ndate: 2024-09-01 10:00:00\ntags:\n  - x\n---\nHello.\n')
check "ops: no temp file left" test -z "$(find "$work/s" -name '.*publish-edit-*')"
"$publish" build -s "$work/s" -d "$work/out-site" -q
check "ops: the edited site still builds" test $? -eq 0

# ---- errors: exact message, exit 1, nothing written ----------------------
expect_error() { # expect_error NAME 'LUA' 'STDERR LINE'
  local name="$1"
  rm -rf "$work/e"; cp -a "$site" "$work/e"
  local before; before="$(tree_state "$work/e")"
  printf '%s\n' "$2" > "$work/$name.lua"
  "$publish" run "$work/$name.lua" -s "$work/e" > "$work/out" 2> "$work/err"
  check "$name: exits 1" test $? -eq 1
  check "$name: says '$3'" grep -qxF -- "$3" "$work/err"
  check "$name: says nothing was changed" grep -qx 'publish: 1 error; no file was changed' "$work/err"
  check "$name: writes nothing" test "$before" = "$(tree_state "$work/e")"
}

# The first post is changed too, so the error stops a run that had work.
first='site.posts[#site.posts].meta.title = "changed"; '
expect_error function "${first}site.posts[1].meta.x = function() end" \
  "posts/2024-06-19-putin.md: error: cannot store a function in front matter (key 'x')"
expect_error mirror "${first}site.posts[1].tags = {'x'}" \
  "posts/2024-06-19-putin.md: error: 'post.tags' was changed; set 'post.meta.tags' to change the front matter"
expect_error clash "${first}site.posts[1]:move('posts/archive'); site:new_post{slug = 'putin', date = '2024-06-19', dir = 'posts/archive'}" \
  "$work/clash.lua:1:1: error: 'posts/archive/2024-06-19-putin.md' is already the path of another post"
# A path freed by a rename in the same run still exists until the commit.
expect_error exists "${first}site.posts[2]:rename('x'); site:new_post{slug = 'comments', date = '2024-01-02'}" \
  "$work/exists.lua:1:1: error: 'posts/2024-01-02-comments.md' already exists"
expect_error taken "${first}site.posts[1]:rename('a'); site:new_post{slug = 'a', date = '2024-06-19'}" \
  "$work/taken.lua:1:1: error: 'posts/2024-06-19-a.md' is already the path of another post"
expect_error traversal "${first}site.posts[1]:move('../outside')" \
  "$work/traversal.lua:1:1: error: move: folder '../outside' is outside the source folder"
expect_error bad-slug "${first}site.posts[1]:rename('a/b')" \
  "$work/bad-slug.lua:1:1: error: rename: invalid slug 'a/b' (one file name, no '/' or leading '.')"
expect_error deleted "${first}site.posts[1]:delete(); site.posts[1]:rename('x')" \
  "$work/deleted.lua:1:1: error: rename: 'posts/2024-06-19-putin.md' was deleted"
expect_error raises "${first}error('boom')" "$work/raises.lua:1:1: error: boom"

# The re-parse check: a post whose anchor another key aliases.
rm -rf "$work/a"; cp -a "$site" "$work/a"
cp "$root/tests/edit/corpus/anchors.md" "$work/a/posts/2019-01-01-anchors.md"
before="$(tree_state "$work/a")"
printf 'for _, p in ipairs(site.posts) do p.meta.title = "T" end\nsite.posts[#site.posts].meta.base = { x = 2 }\n' > "$work/anchor.lua"
"$publish" run "$work/anchor.lua" -s "$work/a" 2> "$work/err"
check "anchor: exits 1" test $? -eq 1
check "anchor: refused with the key named" grep -qxF "posts/2019-01-01-anchors.md: error: rewrite of 'base' would change the meaning of the front matter" "$work/err"
check "anchor: writes nothing" test "$before" = "$(tree_state "$work/a")"

finish
