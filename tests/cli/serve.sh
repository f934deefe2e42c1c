#!/usr/bin/env bash
# `publish serve`: pages, content types and the injected reload script;
# Korean percent-encoded URLs; nothing outside DEST is served (traversal,
# encoded traversal, symlinks in DEST); an edit is rebuilt and served; a
# broken post shows in /__publish/status and the event stream while the
# old page stays served; --no-reload; SIGTERM and SIGINT exit 0.
#   serve.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
pid=""; events_pid=""
trap serve_cleanup EXIT

site="$work/site"; dest="$site/_site"
mkdir -p "$site/layouts" "$site/posts" "$site/pages" "$site/static" "$work/outside"
printf 'title: Serve test\nplugins: [template]\n' > "$site/config.yaml"
cat > "$site/layouts/post.html" <<'EOF'
<!doctype html>
<html><head><title>{{ page.title }}</title><link rel="stylesheet" href="/style.css"></head>
<body>
<h1>{{ page.title }}</h1>
{{ content | raw }}
</body></html>
EOF
printf -- '---\ntitle: Home\npermalink: /\nlayout: post\n---\n<p>welcome home</p>\n' > "$site/pages/index.html"
post="$site/posts/2024-01-02-hello.md"
printf -- '---\ntitle: Hello\n---\nfirst version\n' > "$post"
printf -- '---\ntitle: 소식\npermalink: /뉴스/x/\n---\n한국어 본문\n' > "$site/posts/2024-01-03-news.md"
printf 'body { color: red }\n' > "$site/static/style.css"
echo 'top secret' > "$work/outside/secret.txt"

# The server with extra flags "$@" (see serve_start in lib.sh); its stdout
# and stderr both go to $work/log.
start() { serve_start "$site" "$work/log" "$@"; }
stop() { serve_stop "$1"; }

# code PATH: the status code only.
code() { curl -s --path-as-is -o "$work/body" -w '%{http_code}' --max-time 5 "$base$1"; }
# get PATH: body to $work/body, "CODE TYPE" to stdout.
get() { curl -s --path-as-is -o "$work/body" -w '%{http_code} %{content_type}' --max-time 5 "$base$1"; }

# Polls (up to 10 s) until COMMAND... succeeds.
eventually() {
  local i
  for i in $(seq 100); do "$@" && return 0; sleep 0.1; done
  return 1
}
page_has() { curl -s --max-time 5 "$base$1" | grep -q "$2"; }
status_has() { curl -s --max-time 5 "$base/__publish/status" | grep -q "$1"; }

check "serve starts and answers" start
check "the first line says where it serves" \
  eventually grep -qx "publish: serving $site at http://127.0.0.1:$port/ (Ctrl-C to stop)" <(head -1 "$work/log")
check "binds the loopback address only" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.2:$port/")" = 000

check "index is 200 html" test "$(get /)" = "200 text/html; charset=utf-8"
check "index has its content" grep -q 'welcome home' "$work/body"
check "index has the reload script before </body>" \
  bash -c "tr -d '\n' < '$work/body' | grep -q 'EventSource(\"/__publish/events\").*</script></body>'"
check "post is 200 html" test "$(get /2024/01/02/hello/)" = "200 text/html; charset=utf-8"
check "post has its content" grep -q 'first version' "$work/body"
check "post has the reload script" grep -q '/__publish/events' "$work/body"
check "folder without slash redirects" test "$(code /2024/01/02/hello)" = 301
check "redirect keeps the path" bash -c "curl -sI '$base/2024/01/02/hello' | grep -qi '^location: /2024/01/02/hello/'"
check "css is text/css" test "$(get /style.css)" = "200 text/css; charset=utf-8"
check "css is sent as is" cmp -s "$work/body" "$site/static/style.css"
check "Korean URL is decoded" test "$(get /%EB%89%B4%EC%8A%A4/x/)" = "200 text/html; charset=utf-8"
check "Korean page has its content" grep -q '한국어 본문' "$work/body"
check "missing page is 404" test "$(get /no/such/page/)" = "404 text/html; charset=utf-8"
check "status is JSON" test "$(get /__publish/status)" = "200 application/json"
check "status says ok" grep -q '^{"build":1,"ok":true,"errors":\[\]}$' "$work/body"

# Nothing outside DEST.
refused() { local c; c="$(code "$1")"; [ "$c" = 404 ] || [ "$c" = 403 ] || [ "$c" = 400 ]; }
check "../ is refused" refused /../../etc/passwd
check "encoded ../ is refused" refused /%2e%2e/%2e%2e/etc/passwd
check "encoded slash and .. is refused" refused /..%2f..%2fetc%2fpasswd
check "encoded NUL is refused" refused /index.html%00.css
ln -s "$work/outside/secret.txt" "$dest/leak.txt"
ln -s "$work/outside" "$dest/out"
ln -s "$work/outside/secret.txt" "$dest/뉴스/leak.txt"
check "symlinked file in DEST is refused" refused /leak.txt
check "symlinked folder in DEST is refused" refused /out/secret.txt
check "symlink under a Korean folder is refused" refused /%EB%89%B4%EC%8A%A4/leak.txt
check "nothing outside leaked" bash -c "! grep -rq 'top secret' '$work/body'"

# Rebuilds: an edit shows up; a broken post keeps the old page and reports.
timeout 30 curl -sN "$base/__publish/events" > "$work/events" 2>/dev/null &
events_pid=$!
sleep 0.3
printf -- '---\ntitle: Hello\n---\nsecond version\n' > "$post"
check "an edit is served" eventually page_has /2024/01/02/hello/ 'second version'
check "the build counter moves" eventually status_has '"build":2,"ok":true'
printf -- '---\ntitle: [broken\n---\nthird version\n' > "$post"
check "a broken post makes status not ok" eventually status_has '"ok":false'
check "status carries the diagnostic" \
  status_has '"errors":\["posts/2024-01-02-hello.md:3:1: error: [^"]*"\]'
check "the old page is still served" page_has /2024/01/02/hello/ 'second version'
check "the diagnostic goes to stderr" grep -q '^posts/2024-01-02-hello.md:3:1: error: ' "$work/log"
check "stderr says the old output stays" grep -q '^publish: 1 error; still serving the previous output$' "$work/log"
printf -- '---\ntitle: Hello\n---\nfixed version\n' > "$post"
check "fixing it recovers" eventually status_has '"build":3,"ok":true,"errors":\[\]'
check "the fixed page is served" eventually page_has /2024/01/02/hello/ 'fixed version'
mkdir -p "$site/posts/2024"
printf -- '---\ntitle: Nested\n---\nin a new folder\n' > "$site/posts/2024/2024-02-01-nested.md"
check "a post in a new folder is built" eventually page_has /2024/02/01/nested/ 'in a new folder'
events_in_order() { tr '\n' ' ' < "$work/events" | grep -q "$1"; }
check "the event stream greets with the build" events_in_order '^retry: 1000  event: reload data: 1  '
check "the event stream said reload after the edit" events_in_order 'event: reload data: 2  '
check "the event stream carried the error, then the fix" \
  events_in_order 'event: error data: posts/2024-01-02-hello.md:3:1: error: [^ ]* .*event: reload data: 3  '
kill "$events_pid" 2>/dev/null; wait "$events_pid" 2>/dev/null; events_pid=""

stop TERM
check "SIGTERM exits 0" test "$stop_rc" -eq 0

# --no-reload: pages as built; SIGINT stops it too.
check "serve --no-reload starts" start --no-reload
check "--no-reload page is 200" test "$(get /)" = "200 text/html; charset=utf-8"
check "--no-reload injects no script" bash -c "! grep -q '__publish' '$work/body'"
check "--no-reload serves the built file" cmp -s "$work/body" "$dest/index.html"
stop INT
check "SIGINT exits 0" test "$stop_rc" -eq 0

# A Jekyll site: its inputs live in _layouts, _includes, _data and page
# folders anywhere; an edit in any of them is rebuilt.
jk="$work/jekyll"
mkdir -p "$jk/_layouts" "$jk/_includes" "$jk/_data" "$jk/docs"
printf 'title: J\n' > "$jk/_config.yml"
printf '<p>{%% include foot.html %%}</p>{{ content }}\n' > "$jk/_layouts/default.html"
printf 'foot one' > "$jk/_includes/foot.html"
printf 'name: data one\n' > "$jk/_data/team.yml"
printf -- '---\nlayout: default\n---\n{{ site.data.team.name }}\n' > "$jk/docs/guide.md"
check "serve starts on a Jekyll site" serve_start "$jk" "$work/log"
check "the Jekyll page is served" eventually page_has /docs/guide.html 'foot one'
printf 'foot two' > "$jk/_includes/foot.html"
check "an edit in _includes is rebuilt" eventually page_has /docs/guide.html 'foot two'
printf 'name: data two\n' > "$jk/_data/team.yml"
check "an edit in _data is rebuilt" eventually page_has /docs/guide.html 'data two'
printf -- '---\nlayout: default\n---\npage three\n' > "$jk/docs/guide.md"
check "an edit in a page folder is rebuilt" eventually page_has /docs/guide.html 'page three'
serve_stop TERM

"$publish" serve -s "$work/missing" --port 1 2> "$work/log"
check "a missing site exits 1" test $? -eq 1
check "a missing site is named" grep -q 'missing: error: site folder not found' "$work/log"
"$publish" serve --port 70000 2> "$work/log"
check "a bad port exits 2" test $? -eq 2
finish
