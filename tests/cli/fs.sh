#!/usr/bin/env bash
# publish.fs: plugins and templates read site files through it, with paths
# relative to SRC and confined to it. Checks every answer of read, exists
# and list (a file, a missing one, a folder, symlinks inside and leading
# out, absolute and climbing paths), a template include that is a symlink
# leading out (refused, then allowed by allow_outside), and a bad
# allow_outside value.
#   fs.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/plugins" "$src/static/sub" "$src/layouts/partials" "$src/pages" "$work/outside"
echo secret > "$work/outside/secret.txt"
echo '<b>shared</b>' > "$work/outside/p.html"
echo hi > "$src/static/a.txt"
ln -s ../outside/secret.txt "$src/link-out"
ln -s static/a.txt "$src/link-in"
ln -s ../outside "$src/dir-out"
printf 'title: T\nplugins: [probe]\n' > "$src/config.yaml"
cat > "$src/plugins/probe.lua" <<'EOF'
local M = {}
function M.site(site)
  local out = {}
  local function add(...)
    local t = table.pack(...)
    for i = 1, t.n do t[i] = type(t[i]) == "table" and table.concat(t[i], ",") or tostring(t[i]) end
    out[#out + 1] = table.concat(t, " | ")
  end
  add(publish.fs.read("static/a.txt"))
  add(publish.fs.read("./static//sub/../a.txt"))
  add(publish.fs.read("link-in"))
  add(publish.fs.read("nope.txt"))
  add(publish.fs.read("static"))
  add(publish.fs.read("link-out"))
  add(publish.fs.read("dir-out/secret.txt"))
  add(publish.fs.exists("static"), publish.fs.exists("static/a.txt"), publish.fs.exists("link-out"),
      publish.fs.exists("nope"))
  add(publish.fs.list())
  add(publish.fs.list("static"))
  add(publish.fs.list("nope"))
  add(publish.fs.list("dir-out"))
  add(pcall(publish.fs.read, "/etc/passwd"))
  add(pcall(publish.fs.exists, "a/../../x"))
  add(pcall(publish.fs.list, ".."))
  site:add_page { url = "/probe.txt", layout = false, content = table.concat(out, "\n") .. "\n" }
end
return M
EOF
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "probe build exits 0" test $? -eq 0
check "probe build is quiet" test ! -s "$work/err"
cat > "$work/expected" <<'EOF'
hi

hi

hi

nil | cannot read 'nope.txt': No such file or directory
nil | cannot read 'static': Is a directory
nil | 'link-out' leads outside the site folder through a symlink (allow_outside can allow its folder)
nil | 'dir-out/secret.txt' leads outside the site folder through a symlink (allow_outside can allow its folder)
true | true | false | false
config.yaml,dir-out,layouts,link-in,link-out,pages,plugins,static
a.txt,sub
nil | cannot read 'nope': No such file or directory
nil | 'dir-out' leads outside the site folder through a symlink (allow_outside can allow its folder)
false | publish.fs.read: '/etc/passwd' is an absolute path; paths are relative to the site folder (plugin 'probe' does not have the 'read_outside' capability)
false | publish.fs.exists: 'a/../../x' leads outside the site folder (plugin 'probe' does not have the 'read_outside' capability)
false | publish.fs.list: '..' leads outside the site folder (plugin 'probe' does not have the 'read_outside' capability)
EOF
check "publish.fs answers" diff "$work/expected" "$work/out/probe.txt"

# The error is raised at the plugin's line.
sed -i 's|^  add(publish.fs.read("static/a.txt"))|  publish.fs.read("/x")|' "$src/plugins/probe.lua"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "absolute path: exit 1" test $? -eq 1
check "absolute path: message at the plugin's line" \
  grep -qx "plugins/probe.lua:9:1: error: publish.fs.read: '/x' is an absolute path; paths are relative to the site folder (plugin 'probe' does not have the 'read_outside' capability) (in 'site' of plugin 'probe')" "$work/err"

# A template include that is a symlink leading out of SRC.
rm "$src/plugins/probe.lua"
printf 'title: T\nplugins: [template]\n' > "$src/config.yaml"
printf '<html>{%% include "partials/p.html" %%}{{ content | raw }}</html>\n' > "$src/layouts/page.html"
printf -- '---\ntitle: About\n---\nHello\n' > "$src/pages/about.md"
ln -s ../../../outside/p.html "$src/layouts/partials/p.html"
rm -rf "$work/out"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "include leading out: exit 1" test $? -eq 1
printf "%s\n%s\n" \
  "layouts/page.html:1:7: error: 'layouts/partials/p.html' leads outside the site folder through a symlink (allow_outside can allow its folder)" \
  "publish: 1 error; '$work/out' left as it was" > "$work/expected"
check "include leading out: message" diff "$work/expected" "$work/err"
check "include leading out: nothing written" test ! -e "$work/out"

printf 'allow_outside: [../outside]\n' >> "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "allow_outside: exit 0" test $? -eq 0
check "allow_outside: the shared include is used" grep -q '<b>shared</b>' "$work/out/about/index.html"

printf 'title: T\nplugins: [template]\nallow_outside: ../outside\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "allow_outside not a list: exit 1" test $? -eq 1
check "allow_outside not a list: message" \
  grep -qx "config.yaml:3:16: error: 'allow_outside' must be a list of folders" "$work/err"

# Scripts (publish run) have publish.fs too.
printf 'title: T\n' > "$src/config.yaml"
printf 'print(publish.fs.read("static/a.txt"), publish.fs.exists("link-out"))\n' > "$work/script.lua"
check "publish run sees publish.fs" test "$("$publish" run "$work/script.lua" -s "$src" -q)" = "$(printf 'hi\n\tfalse')"
finish
