#!/usr/bin/env bash
# Bad-input test: tests/bad/NAME/src must fail to build with exit status 1
# and exactly tests/bad/NAME/expected.stderr, leaving a previous output
# folder byte-for-byte as it was.
#   run-bad.sh PUBLISH CASE_DIR
set -euo pipefail
publish="$1"; case_dir="$2"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$case_dir/src" "$work/src"
# A previous, good output the failed build must not touch: a real build
# (so DEST has publish's manifest), plus files added by hand since.
mkdir -p "$work/previous"
printf 'title: Previous\n' > "$work/previous/config.yaml"
"$publish" build -s "$work/previous" -d "$work/_site" -q
mkdir -p "$work/_site/old"
printf 'previous build\n' > "$work/_site/index.html"
printf 'kept\n' > "$work/_site/old/page.html"
(cd "$work/_site" && find . -type f -exec sha256sum {} + | sort) > "$work/before"
status=0
(cd "$work/src" && "$publish" build -d ../_site -q) 2> "$work/stderr" || status=$?
if [ "$status" -ne 1 ]; then
  echo "expected exit status 1, got $status"; cat "$work/stderr"; exit 1
fi
if [ "${UPDATE:-}" = 1 ]; then cp "$work/stderr" "$case_dir/expected.stderr"; fi
diff -u "$case_dir/expected.stderr" "$work/stderr"
(cd "$work/_site" && find . -type f -exec sha256sum {} + | sort) > "$work/after"
diff -u "$work/before" "$work/after"
ls -a "$work" | grep -q 'publish-tmp' && { echo "staging folder left behind"; exit 1; }
echo "1 passed, 0 failed"
