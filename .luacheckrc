-- luacheck configuration (Debian package lua-check). scripts/test runs
--   luacheck plugins core/lua scripts/edit tests/lua site/plugins bench/publish-site/plugins tests/liquid
-- and fails on any warning. Keep Lua warning-free: fix the code, or, for
-- a deliberate exception, say why in a comment next to an inline
-- `-- luacheck: ignore CODE`.
std = "lua54"
codes = true
-- Long lines are mostly test data and messages; 120 is the limit for code.
max_line_length = 120
max_string_line_length = false
max_comment_line_length = false

-- Every chunk the engine runs sees the `publish` library.
read_globals = { "publish" }

-- Bulk-edit scripts (and the Lua tests, which are run as scripts) also get
-- the loaded site.
files["scripts/edit"] = { read_globals = { "site" } }
-- the loaded site. Tests hold long expected strings, and replace
-- publish.log.warn to capture warnings.
files["tests/lua"] = { read_globals = { "site" }, globals = { "publish" }, max_line_length = false }
