#!/usr/bin/env bash
# Golden site test: builds tests/sites/NAME/src into a temp folder and
# compares the whole tree with tests/sites/NAME/expected (file list and
# bytes). With UPDATE=1 it rewrites expected/ instead (review the diff!).
# Git cannot hold an empty folder: each line of tests/sites/NAME/empty-folders
# names one the test creates in its copy of the source (they must change
# nothing in the output, and the build cache must walk them).
#   run-site.sh PUBLISH SITE_DIR
set -euo pipefail
publish="$1"; site="$2"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
args=()
[ -f "$site/args" ] && read -r -a args < "$site/args"
cp -r "$site/src" "$out/src"
if [ -f "$site/empty-folders" ]; then
  while read -r folder; do [ -n "$folder" ] && mkdir -p "$out/src/$folder"; done < "$site/empty-folders"
fi
"$publish" build -s "$out/src" -d "$out/_site" -q -j 2 --no-cache "${args[@]}"
if [ "${UPDATE:-}" = 1 ]; then
  rm -rf "$site/expected"; cp -r "$out/_site" "$site/expected"; echo "updated $site/expected"; exit 0
fi
diff -r "$site/expected" "$out/_site"
# A second build must change nothing and keep every mtime.
find "$out/_site" -type f -printf '%P %T@\n' | sort > "$out/before"
"$publish" build -s "$out/src" -d "$out/_site" -q -j 1 --no-cache "${args[@]}"
find "$out/_site" -type f -printf '%P %T@\n' | sort > "$out/after"
diff "$out/before" "$out/after"
# Output must not depend on the number of worker threads.
"$publish" build -s "$out/src" -d "$out/j8" -q -j 8 --no-cache "${args[@]}"
diff -r "$out/_site" "$out/j8"
# With the build cache (it fingerprints every source folder, empty ones
# too): twice, the second a no-op rebuild, both the same output.
"$publish" build -s "$out/src" -d "$out/cached" -q "${args[@]}"
"$publish" build -s "$out/src" -d "$out/cached" -q "${args[@]}"
diff -r "$out/_site" "$out/cached"
echo "1 passed, 0 failed"
