-- publish.node: reading the cmark-gfm tree (types, fields, positions,
-- children), changing it (fields, unlink, replace, insert, append, new
-- nodes of every type, attributes), walk in the manner of Pandoc filters,
-- and the errors, with their exact messages.
--   publish run tests/lua/test_node.lua -s tests/lua/site -q

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
local check = dofile(here .. "/plugin_check.lua")
local node = publish.node

local function err_of(fn, ...)
  local ok, e = pcall(fn, ...)
  if ok then return "no error" end
  return (tostring(e):gsub("^[^:]+:%d+: ", ""))
end

-- Reading.
do
  local doc = node.parse("# Hi *there*\n\nSee [a](http://a.org \"T\") and ![i](x.png).\n\n" ..
    "```lua {.x}\nprint(1)\n```\n\n3. one\n4. two\n\n- [ ] todo\n- [x] done\n\n" ..
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~gone~~ www.b.org note[^1]\n\n[^1]: note\n")
  check.eq(doc.type, "document", "root type")
  local types = {}
  for _, c in ipairs(doc.children) do types[#types + 1] = c.type end
  check.eq(table.concat(types, " "), "heading paragraph code_block list list table paragraph footnote_definition",
    "block types in order")
  local h = doc.first_child
  check.eq(h.level, 1, "heading level")
  check.eq(h.text, "Hi there", "heading text through inline markup")
  check.eq(h.line, 1, "heading line")
  check.eq(h.column, 1, "heading column")
  check.eq(h.first_child.next.type, "emph", "emph inside heading")
  check.eq(h.first_child.next.parent, h, "parent is the same node (==)")
  local p = h.next
  local link = p.first_child.next
  check.eq(link.type, "link", "link type")
  check.eq(link.url, "http://a.org", "link url")
  check.eq(link.title, "T", "link title")
  check.eq(link.text, "a", "link text")
  check.eq(link.line .. ":" .. link.column, "3:5", "link position")
  local img = link.next.next
  check.eq(img.type .. " " .. img.url .. " " .. img.title, "image x.png ", "image with empty title")
  local code = p.next
  check.eq(code.info, "lua {.x}", "fence info")
  check.eq(code.lang, "lua", "fence language")
  check.eq(code.literal, "print(1)\n", "code literal")
  local ol = code.next
  check.eq(ol.list_type .. " " .. ol.start .. " " .. tostring(ol.tight) .. " " .. ol.delim,
    "ordered 3 true period", "ordered list data")
  local tasks = ol.next
  check.eq(tasks.first_child.checked, false, "unchecked task")
  check.eq(tasks.last_child.checked, true, "checked task")
  check.eq(ol.first_child.checked, nil, "plain item has no checked")
  local tbl = tasks.next
  check.eq(table.concat(tbl.alignments, ","), "left,right", "table alignments")
  check.eq(tbl.first_child.header, true, "header row")
  check.eq(tbl.last_child.header, false, "body row")
  check.eq(tbl.last_child.last_child.type .. " " .. tbl.last_child.last_child.text, "table_cell 2", "cell")
  tbl.alignments = { "center", "none" }
  check.eq(table.concat(tbl.alignments, ","), "center,none", "alignments changed")
  check.eq(err_of(function() tbl.alignments = { "left" } end),
    "node field 'alignments' must list the table's 2 columns", "alignments of another width")
  local last = tbl.next
  check.eq(last.first_child.type, "strikethrough", "strikethrough node")
  check.eq(last.first_child.next.next.type, "link", "autolink is a link")
  check.eq(last.last_child.type, "footnote_reference", "footnote reference")
  check.eq(tostring(h), "publish.Node (heading)", "tostring")
  check.eq(h.nothing, nil, "unknown field reads nil")
  check.eq(getmetatable(h), false, "metatable is hidden")
end

-- Changing fields; render shows the result.
do
  local doc = node.parse("# Old\n\n[x](/a)\n")
  local h = doc.first_child
  h.level = 3
  h.first_child.literal = "New"
  local link = h.next.first_child
  link.url = "/b"
  link.title = "B"
  check.eq(doc:render(), "<h3>New</h3>\n<p><a href=\"/b\" title=\"B\">x</a></p>\n", "fields changed")
  check.eq(err_of(function() h.level = 7 end), "node field 'level' must be an integer from 1 to 6", "bad level")
  check.eq(err_of(function() h.url = "x" end), "a 'heading' node has no field 'url' to set", "no url on heading")
  check.eq(err_of(function() link.url = 5 end), "node field 'url' must be a string (got number)", "url type")
  check.eq(err_of(function() doc.first_child.type = "x" end), "a 'heading' node has no field 'type' to set",
    "type is read-only")
end

-- Unlink, replace, insert, append, prepend, new nodes of every kind.
do
  local doc = node.parse("a\n\nb\n\nc\n")
  local a, b, c = doc.children[1], doc.children[2], doc.children[3]
  b:unlink()
  check.eq(b.parent, nil, "unlinked has no parent")
  check.eq(doc:render(), "<p>a</p>\n<p>c</p>\n", "unlink")
  c:insert_before(b)
  check.eq(doc:render(), "<p>a</p>\n<p>b</p>\n<p>c</p>\n", "insert_before puts it back")
  a:replace(node.new("html_block", { literal = "<hr class=\"x\">\n" }))
  check.eq(doc:render(), "<hr class=\"x\">\n<p>b</p>\n<p>c</p>\n", "replace with raw HTML block")
  c:replace { node.new("heading", { level = 2, children = { node.new("text", { literal = "T" }) } }),
    node.new("thematic_break") }
  check.eq(doc:render(), "<hr class=\"x\">\n<p>b</p>\n<h2>T</h2>\n<hr />\n", "replace with a list")
  b:append(node.new("html_inline", { literal = "<br>" }))
  b:prepend(node.new("code", { literal = "x<y" }))
  b.first_child:insert_after(node.new("strong", { children = { node.new("text", { literal = "!" }) } }))
  check.eq(b:render(), "<p><code>x&lt;y</code><strong>!</strong>b<br></p>\n", "append, prepend, insert_after")
  local custom = node.new("custom_block", { on_enter = "<aside>", on_exit = "</aside>" })
  custom:append(node.new("paragraph", { children = { node.new("text", { literal = "in" }) } }))
  doc:append(custom)
  check.eq(custom:render(), "<aside>\n<p>in</p>\n</aside>\n", "custom block with a paragraph")
  local list = node.new("list", { list_type = "ordered", start = 7, tight = true })
  local item = node.new("item", { checked = true })
  item:append(node.new("paragraph", { children = { node.new("text", { literal = "done" }) } }))
  list:append(item)
  check.eq(list:render(), "<ol start=\"7\">\n<li><input type=\"checkbox\" checked=\"\" disabled=\"\" /> done</li>\n</ol>\n",
    "new ordered list with a task item")
  local tbl = node.new("table", { alignments = { "center" } })
  local row = node.new("table_row", { header = true })
  row:append(node.new("table_cell", { children = { node.new("text", { literal = "H" }) } }))
  tbl:append(row)
  check.eq(tbl:render(), "<table>\n<thead>\n<tr>\n<th align=\"center\">H</th>\n</tr>\n</thead>\n</table>\n",
    "new table")
  local cb = node.new("code_block", { info = "c", literal = "int x;\n" })
  check.eq(cb:render(), "<pre><code class=\"language-c\">int x;\n</code></pre>\n", "new code block")
  local s = node.new("strikethrough", { children = { node.new("text", { literal = "s" }) } })
  check.eq(s:render(), "<del>s</del>", "new strikethrough")
  check.eq(node.new("image", { url = "p.png", children = { node.new("text", { literal = "alt" }) } }):render(),
    "<img src=\"p.png\" alt=\"alt\" />", "new image")
  check.eq(node.new("linebreak"):render(), "<br />\n", "new line break")
  check.eq(node.new("softbreak"):render(), "\n", "new soft break")
  check.eq(node.new("emph", { children = { node.new("text", { literal = "e" }) } }):render(), "<em>e</em>", "emph")
  check.eq(node.new("custom_inline", { on_enter = "<kbd>", on_exit = "</kbd>" }):render(), "<kbd></kbd>",
    "custom inline")
  check.eq(node.new("block_quote"):render(), "<blockquote>\n</blockquote>\n", "block quote")
end

-- Insertion errors: what cmark cannot hold is refused with both types named.
do
  local doc = node.parse("para [l](u)\n")
  local para = doc.first_child
  check.eq(err_of(function() para:append(node.new("paragraph")) end),
    "cannot put a 'paragraph' node inside a 'paragraph' node", "block in a paragraph")
  check.eq(err_of(function() para.first_child.next:replace(node.new("heading")) end),
    "cannot put a 'heading' node in the place of a 'link' node in a 'paragraph'", "block for an inline")
  check.eq(err_of(function() doc:append(node.new("text")) end),
    "cannot put a 'text' node inside a 'document' node", "inline in a document")
  check.eq(err_of(function() para:append(doc) end), "cannot put a 'document' node inside a 'paragraph' node",
    "the document inside its own paragraph")
  check.eq(err_of(function() doc:unlink() end), "cannot unlink a document node", "unlink the root")
  check.eq(err_of(function() node.new("heading"):insert_before(node.new("text")) end),
    "cannot insert before a node that is not in a tree", "insert beside a root")
  check.eq(err_of(function() para:replace(5) end), "a replacement must be a node or a list of nodes (got number)",
    "replace with a number")
  check.eq(err_of(function() para:replace { node.new("paragraph"), "x" } end),
    "a replacement list must hold nodes only (item 2 is string)", "replace with a bad list")
  check.eq(err_of(node.new, "parargaph"), "unknown node type 'parargaph'", "unknown type")
  check.eq(err_of(node.new, "text", { url = "x" }), "a 'text' node has no field 'url' to set", "bad field in new")
  check.eq(err_of(function() para:set_attribute("on click", "x") end), "bad attribute name 'on click'",
    "bad attribute name")
  check.eq(err_of(function() para.first_child:set_attribute("id", "x") end),
    "a 'text' node has no HTML tag to carry attributes", "attribute on text")
end

-- Walk: bottom-up, replacement by node or list, {} removes, block/inline fallbacks.
do
  local doc = node.parse("# A\n\nx [l](http://e.org) *y*\n\n> q\n")
  local seen = {}
  doc:walk {
    inline = function(n) seen[#seen + 1] = n.type end,
    block = function(n) seen[#seen + 1] = n.type:upper() end,
  }
  check.eq(table.concat(seen, " "), "text HEADING text text link text text emph PARAGRAPH text PARAGRAPH BLOCK_QUOTE DOCUMENT",
    "bottom-up order, with the fallbacks")
  doc:walk {
    emph = function(e) return e.children end,           -- unwrap: its children take its place
    link = function() return {} end,                   -- removed
    heading = function(h) return node.new("paragraph", { children = h.children }) end,
    block_quote = function(q) return { node.new("thematic_break"), q } end, -- kept, with a rule before
  }
  check.eq(doc:render(), "<p>A</p>\n<p>x  y</p>\n<hr />\n<blockquote>\n<p>q</p>\n</blockquote>\n", "replacements")
  check.eq(err_of(function() doc:walk { lnk = function() end } end), "unknown node type 'lnk' in walk filters",
    "misspelled filter")
  check.eq(err_of(function() doc:walk { link = true } end), "walk filter 'link' must be a function", "filter type")
  check.eq(err_of(function() doc:walk { document = function() return node.new("document") end } end),
    "a 'document' filter cannot replace the document (change it instead)", "document replaced")
  local root = node.new("paragraph", { children = { node.new("text", { literal = "t" }) } })
  check.eq(err_of(function() root:walk { paragraph = function() return {} end } end),
    "cannot replace a 'paragraph' node that is not in a tree", "walk root without a parent")
  -- publish.node.walk is the same as the method.
  local count = 0
  node.walk(doc, { text = function() count = count + 1 end })
  check.eq(count, 5, "publish.node.walk")
end

-- Attributes: on the first tag, class joins, sorted names, escaped values.
do
  local doc = node.parse("# T\n\n[l](http://e.org)\n\n![i](p.png \"t\")\n\n```\nc\n```\n")
  local h, p, ip, cb = table.unpack(doc.children)
  h:set_attribute("id", "t")
  h:set_attribute("class", "a")
  h:set_attribute("class", nil)
  p.first_child:set_attribute("rel", "noopener")
  p.first_child:set_attribute("data-x", "a\"b<c>&")
  ip.first_child:set_attribute("loading", "lazy")
  cb:set_attribute("class", "x")
  check.eq(h:attribute("id"), "t", "attribute read")
  check.eq(h:attribute("class"), nil, "attribute removed")
  local attrs = p.first_child:attributes()
  check.eq(attrs.rel, "noopener", "attributes() copy")
  check.eq(doc:render(), '<h1 id="t">T</h1>\n' ..
    '<p><a href="http://e.org" data-x="a&quot;b&lt;c&gt;&amp;" rel="noopener">l</a></p>\n' ..
    '<p><img src="p.png" alt="i" title="t" loading="lazy" /></p>\n' ..
    '<pre class="x"><code>c\n</code></pre>\n', "attributes rendered")
  check.eq(doc:render(), '<h1 id="t">T</h1>\n' ..
    '<p><a href="http://e.org" data-x="a&quot;b&lt;c&gt;&amp;" rel="noopener">l</a></p>\n' ..
    '<p><img src="p.png" alt="i" title="t" loading="lazy" /></p>\n' ..
    '<pre class="x"><code>c\n</code></pre>\n', "render leaves the tree as it was")
  local cells = node.parse("| a |\n|---|\n| [l](/x) |\n")
  cells:walk { link = function(l) l:set_attribute("rel", "x") end }
  check.ok(cells:render():find('<td><a href="/x" rel="x">l</a></td>', 1, true),
    "attributes in a table cell (which holds no custom node)")
  local fn = node.parse("a[^1]\n\n[^1]: n\n")
  fn.first_child.last_child:set_attribute("class", "extra")
  check.ok(fn:render():find('<sup class="footnote-ref extra">', 1, true), "class joins an existing one")
end

-- Nodes move between fragments; a node from another parse joins this one.
do
  local a = node.parse("one\n")
  local b = node.parse("two\n")
  a:append(b.first_child)
  check.eq(a:render(), "<p>one</p>\n<p>two</p>\n", "moved across fragments")
  check.eq(b:render(), "", "source fragment is empty")
  collectgarbage()
  collectgarbage()
  check.eq(a:render(), "<p>one</p>\n<p>two</p>\n", "still there after a collection")
end

-- A node a filter has moved out from under the walked node by its turn is
-- not visited; without moves every listed node is.
do
  local doc = node.parse("*a* b\n\nc\n")
  local seen = {}
  local function text(t) seen[#seen + 1] = t.literal end
  doc.first_child:walk { text = text }
  check.eq(table.concat(seen, "|"), "a| b", "every text of the paragraph")
  seen = {}
  doc.first_child:walk {
    text = text,
    emph = function(e) doc.last_child:append(e.parent.last_child) end,
  }
  check.eq(table.concat(seen, "|"), "a", "the moved text is not visited")
  check.eq(doc:render(), "<p><em>a</em></p>\n<p>c b</p>\n", "moved")
end

-- A moved node keeps its attributes: the fragment's go with it.
do
  local a = node.parse("one\n")
  local b = node.parse("two\n")
  b.first_child:set_attribute("class", "moved")
  a:append(b.first_child)
  check.eq(a:render(), "<p>one</p>\n<p class=\"moved\">two</p>\n", "attributes moved across fragments")
  check.eq(a.last_child:attributes().class, "moved", "attributes() after the move")
end

-- Many nodes made and dropped: all freed by the collector (ASan checks).
do
  for i = 1, 2000 do
    local p = node.new("paragraph", { children = { node.new("text", { literal = tostring(i) }) } })
    if i % 2 == 0 then p:append(node.new("emph")) end
  end
  collectgarbage()
  check.ok(true, "made and dropped")
end

check.done()
