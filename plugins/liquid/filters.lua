-- Liquid's standard filters and Jekyll's, as Jekyll 4.3 runs them (Ruby
-- semantics: integer and float arithmetic, String#split, strftime), on
-- publish's Lua values. Each filter is function(input, args...) with
-- keyword arguments (`default: x, allow_false: true`) as a last table.
-- Filters that need the site (relative_url, where_exp, ...) read it from
-- `F.env` (plugins/liquid.lua sets it per build). Errors are plain
-- messages; the render driver adds the template position.

local values = require "liquid.values"

local type, tostring, tonumber, pairs, ipairs, next = type, tostring, tonumber, pairs, ipairs, next
local format, find, match, sub, gsub, byte, upper, lower =
  string.format, string.find, string.match, string.sub, string.gsub, string.byte,
  string.upper, string.lower
local floor, ceil, abs, mtype, tointeger = math.floor, math.ceil, math.abs, math.type, math.tointeger
local concat, sort = table.concat, table.sort

local to_s, to_number, is_nil, is_array, is_date, fail, inspect =
  values.to_s, values.to_number, values.is_nil, values.is_array, values.is_date, values.fail, values.inspect
local to_integer = values.to_integer

local F = {}
-- Set by the plugin: { site = model site, publish = library, condition = fn(expr) -> fn(V) }
F.env = {}

local function pub() return F.env.publish or rawget(_G, "publish") end

local function str(v)
  if v == nil or v == values.null then return "" end
  return to_s(v)
end

-- The items of an array input; a hash or a single value is one item,
-- nested arrays are flattened (Liquid's InputIterator).
local function list(v)
  if is_nil(v) then return {} end
  if is_array(v) then
    for i = 1, #v do
      if is_array(v[i]) and v[i][1] ~= nil then
        local out = {}
        local function flat(a)
          for j = 1, #a do
            if is_array(a[j]) and a[j][1] ~= nil then flat(a[j]) else out[#out + 1] = a[j] end
          end
        end
        flat(v)
        return out
      end
    end
    return v
  end
  if type(v) == "table" and not is_date(v) and rawget(v, "__range") then return values.items(v) end
  return { v }
end

local function copy(a)
  local out = {}
  for i = 1, #a do out[i] = a[i] end
  return out
end

---------------------------------------------------------------------------
-- Strings

local HTML = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

local function escape(v)
  if is_nil(v) then return nil end
  return pub().html.escape(str(v)) -- CGI.escapeHTML's five, as HTML above
end

F.escape = escape
F.h = escape

F.escape_once = function(v)
  if is_nil(v) then return nil end
  local s = str(v)
  s = gsub(s, "&()", function(p)
    if match(s, "^%a+;", p) or match(s, "^#%d+;", p) then return "&" end
    return "&amp;"
  end)
  return (gsub(s, "[<>\"']", HTML))
end

-- Ruby's encode(xml: :attr), as Jekyll's xml_escape uses it.
local XML = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }
F.xml_escape = function(v)
  if is_nil(v) then return nil end
  return (gsub(str(v), "[&<>\"']", XML))
end

local function percent(c) return format("%%%02X", byte(c)) end

-- Ruby's CGI.escape: unreserved kept, space as '+'.
local function cgi_escape(v)
  return (gsub(gsub(str(v), "[^ %w_%.%-~]", percent), " ", "+"))
end
F.url_encode = function(v) if is_nil(v) then return nil end return cgi_escape(v) end
F.cgi_escape = function(v) return cgi_escape(v) end

F.url_decode = function(v)
  if is_nil(v) then return nil end
  local s = gsub(str(v), "+", " ")
  return (gsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Ruby's URI escape keeps what publish.url.encode keeps: reserved
-- characters and '%'.
F.uri_escape = function(v)
  return pub().url.encode(str(v))
end

F.append = function(v, s) return str(v) .. str(s) end
F.prepend = function(v, s) return str(s) .. str(v) end

F.upcase = function(v) return upper(str(v)) end
F.downcase = function(v) return lower(str(v)) end
F.capitalize = function(v)
  local s = str(v)
  return upper(sub(s, 1, 1)) .. lower(sub(s, 2))
end

F.strip = function(v) return (match(str(v), "^%s*(.-)%s*$")) end
F.lstrip = function(v) return (gsub(str(v), "^%s+", "")) end
F.rstrip = function(v) return (gsub(str(v), "%s+$", "")) end
F.strip_newlines = function(v) return (gsub(str(v), "\r?\n", "")) end
F.newline_to_br = function(v) return (gsub(str(v), "\r?\n", "<br />\n")) end
F.normalize_whitespace = function(v) return (match(gsub(str(v), "%s+", " "), "^ ?(.-) ?$")) end

-- Removes `<name ...> ... </name>` blocks.
local function drop_blocks(s, open, close)
  local out, i = {}, 1
  while true do
    local a = find(s, open, i, true)
    if not a then break end
    local _, b = find(s, close, a, true)
    if not b then break end
    out[#out + 1] = sub(s, i, a - 1)
    i = b + 1
  end
  out[#out + 1] = sub(s, i)
  return concat(out)
end

F.strip_html = function(v)
  local s = str(v)
  s = drop_blocks(s, "<script", "</script>")
  s = drop_blocks(s, "<!--", "-->")
  s = drop_blocks(s, "<style", "</style>")
  return (gsub(s, "<[^>]*>", ""))
end

local function plain(s) return (gsub(s, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end
local function plain_repl(s) return (gsub(s, "%%", "%%%%")) end

F.replace = function(v, a, b) return (gsub(str(v), plain(str(a)), plain_repl(str(b)))) end
F.replace_first = function(v, a, b) return (gsub(str(v), plain(str(a)), plain_repl(str(b)), 1)) end
F.replace_last = function(v, a, b)
  local s, pat = str(v), str(a)
  local last
  local i = 1
  while true do
    local p = find(s, pat, i, true)
    if not p then break end
    last = p
    i = p + 1
  end
  if not last then return s end
  return sub(s, 1, last - 1) .. str(b) .. sub(s, last + #pat)
end
F.remove = function(v, a) return (gsub(str(v), plain(str(a)), "")) end
F.remove_first = function(v, a) return (gsub(str(v), plain(str(a)), "", 1)) end
F.remove_last = function(v, a) return F.replace_last(v, a, "") end

-- Characters of s from character i (1-based) to j.
local function chars(s, i, j)
  local a = utf8.offset(s, i)
  if not a then return "" end
  local b = utf8.offset(s, j + 1)
  return sub(s, a, (b or #s + 1) - 1)
end

local function valid_utf8(s) return utf8.len(s) ~= nil end

F.truncate = function(v, n, ellipsis)
  if is_nil(v) then return nil end
  local s = str(v)
  n = to_integer(n == nil and 50 or n, "truncate")
  ellipsis = ellipsis == nil and "..." or str(ellipsis)
  local len = valid_utf8(s) and utf8.len(s) or #s
  if len <= n then return s end
  local keep = n - (utf8.len(ellipsis) or #ellipsis)
  if keep < 0 then keep = 0 end
  if valid_utf8(s) then return chars(s, 1, keep) .. ellipsis end
  return sub(s, 1, keep) .. ellipsis
end

-- Ruby's String#split(" "): runs of whitespace, leading ones ignored.
local function words(s, limit)
  local out = {}
  for w in s:gmatch("%S+") do out[#out + 1] = w end
  if limit and #out > limit then
    -- the rest stays one item, as Ruby's split with a limit
    return out, true
  end
  return out, false
end

F.truncatewords = function(v, n, ellipsis)
  if is_nil(v) then return nil end
  local s = str(v)
  n = to_integer(n == nil and 15 or n, "truncatewords")
  if n <= 0 then n = 1 end
  ellipsis = ellipsis == nil and "..." or str(ellipsis)
  local list_, more = words(s, n)
  if not more then return s end
  local kept = {}
  for i = 1, n do kept[i] = list_[i] end
  return concat(kept, " ") .. ellipsis
end

-- Ruby's String#split(pattern): " " splits on whitespace runs, "" into
-- characters; trailing empty items are dropped.
F.split = function(v, pattern)
  local s = str(v)
  pattern = str(pattern)
  local out = {}
  if pattern == " " then
    out = words(s)
    return out
  end
  if pattern == "" then
    for _, c in utf8.codes(s) do out[#out + 1] = utf8.char(c) end
    return out
  end
  local i = 1
  while true do
    local a, b = find(s, pattern, i, true)
    if not a then out[#out + 1] = sub(s, i); break end
    out[#out + 1] = sub(s, i, a - 1)
    i = b + 1
  end
  while #out > 0 and out[#out] == "" do out[#out] = nil end
  return out
end

F.slice = function(v, offset, length)
  offset = to_integer(offset, "slice")
  length = length == nil and 1 or to_integer(length, "slice")
  if is_array(v) then
    local n = #v
    if offset < 0 then offset = n + offset end
    if offset < 0 or offset > n or length < 0 then return {} end
    local out = {}
    for i = offset + 1, math.min(n, offset + length) do out[#out + 1] = v[i] end
    return out
  end
  local s = str(v)
  local n = utf8.len(s) or #s
  if offset < 0 then offset = n + offset end
  if offset < 0 or offset > n or length < 0 then return "" end
  return chars(s, offset + 1, math.min(n, offset + length))
end

-- Ruby's Integer#size is its width in bytes.
F.size = function(v)
  if math.type(v) == "integer" then return 8 end
  return values.size(v) or 0
end

F.base64_encode = function(v)
  local s = str(v)
  local b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return (gsub(gsub(s, ".", function(c)
    local r, x = "", byte(c)
    for i = 8, 1, -1 do r = r .. (x % 2 ^ i - x % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000", "%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (sub(x, i, i) == "1" and 2 ^ (6 - i) or 0) end
    return sub(b, c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

F.base64_decode = function(v)
  local b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local s = gsub(str(v), "[^%w%+/=]", "")
  if find(s, "[^%w%+/=]") or #s % 4 ~= 0 then fail("invalid base64 provided to base64_decode") end
  s = gsub(s, "=", "")
  return (gsub(gsub(s, ".", function(x)
    local r, f = "", (find(b, x, 1, true) - 1)
    for i = 6, 1, -1 do r = r .. (f % 2 ^ i - f % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end), "%d%d%d?%d?%d?%d?%d?%d?", function(x)
    if #x ~= 8 then return "" end
    local c = 0
    for i = 1, 8 do c = c + (sub(x, i, i) == "1" and 2 ^ (8 - i) or 0) end
    return string.char(c)
  end))
end

F.number_of_words = function(v, mode)
  local s = str(v)
  -- three-byte characters from U+3000 to U+DFFF: kana, Han, Hangul
  local cjk = "[\227-\237][\128-\191][\128-\191]"
  local function count_words(t) local n = 0 for _ in t:gmatch("%S+") do n = n + 1 end return n end
  if mode == "cjk" or (mode == "auto" and find(s, cjk)) then
    local n = 0
    local rest = gsub(s, cjk, function() n = n + 1; return " " end)
    return n + count_words(rest)
  end
  return count_words(s)
end

F.array_to_sentence_string = function(v, connector)
  local a = list(v)
  connector = connector == nil and "and" or str(connector)
  local n = #a
  if n == 0 then return "" end
  if n == 1 then return str(a[1]) end
  if n == 2 then return str(a[1]) .. " " .. connector .. " " .. str(a[2]) end
  local parts = {}
  for i = 1, n - 1 do parts[i] = str(a[i]) end
  return concat(parts, ", ") .. ", " .. connector .. " " .. str(a[n])
end

-- Jekyll's slugify modes: raw, default, pretty, ascii, latin, none;
-- `cased` keeps the case.
local LATIN = {
  ["à"] = "a", ["á"] = "a", ["â"] = "a", ["ã"] = "a", ["ä"] = "a", ["å"] = "a", ["æ"] = "ae",
  ["ç"] = "c", ["è"] = "e", ["é"] = "e", ["ê"] = "e", ["ë"] = "e", ["ì"] = "i", ["í"] = "i",
  ["î"] = "i", ["ï"] = "i", ["ñ"] = "n", ["ò"] = "o", ["ó"] = "o", ["ô"] = "o", ["õ"] = "o",
  ["ö"] = "o", ["ø"] = "o", ["ù"] = "u", ["ú"] = "u", ["û"] = "u", ["ü"] = "u", ["ý"] = "y",
  ["ÿ"] = "y", ["ß"] = "ss", ["À"] = "A", ["Á"] = "A", ["Â"] = "A", ["Ã"] = "A", ["Ä"] = "A",
  ["Å"] = "A", ["Æ"] = "AE", ["Ç"] = "C", ["È"] = "E", ["É"] = "E", ["Ê"] = "E", ["Ë"] = "E",
  ["Ì"] = "I", ["Í"] = "I", ["Î"] = "I", ["Ï"] = "I", ["Ñ"] = "N", ["Ò"] = "O", ["Ó"] = "O",
  ["Ô"] = "O", ["Õ"] = "O", ["Ö"] = "O", ["Ø"] = "O", ["Ù"] = "U", ["Ú"] = "U", ["Û"] = "U",
  ["Ü"] = "U", ["Ý"] = "Y",
}

F.slugify = function(v, mode, cased)
  if is_nil(v) then return nil end
  local s = str(v)
  mode = mode == nil and "default" or str(mode)
  if mode == "none" then return cased == true and s or lower(s) end
  if mode == "latin" then
    s = gsub(s, "[\195][\128-\191]", function(c) return LATIN[c] end)
    mode = "default"
  end
  if mode == "raw" then
    s = gsub(s, "%s+", "-")
  elseif mode == "ascii" then
    s = gsub(s, "[^%w]+", "-")
  elseif mode == "pretty" then
    s = gsub(s, "[^%w\128-\255%._~!%$&'%(%)%+,;=@]+", "-")
  else
    s = gsub(s, "[^%w\128-\255]+", "-")
  end
  s = gsub(gsub(s, "^%-+", ""), "%-+$", "")
  if cased ~= true then s = lower(s) end
  return s
end

-- Kramdown's SmartyPants, for `smartify`: quotes, dashes, ellipses.
F.smartify = function(v)
  local s = str(v)
  s = gsub(s, "%-%-%-", "—")
  s = gsub(s, "%-%-", "–")
  s = gsub(s, "%.%.%.", "…")
  local out, prev = {}, " "
  for i = 1, #s do
    local c = sub(s, i, i)
    if c == '"' then
      c = find(prev, "[%s%(%[{]") and "“" or "”"
    elseif c == "'" then
      c = find(prev, "[%s%(%[{]") and "‘" or "’"
    end
    out[#out + 1] = c
    prev = sub(s, i, i)
  end
  return concat(out)
end

-- Markdown as the site's config renders it (markdownify and the body
-- pass both use this).
function F.markdown(text)
  local site = F.env.site
  local cfg = site and type(site.config) == "table" and site.config.markdown
  local opts = {}
  if type(cfg) == "table" then
    for _, k in ipairs { "unsafe", "smart", "hardbreaks" } do
      if type(cfg[k]) == "boolean" then opts[k] = cfg[k] end
    end
  end
  return pub().markdown(text, opts)
end

F.markdownify = function(v) return F.markdown(str(v)) end

F.inspect = function(v) return F.xml_escape(inspect(v)) end

---------------------------------------------------------------------------
-- Numbers

-- Liquid turns "2.5" into a decimal: plus/minus keep the decimals of the
-- operands, as Ruby's BigDecimal does (0.1 + 0.2 is 0.3).
local function decimals(x)
  if mtype(x) ~= "float" then return 0 end
  local t = values.float_text(x)
  if find(t, "e") then return 17 end
  return #(match(t, "%.(%d*)$") or "")
end

local function decimal_round(x, d)
  if d >= 15 or x ~= x or x == math.huge or x == -math.huge then return x end
  return tonumber(format("%." .. d .. "f", x))
end

F.plus = function(a, b)
  a, b = to_number(a), to_number(b)
  if mtype(a) == "integer" and mtype(b) == "integer" then return a + b end
  return decimal_round(a + b, math.max(decimals(a), decimals(b)))
end
F.minus = function(a, b)
  a, b = to_number(a), to_number(b)
  if mtype(a) == "integer" and mtype(b) == "integer" then return a - b end
  return decimal_round(a - b, math.max(decimals(a), decimals(b)))
end
F.times = function(a, b)
  a, b = to_number(a), to_number(b)
  if mtype(a) == "integer" and mtype(b) == "integer" then return a * b end
  return decimal_round(a * b, decimals(a) + decimals(b))
end
F.divided_by = function(a, b)
  a, b = to_number(a), to_number(b)
  if mtype(a) == "integer" and mtype(b) == "integer" then
    if b == 0 then fail("divided by 0") end
    return a // b
  end
  if b == 0 then
    if mtype(b) == "integer" then fail("divided by 0") end
  end
  return a / b
end
F.modulo = function(a, b)
  a, b = to_number(a), to_number(b)
  if b == 0 then fail("divided by 0") end
  if mtype(a) == "integer" and mtype(b) == "integer" then return a % b end
  return decimal_round(a % b, math.max(decimals(a), decimals(b)))
end

local function round_half_away(x)
  if x >= 0 then return floor(x + 0.5) end
  return -floor(-x + 0.5)
end

F.round = function(v, digits)
  local x = to_number(v)
  digits = digits == nil and 0 or to_integer(to_number(digits))
  if mtype(x) == "integer" then return x end
  if digits == 0 then
    local r = round_half_away(x)
    return tointeger(r) or r
  end
  local m = 10 ^ digits
  return tonumber(format("%." .. math.max(digits, 0) .. "f", round_half_away(x * m) / m))
end
F.ceil = function(v)
  local x = ceil(to_number(v))
  return tointeger(x) or x
end
F.floor = function(v)
  local x = floor(to_number(v))
  return tointeger(x) or x
end
F.abs = function(v) return abs(to_number(v)) end
F.at_least = function(v, m)
  local a, b = to_number(v), to_number(m)
  return a < b and b or a
end
F.at_most = function(v, m)
  local a, b = to_number(v), to_number(m)
  return a > b and b or a
end
F.to_integer = function(v)
  if v == true then return 1 elseif v == false then return 0 end
  local n = to_number(v)
  if mtype(n) == "float" then n = tointeger(n >= 0 and floor(n) or ceil(n)) or n end
  return n
end

---------------------------------------------------------------------------
-- Defaults

F.default = function(v, d, opts)
  local allow_false = type(opts) == "table" and values.truthy(opts.allow_false)
  local missing
  if allow_false then missing = is_nil(v) else missing = not values.truthy(v) end
  if missing then return d end
  if type(v) == "string" and v == "" then return d end
  if type(v) == "table" and not is_date(v) and next(v) == nil then return d end
  return v
end

---------------------------------------------------------------------------
-- Arrays

F.join = function(v, sep)
  if is_nil(v) then return nil end
  local a = list(v)
  sep = sep == nil and " " or str(sep)
  local parts = {}
  for i = 1, #a do parts[i] = str(a[i]) end
  return concat(parts, sep)
end

F.first = function(v)
  if is_array(v) then return v[1] end
  return nil
end
F.last = function(v)
  if is_array(v) then return v[#v] end
  return nil
end

F.reverse = function(v)
  local a = list(v)
  local out, n = {}, #a
  for i = 1, n do out[i] = a[n + 1 - i] end
  return out
end

-- A property of an item, dotted keys reaching into nested hashes.
local function property(item, prop)
  if type(item) ~= "table" then return nil end
  local v = values.index(item, prop)
  if v == nil and type(prop) == "string" and find(prop, ".", 1, true) then
    v = item
    for key in prop:gmatch("[^%.]+") do
      if type(v) ~= "table" then return nil end
      v = values.index(v, key)
    end
  end
  return v
end
F.property = property

F.map = function(v, prop)
  local a = list(v)
  local out = {}
  prop = str(prop)
  for i = 1, #a do
    local item = a[i]
    if type(item) == "table" and not is_date(item) then
      out[#out + 1] = values.index(item, prop)
    else
      out[#out + 1] = nil
    end
  end
  local n = 0
  for i = 1, #a do if out[i] ~= nil then n = i end end
  local r = {}
  for i = 1, n do r[i] = out[i] == nil and values.null or out[i] end
  return r
end

F.compact = function(v, prop)
  local a, out = list(v), {}
  for i = 1, #a do
    local x = a[i]
    if prop ~= nil then x = property(x, str(prop)) end
    if not is_nil(x) then out[#out + 1] = a[i] end
  end
  return out
end

F.uniq = function(v, prop)
  local a, out, seen = list(v), {}, {}
  for i = 1, #a do
    local key = a[i]
    if prop ~= nil then key = property(key, str(prop)) end
    local id = type(key) == "table" and inspect(key) or (type(key) .. ":" .. tostring(key))
    if not seen[id] then seen[id] = true; out[#out + 1] = a[i] end
  end
  return out
end

F.concat = function(v, other)
  if not is_array(other) then fail("concat filter requires an array argument") end
  local out = copy(list(v))
  for i = 1, #other do out[#out + 1] = other[i] end
  return out
end

F.push = function(v, x)
  local out = copy(list(v)); out[#out + 1] = x; return out
end
F.unshift = function(v, x)
  local out = { x }
  local a = list(v)
  for i = 1, #a do out[i + 1] = a[i] end
  return out
end
F.pop = function(v, n)
  local out = copy(list(v))
  n = n == nil and 1 or to_integer(n)
  for _ = 1, n do out[#out] = nil end
  return out
end
F.shift = function(v, n)
  local a = list(v)
  n = n == nil and 1 or to_integer(n)
  local out = {}
  for i = n + 1, #a do out[#out + 1] = a[i] end
  return out
end

F.sample = function(v, n)
  local a = list(v)
  if n == nil then return a[math.random(#a > 0 and #a or 1)] end
  n = to_integer(n)
  local pool, out = copy(a), {}
  for _ = 1, math.min(n, #pool) do
    out[#out + 1] = table.remove(pool, math.random(#pool))
  end
  return out
end

-- <=> of two sortable values, or nil when Ruby cannot compare them.
local function spaceship(a, b)
  local ta, tb = type(a), type(b)
  if is_date(a) and is_date(b) then a, b = a.epoch, b.epoch; ta, tb = "number", "number" end
  if ta ~= tb or (ta ~= "number" and ta ~= "string") then return nil end
  if a < b then return -1 elseif a > b then return 1 end
  return 0
end

-- A stable sort by `cmp` returning -1/0/1.
local function stable_sort(a, cmp)
  local idx = {}
  for i = 1, #a do idx[i] = i end
  sort(idx, function(x, y)
    -- compared in list order, so an error names the earlier item first
    local c
    if x < y then c = cmp(a[x], a[y]) else c = -cmp(a[y], a[x]) end
    if c ~= 0 then return c < 0 end
    return x < y
  end)
  local out = {}
  for i = 1, #idx do out[i] = a[idx[i]] end
  return out
end

-- Jekyll's sort: by value, or by a property with nils "first" or "last".
F.sort = function(v, prop, nils)
  if is_nil(v) then fail("Cannot sort a null object.") end
  local a = list(v)
  if prop == nil then
    return stable_sort(a, function(x, y)
      local c = spaceship(x, y)
      if c == nil then
        fail("comparison of " .. values.class_name(x) .. " with " .. values.class_name(y) .. " failed")
      end
      return c
    end)
  end
  nils = nils == nil and "first" or str(nils)
  local order
  if nils == "first" then order = -1 elseif nils == "last" then order = 1
  else fail("Invalid nils order: '" .. nils .. "' is not a valid nils order. It must be 'first' or 'last'.") end
  prop = str(prop)
  return stable_sort(a, function(x, y)
    local px, py = property(x, prop), property(y, prop)
    if is_nil(px) and is_nil(py) then return 0 end
    if is_nil(py) then return -order end
    if is_nil(px) then return order end
    local c = spaceship(px, py)
    if c == nil then c = spaceship(str(px), str(py)) end
    return c
  end)
end

F.sort_natural = function(v, prop)
  local a = list(v)
  return stable_sort(a, function(x, y)
    if prop ~= nil then x, y = property(x, str(prop)), property(y, str(prop)) end
    if is_nil(x) and is_nil(y) then return 0 end
    if is_nil(x) then return 1 end
    if is_nil(y) then return -1 end
    local sx, sy = lower(str(x)), lower(str(y))
    if sx < sy then return -1 elseif sx > sy then return 1 end
    return 0
  end)
end

-- Jekyll's where: the property compared as text; an array property
-- matches when one item does; a missing property matches only nil.
local function matches(prop, target)
  if is_nil(target) then return is_nil(prop) end
  if target == values.EMPTY or target == values.BLANK then
    return values.equal(prop, target)
  end
  target = str(target)
  if type(prop) == "string" then return prop == target end
  if is_nil(prop) then return false end
  if is_array(prop) then
    for i = 1, #prop do
      if str(prop[i]) == target then return true end
    end
    return false
  end
  return str(prop) == target
end

local function hash_values(v)
  if type(v) == "table" and not is_array(v) and not is_date(v) and not rawget(v, "__range") then
    local out = {}
    for _, k in ipairs(values.sorted_keys(v)) do out[#out + 1] = v[k] end
    return out
  end
  return list(v)
end

F.where = function(v, prop, target)
  if is_nil(v) then return v end
  if prop == nil or (type(target) == "table" and not is_date(target) and target ~= values.EMPTY
      and target ~= values.BLANK) then
    return v
  end
  local a, out = hash_values(v), {}
  prop = str(prop)
  for i = 1, #a do
    if matches(property(a[i], prop), target) then out[#out + 1] = a[i] end
  end
  return out
end

F.find = function(v, prop, target)
  if is_nil(v) then return nil end
  local a = hash_values(v)
  prop = str(prop)
  for i = 1, #a do
    if matches(property(a[i], prop), target) then return a[i] end
  end
  return nil
end

-- where_exp and friends: `expr` is a Liquid condition over `name`.
local function each_match(v, name, expr, fn)
  local a = hash_values(v)
  local cond, V = F.env.condition(str(expr)), F.env.scope()
  name = str(name)
  for i = 1, #a do
    V[name] = a[i]
    if cond(V) then
      if fn(a[i]) then return end
    end
  end
end

F.where_exp = function(v, name, expr)
  if is_nil(v) then return v end
  local out = {}
  each_match(v, name, expr, function(item) out[#out + 1] = item end)
  return out
end

F.find_exp = function(v, name, expr)
  if is_nil(v) then return nil end
  local found
  each_match(v, name, expr, function(item) found = item; return true end)
  return found
end

local function grouped(a, key_of)
  local groups, by_name = {}, {}
  for i = 1, #a do
    local key = key_of(a[i])
    local id = type(key) == "table" and inspect(key) or (type(key) .. ":" .. tostring(key))
    local g = by_name[id]
    if not g then
      g = { name = key, items = {}, size = 0 }
      by_name[id] = g
      groups[#groups + 1] = g
    end
    g.items[#g.items + 1] = a[i]
    g.size = #g.items
  end
  return groups
end

F.group_by = function(v, prop)
  prop = str(prop)
  return grouped(hash_values(v), function(item) return str(property(item, prop)) end)
end

F.group_by_exp = function(v, name, expr)
  local value, V = F.env.expression(str(expr)), F.env.scope()
  name = str(name)
  return grouped(hash_values(v), function(item)
    V[name] = item
    local key = value(V)
    if key == nil then key = values.null end
    return key
  end)
end

---------------------------------------------------------------------------
-- JSON

-- A copy fit for JSON: no functions, no private `_` keys, each table once
-- per path (posts link to their neighbours), dates as their ISO string.
local function json_value(v, seen, depth)
  local t = type(v)
  if t == "table" then
    if is_date(v) then return tostring(v) end
    if seen[v] or depth > 20 then return nil end
    seen[v] = true
    local out = {}
    if is_array(v) then
      for i = 1, #v do
        local x = json_value(v[i], seen, depth + 1)
        out[i] = x == nil and values.null or x
      end
      if #v == 0 then out = setmetatable(out, { __yaml = "list" }) end
    else
      for k, x in pairs(v) do
        if type(k) == "string" and sub(k, 1, 1) ~= "_" and k ~= "next" and k ~= "previous" then
          out[k] = json_value(x, seen, depth + 1)
        end
      end
      if next(out) == nil then out = setmetatable(out, { __yaml = "map" }) end
    end
    seen[v] = nil
    return out
  end
  if t == "function" or t == "userdata" and v ~= values.null then return nil end
  return v
end

F.jsonify = function(v)
  return pub().json.encode(json_value(v, {}, 0))
end

---------------------------------------------------------------------------
-- Dates

-- Liquid's to_date: dates as they are, "now"/"today", epoch seconds (a
-- number or a string of digits), else what publish.date.parse reads.
local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9,
  oct = 10, nov = 11, dec = 12 }

local function parse_text_date(s)
  local p = pub()
  local d = p.date.parse(s)
  if d then return d end
  -- "June 19, 2024", "19 June 2024", "2024/06/19", with an optional time
  local y, m, day, rest
  local mon, dd, yy, r = match(s, "^(%a+)%.? (%d%d?),? (%d%d%d%d)(.*)$")
  if mon then y, m, day, rest = yy, MONTHS[lower(sub(mon, 1, 3))], dd, r end
  if not m then
    dd, mon, yy, r = match(s, "^(%d%d?) (%a+)%.?,? (%d%d%d%d)(.*)$")
    if mon then y, m, day, rest = yy, MONTHS[lower(sub(mon, 1, 3))], dd, r end
  end
  if not m then
    yy, mon, dd, r = match(s, "^(%d%d%d%d)/(%d%d?)/(%d%d?)(.*)$")
    if yy then y, m, day, rest = yy, tonumber(mon), dd, r end
  end
  if not m then return nil end
  return p.date.parse(format("%04d-%02d-%02d%s", tonumber(y), m, tonumber(day), rest or ""))
end

local function epoch_date(n)
  local p = pub()
  local now = p.date.now()
  local offset = now.offset or 0
  local t = floor(n) + offset * 60
  local days = t // 86400
  local secs = t % 86400
  -- civil from days (Howard Hinnant's algorithm)
  local z = days + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  local sign = offset < 0 and "-" or "+"
  local off = abs(offset)
  return p.date.parse(format("%04d-%02d-%02d %02d:%02d:%02d %s%02d:%02d", y, m, d, secs // 3600,
    secs % 3600 // 60, secs % 60, sign, off // 60, off % 60))
end

local function to_date(v)
  if is_date(v) then return v end
  if type(v) == "number" then return epoch_date(v) end
  if type(v) ~= "string" then return nil end
  local s = match(v, "^%s*(.-)%s*$")
  if s == "now" or s == "today" then return pub().date.now() end
  if find(s, "^%d+$") then return epoch_date(tonumber(s)) end
  return parse_text_date(s)
end
F.to_date = to_date

local DAY_NAMES = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" }

-- Ruby strftime conversions publish.date.format lacks, worked out here;
-- the rest are handed on. Unknown conversions print as written.
local PUB_KNOWN = { Y = true, y = true, m = true, d = true, e = true, H = true, I = true, M = true,
  S = true, p = true, b = true, B = true, a = true, A = true, j = true, s = true, z = true, F = true,
  T = true }

local function weekday(d)
  return (floor((d.epoch + (d.offset or 0) * 60) / 86400) + 4) % 7 -- 0 = Sunday
end

local function lit(s) return (gsub(s, "%%", "%%%%")) end

local function ruby_format(d, fmt)
  local p = pub()
  local converted = gsub(fmt, "%%([%-_0%^#]?)(:?)(%a)", function(flag, colon, c)
    if colon == ":" then
      if c == "z" then return "%Z" end
      return "%" .. flag .. colon .. c
    end
    if c == "P" then return lit(lower(p.date.format(d, "%p"))) end
    if c == "l" then return lit(format(flag == "-" and "%d" or "%2d", (d.hour - 1) % 12 + 1)) end
    if c == "k" then return lit(format(flag == "-" and "%d" or "%2d", d.hour)) end
    if c == "u" then local w = weekday(d); return tostring(w == 0 and 7 or w) end
    if c == "w" then return tostring(weekday(d)) end
    if c == "L" then return "000" end
    if c == "N" then return "000000000" end
    if c == "C" then return format("%02d", d.year // 100) end
    if c == "h" then c = "b" end
    if c == "D" then return "%m/%d/%y" end
    if c == "R" then return "%H:%M" end
    if c == "r" then return "%I:%M:%S %p" end
    if c == "c" then return "%a %b %e %H:%M:%S %Y" end
    if c == "x" then return "%m/%d/%y" end
    if c == "X" then return "%H:%M:%S" end
    if c == "n" then return "\n" end
    if c == "t" then return "\t" end
    if c == "Z" then return "%Z" end
    if c == "U" then
      local yday = tonumber(p.date.format(d, "%j")) - 1
      return format("%02d", (yday + 7 - weekday(d)) // 7)
    end
    if c == "A" and flag == "^" then return lit(upper(DAY_NAMES[weekday(d) + 1])) end
    if flag == "^" then return lit(upper(p.date.format(d, "%" .. c))) end
    if PUB_KNOWN[c] then
      if flag == "-" or flag == "" then return "%" .. flag .. c end
      return "%" .. c
    end
    return lit("%" .. flag .. colon .. c)
  end)
  return p.date.format(d, converted)
end

-- Formatted dates are remembered per date and format: a post's date is
-- printed on many pages.
local date_memo = setmetatable({}, { __mode = "k" })

function F.format_date(d, fmt)
  local m = date_memo[d]
  if not m or m.epoch ~= d.epoch or m.offset ~= d.offset then
    m = { epoch = d.epoch, offset = d.offset }
    date_memo[d] = m
  end
  local s = m[fmt]
  if not s then s = ruby_format(d, fmt); m[fmt] = s end
  return s
end

F.date = function(v, fmt)
  if fmt == nil or str(fmt) == "" then return v end
  local d = to_date(v)
  if not d then return v end
  return F.format_date(d, str(fmt))
end

-- Jekyll's date filters need a date.
-- Jekyll's date filters need a date, and show it in the site's time zone.
local function jekyll_time(v)
  local d = to_date(v)
  if not d then fail("Invalid Date: '" .. inspect(v) .. "' is not a valid datetime.") end
  if d.offset ~= pub().date.now().offset then d = epoch_date(d.epoch) end
  return d
end

local function ordinal(day)
  if day % 100 >= 11 and day % 100 <= 13 then return "th" end
  return ({ "st", "nd", "rd" })[day % 10] or "th"
end

local function stringify_date(v, month, kind, style)
  if is_nil(v) or v == "" then return v end
  local d = jekyll_time(v)
  if kind == "ordinal" then
    local day = d.day .. ordinal(d.day)
    if style == "US" then return F.format_date(d, month .. " " .. day .. ", %Y") end
    return F.format_date(d, day .. " " .. month .. " %Y")
  end
  return F.format_date(d, "%d " .. month .. " %Y")
end

F.date_to_string = function(v, kind, style) return stringify_date(v, "%b", kind, style) end
F.date_to_long_string = function(v, kind, style) return stringify_date(v, "%B", kind, style) end
F.date_to_xmlschema = function(v)
  if is_nil(v) or v == "" then return v end
  return F.format_date(jekyll_time(v), "%Y-%m-%dT%H:%M:%S%:z")
end
F.date_to_rfc822 = function(v)
  if is_nil(v) or v == "" then return v end
  return F.format_date(jekyll_time(v), "%a, %d %b %Y %H:%M:%S %z")
end

---------------------------------------------------------------------------
-- URLs

local function is_absolute(s)
  return find(s, "^%a[%w+.%-]*:") ~= nil
end

local function url_of(v)
  if type(v) == "table" and not is_date(v) and type(v.url) == "string" then return v.url end
  return str(v)
end

local function site_text(key)
  local site = F.env.site
  if not site then return "" end
  local v = site[key]
  if v == nil and type(site.config) == "table" then v = site.config[key] end
  return type(v) == "string" and v or ""
end

local url_memo = { relative = {}, absolute = {} }

F.relative_url = function(v)
  if is_nil(v) then return nil end
  local path = url_of(v)
  local memo = url_memo.relative
  local base = site_text("baseurl")
  if memo.base ~= base then memo = { base = base }; url_memo.relative = memo end
  local url = memo[path]
  if url then return url end
  if is_absolute(path) then
    url = path
  else
    base = gsub(base, "/+$", "")
    if base ~= "" and sub(base, 1, 1) ~= "/" then base = "/" .. base end
    url = require("publish.urls").encode(base .. (sub(path, 1, 1) == "/" and "" or "/") .. path)
  end
  memo[path] = url
  return url
end

F.absolute_url = function(v)
  if is_nil(v) then return nil end
  local path = url_of(v)
  if is_absolute(path) then return path end
  local site_url = site_text("url")
  local memo = url_memo.absolute
  local key = site_url .. "\0" .. site_text("baseurl")
  if memo.key ~= key then memo = { key = key }; url_memo.absolute = memo end
  local url = memo[path]
  if not url then
    url = gsub(site_url, "/+$", "") .. F.relative_url(path)
    memo[path] = url
  end
  return url
end

function F.reset()
  url_memo = { relative = {}, absolute = {} }
end

-- The filters, without the helpers above.
local HELPERS = { env = true, reset = true, format_date = true, to_date = true, property = true }
local M = { filters = {}, helpers = F }
for name, fn in pairs(F) do
  if not HELPERS[name] then M.filters[name] = fn end
end
return M
