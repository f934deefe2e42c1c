#!/usr/bin/env bash
# The engine libraries the bundled plugins share (publish.urls,
# publish.pager) cannot be shadowed by a site plugin: a site with its own
# plugins/urls.lua and plugins/pager.lua (both raising) still builds its
# feed, sitemap, categories and home pages; a site plugin may require
# them by their "publish." names; and a site plugin named "urls" is still
# the site's own when listed in config.yaml.
#   engine-libraries.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$work/site"
mkdir -p "$src/plugins" "$src/posts"
printf 'title: T\nurl: https://example.org\nplugins: [categories, paginate, feed, sitemap, probe]\n' > "$src/config.yaml"
printf -- '---\ntitle: Hello\ncategories: [뉴스]\n---\nBody.\n' > "$src/posts/2024-01-02-hello.md"
echo 'error("site urls.lua must not be loaded")' > "$src/plugins/urls.lua"
echo 'error("site pager.lua must not be loaded")' > "$src/plugins/pager.lua"
cat > "$src/plugins/probe.lua" <<'EOF'
local urls = require "publish.urls"
local pager = require "publish.pager"
return {
  site = function(site)
    site:add_page { url = "/probe.txt", layout = false,
      content = urls.encode("/categories/뉴스/") .. " " .. tostring(pager.per_page({ paginate = 3 })) }
  end,
}
EOF
out="$("$publish" build -s "$src" -q 2>&1)"; rc=$?
check "builds with site urls.lua and pager.lua present (exit $rc: $out)" [ "$rc" -eq 0 ]
check "feed written" [ -f "$src/_site/feed.xml" ]
check "sitemap written" [ -f "$src/_site/sitemap.xml" ]
check "category page written" [ -f "$src/_site/categories/뉴스/index.html" ]
check "a site plugin requires publish.urls and publish.pager" \
  [ "$(cat "$src/_site/probe.txt" 2>/dev/null)" = "/categories/%EB%89%B4%EC%8A%A4/ 3" ]

# Listed by name, the site's own urls.lua is the plugin that runs.
printf 'title: T\nplugins: [urls]\n' > "$src/config.yaml"
out="$("$publish" build -s "$src" -q 2>&1)"; rc=$?
check "site plugin 'urls' is the site's own (exit $rc)" [ "$rc" -eq 1 ]
check "its error names plugins/urls.lua" grep -q "^plugins/urls.lua:1:1: error: .*site urls.lua must not be loaded" <<<"$out"
finish
