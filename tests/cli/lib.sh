# Helpers for the shell tests: each test script sources this, calls `check`
# for every assertion and `finish` at the end (prints the pass/fail line).
passed=0; failed=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

# example_site DIR: a copy of the repository's example site in DIR, without
# any output or build cache a local build left in it. Needs $root.
example_site() {
  cp -r "$root/site" "$1"
  rm -rf "$1/_site" "$1/.publish-cache"
}

# same_as_clean WHAT: builds $src incrementally into $work/out and from
# scratch (--no-cache) into $work/clean, and checks the build succeeded,
# the two are the same byte for byte, and nothing was warned. Needs
# $publish, $src and $work.
same_as_clean() { # same_as_clean WHAT
  "$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
  check "$1: build exits 0" test $? -eq 0
  rm -rf "$work/clean"
  "$publish" build -s "$src" -d "$work/clean" -q --no-cache 2>> "$work/err"
  check "$1: output equals a clean build" diff -r "$work/out" "$work/clean"
  check "$1: no warnings" test ! -s "$work/err"
}

# serve_cleanup: the EXIT trap of a serve test: kills the server ($pid)
# and an event-stream reader ($events_pid) if they run, removes $work.
serve_cleanup() {
  [ -n "${events_pid:-}" ] && kill "$events_pid" 2>/dev/null
  [ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$work"
}

# serve_start SITE LOG [FLAGS...]: starts `publish serve` on SITE on a
# random free port (stdout and stderr to LOG); sets pid, port and base.
# False when it never answered within 10 s. Needs $publish.
serve_start() {
  local site="$1" log="$2"; shift 2
  local try i
  for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000)); base="http://127.0.0.1:$port"
    "$publish" serve -s "$site" --port "$port" "$@" > "$log" 2>&1 &
    pid=$!
    for i in $(seq 100); do
      # A busy port makes serve take the next free one: use what it says.
      local said
      said="$(sed -n 's|^publish: serving .* at http://127.0.0.1:\([0-9]*\)/ .*|\1|p' "$log" | head -1)"
      if [ -n "$said" ]; then port="$said"; base="http://127.0.0.1:$port"; fi
      curl -s -o /dev/null "$base/__publish/status" && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""
    grep -q 'cannot listen' "$log" || return 1   # only a port clash is retried
  done
  return 1
}

# serve_stop SIGNAL: sends it to $pid and waits up to 10 s; sets stop_rc
# (255 when it hung and had to be killed).
serve_stop() {
  kill "-$1" "$pid"
  local i
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; stop_rc=255
  else wait "$pid"; stop_rc=$?; fi
  pid=""
}

# www_start DIR: serves DIR over HTTP on 127.0.0.1 (python3's http.server)
# on a random free port; sets www_port and www_pid. False when it never
# answered within 30 s (a busy machine starts Python slowly). A port
# another test took is retried with another.
www_start() {
  local dir="$1" try i
  for try in 1 2 3 4 5; do
    www_port=$((20000 + RANDOM % 20000))
    python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$www_port" > /dev/null 2>&1 &
    www_pid=$!
    for i in $(seq 300); do
      curl -s -o /dev/null "http://127.0.0.1:$www_port/" && return 0
      kill -0 "$www_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$www_pid" 2>/dev/null; wait "$www_pid" 2>/dev/null; www_pid=""
  done
  return 1
}
