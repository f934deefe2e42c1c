#!/usr/bin/env bash
# The first hour with publish (issue 11): each trap a new user meets gives
# its exact message and exit status and writes nothing.
#   first-hour.sh PUBLISH REPO_ROOT
set -uo pipefail
publish="$1"; root="$2"
source "$root/tests/cli/lib.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export TZ=UTC
mkdir "$work/t" # the test's own files

# What a folder holds, to show a failed command wrote nothing. (The build
# cache may appear: Markdown is rendered, and cached, before the config
# is checked; it is not output.)
tree() { (cd "$1" && find . -path ./t -prune -o -path ./.publish-cache -prune -o -print | sort); }

# A site is a site: a folder without config.yaml (a site's posts/, the
# repository root) is refused by every command, and nothing is written.
mkdir -p "$work/site/posts"
printf 'title: T\n' > "$work/site/config.yaml"
printf -- '---\ntitle: A\n---\nHi\n' > "$work/site/posts/2024-01-02-a.md"
tree "$work" > "$work/t/before"
for cmd in build check serve "run $work/noop.lua" "new Title"; do
  (cd "$work/site/posts" && "$publish" $cmd) > "$work/t/out" 2> "$work/t/err"
  check "'$cmd' outside a site exits 1" test $? -eq 1
  check "'$cmd' outside a site says why" \
    diff <(printf ".: error: no config.yaml here (is this the site's folder?)\n") \
         <(grep -v '^publish: ' "$work/t/err")
done
"$publish" build -s "$work/site/posts" 2> "$work/t/err"
check "build -s posts exits 1" test $? -eq 1
check "build -s posts names the folder" \
  grep -qx "$work/site/posts: error: no config.yaml here (is this the site's folder?)" "$work/t/err"
tree "$work" > "$work/t/after"
check "nothing was written outside a site" diff "$work/t/before" "$work/t/after"

# A small good site for the mistakes below: each is made in a fresh copy.
good="$work/t/good"
mkdir -p "$good/posts" "$good/layouts" "$good/pages"
printf 'title: T\nplugins: [template, excerpt, paginate, feed]\n' > "$good/config.yaml"
printf -- '---\ntitle: A\n---\nHi\n' > "$good/posts/2024-01-02-a.md"
printf -- '---\ntitle: About\n---\nMe\n' > "$good/pages/about.md"
for l in post page home archive; do printf '<main>{{ content | raw }}</main>\n' > "$good/layouts/$l.html"; done
"$publish" check -s "$good" > /dev/null 2> "$work/t/err"
check "the good site checks clean" test $? -eq 0 -a ! -s "$work/t/err"

# mistake DESCRIPTION EXPECTED_STDERR SETUP_COMMAND...: in a fresh copy of
# the good site changed by SETUP, `check` and `build` fail with exit 1 and
# exactly EXPECTED (plus the summary line), and nothing is written.
n=0
mistake() {
  local what="$1" expected="$2"; shift 2
  n=$((n + 1)); local site="$work/m$n"
  cp -r "$good" "$site"
  (cd "$site" && "$@")
  tree "$site" > "$work/t/before"
  "$publish" check -s "$site" > "$work/t/out" 2> "$work/t/err"
  check "$what: check exits 1" test $? -eq 1
  check "$what: check says so" diff <(printf '%s\n' "$expected") <(grep -v '^publish: ' "$work/t/err")
  "$publish" build -s "$site" > "$work/t/out" 2> "$work/t/err"
  check "$what: build exits 1" test $? -eq 1
  check "$what: build says so" diff <(printf '%s\n' "$expected") <(grep -v '^publish: ' "$work/t/err")
  tree "$site" > "$work/t/after"
  check "$what: nothing written" diff "$work/t/before" "$work/t/after"
}
config() { printf '%s\n' "$@" >> config.yaml; }
post() { printf -- "---\n$1---\nBody\n" > posts/2024-03-04-b.md; }

# Config values of the wrong type: an error at the value.
mistake "paginate: five" "config.yaml:3:11: error: 'paginate' must be an integer or false, not 'five'" \
  config 'paginate: five'
mistake 'paginate: "x"' "config.yaml:3:11: error: 'paginate' must be an integer or false, not 'x'" \
  config 'paginate: "x"'
mistake "markdown: {unsafe: no}" "config.yaml:3:20: error: 'markdown.unsafe' must be true or false, not 'no'" \
  config 'markdown: {unsafe: no}'
mistake "title: [a, b]" "config.yaml:1:8: error: 'title' must be a string or a number, not a list" \
  sed -i 's/^title: T$/title: [a, b]/' config.yaml
mistake "timezone: [a]" "config.yaml:3:11: error: 'timezone' must be a string, not a list" \
  config 'timezone: [a]'
mistake "destination: [a]" "config.yaml:3:14: error: 'destination' must be a string, not a list" \
  config 'destination: [a]'
mistake "excerpt_length: [1]" "config.yaml:3:17: error: 'excerpt_length' must be an integer or false, not a list" \
  config 'excerpt_length: [1]'
mistake "feed limit 0, feed path typo" "config.yaml:4:10: error: 'feed.limit' must be at least 1, not 0
config.yaml:5:3: warning: unknown key 'feed.paht'; did you mean 'feed.path'?" \
  config 'feed:' '  limit: 0' '  paht: /x.xml'

# Unknown config keys: a warning, with the nearest known key; the build
# goes on.
cp -r "$good" "$work/w1"
printf 'paginat: 5\nsocial: x\n' >> "$work/w1/config.yaml"
"$publish" check -s "$work/w1" > /dev/null 2> "$work/t/err"
check "unknown keys do not fail check" test $? -eq 0
check "unknown keys are named, with a suggestion" diff <(printf '%s\n' \
  "config.yaml:3:1: warning: unknown key 'paginat'; did you mean 'paginate'?" \
  "config.yaml:4:1: warning: unknown key 'social' (no plugin reads it; declare a key of your own under 'schema: {config: ...}')") \
  "$work/t/err"
# A key of the site's own, declared in schema.config, is known and typed.
printf 'paginate: 5\nsocial: x\nschema: {config: {social: string}}\n' > "$work/w1/extra"
sed -i '3,$d' "$work/w1/config.yaml"; cat "$work/w1/extra" >> "$work/w1/config.yaml"
"$publish" check -s "$work/w1" > /dev/null 2> "$work/t/err"
check "a declared key of the site's own is no warning" test $? -eq 0 -a ! -s "$work/t/err"

# Front matter the engine reads: wrong types are errors at the value; a
# near miss of a key is a warning.
mistake "front matter types" "posts/2024-03-04-b.md:2:8: error: 'title' must be a string, not a list
posts/2024-03-04-b.md:3:7: error: 'date' must be a date like 2024-06-19 or 2024-06-19 09:30:00 +09:00, not a list
posts/2024-03-04-b.md:4:1: warning: unknown key 'categroies'; did you mean 'categories'?
posts/2024-03-04-b.md:5:12: error: 'published' must be true or false, not 'maybe'
posts/2024-03-04-b.md:6:9: error: 'layout' must be a layout name or false, not 3" \
  post 'title: [A]\ndate: [1]\ncategroies: [a]\npublished: maybe\nlayout: 3\n'

# The site's own front-matter schema: every violation at once.
mistake "site schema" "config.yaml:3:87: error: schema rule 'posts.n': unknown type 'integr'; did you mean 'integer'? (known: string, integer, number, boolean, list, map, date, any)
posts/2024-01-02-a.md:1:1: error: 'image' is required (schema.posts)
posts/2024-03-04-b.md:1:1: error: 'image' is required (schema.posts)
posts/2024-03-04-b.md:2:7: error: 'mood' must be one of 'happy', 'sad', not 'hapy'; did you mean 'happy'?
posts/2024-03-04-b.md:3:8: error: 'words' must be an integer, not 'many'" \
  sh -c "printf '%s\n' 'schema: {posts: {image: {type: string, required: true}, mood: {values: [happy, sad]}, n: {type: integr}, words: integer}}' >> config.yaml &&
         printf -- '---\nmood: hapy\nwords: many\n---\nBody\n' > posts/2024-03-04-b.md"

# A rule whose type names nothing ("" or "|") is the rule's error, not a
# crash when a post has the key.
mistake "site schema, empty type" "config.yaml:3:18: error: schema rule 'posts.image': 'type' must be a type name like string, integer, list" \
  sh -c "printf '%s\n' 'schema: {posts: {image: \"|\"}}' >> config.yaml &&
         printf -- '---\nimage: x\n---\nBody\n' > posts/2024-03-04-b.md"

# Plugins: a misspelt hook never runs, so it is an error; a plugin that
# does not exist is one line naming where plugins are looked for.
mistake "a hook with a typo" "plugins/shout.lua:2:1: error: 'posts' is not a hook; did you mean 'post'?" \
  sh -c "mkdir plugins && printf 'return {\n  posts = function(post) post.title = \"!\" end,\n  helper = function() end,\n}\n' > plugins/shout.lua &&
         sed -i 's/^plugins: \[template,/plugins: [shout, template,/' config.yaml"
mistake "an unknown plugin" "config.yaml:2:21: error: no plugin 'excerp' (plugins/ or bundled); did you mean 'excerpt'?" \
  sed -i 's/excerpt,/excerp,/' config.yaml
mistake "an unknown site plugin" "config.yaml:2:46: error: no plugin 'reading-tme' (plugins/ or bundled); did you mean 'reading-time'?" \
  sh -c "mkdir plugins && echo 'return {}' > plugins/reading-time.lua &&
         sed -i 's/feed\]/feed, reading-tme]/' config.yaml"

# The example site uses every bundled plugin's keys: no warning at all.
"$publish" check -s "$root/site" > /dev/null 2> "$work/t/err"
check "the example site checks clean" test $? -eq 0
check "the example site has no warnings" diff /dev/null "$work/t/err"

# Help: an overview, and a page per command (usage, options, an example),
# the same through `help COMMAND` and `COMMAND --help`.
"$publish" help > "$work/t/out"; check "help exits 0" test $? -eq 0
check "help lists the commands" grep -q '^  run SCRIPT ' "$work/t/out"
"$publish" --help | diff - "$work/t/out" > /dev/null
check "--help is the overview" test $? -eq 0
for cmd in build check serve run new help; do
  "$publish" help "$cmd" > "$work/t/out"; check "help $cmd exits 0" test $? -eq 0
  check "help $cmd starts with its usage" grep -q "^usage: publish .*$( [ $cmd = build ] && echo build || echo $cmd)" <(head -1 "$work/t/out")
  check "help $cmd has an example" grep -q '^example:$' "$work/t/out"
  if [ "$cmd" != help ]; then
    check "help $cmd lists -s" grep -q -- '-s, --source SRC' "$work/t/out"
    "$publish" "$cmd" --help | diff - "$work/t/out" > /dev/null
    check "$cmd --help is help $cmd" test $? -eq 0
  fi
done
check "build's page has build's options" grep -q -- '--clean' <("$publish" help build)
check "serve's page has serve's options" grep -q -- '--port N' <("$publish" help serve)
check "run's page says where options go" grep -q "after '--' everything goes to the" <("$publish" help run)

# Usage errors: one line, exit 2.
"$publish" help frob > /dev/null 2> "$work/t/err"; check "help of an unknown command exits 2" test $? -eq 2
check "help of an unknown command: one line" diff <(echo "publish: error: unknown command 'frob' (see 'publish help')") "$work/t/err"
"$publish" serve --nope 2> "$work/t/err"; check "an unknown option exits 2" test $? -eq 2
check "an unknown option: one line, pointing at the command's help" \
  diff <(echo "publish: error: unknown option '--nope' (see 'publish help serve')") "$work/t/err"

# run: a bundled script by name; its --help; its usage error (one line,
# exit 2, no traceback); run's options taken wherever they stand.
"$publish" run retag --help > "$work/t/out"; check "a script's --help exits 0" test $? -eq 0
check "a script's --help prints its usage" grep -qx 'usage: publish run retag \[-s SRC\] \[--dry-run\] -- OLD NEW' "$work/t/out"
cp -r "$good" "$work/r1"
printf -- '---\ntitle: B\ncategories: [News]\n---\nB\n' > "$work/r1/posts/2024-01-05-b.md"
tree "$work/r1" > "$work/t/before"
"$publish" run retag -s "$work/r1" -- News > /dev/null 2> "$work/t/err"
check "a script's usage error exits 2" test $? -eq 2
check "a script's usage error is one line" \
  diff <(echo "publish: usage: publish run retag -- OLD NEW (see 'publish run retag --help')") "$work/t/err"
"$publish" run retag News 뉴스 -s "$work/r1" --dry-run > "$work/t/out" 2> /dev/null
check "--dry-run after the script's arguments is run's" grep -q '^publish: dry run, would be: 1 changed' "$work/t/out"
tree "$work/r1" > "$work/t/after"
check "usage error and dry run changed nothing" diff "$work/t/before" "$work/t/after"
check "the post is untouched" grep -q '^categories: \[News\]$' "$work/r1/posts/2024-01-05-b.md"
"$publish" run retag -s "$work/r1" -q -- News 뉴스
check "a bundled script runs by name" grep -q '^  - 뉴스$' "$work/r1/posts/2024-01-05-b.md"
"$publish" run nosuch -s "$work/r1" 2> "$work/t/err"
check "an unknown script exits 1" test $? -eq 1
check "an unknown script names the bundled ones" \
  grep -qx "nosuch: error: no such script (a file, or a bundled one: dates, feature-image, jekyll-import, retag, set)" "$work/t/err"

# Clear messages: a layout typo names the nearest layout; an impossible
# date in a file name says so; a tab in YAML indentation is explained.
mistake "a layout typo" "posts/2024-03-04-b.md:2:9: error: unknown layout 'pots'; did you mean 'post'?" \
  post 'layout: pots\n'
mistake "an impossible date" "posts/2025-02-30-x.md:1:1: error: invalid date '2025-02-30' in the file name" \
  sh -c "printf -- '---\ntitle: X\n---\nX\n' > posts/2025-02-30-x.md"
mistake "a tab in front matter" "posts/2024-03-04-b.md:3:1: error: a tab indents this line: YAML is indented with spaces only" \
  post 'tags:\n\t- a\n'
mistake "a tab in config" "config.yaml:4:1: error: a tab indents this line: YAML is indented with spaces only" \
  config 'feed:' '	limit: 3'

# The summary line says what was left out and how to include it.
cp -r "$good" "$work/s1"
printf -- '---\ntitle: D\ndraft: true\n---\nD\n' > "$work/s1/posts/2024-01-03-d.md"
printf -- '---\ntitle: F\n---\nF\n' > "$work/s1/posts/2999-01-01-f.md"
printf -- '---\ntitle: G\n---\nG\n' > "$work/s1/posts/2999-01-02-g.md"
"$publish" build -s "$work/s1" > "$work/t/out"
check "skipped drafts and future posts are counted" \
  grep -Eq "^publish: .* in [0-9.]+ s; 1 draft, 2 future posts skipped \(--drafts / --future to include\)$" "$work/t/out"
"$publish" build -s "$work/s1" --future --no-cache > "$work/t/out"
check "with --future only the draft is left" \
  grep -Eq " s; 1 draft skipped \(--drafts to include\)$" "$work/t/out"
"$publish" check -s "$work/s1" --drafts --future > "$work/t/out"
check "nothing skipped: no note" grep -Eq "no errors \([0-9.]+ s\)$" "$work/t/out"

# The README stands alone: nothing points outside the repository, and the
# packages it names are the ones the setup script installs.
check "the README and docs link nothing outside the repository" \
  bash -c "! grep -rnE '\]\(\.\./|\.\./shared/|DESIGN\.md|STYLE\.md' '$root/README.md' '$root/docs'"
setup_packages="$(sed -n 's/^PUB_PACKAGES=(\(.*\))$/\1/p' "$root/scripts/setup.sh")"
readme_packages="$(tr '\n' ' ' < "$root/README.md" | sed -n 's/.*are missing (`\([^`]*\)`.*/\1/p' | tr -s ' ')"
check "the README's package list is PUB_PACKAGES" test -n "$setup_packages" -a "$setup_packages" = "$readme_packages"
check "docs/design.md exists" test -s "$root/docs/design.md"

finish
