#!/usr/bin/env bash
# Runs one libFuzzer harness for a bounded time from its seed corpus. New
# inputs go to a temporary folder (the tree stays as it is); a crash, a
# sanitizer report, a failed property, a leak or an input slower than 10 s
# fails the test and the input is kept in tests/fuzz/crashes/ to add to the
# corpus once fixed.
#   run-fuzz.sh HARNESS CORPUS SECONDS
set -euo pipefail
harness="$1"; corpus="$2"; seconds="$3"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# tests/fuzz/NAME.dict, when there is one, gives the mutator the syntax.
dict="$(dirname "$corpus")/../$(basename "$corpus").dict"
dict_arg=(); [ -f "$dict" ] && dict_arg=(-dict="$dict")
# tests/fuzz/NAME.options: extra libFuzzer flags, one line (see fuzz.h).
options="$(dirname "$corpus")/../$(basename "$corpus").options"
extra=(); [ -f "$options" ] && read -r -a extra < "$options"
crashes="$(dirname "$corpus")/../crashes"
status=0
"$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "${dict_arg[@]}" "${extra[@]}" "$work" "$corpus" > "$work/log" 2>&1 || status=$?
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added)' "$work/log" || true
if [ "$status" -ne 0 ]; then
  tail -60 "$work/log"
  mkdir -p "$crashes"
  for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -e "$f" ] && cp "$f" "$crashes/$(basename "$harness")-$(basename "$f")" && echo "kept $crashes/$(basename "$harness")-$(basename "$f")"
  done
  exit 1
fi
echo "1 passed, 0 failed"
