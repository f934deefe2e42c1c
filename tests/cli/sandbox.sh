#!/usr/bin/env bash
# The plugin sandbox: each denied function and each capability, each
# per-call limit (time, also inside pattern matching and past pcall;
# instructions; memory), the config errors, read-only library tables in
# templates, scripts keeping io/os, and the guarded pattern functions
# giving Lua's own answers. Every failure is checked by its exact first
# line, exit status 1, and an untouched previous output.
#   sandbox.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; www_pid=""
trap '[ -n "$www_pid" ] && kill "$www_pid" 2>/dev/null; rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/plugins" "$src/pages" "$src/layouts" "$work/outside"
printf '{{ content | raw }}\n' > "$src/layouts/page.html"
echo secret > "$work/outside/secret.txt"
printf -- '---\ntitle: About\n---\nHello\n' > "$src/pages/about.md"

# A good build first: every failing build below must leave it as it is.
printf 'title: T\n' > "$src/config.yaml"
export JEKYLL_ENV=production
"$publish" build -s "$src" -d "$work/out" -q
snapshot() { (cd "$work/out" && find . -type f -exec sha256sum {} + | sort); }
before="$(snapshot)"

# plugin CODE [CONFIG_LINES]: the plugin `probe` runs CODE in its site hook.
plugin() {
  printf 'local M = {}\nfunction M.site(site)\n  %s\nend\nreturn M\n' "$1" > "$src/plugins/probe.lua"
  printf 'title: T\n%s\n' "${2:-plugins: [probe]}" > "$src/config.yaml"
  "$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
  status=$?
}
# denied WHAT CODE MESSAGE [CONFIG]: the build fails at line 3 of the plugin.
denied() {
  plugin "$2" "${4:-}"
  check "$1: exit 1" test "$status" -eq 1
  local want="plugins/probe.lua:3:1: error: $3 (in 'site' of plugin 'probe')"
  local got; got="$(head -n 1 "$work/err")"
  if [ "$got" != "$want" ]; then printf 'want: %s\ngot:  %s\n' "$want" "$got" >&2; fi
  check "$1: message" test "$got" = "$want"
  check "$1: output untouched" test "$before" = "$(snapshot)"
}
allowed() { # allowed WHAT CODE CONFIG
  plugin "$2" "$3"
  check "$1: exit 0" test "$status" -eq 0
  if [ "$status" -ne 0 ]; then cat "$work/err" >&2; fi
  "$publish" build -s "$src" -d "$work/out" -q --no-cache > /dev/null 2>&1 # back to the good output
  printf 'title: T\n' > "$src/config.yaml"; rm -f "$src/plugins/probe.lua"
  "$publish" build -s "$src" -d "$work/out" -q
}

# Denials: absent functions and libraries.
denied "io.open" 'io.open("/etc/passwd")' "attempt to call a nil value (field 'open')"
denied "io.lines" 'for l in io.lines("/etc/passwd") do end' "attempt to call a nil value (field 'lines')"
denied "debug" 'debug.getregistry()' "attempt to index a nil value (global 'debug')"
denied "os.exit" 'os.exit(3)' "attempt to call a nil value (field 'exit')"
denied "os.remove" 'os.remove("x")' "attempt to call a nil value (field 'remove')"
denied "package.loadlib" 'package.loadlib("libc.so.6", "puts")' "attempt to call a nil value (field 'loadlib')"
denied "string.dump" 'load(string.dump(print))' "attempt to call a nil value (field 'dump')"
denied "dofile" 'dofile("/etc/passwd")' "attempt to call a nil value (global 'dofile')"
denied "loadfile" 'loadfile("/etc/passwd")' "attempt to call a nil value (global 'loadfile')"
denied "binary chunk" 'assert(load("\27Lua\84\0"))' "attempt to load a binary chunk (mode is 't')"
denied "binary chunk, mode b" 'assert(load("\27Lua\84\0", "x", "b"))' "attempt to load a binary chunk (mode is 't')"
plugin 'require("lpeg")'
check "C module: exit 1" test "$status" -eq 1
check "C module: message" test "$(head -n 1 "$work/err")" = "plugins/probe.lua:3:1: error: module 'lpeg' not found:"
denied "collectgarbage" 'collectgarbage("stop")' "collectgarbage('stop') is not available to plugins"

# Capabilities: the call names the plugin and the capability; the grant allows it.
denied "os.execute" 'os.execute("true")' \
  "plugin 'probe' may not call os.execute: it needs the 'exec' capability (plugins: [{name: probe, allow: [exec]}])"
denied "io.popen" 'io.popen("true")' \
  "plugin 'probe' may not call io.popen: it needs the 'exec' capability (plugins: [{name: probe, allow: [exec]}])"
denied "os.getenv" 'os.getenv("HOME")' \
  "plugin 'probe' may not call os.getenv: it needs the 'env' capability (plugins: [{name: probe, allow: [env]}])"
denied "publish.fs outside" "publish.fs.read('$work/outside/secret.txt')" \
  "publish.fs.read: '$work/outside/secret.txt' is an absolute path; paths are relative to the site folder (plugin 'probe' does not have the 'read_outside' capability)"
denied "grant for another plugin" 'os.execute("true")' \
  "plugin 'probe' may not call os.execute: it needs the 'exec' capability (plugins: [{name: probe, allow: [exec]}])" \
  "plugins: [{name: template, allow: [exec]}, probe]"
allowed "exec granted" 'assert(io.popen("echo hi"):read("a") == "hi\n"); assert(os.execute("true"))' \
  "plugins: [{name: probe, allow: [exec]}]"
allowed "JEKYLL_ENV needs no grant" 'assert(os.getenv("JEKYLL_ENV") == "production")' "plugins: [probe]"
allowed "env granted" 'assert(os.getenv("HOME"))' "plugins: [{name: probe, allow: [env]}]"
allowed "read_outside granted" "assert(publish.fs.read('$work/outside/secret.txt') == 'secret\n')" \
  "plugins: [{name: probe, allow: [read_outside]}]"

# Limits, each at the plugin's line with its name.
denied "time" 'while true do end' \
  "time limit exceeded (0.5 s per hook call; limits.seconds in the config)" \
  $'plugins: [probe]\nlimits: {seconds: 0.5}'
denied "time in pattern matching" 'local s = ("x"):rep(200000):match("(.-)*$")' \
  "time limit exceeded (0.5 s per hook call; limits.seconds in the config)" \
  $'plugins: [probe]\nlimits: {seconds: 0.5}'
denied "time past pcall" 'while true do pcall(function() while true do end end) end' \
  "time limit exceeded (0.5 s per hook call; limits.seconds in the config)" \
  $'plugins: [probe]\nlimits: {seconds: 0.5}'
denied "instructions" 'local n = 0; for i = 1, 1e8 do n = n + i end' \
  "instruction limit exceeded (1000000 instructions per hook call; limits.instructions in the config)" \
  $'plugins: [probe]\nlimits: {instructions: 1000000}'
denied "memory" 'local t = {}; for i = 1, 1e8 do t[i] = {} end' \
  "memory limit exceeded (16 MB per hook call; limits.memory in the config)" \
  $'plugins: [probe]\nlimits: {memory: 16}'
denied "memory, one large allocation" 'local s = ("x"):rep(100 * 2^20)' \
  "memory limit exceeded (16 MB per hook call; limits.memory in the config)" \
  $'plugins: [probe]\nlimits: {memory: 16}'
allowed "limits: 0 is none" 'local n = 0; for i = 1, 3e6 do n = n + i end' \
  $'plugins: [probe]\nlimits: {instructions: 0, seconds: 0, memory: 0}'

# network: publish.http.get, from a server of our own on 127.0.0.1.
mkdir -p "$work/www" && echo "fetched body" > "$work/www/hello.txt"
check "a local web server starts" www_start "$work/www"
port="$www_port"; www="$www_pid"
denied "publish.http.get" "publish.http.get('http://127.0.0.1:$port/hello.txt')" \
  "plugin 'probe' may not call publish.http.get: it needs the 'network' capability (plugins: [{name: probe, allow: [network]}])"
allowed "network granted" "local b, s = publish.http.get('http://127.0.0.1:$port/hello.txt'); assert(b == 'fetched body\\n' and s == 200, tostring(b)); local m, t = publish.http.get('http://127.0.0.1:$port/missing'); assert(t == 404); assert(publish.http.get('http://127.0.0.1:1/') == nil)" \
  "plugins: [{name: probe, allow: [network]}]"
kill "$www" 2>/dev/null; wait "$www" 2>/dev/null; www_pid=""

# document hooks run under the same limits and grants as every hook.
printf -- '---\ntitle: Post\n---\nText with a [link](/x/).\n' > "$src/pages/post.md"
printf 'local M = {}\nfunction M.document(doc, post)\n  while true do end\nend\nreturn M\n' > "$src/plugins/probe.lua"
printf 'title: T\nplugins: [probe]\nlimits: {seconds: 1}\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "document hook: a loop is stopped" test $? -eq 1
check "document hook: by the time limit, at its line" \
  grep -q "^plugins/probe.lua:3:1: error: time limit exceeded (1 s per hook call; limits.seconds in the config) (in 'document' of plugin 'probe'" "$work/err"
printf 'local M = {}\nfunction M.document(doc, post)\n  assert(os.execute("true"))\nend\nreturn M\n' > "$src/plugins/probe.lua"
printf 'title: T\nplugins: [probe]\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "document hook: a capability needs its grant" \
  grep -q "may not call os.execute: it needs the 'exec' capability" "$work/err"
printf 'title: T\nplugins: [{name: probe, allow: [exec]}]\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "document hook: the grant holds there" test $? -eq 0
rm -f "$src/pages/post.md" "$src/plugins/probe.lua"
printf 'title: T\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/out" -q

# Config errors.
plugin 'x = 1' $'plugins: [{name: probe, allow: [mail]}, [a], {allow: [exec]}, {name: probe, as: x}]\nlimits: {memory: x, seconds: -1, cpu: 1}'
check "config errors: exit 1" test "$status" -eq 1
cat > "$work/expected" <<'EOF'
config.yaml:2:10: error: 'plugins' item 2 must be a plugin name, not a list
config.yaml:2:10: error: a plugins entry needs a 'name'
config.yaml:2:10: error: unknown capability 'mail' (known: env, exec, network, read_outside) for plugin 'probe'
config.yaml:2:10: error: unknown key 'as' in a plugins entry (name, allow)
config.yaml:3:18: error: 'limits.memory' must be an integer number >= 0 (0: no limit)
config.yaml:3:30: error: 'limits.seconds' must be a number >= 0 (0: no limit)
config.yaml:3:39: error: unknown limit 'cpu' (known: memory, instructions, seconds)
EOF
grep -v '^publish:' "$work/err" > "$work/got"
check "config errors: messages" diff "$work/expected" "$work/got"

# Templates: shared library tables are read-only; a loop is stopped.
rm -f "$src/plugins/probe.lua"
printf 'title: T\nplugins: [template]\nlimits: {seconds: 0.5}\n' > "$src/config.yaml"
printf -- '---\ntitle: P\n---\n{{ string.upper("a") }}{{ (function() string.format = nil end)() }}\n' > "$src/pages/p.html"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "template: exit 1" test $? -eq 1
check "template: library tables are read-only" test "$(head -n 1 "$work/err")" = \
  "pages/p.html:4:1: error: 'string' is read-only in templates (cannot set 'format') (in 'render' of plugin 'template', on 'pages/p.html')"
printf -- '---\ntitle: P\n---\n{{ (function() while true do end end)() }}\n' > "$src/pages/p.html"
"$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "template loop: exit 1" test $? -eq 1
check "template loop: stopped by the time limit" test "$(head -n 1 "$work/err")" = \
  "pages/p.html:4:1: error: time limit exceeded (0.5 s per hook call; limits.seconds in the config) (in 'render' of plugin 'template', on 'pages/p.html')"
check "failed builds left the output untouched" test "$before" = "$(snapshot)"
rm "$src/pages/p.html"

# Scripts keep io and os, still without binary chunks.
printf 'title: T\n' > "$src/config.yaml"
cat > "$work/script.lua" <<EOF
local f = assert(io.open("$work/outside/secret.txt")); io.write(f:read("a")); f:close()
io.write(tostring(os.getenv("HOME") ~= nil), " ", tostring(os.execute("true")), "\n")
print(load("\27Lua"))
EOF
out="$("$publish" run "$work/script.lua" -s "$src" -q 2>&1)"
check "scripts keep io and os" test "$out" = "$(printf 'secret\ntrue true\nnil\tattempt to load a binary chunk (mode is %s)' "'t'")"

# The guarded pattern functions answer as Lua's own (scripts use Lua's).
cat > "$work/patterns.lua" <<'EOF'
local P = {
  { "hello world from Lua", "(%w+) (%w+)" }, { "  trim me  ", "^%s*(.-)%s*$" },
  { "key = value", "(%w+)%s*=%s*(%w+)" }, { "THE (quick) fox", "%((%a+)%)" },
  { "f(a(b)c)d", "%b()" }, { "THE quick", "%f[%a]%a+" }, { "abcabc", "(a)(b)c%1%2" },
  { "2024-06-19", "^(%d%d%d%d)%-(%d%d)%-(%d%d)$" }, { "a.b.c", "[^.]+$" }, { "x", "()x()" },
  { "aaa", "a-b" }, { "aaab", "a-b" }, { "[]", "[]]" }, { "a-z", "[a%-z]+" }, { "abc", "" },
  { "abc", "^b" }, { "héllo", "[\128-\255]+" }, { "a+b", "a+b" }, { "end$", "$$" },
}
local out = {}
local function add(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end out[#out + 1] = table.concat(t, ",") end
for _, c in ipairs(P) do
  add(string.find(c[1], c[2])); add(string.find(c[1], c[2], 2)); add(string.find(c[1], c[2], -3, true))
  add(string.match(c[1], c[2])); add(string.match(c[1], c[2], -4))
  for a, b in string.gmatch(c[1], c[2]) do add("g", a, b) end
  add(string.gsub(c[1], c[2], "<%0|%1>")); add(string.gsub(c[1], c[2], "#", 1))
  add(string.gsub(c[1], c[2], function(a) return tostring(a):upper() end))
  add(string.gsub(c[1], c[2], { hello = "HI", key = false }))
end
add(pcall(string.find, "x", "%")); add(pcall(string.find, "x", "[a")); add(pcall(string.find, "x", "(()"))
add(pcall(string.gsub, "x", "x", "%2")); add(pcall(string.gsub, "x", "x", "%z")); add(pcall(string.find, "x", "%1"))
add(pcall(string.match, "x", "%f")); add(pcall(string.gsub, "x", "x", {x = {}})); add(pcall(string.find, "x", "%b"))
add(pcall(string.find, "x", ("(x?)"):rep(40)))
return table.concat(out, "\n") .. "\n"
EOF
cp "$work/patterns.lua" "$src/plugins/patterns.lua"
printf 'local M = {}\nfunction M.site(site)\n  site:add_page { url = "/patterns.txt", layout = false, content = require("patterns") }\nend\nreturn M\n' > "$src/plugins/probe.lua"
printf 'title: T\nplugins: [probe]\n' > "$src/config.yaml"
"$publish" build -s "$src" -d "$work/pat" -q
printf 'io.write(dofile("%s"))\n' "$work/patterns.lua" > "$work/ref.lua"
"$publish" run "$work/ref.lua" -s "$src" -q > "$work/ref.txt"
check "pattern functions: the reference ran" test -s "$work/ref.txt"
check "pattern functions: same answers as Lua's" diff "$work/ref.txt" "$work/pat/patterns.txt"
finish
