-- The Liquid conformance suite: each tests/liquid/cases/NAME.txt holds
-- cases, each a template, its variables (YAML) and the exact output, or
-- the exact error (FILE:LINE:COL: message). Run by the real binary as a
-- bulk-edit script over tests/liquid/site (whose _includes/ the include
-- cases use), with the bundled plugins:
--
--   publish run tests/liquid/run.lua -s tests/liquid/site -q -- tests/liquid/cases/NAME.txt
--
-- Case file format (a line starting with "===" opens a section):
--
--   === case NAME        the template follows (up to the next "===")
--   === vars             YAML; optional
--   === output           the exact output; or
--   === error            the exact error message
--
-- Blank lines at the end of a section are not part of it (they separate
-- cases); a case that must end in a newline says so with a visible mark.

local liquid = require "liquid"

local file = ...
assert(file, "usage: run.lua CASES.txt")
local f = assert(io.open(file, "rb"))
local text = f:read("a")
f:close()

-- Split into cases.
local cases, current, section = {}, nil, nil
local line_no = 0
for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)\n") do
  line_no = line_no + 1
  local head, arg = line:match("^=== (%a+)%s*(.-)%s*$")
  if head == "case" then
    current = { name = arg, line = line_no, parts = {} }
    cases[#cases + 1] = current
    section = "template"
    current.parts[section] = {}
  elseif head and current then
    section = head
    current.parts[section] = {}
  elseif current then
    local p = current.parts[section]
    p[#p + 1] = line
  end
end

local function part(c, name)
  local lines = c.parts[name]
  if not lines then return nil end
  local n = #lines
  while n > 0 and lines[n] == "" do n = n - 1 end
  return table.concat(lines, "\n", 1, n)
end

-- The site the tags and filters see: site.posts and site.pages of the
-- bulk-edit site, url and baseurl from the case's vars (key `site`).
local site = site -- luacheck: ignore (the run script's global)
liquid.setup(site)

local passed, failed = 0, 0
for _, c in ipairs(cases) do
  local template = part(c, "template") or ""
  local vars = {}
  local yaml = part(c, "vars")
  if yaml and yaml:find("%S") then vars = publish.yaml.load(yaml, file) or {} end
  if type(vars.site) == "table" then
    for k, v in pairs(vars.site) do site.config[k] = v; site[k] = v end
    vars.site = nil
  end
  local ok, out = pcall(liquid.render_string, template, vars, "case")
  local want_out, want_err = part(c, "output"), part(c, "error")
  local got
  if ok then got = out else got = type(out) == "table" and out.message or tostring(out) end
  local want = want_out or want_err
  if want_err and ok then
    failed = failed + 1
    print(string.format("FAIL %s:%d %s: expected an error\n  want: %q\n  got output: %q",
      file, c.line, c.name, want_err, got))
  elseif want_out and not ok then
    failed = failed + 1
    print(string.format("FAIL %s:%d %s: unexpected error\n  %s", file, c.line, c.name, got))
  elseif got ~= want then
    failed = failed + 1
    print(string.format("FAIL %s:%d %s\n  want: %q\n  got:  %q", file, c.line, c.name, want, got))
  else
    passed = passed + 1
  end
end
print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 or passed == 0 then error("liquid conformance: " .. failed .. " failed", 0) end
