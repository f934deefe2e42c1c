-- highlight: syntax highlighting of fenced code at build time, on the
-- Markdown tree (`document` hook). A code block whose fence names a
-- language (```python) becomes
--   <pre class="highlight"><code class="language-python">…tokens…</code></pre>
-- with the tokens as <span class="k">-style elements (publish.highlight:
-- GNU source-highlight, Pygments/Rouge class names, results kept in the
-- build cache). No language, or one the highlighter does not know, leaves
-- the block as cmark writes it: plain, no error.
--
-- Line numbers: config `highlight: {linenos: true}` for every block, or
-- per block after the language: ```ruby linenos (from 1) or
-- ```ruby linenos=10 (from 10); `linenos=false` turns them off for one block.
--
-- The markup is made by the plugin, so it is a custom_block (written
-- whether or not the site lets raw HTML through).
--
-- A block with a line over 1,000 bytes or over 100 KB in all (minified
-- code pasted in a post) is left plain with a warning naming the post and
-- the block's line: the highlighter's time grows with the square of a
-- line's length.

local highlight = {}

-- Config keys this plugin reads (checked by the engine; docs/lua-api.md).
highlight.config = {
  highlight = { type = "map", keys = {
    linenos = { type = "boolean", default = false, doc = "line numbers on every code block" },
  } },
}

-- The hook's result depends only on the post, the config and this code:
-- the engine may keep it in the build cache (docs/lua-api.md).
highlight.document_cache = true

local linenos_default = false

-- config.highlight.linenos (its type is checked before any hook runs, by
-- the declaration above).
function highlight.setup(site)
  local config = site.config.highlight
  linenos_default = type(config) == "table" and config.linenos == true
  -- Ask the engine to highlight fenced code on its worker threads, into
  -- the build cache, while the hooks run on earlier posts: the calls
  -- below then find their blocks there (docs/lua-api.md).
  highlight.highlight_ahead = { linenos = linenos_default }
end

-- The line-number option of a fence's info string ("ruby linenos=10"):
-- true, false, an integer, or `default` when the info does not say.
function highlight.linenos(info, default)
  for word in (info or ""):gmatch("%S+") do
    if word == "linenos" or word == "linenos=true" then return true end
    if word == "linenos=false" then return false end
    local n = word:match("^linenos=(%d+)$")
    if n and tonumber(n) >= 1 and tonumber(n) <= 1000000000 then return math.tointeger(tonumber(n)) end
  end
  return default
end

-- The HTML of a highlighted block; nil when `lang` is not highlighted,
-- nil and why when the block could not be.
function highlight.block(code, lang, linenos)
  local html, err = publish.highlight(code, lang, { linenos = linenos or false })
  if not html then return nil, err end
  return '<pre class="highlight"><code class="language-' .. publish.html.escape(lang) .. '">'
    .. html .. "</code></pre>"
end

function highlight.document(doc, post)
  doc:walk {
    code_block = function(node)
      local lang = node.lang
      if not lang then return nil end
      local html, err = highlight.block(node.literal, lang, highlight.linenos(node.info, linenos_default))
      if err then
        publish.log.warn(tostring(post.path) .. ":" .. tostring(node.line) .. ": '" .. lang
          .. "' code block left plain: " .. err)
      end
      if not html then return nil end
      return publish.node.new("custom_block", { on_enter = html, on_exit = "" })
    end,
  }
end

return highlight
