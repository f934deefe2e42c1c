#!/usr/bin/env bash
# Incremental builds by page records: a randomised series of 30 edits on a
# generated site of 200 posts (post bodies, titles, dates, categories,
# excerpts, new, deleted and renamed posts, layouts, includes, a data
# file, the config), each followed by an incremental build with a random
# -j that must equal a --no-cache build byte for byte
# (tests/cli/incremental_random.py; INCR_SEED=S re-runs a failed series).
#   incremental-random.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

python3 "$root/tests/cli/incremental_random.py" "$publish" "$root" "$work" > "$work/log"
rc=$?
check "every step equals a clean build" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$work/log" >&2
finish
