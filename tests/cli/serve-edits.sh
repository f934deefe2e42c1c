#!/usr/bin/env bash
# `publish serve` over a series of saves to the example site (its theme,
# categories, paginate, feed, sitemap; post snapshots and page records
# on): after each save, what serve built into DEST equals a `--no-cache`
# build of the same sources, byte for byte; the reload counter moves only
# once DEST holds the new pages; saves in quick succession (a save while
# the previous one builds) end in the same bytes; a broken save keeps the
# previous output and the fix builds again.
#   serve-edits.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
pid=""; events_pid=""
trap serve_cleanup EXIT

site="$work/site"; dest="$work/out"; clean="$work/clean"
mkdir -p "$site"
(cd "$root/site" && tar cf - --exclude=_site --exclude=.publish-cache .) | (cd "$site" && tar xf -)
posts="$site/posts"

# The reload counter /__publish/status reports, or nothing.
build_number() {
  curl -s --max-time 5 "$base/__publish/status" | sed -n 's/^{"build":\([0-9]*\),.*/\1/p'
}
# Polls (up to 20 s) until COMMAND... succeeds.
eventually() {
  local i
  for i in $(seq 200); do "$@" && return 0; sleep 0.1; done
  return 1
}
# A --no-cache build of the sources as they stand, into $clean.
clean_build() {
  rm -rf "$clean"
  "$publish" build -s "$site" -d "$clean" --no-cache -q 2> "$work/clean.err"
}
dest_is_clean() { diff -r "$dest" "$clean" > "$work/diff" 2>&1; }
# After a save: DEST comes to equal a clean build, and serve says ok.
settles() {
  clean_build || { cat "$work/clean.err" >&2; return 1; }
  eventually dest_is_clean || { head -20 "$work/diff" >&2; return 1; }
  curl -s --max-time 5 "$base/__publish/status" | grep -q '"ok":true'
}

check "serve starts" serve_start "$site" "$work/log" -d "$dest"
check "the first build is a clean build" settles
# Every reload event: DEST holds the pages when the counter is sent.
timeout 120 curl -sN "$base/__publish/events" > "$work/events" 2>/dev/null &
events_pid=$!
sleep 0.3

post="$posts/2025-08-30-library-weekend-hours.md"
before="$(build_number)"
printf '\nA sentence added by a save.\n' >> "$post"
check "a body edit equals a clean build" settles
check "the counter moved" test "$(build_number)" -gt "$before"
check "the edited page is there" grep -rq 'A sentence added by a save.' "$dest"

# The page that reloads on the event finds the new bytes in DEST: the
# event goes out once the output is committed, not before.
reload_shows() {
  python3 - "$port" "$1" "$dest" "$2" <<'PY'
import os, socket, sys
port, post, dest, text = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(b"GET /__publish/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
buf, first = b"", None
while True:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("the event stream closed")
    buf += chunk
    numbers = [line[5:].strip() for line in buf.split(b"\n") if line.startswith(b"data:")]
    if numbers and first is None:
        first = numbers[0]
        with open(post, "a") as f:
            f.write("\n" + text + "\n")
    if first is not None and any(n != first for n in numbers):
        break
for folder, _, files in os.walk(dest):
    for name in files:
        with open(os.path.join(folder, name), "rb") as f:
            if text.encode() in f.read():
                sys.exit(0)
sys.exit("the reload came before DEST had the edit")
PY
}
check "the reload comes with the edit in DEST" reload_shows "$post" "Seen on the reload."
check "and equals a clean build" settles

sed -i 's/^title: 동네 도서관.*/title: 도서관 주말 운영/' "$post"
check "a title edit equals a clean build (listings, feed)" settles
check "the new title is in the feed" grep -q '도서관 주말 운영' "$dest/feed.xml"

sed -i 's/^categories: \[News\]/categories: [News, Travel]/' "$post"
check "a category edit equals a clean build" settles

cat > "$posts/2025-12-01-new-post.md" <<'EOF'
---
title: A new post
categories: [Travel]
tags: [new]
---

Written while serve was running.
EOF
check "a new post equals a clean build" settles

mv "$posts/2025-12-01-new-post.md" "$posts/2025-12-02-moved-post.md"
check "a renamed post equals a clean build" settles

rm "$posts/2023-03-12-why-a-static-blog.md"
check "a deleted post equals a clean build" settles

# Saves in quick succession, some while the previous one builds.
for i in 1 2 3 4 5; do
  printf '\nQuick save %s.\n' "$i" >> "$posts/2024-11-08-seoul-autumn-walks.md"
  sleep 0.05
done
printf '\nQuick save to another post.\n' >> "$posts/2025-11-20-markdown-tour.md"
check "quick saves end in a clean build's bytes" settles

# An editor's save: write a new file, then rename it over the post.
cp "$posts/2025-04-21-what-jekyll-front-matter-means.md" "$work/tmp.md"
printf '\nSaved by renaming over the post.\n' >> "$work/tmp.md"
mv "$work/tmp.md" "$posts/2025-04-21-what-jekyll-front-matter-means.md"
check "a save by rename equals a clean build" settles

layout="$(ls "$site/layouts"/*.html | head -1)"
printf '<!-- layout edited -->\n' >> "$layout"
check "a layout edit equals a clean build" settles

cp -r "$dest" "$work/kept"
printf -- '---\ntitle: [broken\n---\nbody\n' > "$posts/2025-12-02-moved-post.md"
check "a broken save makes status not ok" \
  eventually bash -c "curl -s --max-time 5 '$base/__publish/status' | grep -q '\"ok\":false'"
check "the previous output stays" diff -r "$dest" "$work/kept"
printf -- '---\ntitle: Fixed\n---\nbody\n' > "$posts/2025-12-02-moved-post.md"
check "the fix equals a clean build" settles

kill "$events_pid" 2>/dev/null; wait "$events_pid" 2>/dev/null; events_pid=""
check "reload events were sent" grep -q '^event: reload' "$work/events"
serve_stop INT
check "SIGINT exits 0" test "$stop_rc" -eq 0
[ "$stop_rc" -eq 0 ] || tail -60 "$work/log" >&2
finish
