#!/usr/bin/env bash
# serve for a first-hour user (issue 11): the first line says what is served
# where; a busy port falls back to the next free one and says so; --drafts
# builds into a preview folder of its own, never the site's _site/, and
# that folder is gone when the server stops.
#   serve-preview.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"
pid=""; other=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  [ -n "$other" ] && kill -KILL "$other" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export TMPDIR="$work/tmp"; mkdir -p "$TMPDIR"

site="$work/site"
mkdir -p "$site/posts" "$site/layouts"
printf 'title: T\nplugins: [template, feed]\n' > "$site/config.yaml"
printf '<p>{{ page.title }}</p>{{ content | raw }}\n' > "$site/layouts/post.html"
printf -- '---\ntitle: Public\n---\nP\n' > "$site/posts/2024-01-02-public.md"
printf -- '---\ntitle: Secret draft\ndraft: true\n---\nD\n' > "$site/posts/2024-01-03-draft.md"

eventually() { local i; for i in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }

check "serve --drafts starts" serve_start "$site" "$work/log" --drafts
first_port="$port"
check "the first line names the site and the address" \
  grep -qx "publish: serving $site at http://127.0.0.1:$port/ (Ctrl-C to stop)" <(head -1 "$work/log")
check "the second line says where drafts are built" \
  grep -Eqx "publish: drafts are built into $TMPDIR/publish-preview-[A-Za-z0-9]{6}/_site, not the site's destination" \
  <(sed -n 2p "$work/log")
preview="$(sed -n 's|^publish: drafts are built into \(.*\)/_site, not.*|\1|p' "$work/log")"
check "the draft is served" eventually bash -c "curl -s --max-time 5 '$base/2024/01/03/draft/' | grep -q 'Secret draft'"
check "the feed served has the draft" bash -c "curl -s --max-time 5 '$base/feed.xml' | grep -q 'Secret draft'"
check "the site's own _site is not written" test ! -e "$site/_site"
check "the preview folder exists while serving" test -d "$preview/_site"

# A second server asked for the same port takes the next free one.
other_log="$work/log2"
"$publish" serve -s "$site" --port "$first_port" > "$other_log" 2>&1 &
other=$!
check "a busy port is not an error" eventually grep -q '^publish: serving ' "$other_log"
second="$(sed -n 's|^publish: serving .* at http://127.0.0.1:\([0-9]*\)/ .*|\1|p' "$other_log")"
check "it takes a later port" test -n "$second" -a "${second:-0}" -gt "$first_port"
check "and says which, on the first line" \
  grep -qx "publish: serving $site at http://127.0.0.1:$second/ (port $first_port is busy; Ctrl-C to stop)" <(head -1 "$other_log")
check "it answers there" eventually curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$second/__publish/status"
kill -TERM "$other"; wait "$other" 2>/dev/null; other=""
check "without --drafts the draft stays out of the real _site" \
  test -e "$site/_site/2024/01/02/public/index.html" -a ! -e "$site/_site/2024/01/03/draft/index.html"
check "and out of its feed" bash -c "! grep -q 'Secret draft' '$site/_site/feed.xml'"

serve_stop TERM
pid=""
check "the --drafts server stops cleanly" test "$stop_rc" -eq 0
check "its preview folder is gone" test ! -e "$preview"
finish
