#!/usr/bin/env bash
# libmicrohttpd and libsass are loaded when a run needs them, not linked:
# a build with no Sass runs even where both libraries are broken, and a
# run that needs a broken one says which library and what is wrong with
# it (exit 1, nothing written). The broken libraries are empty shared
# objects under the real sonames, found first through LD_LIBRARY_PATH.
#   lazy-libraries.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
command -v cc > /dev/null || exit 77
mkdir "$work/libs"
echo 'int pub_test_nothing_here;' > "$work/empty.c"
for soname in libmicrohttpd.so.12 libsass.so.1; do
  if ! cc -shared -fPIC -o "$work/libs/$soname" "$work/empty.c"; then
    echo "FAIL: cannot make the empty $soname" >&2
    exit 1
  fi
done
broken() { LD_LIBRARY_PATH="$work/libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }

src="$work/site"
example_site "$src"
broken "$publish" build -s "$src" -d "$work/out" -q 2> "$work/err"
check "a build without Sass runs with both libraries broken" test $? -eq 0
check "...and says nothing" test ! -s "$work/err"
check "...and writes the site" test -f "$work/out/index.html"

printf -- '---\n---\nbody { color: red; }\n' > "$src/static/site.scss"
broken "$publish" build -s "$src" -d "$work/sass-out" -q 2> "$work/err"
check "a build with Sass and a broken libsass fails" test $? -eq 1
check "...naming the library and what it lacks" \
  grep -q "^static/site.scss: error: libsass has no 'sass_alloc_memory'" "$work/err"
check "...and writes nothing" test ! -e "$work/sass-out"
rm "$src/static/site.scss"

port=$((20000 + RANDOM % 20000))
broken "$publish" serve -s "$src" --port "$port" > "$work/serve.out" 2> "$work/err"
check "serve with a broken libmicrohttpd exits 1" test $? -eq 1
check "...naming the library and what it lacks" \
  grep -q "error: serve needs libmicrohttpd: 'MHD_start_daemon' is missing from it" "$work/err"
finish
