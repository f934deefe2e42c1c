-- Liquid's value semantics on publish's plain Lua data, for the compiled
-- templates (plugins/liquid/compile.lua) and the filters: what is true,
-- what prints as what, how `==`, `<` and `contains` compare, how
-- `a.b`, `a[0]`, `.size`, `.first` and `.last` look things up, and how
-- numbers are read and printed the way Ruby does (Jekyll is Ruby). It
-- renders nothing and reads no file.
--
-- Lua has one `nil` where Ruby has nil, and one table type where Ruby has
-- arrays and hashes: a table with items 1..n (or no keys at all) is an
-- array, any other table is a hash. publish.null (a null YAML list item)
-- is nil. Dates are publish.Date tables.

local type, tostring, tonumber, pairs, next, getmetatable, rawget =
  type, tostring, tonumber, pairs, next, getmetatable, rawget
local format, find, match, sub, gsub, byte = string.format, string.find, string.match, string.sub,
  string.gsub, string.byte
local floor, huge, mtype = math.floor, math.huge, math.type
local concat, sort = table.concat, table.sort

local V = {}

local publish = rawget(_G, "publish")
local null = publish and publish.null
V.null = null

function V.bind(p)
  publish = p
  null = p and p.null
  V.null = null
end

-- An error a template author sees: raised as a plain message; the render
-- driver adds the template's FILE:LINE:COL.
local function fail(message) error(message, 0) end
V.fail = fail

-- The library's own test (publish.date.is); most values are not tables.
function V.is_date(v)
  return type(v) == "table" and publish.date.is(v)
end
local is_date = V.is_date

-- nil and publish.null are Liquid's nil.
local function is_nil(v) return v == nil or v == null end
V.is_nil = is_nil

-- A table that is an array (items 1..n, or empty).
local function is_array(v)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return false end
  return v[1] ~= nil or next(v) == nil
end
V.is_array = is_array

function V.truthy(v) return v ~= nil and v ~= false and v ~= null end

---------------------------------------------------------------------------
-- Numbers, printed as Ruby prints them

-- Ruby's Float#to_s: the shortest digits that read back as the same
-- number, always with a point ("3.0"), exponent form from 1e16 and below
-- 1e-4 ("1.0e+16", "1.0e-05").
local function float_text(x)
  if x ~= x then return "NaN" end
  if x == huge then return "Infinity" end
  if x == -huge then return "-Infinity" end
  if x == 0 then return (1 / x < 0) and "-0.0" or "0.0" end
  local s
  for p = 1, 17 do
    s = format("%." .. p .. "e", x)
    if tonumber(s) == x then break end
  end
  local sign, int, frac, e = match(s, "^(-?)(%d)%.?(%d*)e([-+]%d+)$")
  e = tonumber(e)
  frac = gsub(frac, "0+$", "")
  local digits = int .. frac
  if e >= 16 or e < -4 then
    return format("%s%s.%se%s%02d", sign, int, frac == "" and "0" or frac, e < 0 and "-" or "+",
      e < 0 and -e or e)
  end
  if e < 0 then
    return sign .. "0." .. string.rep("0", -e - 1) .. digits
  end
  if #digits <= e + 1 then
    return sign .. digits .. string.rep("0", e + 1 - #digits) .. ".0"
  end
  return sign .. sub(digits, 1, e + 1) .. "." .. sub(digits, e + 2)
end
V.float_text = float_text

local function number_text(v)
  if mtype(v) == "integer" then return format("%d", v) end
  return float_text(v)
end
V.number_text = number_text

-- Liquid's to_number: numbers as they are, "3" -> 3, "2.5" -> 2.5, other
-- strings as Ruby's String#to_i reads them ("12abc" -> 12, "abc" -> 0),
-- anything else 0.
function V.to_number(v)
  local t = type(v)
  if t == "number" then return v end
  if t == "string" then
    local s = match(v, "^%s*(.-)%s*$")
    if find(s, "^%-?%d+%.%d+$") then return tonumber(s) end
    local int = match(v, "^%s*([-+]?%d+)")
    if int then return math.tointeger(tonumber(int)) or tonumber(int) end
    return 0
  end
  return 0
end

-- Ruby's Integer(): filters that need a whole number ("limit", "truncate").
function V.to_integer(v, what)
  local n = v
  if type(v) == "string" then n = tonumber(match(v, "^%s*(.-)%s*$")) end
  if type(n) ~= "number" then
    if is_nil(v) then return nil end
    fail("invalid integer" .. (what and (" for " .. what) or "") .. ": " .. V.inspect(v))
  end
  if mtype(n) == "float" then n = floor(n) end
  return math.tointeger(n) or 0
end

---------------------------------------------------------------------------
-- Text

local function date_text(d)
  return publish.date.format(d, "%Y-%m-%d %H:%M:%S %z")
end

local inspect

-- What `{{ v }}` prints: nil prints nothing, arrays their items one after
-- the other, hashes as Ruby inspects them, dates as Ruby's Time#to_s.
local function to_s(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return number_text(v) end
  if v == nil or v == null then return "" end
  if t == "boolean" then return v and "true" or "false" end
  if t == "table" then
    if is_date(v) then return date_text(v) end
    local mt = getmetatable(v)
    if mt and mt.__tostring then return tostring(v) end
    if is_array(v) then
      local parts = {}
      for i = 1, #v do parts[i] = to_s(v[i]) end
      return concat(parts)
    end
    return inspect(v)
  end
  return tostring(v)
end
V.to_s = to_s

local function quote_ruby(s)
  return '"' .. gsub(s, '[%c"\\#]', function(c)
    if c == "\n" then return "\\n" elseif c == "\t" then return "\\t"
    elseif c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "#" then return "#" end
    return format("\\x%02X", byte(c))
  end) .. '"'
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  return a < b
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, key_order)
  return keys
end
V.sorted_keys = sorted_keys

-- Ruby's #inspect (Ruby 3.1): "x" -> "\"x\"", [1, "a"] -> "[1, \"a\"]",
-- {"a"=>1}; hash keys in sorted order (Lua tables have no order).
inspect = function(v, depth)
  depth = depth or 0
  if depth > 50 then return "[...]" end
  local t = type(v)
  if t == "string" then return quote_ruby(v) end
  if v == nil or v == null then return "nil" end
  if t == "number" or t == "boolean" then return to_s(v) end
  if t == "table" then
    if is_date(v) then return date_text(v) end
    if is_array(v) then
      local parts = {}
      for i = 1, #v do parts[i] = inspect(v[i], depth + 1) end
      return "[" .. concat(parts, ", ") .. "]"
    end
    local parts = {}
    for _, k in ipairs(sorted_keys(v)) do
      local val = v[k]
      if type(val) ~= "function" then
        parts[#parts + 1] = inspect(k, depth + 1) .. "=>" .. inspect(val, depth + 1)
      end
    end
    return "{" .. concat(parts, ", ") .. "}"
  end
  return tostring(v)
end
V.inspect = inspect

---------------------------------------------------------------------------
-- Lookups

-- Length in characters (Ruby's String#size), invalid UTF-8 bytes one each.
local function char_len(s)
  return utf8.len(s) or publish.utf8.len(s)
end
V.char_len = char_len

local function size(v)
  local t = type(v)
  if t == "string" then return char_len(v) end
  if t == "table" then
    if is_date(v) then return nil end
    local n = #v
    if n > 0 then return n end
    for _ in pairs(v) do n = n + 1 end
    return n
  end
  return nil
end
V.size = size

-- obj.key and obj[key]. Arrays are indexed from 0, negative from the end;
-- `size`, `first` and `last` work on arrays, hashes and strings (size)
-- unless the hash has a key of that name.
function V.index(obj, key)
  local t = type(obj)
  if t == "table" then
    local v
    if type(key) == "number" then
      if mtype(key) == "float" then
        if key ~= floor(key) then return nil end
        key = math.tointeger(key)
      end
      local n = #obj
      if n > 0 or obj[key] == nil then
        if key < 0 then key = n + key end
        v = obj[key + 1]
      else
        v = obj[key]
      end
    else
      v = obj[key]
    end
    if v ~= nil then
      if v == null then return nil end
      return v
    end
    if key == "size" then return size(obj)
    elseif key == "first" then
      if is_array(obj) then return obj[1] end
    elseif key == "last" then
      if is_array(obj) then return obj[#obj] end
    end
    return nil
  elseif t == "string" then
    if key == "size" then return char_len(obj) end
    if key == "first" or key == "last" then return nil end
  end
  return nil
end

---------------------------------------------------------------------------
-- Comparisons

local EMPTY, BLANK = {}, {}
V.EMPTY, V.BLANK = EMPTY, BLANK

local function is_empty(v)
  if type(v) == "string" then return v == "" end
  if type(v) == "table" and not is_date(v) then return next(v) == nil end
  return false
end

local equal

local function tables_equal(a, b, depth)
  if depth > 50 then return false end
  for k, v in pairs(a) do
    if not equal(v, b[k], depth + 1) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- Ruby's ==: 1 == 1.0, "1" ~= 1, arrays and hashes by content;
-- `empty` and `blank` on either side.
equal = function(a, b, depth)
  if a == EMPTY or a == BLANK then a, b = b, a end
  if b == EMPTY then return is_empty(a) end
  -- Jekyll runs Liquid without ActiveSupport: no value has blank?, so
  -- nothing equals `blank`.
  if b == BLANK then return false end
  if a == null then a = nil end
  if b == null then b = nil end
  if a == b then return true end
  if type(a) == "table" and type(b) == "table" then
    if is_date(a) or is_date(b) then return false end
    return tables_equal(a, b, depth or 0)
  end
  return false
end
V.equal = equal

local RUBY_CLASS = { string = "String", boolean = nil, table = "Array" }

local function class_name(v)
  if v == nil or v == null then return "nil" end
  local t = type(v)
  if t == "number" then return mtype(v) == "integer" and "Integer" or "Float" end
  if t == "boolean" then return v and "true" or "false" end
  if t == "table" then
    if is_date(v) then return "Time" end
    return is_array(v) and "Array" or "Hash"
  end
  return RUBY_CLASS[t] or t
end
V.class_name = class_name

-- `<`, `<=`, `>`, `>=`: numbers with numbers, strings with strings, dates
-- with dates; Ruby raises for other mixes of comparable values, and a nil,
-- boolean, array or hash on either side is simply false.
function V.compare(a, op, b)
  local ta, tb = type(a), type(b)
  local comparable = { number = true, string = true }
  if not (comparable[ta] or is_date(a)) or not (comparable[tb] or is_date(b)) then
    return false
  end
  if ta ~= tb or is_date(a) ~= is_date(b) then
    fail("comparison of " .. class_name(a) .. " with " ..
      (tb == "string" and "String" or tb == "number" and inspect(b) or class_name(b)) .. " failed")
  end
  if is_date(a) then a, b = a.epoch, b.epoch end
  if op == "<" then return a < b
  elseif op == "<=" then return a <= b
  elseif op == ">" then return a > b
  end
  return a >= b
end

-- `contains`: a substring of a string, an item of an array, a key of a
-- hash.
function V.contains(a, b)
  if is_nil(a) or is_nil(b) then return false end
  if type(a) == "string" then
    return find(a, to_s(b), 1, true) ~= nil
  end
  if type(a) == "table" and not is_date(a) then
    if is_array(a) then
      for i = 1, #a do
        if equal(a[i], b) then return true end
      end
      return false
    end
    return a[b] ~= nil
  end
  return false
end

---------------------------------------------------------------------------
-- Loops

-- The items `for` walks: arrays as they are, a hash as [key, value] pairs
-- (keys sorted unless its metatable's __keys orders them), a range table,
-- a string as one item, nil as nothing.
function V.items(v)
  if v == nil or v == null or v == false then return EMPTY end
  local t = type(v)
  if t == "table" then
    if is_date(v) then return { v } end
    if rawget(v, "__range") then
      local out, n = {}, 0
      for i = v.from, v.to do n = n + 1; out[n] = i end
      return out
    end
    if is_array(v) then return v end
    -- A hash that knows its order (site.categories) gives it; others
    -- are sorted (Lua tables have none).
    local mt = getmetatable(v)
    local keys = mt and mt.__keys or sorted_keys(v)
    local out = {}
    for i, k in ipairs(keys) do out[i] = { k, v[k] } end
    return out
  end
  if t == "string" then
    if v == "" then return EMPTY end
    return { v }
  end
  return { v }
end

-- (a..b): Ruby's Integer() of both ends.
local RANGE_MT = {
  __tostring = function(r) return format("%d..%d", r.from, r.to) end,
}
function V.range(a, b)
  local from, to = V.to_integer(V.to_number(a)), V.to_integer(V.to_number(b))
  if to - from > 10000000 then fail("range too large: " .. from .. ".." .. to) end
  return setmetatable({ __range = true, from = from, to = to }, RANGE_MT)
end

return V
