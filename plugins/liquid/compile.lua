-- Liquid source -> a Lua function, once per template and build. The
-- template is split into text, `{{ output }}` and `{% tag %}` tokens,
-- markup is parsed by a small expression reader, and the whole template
-- becomes Lua source that is loaded with the template's path as chunk
-- name. It does not read files, know layouts, or print: plugins/liquid.lua
-- does that and gives this module its runtime (`rt`: values, filters,
-- include and tag helpers).
--
-- The compiled chunk returns render(V, O, n) -> n, which appends the
-- template's output to the array O after index n, with V the variables
-- (assigns, loop variables; its __index holds site, page, ...), and
-- where() -> the byte offset of the tag or output being run, for runtime
-- errors (the driver turns it into LINE:COL).

local format, find, match, sub, gsub, byte, rep =
  string.format, string.find, string.match, string.sub, string.gsub, string.byte, string.rep
local concat = table.concat

local C = {}

---------------------------------------------------------------------------
-- Positions and errors

-- Line and column (in characters) of byte `pos` of `src`.
function C.position(src, pos, first_line)
  local line, line_start = first_line or 1, 1
  local i = 1
  while true do
    local p = find(src, "\n", i, true)
    if not p or p >= pos then break end
    line = line + 1
    line_start = p + 1
    i = p + 1
  end
  local col = (utf8.len(src, line_start, pos - 1, true) or (pos - line_start)) + 1
  return line, col
end

-- A compile error: { message = "FILE:LINE:COL: error: msg" } so the
-- engine reports it at that place.
local function located(tpl, pos, message)
  local line, col = C.position(tpl.src, pos, tpl.first_line)
  return { message = format("%s:%d:%d: %s", tpl.name, line, col, message), liquid = true }
end
C.located = located

local function fail(tpl, pos, message) error(located(tpl, pos, message), 0) end

---------------------------------------------------------------------------
-- Tokens

-- Splits the source into { t = "text"|"out"|"tag", s = text or markup,
-- pos = byte offset of "{{"/"{%", mpos = offset of the markup }. `{% raw %}`
-- bodies are text; `{% comment %}` bodies are dropped. Whitespace control
-- (`{{-`, `-%}`) trims the neighbouring text here.
local function tokenize(tpl)
  local src, toks = tpl.src, {}
  local i, n = 1, #src
  local trim_next = false
  local function text(s)
    if trim_next then s = gsub(s, "^%s+", ""); trim_next = false end
    toks[#toks + 1] = { t = "text", s = s }
  end
  local function ltrim()
    local last = toks[#toks]
    if last and last.t == "text" then last.s = gsub(last.s, "%s+$", "") end
  end
  while i <= n do
    local s = find(src, "{[{%%]", i)
    if not s then text(sub(src, i)); break end
    if s > i then text(sub(src, i, s - 1)) end
    local kind = sub(src, s + 1, s + 1)
    local close = kind == "{" and "}}" or "%}"
    local e = find(src, close, s + 2, true)
    if not e then
      fail(tpl, s, kind == "{" and "'{{' is not closed with '}}'" or "'{%' is not closed with '%}'")
    end
    local inner_start, inner_end = s + 2, e - 1
    local left = byte(src, inner_start) == 45
    if left then inner_start = inner_start + 1 end
    local right = inner_end >= inner_start and byte(src, inner_end) == 45
    if right then inner_end = inner_end - 1 end
    if left then ltrim() end
    trim_next = false
    local markup = sub(src, inner_start, inner_end)
    local tok = { t = kind == "{" and "out" or "tag", s = markup, pos = s, mpos = inner_start }
    i = e + 2
    if tok.t == "tag" then
      local word = match(markup, "^%s*([%w_]+)")
      if word == "raw" or word == "comment" then
        -- Find the matching end tag; comments nest, raw does not.
        local depth, j = 1, i
        local body_end, after
        while true do
          local ts, te, inner = find(src, "{%%%-?%s*([%w_]+)[^%%]-%%}", j)
          if not ts then fail(tpl, s, "'" .. word .. "' is not closed with '{% end" .. word .. " %}'") end
          if inner == "end" .. word then
            depth = depth - 1
            if depth == 0 then body_end, after = ts - 1, te + 1; break end
          elseif inner == word and word == "comment" then
            depth = depth + 1
          end
          j = te + 1
        end
        local end_tag = sub(src, body_end + 1, after - 1)
        local body = sub(src, i, body_end)
        if right then body = gsub(body, "^%s+", "") end
        if byte(end_tag, 3) == 45 then body = gsub(body, "%s+$", "") end
        if word == "raw" then toks[#toks + 1] = { t = "text", s = body } end
        trim_next = byte(end_tag, #end_tag - 2) == 45
        i = after
        goto continue
      end
    end
    if tok.t == "tag" and match(markup, "^%s*liquid%f[^%w_]") then
      -- {% liquid %}: one tag per line
      local p = inner_start + #match(markup, "^%s*liquid")
      local body = sub(src, p, inner_end)
      for start, line in body:gmatch("()([^\n]*)") do
        if find(line, "%S") then
          toks[#toks + 1] = { t = "tag", s = line, pos = p + start - 1 + #match(line, "^%s*"), mpos = p + start - 1 }
        end
      end
    else
      toks[#toks + 1] = tok
    end
    trim_next = right
    ::continue::
  end
  return toks
end
C.tokenize = tokenize

---------------------------------------------------------------------------
-- Expressions: a reader over one tag's markup

local Lexer = {}
Lexer.__index = Lexer

local function new_lexer(tpl, markup, base)
  return setmetatable({ tpl = tpl, s = markup, i = 1, base = base }, Lexer)
end

function Lexer:fail(message, at)
  fail(self.tpl, self.base + (at or self.i) - 1, message)
end

function Lexer:skip() self.i = match(self.s, "^%s*()", self.i) end

function Lexer:done()
  self:skip()
  return self.i > #self.s
end

-- Peeks the next token: kind ("id", "str", "num", "op", "eof") and text.
function Lexer:peek()
  self:skip()
  local s, i = self.s, self.i
  if i > #s then return "eof", "" end
  local c = sub(s, i, i)
  if c == '"' or c == "'" then
    local e = find(s, c, i + 1, true)
    if not e then self:fail("unterminated string") end
    return "str", sub(s, i, e)
  end
  local num = match(s, "^%-?%d+%.%d+", i) or match(s, "^%-?%d+", i)
  if num and not match(s, "^%.%.", i + #num) and match(s, "^[%a_]", i + #num) == nil then
    return "num", num
  end
  if num and match(s, "^%.%.", i + #num) then return "num", num end
  local id = match(s, "^[%a_][%w_%-]*%??", i)
  if id then return "id", id end
  local op = match(s, "^%.%.", i) or match(s, "^[=!<>]=", i) or match(s, "^<>", i) or match(s, "^[%.%[%]%(%)|:,<>=]", i)
  if op then return "op", op end
  return "bad", c
end

function Lexer:next()
  local kind, text = self:peek()
  local at = self.i
  self.i = self.i + #text
  return kind, text, at
end

function Lexer:accept(text)
  local kind, t = self:peek()
  if (kind == "op" or kind == "id") and t == text then self.i = self.i + #t; return true end
  return false
end

function Lexer:expect(text, what)
  if not self:accept(text) then
    local _, t = self:peek()
    self:fail("expected '" .. text .. "'" .. (what and (" " .. what) or "") ..
      (t ~= "" and (" but found '" .. t .. "'") or ""))
  end
end

local LITERALS = { ["true"] = "true", ["false"] = "false", ["nil"] = "nil", null = "nil",
  empty = "EMPTY", blank = "BLANK" }

local function lua_string(s)
  return (format("%q", s):gsub("\\\n", "\\n"))
end
C.lua_string = lua_string

-- A lookup path: name(.key | [expr])*  ->  Lua expression.
function Lexer:variable(first, at)
  local code
  if self.strict then
    code = format("VS(V,%s)", lua_string(first))
  else
    code = format("V[%s]", lua_string(first))
  end
  while true do
    if sub(self.s, self.i, self.i) == "." and sub(self.s, self.i + 1, self.i + 1) ~= "." then
      self.i = self.i + 1
      local key = match(self.s, "^[%a_][%w_%-]*%??", self.i)
      if not key then self:fail("expected a name after '.'") end
      self.i = self.i + #key
      code = format("%s(%s,%s)", self.strict and "IS" or "I", code, lua_string(key))
    elseif sub(self.s, self.i, self.i) == "[" then
      self.i = self.i + 1
      local key = self:value()
      self:expect("]", "to close '['")
      code = format("%s(%s,%s)", self.strict and "IS" or "I", code, key)
    else
      break
    end
  end
  local _ = at
  return code
end

-- One value: a literal, a range (a..b) or a variable.
function Lexer:value()
  local kind, text, at = self:next()
  if kind == "str" then return lua_string(sub(text, 2, -2)) end
  if kind == "num" then
    if find(text, "%.") then return text end
    return text
  end
  if kind == "id" then
    local lit = LITERALS[text]
    if lit and sub(self.s, self.i, self.i) ~= "." and sub(self.s, self.i, self.i) ~= "[" then return lit end
    return self:variable(text, at)
  end
  if kind == "op" and text == "(" then
    local a = self:value()
    self:expect("..", "in a range (a..b)")
    local b = self:value()
    self:expect(")", "to close the range")
    return format("RANGE(%s,%s)", a, b)
  end
  if kind == "op" and text == "[" then
    -- [name] at the start: a variable whose name is computed
    local key = self:value()
    self:expect("]", "to close '['")
    local code = format("V[TOS(%s)]", key)
    return code
  end
  if kind == "eof" then self:fail("expected a value", at) end
  self:fail("unexpected '" .. text .. "'", at)
end

-- Filters after a value: | name: arg, arg, key: arg
function Lexer:filters(code, rt)
  while self:accept("|") do
    local kind, name, at = self:next()
    if kind ~= "id" then self:fail("expected a filter name after '|'", at) end
    if not rt.filters[name] then self:fail("unknown filter '" .. name .. "'", at) end
    local args, named = {}, nil
    if self:accept(":") then
      repeat
        local save = self.i
        local k, key = self:next()
        if k == "id" and self:accept(":") then
          named = named or {}
          named[#named + 1] = format("[%s]=%s", lua_string(key), self:value())
        else
          self.i = save
          args[#args + 1] = self:value()
        end
      until not self:accept(",")
    end
    if named then args[#args + 1] = "{" .. concat(named, ",") .. "}" end
    self.uses[name] = true
    code = format("FL[%s](%s%s)", lua_string(name), code, #args > 0 and ("," .. concat(args, ",")) or "")
  end
  return code
end

-- value | filters (for output, assign, echo)
function Lexer:filtered(rt)
  local code = self:value()
  return self:filters(code, rt)
end

local COMPARE = { ["=="] = "EQ(%s,%s)", ["!="] = "not EQ(%s,%s)", ["<>"] = "not EQ(%s,%s)",
  ["<"] = "CMP(%s,'<',%s)", [">"] = "CMP(%s,'>',%s)", ["<="] = "CMP(%s,'<=',%s)",
  [">="] = "CMP(%s,'>=',%s)", contains = "CONTAINS(%s,%s)" }

-- A condition: comparisons joined by `and`/`or`, grouped from the right
-- as Liquid does (`a or b and c` is `a or (b and c)`).
function Lexer:condition()
  local parts, ops = {}, {}
  while true do
    local left = self:value()
    local kind, op = self:peek()
    if (kind == "op" and COMPARE[op]) or (kind == "id" and op == "contains") then
      self:next()
      local right = self:value()
      parts[#parts + 1] = format(COMPARE[op], left, right)
    else
      parts[#parts + 1] = "T(" .. left .. ")"
    end
    if self:accept("and") then ops[#ops + 1] = "and"
    elseif self:accept("or") then ops[#ops + 1] = "or"
    else break end
  end
  if not self:done() then
    local _, t = self:peek()
    self:fail("unexpected '" .. t .. "' in condition")
  end
  local code = parts[#parts]
  for k = #ops, 1, -1 do code = format("(%s %s %s)", parts[k], ops[k], code) end
  return code
end

C.new_lexer = new_lexer

---------------------------------------------------------------------------
-- Code generation

-- The names compiled code uses, bound once per chunk from `rt`.
local HEADER = "local rt = ... " ..
  "local I, IS, VS, S, T, EQ, CMP, CONTAINS, RANGE, TOS = rt.index, rt.strict_index, rt.strict_var, " ..
  "rt.to_s, rt.truthy, rt.equal, rt.compare, rt.contains, rt.range, rt.to_s " ..
  "local FL, EMPTY, BLANK, FOR, LOOP, TLOOP, CYCLE, INC = rt.filters, rt.EMPTY, rt.BLANK, " ..
  "rt.for_items, rt.forloop, rt.tableloop, rt.cycle, rt.counter " ..
  "local INCLUDE, RENDER, HIGHLIGHT, LINK, POSTURL, TAG, TAGB = rt.include, rt.render_tag, rt.highlight, " ..
  "rt.link, rt.post_url, rt.tag, rt.block_tag " ..
  "local CONCAT, rawget = rt.concat, rt.rawget " ..
  "local P = 0 local function render(V, O, n) "
local FOOTER = " return n end return render, function() return P end"

local Gen = {}
Gen.__index = Gen

function Gen:emit(s) local code = self.code; code[#code + 1] = s end

-- Remembers the tag being run, for runtime errors.
function Gen:mark(pos)
  local ps = self.positions
  ps[#ps + 1] = pos
  self:emit("P=" .. #ps .. " ")
end

function Gen:id()
  self.ids = self.ids + 1
  return self.ids
end

function Gen:lexer(pos, text)
  local lx = new_lexer(self.tpl, text, pos)
  lx.strict = self.tpl.strict
  lx.uses = self.uses
  return lx
end

function Gen:fail(pos, message) fail(self.tpl, pos, message) end

function Gen:top() return self.stack[#self.stack] end

function Gen:push(block) self.stack[#self.stack + 1] = block end

function Gen:pop(tok, word)
  local top = self:top()
  local want = sub(word, 4)
  if not top or top.kind ~= want then
    if top then
      self:fail(tok.pos, "'" .. word .. "' is not a valid delimiter for " .. top.kind ..
        " tags, use 'end" .. top.kind .. "'")
    end
    self:fail(tok.pos, "'" .. word .. "' without an open '" .. want .. "'")
  end
  self.stack[#self.stack] = nil
  return top
end

-- The innermost loop (for break/continue).
function Gen:loop()
  for i = #self.stack, 1, -1 do
    local b = self.stack[i]
    if b.kind == "for" or b.kind == "tablerow" then return b end
  end
end

local function check_done(lx)
  if not lx:done() then
    local _, t = lx:peek()
    lx:fail("unexpected '" .. t .. "'")
  end
end

local TAGS = {}

TAGS.assign = function(g, _, rest, at)
  local name, p = match(rest, "^([%w_%-]+)%s*=%s*()")
  if not name then g:fail(at, "syntax error in 'assign': expected {% assign name = value %}") end
  local lx = g:lexer(at + p - 1, sub(rest, p))
  if lx:done() then g:fail(at, "'assign' needs a value") end
  local code = lx:filtered(g.rt)
  check_done(lx)
  g:emit(format("V[%s]=%s ", lua_string(name), code))
end

TAGS.capture = function(g, tok, rest, at)
  local name = match(rest, "^([%w_%-]+)$") or match(rest, "^'([^']+)'$") or match(rest, '^"([^"]+)"$')
  if not name then g:fail(at, "syntax error in 'capture': expected {% capture name %}") end
  local k = g:id()
  g:push { kind = "capture", tok = tok, name = name, k = k }
  g:emit(format("do local O%d, n%d = O, n O = {} n = 0 ", k, k))
end

TAGS.endcapture = function(g, tok)
  local b = g:pop(tok, "endcapture")
  g:emit(format("local s = CONCAT(O, '', 1, n) O, n = O%d, n%d V[%s] = s end ", b.k, b.k, lua_string(b.name)))
end

local function counter(step)
  return function(g, tok, rest, at)
    local name = match(rest, "^([%w_%-]+)$")
    if not name then g:fail(at, "syntax error: expected a variable name") end
    g:mark(tok.pos)
    g:emit(format("n=n+1 O[n]=INC(V,%s,%d) ", lua_string(name), step))
  end
end
TAGS.increment = counter(1)
TAGS.decrement = counter(-1)

local function condition(g, rest, at, word, tok)
  if rest == "" then g:fail(tok.pos, "'" .. word .. "' needs a condition") end
  return g:lexer(at, rest):condition()
end

TAGS["if"] = function(g, tok, rest, at)
  g:mark(tok.pos)
  g:emit("if " .. condition(g, rest, at, "if", tok) .. " then ")
  g:push { kind = "if", tok = tok }
end

TAGS.unless = function(g, tok, rest, at)
  g:mark(tok.pos)
  g:emit("if not " .. condition(g, rest, at, "unless", tok) .. " then ")
  g:push { kind = "unless", tok = tok }
end

TAGS.elsif = function(g, tok, rest, at)
  local top = g:top()
  if not top or (top.kind ~= "if" and top.kind ~= "unless") then g:fail(tok.pos, "'elsif' without 'if'") end
  if top.has_else then g:fail(tok.pos, "'elsif' after 'else'") end
  local cond = condition(g, rest, at, "elsif", tok)
  g:emit("else ")
  g:mark(tok.pos)
  g:emit("if " .. cond .. " then ")
  top.nested = (top.nested or 0) + 1
end

TAGS["else"] = function(g, tok)
  local top = g:top()
  if not top or not (top.kind == "if" or top.kind == "unless" or top.kind == "for" or top.kind == "case") then
    g:fail(tok.pos, "'else' without 'if', 'unless', 'case' or 'for'")
  end
  if top.has_else then g:fail(tok.pos, "'else' twice in one block") end
  top.has_else = true
  if top.kind == "for" then
    g:emit(top.close_loop .. "else ")
  elseif top.kind == "case" then
    if top.open then g:emit("end ") end
    top.open = true
    g:emit(format("if not m%d then ", top.k))
  else
    g:emit("else ")
  end
end

local function end_if(g, tok, word)
  local b = g:pop(tok, word)
  g:emit(rep("end ", 1 + (b.nested or 0)))
end
TAGS.endif = function(g, tok) end_if(g, tok, "endif") end
TAGS.endunless = function(g, tok) end_if(g, tok, "endunless") end

TAGS.case = function(g, tok, rest, at)
  if rest == "" then g:fail(at, "'case' needs a value") end
  local lx = g:lexer(at, rest)
  local code = lx:value()
  check_done(lx)
  local k = g:id()
  g:mark(tok.pos)
  g:emit(format("do local c%d, m%d = %s, false ", k, k, code))
  g:push { kind = "case", tok = tok, k = k }
end

TAGS.when = function(g, tok, rest, at)
  local top = g:top()
  if not top or top.kind ~= "case" then g:fail(tok.pos, "'when' without 'case'") end
  if top.has_else then g:fail(tok.pos, "'when' after 'else'") end
  if top.open then g:emit("end ") end
  local lx = g:lexer(at, rest)
  local tests = {}
  repeat
    tests[#tests + 1] = format("EQ(c%d,%s)", top.k, lx:value())
  until not (lx:accept(",") or lx:accept("or"))
  check_done(lx)
  g:mark(tok.pos)
  g:emit(format("if %s then m%d = true ", concat(tests, " or "), top.k))
  top.open = true
end

TAGS.endcase = function(g, tok)
  local b = g:pop(tok, "endcase")
  g:emit((b.open and "end " or "") .. "end ")
end

-- for/tablerow markup: name in collection [reversed] [limit: n] [offset: n|continue] [cols: n]
local function loop_head(g, rest, at, word)
  local var, p = match(rest, "^([%w_%-]+)%s+in%s+()")
  if not var then g:fail(at, "syntax error in '" .. word .. "': expected {% " .. word .. " item in collection %}") end
  local lx = g:lexer(at + p - 1, sub(rest, p))
  local coll_start = lx.i
  local coll = lx:value()
  local coll_text = sub(lx.s, coll_start, lx.i - 1)
  local o = { reversed = "false", limit = "nil", offset = "nil", cols = "nil" }
  while not lx:done() do
    local kind, name, npos = lx:next()
    if kind == "id" and name == "reversed" then
      o.reversed = "true"
    elseif kind == "id" and (name == "limit" or name == "offset" or name == "cols") then
      lx:expect(":", "after '" .. name .. "'")
      if name == "offset" and lx:accept("continue") then
        o.offset = "'continue'"
      else
        o[name] = lx:value()
      end
    else
      lx:fail("unexpected '" .. name .. "' in '" .. word .. "'", npos)
    end
  end
  return var, coll, o, lua_string(var .. "-" .. match(coll_text, "^%s*(.-)%s*$"))
end

TAGS["for"] = function(g, tok, rest, at)
  local var, coll, o, key = loop_head(g, rest, at, "for")
  local k = g:id()
  local v = lua_string(var)
  g:mark(tok.pos)
  g:emit(format("do local it%d = FOR(%s,%s,%s,%s,V,%s) local len%d = #it%d " ..
    "if len%d > 0 then local sv%d, sf%d = rawget(V,%s), rawget(V,'forloop') local fl%d = LOOP(len%d, sf%d) " ..
    "V.forloop = fl%d for i%d = 1, len%d do fl%d.i = i%d V[%s] = it%d[i%d] do ",
    k, coll, o.limit, o.offset, o.reversed, key, k, k,
    k, k, k, v, k, k, k,
    k, k, k, k, k, v, k, k))
  g:push { kind = "for", tok = tok, k = k,
    close_loop = format("end ::c%d:: end V[%s] = sv%d V.forloop = sf%d ", k, v, k, k) }
end

TAGS.endfor = function(g, tok)
  local b = g:pop(tok, "endfor")
  if b.has_else then g:emit("end end ")
  else g:emit(b.close_loop .. "end end ") end
end

TAGS.tablerow = function(g, tok, rest, at)
  local var, coll, o, key = loop_head(g, rest, at, "tablerow")
  local k = g:id()
  local v = lua_string(var)
  g:mark(tok.pos)
  g:emit(format("do local it%d = FOR(%s,%s,%s,false,V,%s) local len%d = #it%d " ..
    "local sv%d, sf%d = rawget(V,%s), rawget(V,'tablerowloop') local tl%d = TLOOP(len%d, %s) " ..
    "V.tablerowloop = tl%d n=n+1 O[n]='<tr class=\"row1\">\\n' " ..
    "for i%d = 1, len%d do tl%d.i = i%d V[%s] = it%d[i%d] n=n+1 O[n]=tl%d:open() do ",
    k, coll, o.limit, o.offset, key, k, k,
    k, k, v, k, k, o.cols,
    k, k, k, k, k, v, k, k, k))
  g:push { kind = "tablerow", tok = tok, k = k, var = v }
end

TAGS.endtablerow = function(g, tok)
  local b = g:pop(tok, "endtablerow")
  local k = b.k
  g:emit(format("end ::c%d:: n=n+1 O[n]=tl%d:close() end n=n+1 O[n]='</tr>\\n' " ..
    "V[%s] = sv%d V.tablerowloop = sf%d end ", k, k, b.var, k, k))
end

TAGS["break"] = function(g, tok)
  if not g:loop() then g:fail(tok.pos, "'break' outside a 'for' loop") end
  g:emit("break ")
end

TAGS.continue = function(g, tok)
  local loop = g:loop()
  if not loop then g:fail(tok.pos, "'continue' outside a 'for' loop") end
  g:emit(format("goto c%d ", loop.k))
end

TAGS.cycle = function(g, tok, rest, at)
  local lx = g:lexer(at, rest)
  local group
  local save = lx.i
  local first = lx:value()
  if lx:accept(":") then group = first else lx.i = save end
  local values = {}
  repeat values[#values + 1] = lx:value() until not lx:accept(",")
  check_done(lx)
  group = group or lua_string(rest)
  g:mark(tok.pos)
  g:emit(format("n=n+1 O[n]=S(CYCLE(V,%s,{%s},%d)) ", group, concat(values, ","), #values))
end

TAGS.echo = function(g, tok, rest, at)
  local lx = g:lexer(at, rest)
  if lx:done() then return end
  local code = lx:filtered(g.rt)
  check_done(lx)
  g:mark(tok.pos)
  g:emit("n=n+1 O[n]=S(" .. code .. ") ")
end

-- A file name with {{ }} parts -> a Lua expression joining them.
local function name_expr(g, text, at)
  if not find(text, "{{", 1, true) then return lua_string(text), text end
  local parts, i = {}, 1
  while i <= #text do
    local s, e = find(text, "{{", i, true)
    if not s then parts[#parts + 1] = lua_string(sub(text, i)); break end
    if s > i then parts[#parts + 1] = lua_string(sub(text, i, s - 1)) end
    local close = find(text, "}}", e + 1, true)
    if not close then g:fail(at + s - 1, "'{{' is not closed with '}}'") end
    local lx = g:lexer(at + e, sub(text, e + 1, close - 1))
    parts[#parts + 1] = "S(" .. lx:filtered(g.rt) .. ")"
    check_done(lx)
    i = close + 2
  end
  return concat(parts, ".."), nil
end

-- Jekyll's include: file name (may hold {{ }}), then key=value params.
local function include_tag(kind)
  return function(g, tok, rest, at)
    local file, p
    if find(rest, "{{", 1, true) then
      file, p = match(rest, "^(.*}}%S*)()")
    else
      file, p = match(rest, "^(%S+)()")
    end
    if not file then g:fail(at, "'" .. kind .. "' needs a file name") end
    local expr, static = name_expr(g, file, at)
    local params = {}
    local lx = g:lexer(at + p - 1, sub(rest, p))
    while not lx:done() do
      local k, key, kpos = lx:next()
      if k ~= "id" then lx:fail("syntax error in '" .. kind .. "': expected key=value parameters", kpos) end
      if not lx:accept("=") then lx:expect(":", "or '=' after '" .. key .. "'") end
      params[#params + 1] = format("[%s]=%s", lua_string(key), lx:value())
      lx:accept(",")
    end
    if static then
      local err = g.rt.check_include(kind, static, g.tpl.name)
      if err then g:fail(at, err) end
    end
    g:mark(tok.pos)
    g:emit(format("n=INCLUDE(V,O,n,%s,%s,%s,%s) ", lua_string(kind), expr,
      #params > 0 and ("{" .. concat(params, ",") .. "}") or "nil", lua_string(g.tpl.name)))
  end
end
TAGS.include = include_tag("include")
TAGS.include_relative = include_tag("include_relative")
-- jekyll-include-cache's tag: the same output as include (every
-- include is compiled once per build anyway).
TAGS.include_cached = include_tag("include")

-- Liquid's render: an isolated scope; `with x as y`, `for xs as y`, k: v.
TAGS.render = function(g, tok, rest, at)
  local lx = g:lexer(at, rest)
  local kind, name = lx:next()
  if kind ~= "str" then g:fail(at, "syntax error in 'render': expected a quoted file name") end
  name = sub(name, 2, -2)
  local mode, value, alias = "nil", "nil", "nil"
  if lx:accept("with") then mode = "'with'" elseif lx:accept("for") then mode = "'for'" end
  if mode ~= "nil" then
    value = lx:value()
    if lx:accept("as") then
      local k, a = lx:next()
      if k ~= "id" then lx:fail("expected a name after 'as'") end
      alias = lua_string(a)
    end
  end
  local params = {}
  lx:accept(",")
  while not lx:done() do
    local k, key, kpos = lx:next()
    if k ~= "id" then lx:fail("syntax error in 'render': expected key: value parameters", kpos) end
    lx:expect(":", "after '" .. key .. "'")
    params[#params + 1] = format("[%s]=%s", lua_string(key), lx:value())
    lx:accept(",")
  end
  local err = g.rt.check_include("render", name, g.tpl.name)
  if err then g:fail(at, err) end
  g:mark(tok.pos)
  g:emit(format("n=RENDER(O,n,%s,{%s},%s,%s,%s) ", lua_string(name), concat(params, ","), mode, value, alias))
end

-- {% highlight lang [linenos] [mark_lines="1 2"] %} ... {% endhighlight %}
TAGS.highlight = function(g, tok, rest, at)
  local lang, opts = match(rest, "^([%w%.%+#_%-]+)(.*)$")
  local options = {}
  if lang then
    for word, value in gsub(opts, '="([^"]*)"', "=%1"):gmatch("(%w+)=?(%S*)") do
      if word == "linenos" then options[#options + 1] = "linenos=true"
      elseif value ~= "" then options[#options + 1] = format("[%s]=%s", lua_string(word), lua_string(value))
      else options[#options + 1] = format("[%s]=true", lua_string(word)) end
    end
  end
  if not lang or not match(opts, '^[%s%w="]*$') then
    g:fail(at, "syntax error in 'highlight': expected {% highlight LANG [linenos] %}")
  end
  local k = g:id()
  g:push { kind = "highlight", tok = tok, k = k, lang = lang, opts = "{" .. concat(options, ",") .. "}" }
  g:emit(format("do local O%d, n%d = O, n O = {} n = 0 ", k, k))
end

TAGS.endhighlight = function(g, tok)
  local b = g:pop(tok, "endhighlight")
  g:emit(format("local s = CONCAT(O, '', 1, n) O, n = O%d, n%d ", b.k, b.k))
  g:mark(b.tok.pos)
  g:emit(format("n=n+1 O[n]=HIGHLIGHT(s,%s,%s) end ", lua_string(b.lang), b.opts))
end

TAGS.link = function(g, tok, rest, at)
  if rest == "" then g:fail(at, "'link' needs a file path") end
  local expr = name_expr(g, rest, at)
  g:mark(tok.pos)
  g:emit(format("n=n+1 O[n]=LINK(%s) ", expr))
end

TAGS.post_url = function(g, tok, rest, at)
  if rest == "" then g:fail(at, "'post_url' needs a post name") end
  local expr = name_expr(g, rest, at)
  g:mark(tok.pos)
  g:emit(format("n=n+1 O[n]=POSTURL(%s) ", expr))
end

-- Tags added from Lua (liquid.tags.NAME): a function is a tag, a table
-- with `block` a block tag whose rendered body it receives.
local function user_tag(g, tok, word, rest, def)
  if type(def) == "function" then
    g:mark(tok.pos)
    g:emit(format("n=n+1 O[n]=TAG(%s,%s,V) ", lua_string(word), lua_string(rest)))
    return
  end
  local k = g:id()
  g:push { kind = word, tok = tok, k = k, user = true, rest = rest }
  g:emit(format("do local O%d, n%d = O, n O = {} n = 0 ", k, k))
end

local function user_end(g, tok, word)
  local b = g:pop(tok, word)
  g:emit(format("local s = CONCAT(O, '', 1, n) O, n = O%d, n%d ", b.k, b.k))
  g:mark(b.tok.pos)
  g:emit(format("n=n+1 O[n]=TAGB(%s,%s,s,V) end ", lua_string(b.kind), lua_string(b.rest)))
end

-- Tags of the language itself cannot be replaced from Lua; Jekyll's can.
local CORE = { assign = true, capture = true, endcapture = true, ["if"] = true, elsif = true,
  ["else"] = true, endif = true, unless = true, endunless = true, case = true, when = true,
  endcase = true, ["for"] = true, endfor = true, ["break"] = true, continue = true, cycle = true,
  increment = true, decrement = true, tablerow = true, endtablerow = true, echo = true }

function Gen:tag(tok)
  local p1, word, p2 = match(tok.s, "^%s*()([%w_#]+)%s*()")
  if not word then
    if match(tok.s, "^%s*$") then self:fail(tok.pos, "empty tag '{% %}'") end
    self:fail(tok.pos, "syntax error in tag '" .. tok.s .. "'")
  end
  if sub(word, 1, 1) == "#" then return end -- inline comment
  local rest = gsub(sub(tok.s, p2), "%s+$", "")
  local at = tok.mpos + p2 - 1
  local _ = p1
  local user = self.rt.tags[word]
  if user ~= nil and not CORE[word] then return user_tag(self, tok, word, rest, user) end
  local top = self:top()
  if top and top.user and word == "end" .. top.kind then return user_end(self, tok, word) end
  local fn = TAGS[word]
  if not fn then self:fail(tok.pos, "unknown tag '" .. word .. "'") end
  fn(self, tok, rest, at)
end

-- Compiles template `tpl` = { src, name, first_line, strict } with runtime
-- `rt`; returns render, where (see the top of this file) and the table of
-- positions where() indexes.
function C.compile(tpl, rt)
  if sub(tpl.src, 1, 3) == "\239\187\191" then tpl.src = sub(tpl.src, 4) end
  local g = setmetatable({ tpl = tpl, rt = rt, code = { HEADER }, positions = {}, stack = {},
    ids = 0, uses = {} }, Gen)
  for _, tok in ipairs(tokenize(tpl)) do
    if tok.t == "text" then
      local top = g:top()
      if tok.s ~= "" and not (top and top.kind == "case" and not top.open) then
        g:emit("n=n+1 O[n]=" .. lua_string(tok.s) .. " ")
      end
    elseif tok.t == "out" then
      local lx = g:lexer(tok.mpos, tok.s)
      if not lx:done() then
        local code = lx:filtered(rt)
        check_done(lx)
        g:mark(tok.pos)
        g:emit("n=n+1 O[n]=S(" .. code .. ") ")
      end
    else
      g:tag(tok)
    end
  end
  local open = g:top()
  if open then g:fail(open.tok.pos, "'" .. open.kind .. "' tag was never closed") end
  g:emit(FOOTER)
  local source = concat(g.code)
  local chunk, err = load(source, "=" .. tpl.name, "t", {})
  if not chunk then
    error(located(tpl, 1, "internal error compiling the template: " .. tostring(err)), 0)
  end
  local render, where = chunk(rt)
  return render, where, g.positions
end

return C
