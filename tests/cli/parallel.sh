#!/usr/bin/env bash
# Parallel rendering (forked render workers, core/render.h): a site with
# pages enough to fork is built with -j 1 to 4; the output is identical for
# every -j, and so is stderr when pages fail: a per-page error in whichever
# worker renders the page, an error every page meets (said once), and the
# warning for a plugin that keeps state across pages. A failed build
# leaves the previous output as it was.
#   parallel.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/posts" "$src/layouts/partials" "$src/plugins"
for i in $(seq 1 300); do
  printf -- '---\ntitle: Post %d\ncategories: [c%d]\n---\nBody of *post* %d.\n' "$i" $((i % 7)) "$i" \
    > "$src/posts/2024-01-$(printf '%02d' $((i % 28 + 1)))-post-$i.md"
done
printf '<html>{%% include "partials/head.html" %%}{{ content | raw }}</html>\n' > "$src/layouts/post.html"
printf '<title>{{ post.title }}</title>\n' > "$src/layouts/partials/head.html"
printf '<ul>{%% for name in site.category_names %%}<li>{{ name }}</li>{%% end %%}</ul>\n' > "$src/layouts/categories.html"
printf '<h1>{{ page.title }}</h1>{{ content | raw }}\n' > "$src/layouts/category.html"
printf 'title: T\nplugins: [template, categories, feed, counter]\n' > "$src/config.yaml"
# A plugin that counts the pages it renders: wrong with workers, and said.
cat > "$src/plugins/counter.lua" <<'EOF'
local M = { rendered = {} }
function M.output(path, bytes, page)
  M.rendered[#M.rendered + 1] = path
  if page.title == "Post 17" or page.title == "Post 250" then error("cannot render " .. page.title) end
end
return M
EOF

for j in 1 2 3 4; do
  "$publish" build -s "$src" -d "$work/fail$j" -j "$j" --no-cache 2> "$work/err$j" > /dev/null
  check "-j $j: failing pages fail the build" test $? -eq 1
  sed -i "s|fail$j|DEST|" "$work/err$j"
done
check "the failure's stderr is one error per page and the warning" \
  test "$(grep -c 'error: cannot render' "$work/err1")" -eq 2
check "the module-state warning" grep -q "plugin 'counter' changed its module field 'rendered' while rendering pages" "$work/err1"
for j in 2 3 4; do check "-j $j: same stderr as -j 1" diff "$work/err1" "$work/err$j"; done

# An error every page meets is said once.
sed -i 's/^  if page.title.*$//; s/^  end$//' "$src/plugins/counter.lua"
printf '<title>{{ post.title.nope.x }}</title>\n' > "$src/layouts/partials/head.html"
for j in 1 3; do
  "$publish" build -s "$src" -d "$work/bad$j" -j "$j" -q --no-cache 2> "$work/bad$j.err"
  sed -i "s|bad$j|DEST|" "$work/bad$j.err"
done
check "a broken include: one error" test "$(grep -c ': error: ' "$work/bad1.err")" -eq 1
check "a broken include: same stderr with -j 3" diff "$work/bad1.err" "$work/bad3.err"

# Good builds: identical output for every -j.
printf '<title>{{ post.title }}</title>\n' > "$src/layouts/partials/head.html"
printf 'title: T\nplugins: [template, categories, feed]\n' > "$src/config.yaml"
for j in 1 2 3 4; do
  "$publish" build -s "$src" -d "$work/out$j" -j "$j" -q --no-cache 2> "$work/ok$j.err"
  check "-j $j: exit 0" test $? -eq 0
  check "-j $j: nothing on stderr" test ! -s "$work/ok$j.err"
done
check "pages were written" test "$(find "$work/out1" -name index.html | wc -l)" -gt 300
for j in 2 3 4; do check "-j $j: output identical to -j 1" diff -r "$work/out1" "$work/out$j"; done

# A failing parallel build leaves the previous output alone.
before="$(cd "$work/out2" && find . -type f -exec sha256sum {} + | sort)"
printf 'title: T\nplugins: [template, categories, feed, counter]\n' > "$src/config.yaml"
printf 'local M = {}\nfunction M.output(path, bytes, page) if page.title == "Post 99" then error("no") end end\nreturn M\n' \
  > "$src/plugins/counter.lua"
"$publish" build -s "$src" -d "$work/out2" -j 2 -q 2> /dev/null
check "failed parallel build: exit 1" test $? -eq 1
check "failed parallel build: output untouched" \
  test "$before" = "$(cd "$work/out2" && find . -type f -exec sha256sum {} + | sort)"
finish
