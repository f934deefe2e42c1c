#!/usr/bin/env bash
# A bounded load test of `publish serve`, on 127.0.0.1 only: wrk for three
# seconds over 50 connections while 300 idle sockets are held open. It must
# serve without errors during the run, and answer within 100 ms after it
# (the best of five tries, so a busy test machine does not fail it).
# Speed is not asserted here; bench/ measures it.
#   serve-load.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
pid=""; idle_pid=""
cleanup() {
  [ -n "$idle_pid" ] && kill "$idle_pid" 2>/dev/null
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
command -v wrk > /dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
site="$work/site"
mkdir -p "$site/pages" "$site/posts"
printf 'title: Load\n' > "$site/config.yaml"
printf -- '---\ntitle: Home\npermalink: /\n---\n<p>home</p>\n' > "$site/pages/index.html"
for i in $(seq 20); do
  printf -- '---\ntitle: Post %s\n---\nBody of post %s.\n' "$i" "$i" > "$site/posts/2024-01-$(printf %02d "$i")-p$i.md"
done

check "serve starts" serve_start "$site" "$work/log"
python3 "$root/tests/cli/serve_sockets.py" idle "$port" 300 4 > "$work/idle" &
idle_pid=$!
sleep 0.5
wrk -t 2 -c 50 -d 3s --timeout 2s "$base/" > "$work/wrk" 2>&1
check "wrk ran" grep -q 'Requests/sec' "$work/wrk"
check "no socket errors or timeouts" bash -c "! grep -q 'Socket errors' '$work/wrk'"
check "no non-2xx answers" bash -c "! grep -q 'Non-2xx' '$work/wrk'"
sed -n 's/^Requests\/sec: *//p' "$work/wrk" | sed 's/^/requests per second: /'
wait "$idle_pid"; idle_pid=""
best=9
for i in 1 2 3 4 5; do
  t="$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "$base/")"
  best="$(python3 -c "print(min($best, $t))")"
done
echo "best answer after the load: $best s"
check "answers within 100 ms after the load" python3 -c "import sys; sys.exit(0 if $best < 0.1 else 1)"
serve_stop TERM
check "stops cleanly" test "$stop_rc" -eq 0
finish
