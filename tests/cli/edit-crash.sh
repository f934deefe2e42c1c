#!/usr/bin/env bash
# Crash consistency of `publish run`: a run that rewrites (and renames,
# creates, deletes) hundreds of posts is killed with SIGKILL at random
# moments, many times. After every kill each file must be wholly old or
# wholly new (by hash); no other file may appear but our temp files, and
# the next run must remove those.
#   edit-crash.sh PUBLISH REPO_ROOT [ROUNDS]
set -uo pipefail
publish="$1"; root="$2"; rounds="${3:-25}"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC

mkdir -p "$work/old/posts"
printf 'title: Crash test\n' > "$work/old/config.yaml"
for i in $(seq 1 400); do
  printf -- '---\ntitle: Post %d\ncategories: [News, Tech]\ntags:\n  - t%d\n---\nBody %d\n' "$i" "$i" "$i" \
    > "$work/old/posts/2020-01-01-p$i.md"
done
cat > "$work/edit.lua" <<'LUA'
for _, p in ipairs(site.posts) do
  local n = tonumber(p.slug:match("%d+"))
  if n % 50 == 0 then p:delete()
  elseif n % 25 == 0 then p:rename("moved-" .. n)
  else
    p.meta.categories = { "뉴스", "Tech" }
    p.body = p.body .. "more\n"
  end
end
for i = 1, 20 do site:new_post{ title = "New " .. i, date = "2021-02-03" } end
LUA
echo 'local unused = ...' > "$work/noop.lua"

# Hashes of every file of a tree, as "path hash" lines.
hashes() { (cd "$1" && find . -type f ! -name '.*' -print0 | sort -z | xargs -0 sha256sum | awk '{print $2, $1}'); }

cp -a "$work/old" "$work/new"
start=$(date +%s%N)
"$publish" run "$work/edit.lua" -s "$work/new" -q
check "the full run succeeds" test $? -eq 0
ms=$(( ($(date +%s%N) - start) / 1000000 ))
hashes "$work/old" > "$work/old.hashes"
hashes "$work/new" > "$work/new.hashes"
check "the full run changed files" test "$(cat "$work/old.hashes")" != "$(cat "$work/new.hashes")"
# Each path's allowed hashes: old or new (a renamed file may briefly be both).
sort -u "$work/old.hashes" "$work/new.hashes" > "$work/allowed"

bad=0 mixed=0 strays_seen=0
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/s"; cp -a "$work/old" "$work/s"
  delay=$(( RANDOM % (ms + ms / 4 + 1) ))
  "$publish" run "$work/edit.lua" -s "$work/s" -q 2>/dev/null &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  hashes "$work/s" > "$work/now"
  if ! comm -23 <(sort "$work/now") "$work/allowed" | grep -q .; then :; else
    bad=$((bad + 1)); echo "round $round (after ${delay} ms): a file is neither old nor new:" >&2
    comm -23 <(sort "$work/now") "$work/allowed" | head -3 >&2
  fi
  if ! cmp -s "$work/now" "$work/old.hashes" && ! cmp -s "$work/now" "$work/new.hashes"; then
    mixed=$((mixed + 1))
  fi
  strays=$(find "$work/s" -name '.*.publish-edit-*' | wc -l)
  [ "$strays" -gt 0 ] && strays_seen=$((strays_seen + 1))
  "$publish" run "$work/noop.lua" -s "$work/s" -q 2>/dev/null
  if [ "$(find "$work/s" -name '.*.publish-edit-*' | wc -l)" -ne 0 ]; then
    bad=$((bad + 1)); echo "round $round: the next run left temp files" >&2
  fi
done
echo "edit-crash: $rounds kills over a ${ms} ms run: $mixed left a mix of old and new files, $strays_seen left temp files" >&2
check "every file was old or new after every kill, and strays were cleaned" test "$bad" -eq 0
finish
