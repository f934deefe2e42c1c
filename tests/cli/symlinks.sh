#!/usr/bin/env bash
# Nothing outside SRC is read through a symlink, at any level: a linked
# top-level folder (static, posts, _posts, pages, data, layouts, plugins),
# a linked file deep in a folder, a linked plugin, config.yaml itself. Each
# is an error naming the link, with exit 1 and DEST left as it was; a link
# that stays inside SRC is followed; `allow_outside` opens a named folder.
#   symlinks.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/posts" "$src/layouts" "$src/static/css" "$src/data" "$src/common" \
         "$work/outside/folder" "$work/outside/theme"
cat > "$src/config.yaml" <<'EOF'
title: Links
plugins: [template]
EOF
printf -- '---\ntitle: Hello\n---\nHi.\n' > "$src/posts/2024-01-01-hello.md"
printf '<h1>{{ page.title }}</h1>{{ content | raw }}\n' > "$src/layouts/post.html"
printf 'body{}\n' > "$src/static/css/site.css"
printf 'top secret\n' > "$work/outside/secret.txt"
printf 'top secret\n' > "$work/outside/folder/secret.txt"
printf 'name: outside\n' > "$work/outside/folder/team.yaml"
printf -- '---\ntitle: Shared\n---\nShared.\n' > "$src/common/2024-02-02-shared.md"
"$publish" build -s "$src" -d "$work/out" -q
check "the plain site builds" test -f "$work/out/2024/01/01/hello/index.html"
(cd "$work/out" && find . -type f -exec sha256sum {} + | sort) > "$work/before"

# refused LINK TARGET MESSAGE: with `LINK -> TARGET` (relative to SRC) the
# build fails with exactly MESSAGE and leaves DEST alone.
refused() {
  local link="$1" target="$2" want="$3"
  local moved=""
  if [ -e "$src/$link" ] || [ -L "$src/$link" ]; then moved="$work/moved"; mv "$src/$link" "$moved"; fi
  ln -s "$target" "$src/$link"
  "$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
  check "$link -> $target: exit 1" test $? -eq 1
  printf '%s\n' "$want" > "$work/want"
  check "$link -> $target: message" diff -u "$work/want" "$work/err"
  (cd "$work/out" && find . -type f -exec sha256sum {} + | sort) > "$work/after"
  check "$link -> $target: DEST untouched" diff -u "$work/before" "$work/after"
  rm "$src/$link"
  if [ -n "$moved" ]; then mv "$moved" "$src/$link"; fi
}
hint="list the folder in 'allow_outside' to read it"
out="$work/outside"
refused static /etc "static: error: symlink leads outside the site to '/etc'; $hint
publish: 1 error; '$work/out' left as it was"
refused static/etc /etc "static/etc: error: symlink leads outside the site to '/etc'; $hint
publish: 1 error; '$work/out' left as it was"
refused static/css/leak.txt "$out/secret.txt" "static/css/leak.txt: error: symlink leads outside the site to '$out/secret.txt'; $hint
publish: 1 error; '$work/out' left as it was"
refused posts/2024-03-03-leak.md ../../outside/secret.txt "posts/2024-03-03-leak.md: error: symlink leads outside the site to '$out/secret.txt'; $hint
publish: 1 error; '$work/out' left as it was"
refused posts "$out/folder" "posts: error: symlink leads outside the site to '$out/folder'; $hint
publish: 1 error; '$work/out' left as it was"
refused _posts "$out/folder" "_posts: error: symlink leads outside the site to '$out/folder'; $hint
publish: 1 error; '$work/out' left as it was"
refused pages "$out/folder" "pages: error: symlink leads outside the site to '$out/folder'; $hint
publish: 1 error; '$work/out' left as it was"
refused data "$out/folder" "data: error: symlink leads outside the site to '$out/folder'; $hint
publish: 1 error; '$work/out' left as it was"
refused data/team.yaml "$out/folder/team.yaml" "data/team.yaml: error: symlink leads outside the site to '$out/folder/team.yaml'; $hint
publish: 1 error; '$work/out' left as it was"
# (Layouts are then missing too: the template plugin says so as well.)
ln -s "$out/theme" "$src/layouts.link" && mv "$src/layouts" "$work/layouts.moved" &&
  mv "$src/layouts.link" "$src/layouts"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "layouts -> outside: exit 1" test $? -eq 1
check "layouts -> outside: message" grep -qx "layouts: error: symlink leads outside the site to '$out/theme'; $hint" "$work/err"
rm "$src/layouts" && mv "$work/layouts.moved" "$src/layouts"
refused config.yaml "$out/folder/team.yaml" "config.yaml: error: symlink leads outside the site; the config file must be inside it
publish: 1 error; '$work/out' left as it was"
printf 'return {}\n' > "$out/template.lua"
mkdir -p "$src/plugins"
refused plugins/template.lua "$out/template.lua" "plugins/template.lua: error: cannot read 'plugins/template.lua': symlink leads outside the site to '$out/template.lua'; $hint
stack traceback:
	[C]: in function 'require'
publish: 1 error; '$work/out' left as it was"
rmdir "$src/plugins"

# A link that stays inside SRC is followed, at the top and below.
ln -s ../common/2024-02-02-shared.md "$src/posts/2024-02-02-shared.md"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "a link inside SRC: exit 0" test $? -eq 0
check "a link inside SRC: no message" test ! -s "$work/err"
check "a link inside SRC: followed" grep -q Shared "$work/out/2024/02/02/shared/index.html"
rm "$src/posts/2024-02-02-shared.md"

# Sass partials are read through the same check: an @import never
# follows a symlink out of SRC, nor a "../" path, while partials inside
# SRC still import.
mkdir -p "$src/sass"
printf 'p { margin: 0; }\n' > "$src/sass/_ok.scss"
printf '$c: red;\nbody { color: $c; }\n' > "$out/_leak.scss"
printf -- '---\n---\n@import "ok";\n@import "leak";\n' > "$src/static/css/main.scss"
ln -s ../../outside/_leak.scss "$src/sass/_leak.scss"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "sass: a partial linked outside: exit 1" test $? -eq 1
printf '%s\n' "static/css/main.scss:4:9: error: cannot import 'leak': sass/_leak.scss: symlink leads outside the site to '$out/_leak.scss'; $hint" \
  "publish: 1 error; '$work/out' left as it was" > "$work/want"
check "sass: a partial linked outside: message" diff -u "$work/want" "$work/err"
rm "$src/sass/_leak.scss"
printf -- '---\n---\n@import "ok";\n@import "../../../outside/leak";\n' > "$src/static/css/main.scss"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
printf '%s\n' "static/css/main.scss:4:9: error: cannot import '../../../outside/leak': static/css/../../../outside/_leak.scss: path is outside the site" \
  "publish: 1 error; '$work/out' left as it was" > "$work/want"
check "sass: an import climbing out of SRC: message" diff -u "$work/want" "$work/err"
printf -- '---\n---\n@import "ok";\n' > "$src/static/css/main.scss"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "sass: a partial inside SRC imports" grep -q 'margin: 0' "$work/out/css/main.css"
rm -r "$src/static/css/main.scss" "$src/sass"

# allow_outside names a folder outside SRC that links may lead into.
mv "$src/data" "$work/data.moved"
ln -s "$out/folder" "$src/data"
printf 'allow_outside: [../outside/folder]\n' >> "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "allow_outside: exit 0" test $? -eq 0
check "allow_outside: no message" test ! -s "$work/err"
# ...and only that folder.
ln -s ../../outside/secret.txt "$src/posts/2024-03-03-leak.md"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "allow_outside is no blanket grant" grep -q "posts/2024-03-03-leak.md: error: symlink leads outside" "$work/err"
rm "$src/posts/2024-03-03-leak.md"
printf 'title: Links\nallow_outside: [../nowhere, 3]\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
printf '%s\n' "config.yaml:2:17: error: 'allow_outside' folder '../nowhere': No such file or directory" \
  "config.yaml:2:29: error: 'allow_outside' entries must be folder paths" \
  "data: error: symlink leads outside the site to '$out/folder'; $hint" \
  "publish: 3 errors; '$work/out' left as it was" > "$work/want"
check "allow_outside entries are checked" diff -u "$work/want" "$work/err"
printf 'title: Links\nallow_outside: ../outside\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "allow_outside must be a list" grep -qx "config.yaml:2:16: error: 'allow_outside' must be a list of folders" "$work/err"
finish
