#!/usr/bin/env bash
# Post content held in C until read (internal.content, LAZY_FIELDS.content
# in engine.lua): the output is the same whether the HTML comes from the
# build's content store (--no-cache, -j 1 and forked workers), from cache
# misses written to the next cache file, or from cache hits; a plugin that
# sets post.content (or clears it) is obeyed, excerpts and the feed see it,
# pairs() still lists content; a damaged blob in the cache is rendered
# again from the source; a cache file replaced while a build runs does not
# disturb it (the build reads the file it opened).
#   lazy-content.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
python3 "$root/bench/gen.py" 300 "$src" --seed 2 > /dev/null
rm -rf "$src-hugo"

# The newest posts: on the home page and in the feed.
first="$(ls "$src/posts" | tail -n 1)"; second="$(ls "$src/posts" | tail -n 2 | head -1)"
third="$(ls "$src/posts" | tail -n 3 | head -1)"
# (no `excerpt:` in its front matter: the excerpt comes from the content)
sed -i -e '0,/^title:/s//probe: replace\ntitle:/' -e '/^excerpt: >/,+1d' "$src/posts/$first"
sed -i '0,/^title:/s//probe: clear\ntitle:/' "$src/posts/$second"
cleared_text="$(python3 -c 'import sys; t = open(sys.argv[1]).read().split("---", 2)[2].strip(); print(t.split("\n")[0][:12])' "$src/posts/$second")"
mkdir -p "$src/plugins"
cat > "$src/plugins/probe.lua" <<'LUA'
-- Replaces or clears a post's content, and checks pairs() lists content.
return {
  post = function(post)
    if post.meta.probe == "replace" then post.content = "<p>REPLACED BY PLUGIN</p>" end
    if post.meta.probe == "clear" then
      post.content = nil
      if post.content ~= nil then error("content set to nil came back") end
      post.content = "<p>FOR A MOMENT</p>"
      post.content = nil
      if post.content ~= nil then error("content set, then set to nil, came back") end
    end
    local listed = false
    for k, v in pairs(post) do
      if k == "content" then listed = type(v) == "string" end
    end
    if listed ~= (post.meta.probe ~= "clear") then error("pairs() and content disagree") end
  end,
  -- Replaces the build cache file (a new file renamed over it, as a
  -- concurrent build would) while this build still has content to read.
  site = function()
    local swap = os.getenv("PROBE_SWAP")
    if swap and swap ~= "" then
      assert(os.execute("cp '" .. swap .. "' '" .. os.getenv("PROBE_CACHE") .. ".new' && mv '"
        .. os.getenv("PROBE_CACHE") .. ".new' '" .. os.getenv("PROBE_CACHE") .. "'"))
    end
  end,
}
LUA
sed -i 's|^plugins: \[template, |plugins: [template, {name: probe, allow: [exec, env]}, |' "$src/config.yaml"
cache="$src/.publish-cache/build.cache"

build() { # build OUT [FLAGS...]
  local out="$1"; shift
  rm -rf "$work/$out"
  "$publish" build -s "$src" -d "$work/$out" -q "$@" 2> "$work/err-$out"
  check "build $out exits 0" test $? -eq 0
  check "build $out: no warnings" test ! -s "$work/err-$out"
}
build clean --no-cache -j 1
page_of() { grep -rl --include=index.html "$1" "$work/clean" | head -1; }
check "a plugin's content replaces the HTML" test -n "$(page_of 'REPLACED BY PLUGIN')"
check "the feed sees the replaced content" grep -q 'REPLACED BY PLUGIN' "$work/clean/feed.xml"
check "the excerpt sees the replaced content" grep -q 'REPLACED BY PLUGIN' "$work/clean/index.html"
check "the cleared post's text is there to look for" test -n "$cleared_text"
cleared_page="$(echo "${second%.md}" | sed 's|^\([0-9]*\)-\([0-9]*\)-\([0-9]*\)-|\1/\2/\3/|')/index.html"
check "the cleared post's page is written" test -s "$work/clean/$cleared_page"
check "a cleared content is not written" test -z "$(grep -F "$cleared_text" "$work/clean/$cleared_page")"
check "excerpts are in the home page" grep -q '<p>' "$work/clean/index.html"

build store-forked --no-cache -j 2
check "forked workers read the content store" diff -r "$work/clean" "$work/store-forked"
build misses -j 2
check "the cache is written" test -s "$cache"
check "cache misses (read back from the next cache file)" diff -r "$work/clean" "$work/misses"
echo >> "$src/posts/$third"   # not a no-op, same HTML
build clean --no-cache -j 1
build hits -j 2
check "cache hits" diff -r "$work/clean" "$work/hits"

# A damaged blob (the index still vouches for it): rendered again.
python3 - "$cache" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(200)
    data = bytearray(f.read(64))
    f.seek(200)
    f.write(bytes(b ^ 0x55 for b in data))
PY
echo >> "$src/posts/$third"
build clean --no-cache -j 1
build damaged -j 1
check "a damaged cache blob is rendered again" diff -r "$work/clean" "$work/damaged"

# The cache replaced under a running build by another site's cache.
other="$work/other"
cp -r "$src" "$other"
for f in "$other"/posts/*.md; do echo 'Other text.' >> "$f"; done
"$publish" build -s "$other" -d "$work/other-out" -q
echo >> "$src/posts/$third"
build clean --no-cache -j 1
PROBE_SWAP="$other/.publish-cache/build.cache" PROBE_CACHE="$cache" build swapped -j 2
check "a cache replaced during the build" diff -r "$work/clean" "$work/swapped"
echo >> "$src/posts/$third"
build clean --no-cache -j 1
build after-swap -j 2
check "the build after it" diff -r "$work/clean" "$work/after-swap"
finish
