-- The highlight plugin's own rules (the HTML it makes is checked by the
-- golden sites tests/sites/highlight*): line-number options in fence info
-- strings, its config, and the block markup.
--   publish run tests/lua/test_highlight_plugin.lua -s tests/lua/site -q

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
local check = dofile(here .. "/plugin_check.lua")
local highlight = require "highlight"

-- Info strings: the first word is the language; linenos after it.
check.eq(highlight.linenos("ruby", false), false, "no option: the default")
check.eq(highlight.linenos("ruby", true), true, "no option: the default (on)")
check.eq(highlight.linenos("ruby linenos", false), true, "linenos")
check.eq(highlight.linenos("ruby linenos=true", false), true, "linenos=true")
check.eq(highlight.linenos("ruby linenos=false", true), false, "linenos=false")
check.eq(highlight.linenos("ruby  linenos=10 {.x}", false), 10, "linenos=N")
check.eq(highlight.linenos("ruby linenos=0", false), false, "linenos=0 is not a start")
check.eq(highlight.linenos("ruby linenos=x", false), false, "linenos=x is ignored")
check.eq(highlight.linenos(nil, true), true, "no info")

-- The block markup; the language is escaped into the class.
check.eq(highlight.block("x = 1\n", "python"),
  '<pre class="highlight"><code class="language-python">x <span class="o">=</span> <span class="m">1</span>\n</code></pre>',
  "a python block")
check.eq(highlight.block("x", "klingon"), nil, "unknown language: nil")
check.eq(highlight.block("x\n", "Python", 3),
  '<pre class="highlight"><code class="language-Python"><span class="linenos">3</span>x\n</code></pre>',
  "line numbers from 3; class as written")

-- A block over the highlighter's bounds stays plain, with a warning that
-- names the post and the block's line.
do
  local long = ("x"):rep(1001)
  local html, err = highlight.block(long .. "\n", "c")
  check.eq(html, nil, "too long a line: no HTML")
  check.eq(err, "line 1 is longer than 1000 bytes", "and why")
  local doc = publish.node.parse("Text\n\n```c\n" .. long .. "\n```\n\n```c\nint x;\n```\n")
  local warnings = check.warnings(function() highlight.document(doc, { path = "posts/2024-01-01-x.md" }) end)
  check.eq(#warnings, 1, "one warning")
  check.eq(warnings[1], "posts/2024-01-01-x.md:3: 'c' code block left plain: line 1 is longer than 1000 bytes",
    "the warning names the post and the block's line")
  local blocks = doc.children
  check.eq(blocks[2].type, "code_block", "the long block stays a code block")
  check.eq(blocks[3].type, "custom_block", "the next block is highlighted")
end

-- Config: highlight.linenos turns numbers on for blocks that do not say
-- (its type is checked by the config schema, tests/bad/highlight-config).
highlight.setup { config = { highlight = { linenos = true } } }
check.ok(highlight.block("x\n", "c"):find('<span class="linenos">', 1, true) == nil,
  "block() itself takes the option it is given")
check.eq(highlight.linenos("c", true), true, "the default from config applies")
highlight.setup { config = {} }

check.done()
