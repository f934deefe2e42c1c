#!/usr/bin/env bash
# jekyll.compare: builds each comparison site with publish and with
# Debian's Jekyll 4.3 and compares them page by page (compare.py). The
# minima blog gets the installed jekyll-theme-minima's layouts, includes
# and Sass copied in first, as a user who copies a theme into a site would.
#   run.sh PUBLISH REPO_ROOT SITE
set -euo pipefail
publish="$1"; root="$2"; site="$3"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/$site" "$work/site"
rm -rf "$work/site/_site"
if [ "$(basename "$site")" = minima-blog ]; then
  theme="$(ls -d /usr/share/rubygems-integration/all/gems/minima-* | head -1)"
  cp -r "$theme/_layouts" "$theme/_includes" "$theme/_sass" "$theme/assets" "$work/site/"
fi
python3 "$root/tests/jekyll-compare/compare.py" "$publish" "$work/site"
