#!/usr/bin/env bash
# The order of site.posts (newest first; at the same instant by path, the
# later path first on a Jekyll site), as the C sort (lua/sort_posts.c)
# gives it and as the engine's Lua comparator gives it when some post's
# date is not one C reads (a plugin's table with a fractional epoch):
# `publish run` and `publish build`, native and Jekyll.
#   post-order.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC

# post FILE [DATE]: a post in $posts with a title and, if given, a date.
post() {
  { echo '---'; echo "title: ${1%.md}"; [ -n "${2:-}" ] && echo "date: $2"; echo '---'; echo 'Body'; } > "$posts/$1"
}
make_posts() {
  post 2024-01-01-b.md "2024-03-01 10:00:00"
  post 2024-01-01-a.md "2024-03-01 10:00:00"
  post 2024-01-01-c.md "2024-03-01 10:00:00"
  post 2024-02-01-early.md "2023-12-31 23:59:59"
  post 2024-05-05-plain.md
  post 2023-07-07-late.md "2024-06-01 00:00:00"
}
echo 'for _, p in ipairs(site.posts) do print(p.path) end' > "$work/order.lua"

native="$work/native"; posts="$native/posts"; mkdir -p "$posts"
echo 'title: Order' > "$native/config.yaml"
make_posts
"$publish" run "$work/order.lua" -s "$native" -q > "$work/got"
printf '%s\n' posts/2023-07-07-late.md posts/2024-05-05-plain.md posts/2024-01-01-a.md \
  posts/2024-01-01-b.md posts/2024-01-01-c.md posts/2024-02-01-early.md > "$work/want"
check "native: newest first, a tie by path" diff -u "$work/want" "$work/got"

jekyll="$work/jekyll"; posts="$jekyll/_posts"; mkdir -p "$posts"
echo 'title: Order' > "$jekyll/_config.yml"
make_posts
"$publish" run "$work/order.lua" -s "$jekyll" -q > "$work/got"
printf '%s\n' _posts/2023-07-07-late.md _posts/2024-05-05-plain.md _posts/2024-01-01-c.md \
  _posts/2024-01-01-b.md _posts/2024-01-01-a.md _posts/2024-02-01-early.md > "$work/want"
check "Jekyll: newest first, a tie by the later path first" diff -u "$work/want" "$work/got"

# A build: the order after the post hooks, C's and then Lua's (a plugin
# gives one post a date C does not read: the engine's comparator sorts).
mkdir -p "$native/plugins"
cat > "$native/plugins/order.lua" <<'LUA'
return {
  post = function(post)
    if post.meta.odd then post.date = { epoch = post.date.epoch + 0.5 } end
  end,
  site = function(site)
    local paths = {}
    for _, p in ipairs(site.posts) do paths[#paths + 1] = p.path end
    site:add_page { url = "/order.txt", layout = false, content = table.concat(paths, "\n") .. "\n" }
  end,
}
LUA
printf 'title: Order\nplugins: [order]\n' > "$native/config.yaml"
"$publish" build -s "$native" -d "$work/out" -q --no-cache
printf '%s\n' posts/2023-07-07-late.md posts/2024-05-05-plain.md posts/2024-01-01-a.md \
  posts/2024-01-01-b.md posts/2024-01-01-c.md posts/2024-02-01-early.md > "$work/want"
check "build: the same order" diff -u "$work/want" "$work/out/order.txt"
sed -i 's/^title: 2024-02-01-early$/title: early\nodd: true/' "$native/posts/2024-02-01-early.md"
sed -i 's/^date: 2023-12-31 23:59:59$/date: 2024-03-01 10:00:00/' "$native/posts/2024-02-01-early.md"
"$publish" build -s "$native" -d "$work/out" -q --no-cache
printf '%s\n' posts/2023-07-07-late.md posts/2024-05-05-plain.md posts/2024-02-01-early.md \
  posts/2024-01-01-a.md posts/2024-01-01-b.md posts/2024-01-01-c.md > "$work/want"
check "build: a fractional epoch sorts by the engine's comparator" diff -u "$work/want" "$work/out/order.txt"
finish
