#!/usr/bin/env bash
# What `publish serve` accepts: only its own Host names (127.0.0.1,
# localhost, [::1] with the port, or the --host address), no foreign Origin
# on the event and status endpoints; at most 64 event streams (503 beyond)
# whose slots come back promptly when clients hang up; requests whose
# headers are not complete within a few seconds (idle sockets, slowloris)
# are cut off.
#   serve-guard.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
pid=""; holder=""
cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
site="$work/site"
mkdir -p "$site/pages"
printf 'title: Guard\n' > "$site/config.yaml"
printf -- '---\ntitle: Home\npermalink: /\n---\n<p>home</p>\n' > "$site/pages/index.html"
sockets="$root/tests/cli/serve_sockets.py"

# with_host HOST PATH [HEADER]: "CODE BODY" of a request with that Host.
with_host() {
  local extra=(); [ -n "${3:-}" ] && extra=(-H "$3")
  curl -s -o "$work/body" -w '%{http_code}' --max-time 5 -H "Host: $1" "${extra[@]}" "$base$2"
  printf ' %s' "$(head -c 200 "$work/body")"
}

check "serve starts" serve_start "$site" "$work/log"
refused_host="403 this server does not answer to that Host"
for path in / /__publish/status /__publish/events; do
  check "foreign Host on $path: 403" test "$(with_host "evil.example:$port" "$path")" = "$refused_host"
  check "rebinding name on $path: 403" test "$(with_host "attacker.127.0.0.1.nip.io:$port" "$path")" = "$refused_host"
done
check "own address, other port: 403" test "$(with_host "127.0.0.1:$((port + 1))" /)" = "$refused_host"
check "own address without port: 403" test "$(with_host "127.0.0.1" /)" = "$refused_host"
check "Host 127.0.0.1:PORT: 200" test "$(with_host "127.0.0.1:$port" / | head -c3)" = 200
check "Host localhost:PORT: 200" test "$(with_host "localhost:$port" / | head -c3)" = 200
check "Host LOCALHOST:PORT: 200" test "$(with_host "LOCALHOST:$port" / | head -c3)" = 200
check "Host [::1]:PORT: 200" test "$(with_host "[::1]:$port" / | head -c3)" = 200

foreign="403 foreign origin"
check "foreign Origin on status: 403" \
  test "$(with_host "127.0.0.1:$port" /__publish/status 'Origin: http://evil.example')" = "$foreign"
check "foreign Origin on events: 403" \
  test "$(with_host "127.0.0.1:$port" /__publish/events 'Origin: https://evil.example')" = "$foreign"
check "own Origin on status: 200" \
  test "$(with_host "127.0.0.1:$port" /__publish/status "Origin: http://localhost:$port" | head -c3)" = 200
check "foreign Origin on a page: served (pages are not secrets)" \
  test "$(with_host "127.0.0.1:$port" / 'Origin: http://evil.example' | head -c3)" = 200

# 64 event streams at most; the 65th waits for a free slot.
mkfifo "$work/hold"
python3 "$sockets" streams "$port" 64 < "$work/hold" > "$work/streams" &
holder=$!
exec 7> "$work/hold"
for i in $(seq 100); do [ "$(wc -l < "$work/streams")" -ge 64 ] && break; sleep 0.1; done
check "64 event streams open" test "$(grep -c '^HTTP/1.1 200' "$work/streams")" -eq 64
check "the 65th is 503" test "$(curl -s -o "$work/body" -w '%{http_code}' --max-time 5 "$base/__publish/events")" = 503
check "503 says why" grep -qx 'too many event streams' "$work/body"
check "pages are still served" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/")" = 200
exec 7>&-
wait "$holder"; holder=""
# Hung-up streams give their slots back within a couple of seconds.
free=0
for i in $(seq 40); do
  python3 "$sockets" streams "$port" 64 < /dev/null > "$work/streams2" 2>/dev/null
  free="$(grep -c '^HTTP/1.1 200' "$work/streams2")"
  [ "$free" -eq 64 ] && break
  sleep 0.25
done
# No clock check: on a loaded machine each try (a Python start and 64
# connections) takes seconds. The 40 tries bound it, and a leaked slot never
# comes back at all, so this still fails when hung-up streams keep their slots.
check "all 64 slots free again after the clients hung up" test "$free" -eq 64

# Slow and idle clients are cut off; nobody else waits for them.
python3 "$sockets" slow "$port" 30 > "$work/slow" &
slow_pid=$!
python3 "$sockets" idle "$port" 50 9 > "$work/idle" &
idle_pid=$!
sleep 1
check "served while slow clients hang on" \
  test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/")" = 200
wait "$slow_pid" "$idle_pid"
# The client would trickle its header for 30 s; the server's limit is 5 s.
# 20 s leaves room for a loaded machine and still fails if nothing cuts it off.
check "a slowloris header is cut off well before its 30 s" test "$(cat "$work/slow")" -le 20
check "idle sockets are closed" test "$(cat "$work/idle")" -eq 50

serve_stop TERM
check "stops cleanly" test "$stop_rc" -eq 0

# --host: that address is a name of the server too.
port=$((20000 + RANDOM % 20000))
"$publish" serve -s "$site" --host 127.0.0.2 --port "$port" > "$work/log2" 2>&1 &
pid=$!
for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.2:$port/" && break; sleep 0.1; done
base="http://127.0.0.2:$port"
check "--host address is accepted" test "$(with_host "127.0.0.2:$port" / | head -c3)" = 200
check "--host: foreign Host still refused" test "$(with_host "evil.example:$port" /)" = "$refused_host"
serve_stop INT
finish
