-- A stand-in for the `publish` library so plugin tests also run under a
-- plain `lua5.4` from the repository root (while the binary is being
-- built, or to iterate quickly). Only what plugin tests need, simply done:
-- the real library is C (core/lua/lib_*.c) and is what `publish run` uses.
-- Loaded by tests only when the global `publish` is missing; it also puts
-- plugins/?.lua on package.path.

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "tests/lua"
local root = here .. "/../.."
package.path = root .. "/plugins/?.lua;" .. package.path

local p = {}

p.null = setmetatable({}, { __name = "publish.null", __tostring = function() return "" end })

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
p.html = {
  escape = function(s) return (tostring(s):gsub("[&<>\"']", ESC)) end,
  text = function(s)
    s = tostring(s):gsub("<[^>]*>", "")
    s = s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&amp;", "&")
    return s
  end,
}

p.utf8 = {
  len = function(s) return utf8.len(s) end,
  truncate = function(s, n)
    if (utf8.len(s) or #s) <= n then return s end
    return s:sub(1, utf8.offset(s, n + 1) - 1) .. "…"
  end,
}

function p.slugify(s)
  s = s:lower():gsub("[^%w\128-\255]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
  return s
end

local Date = { __name = "publish.Date" }
Date.__index = Date
Date.__tostring = function(d)
  local off = d.offset or 0
  local sign = off < 0 and "-" or "+"
  off = math.abs(off)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d",
    d.year, d.month, d.day, d.hour, d.min, d.sec, sign, off // 60, off % 60)
end

p.date = {
  format = function(d, fmt)
    -- os.date("!") on the wall-clock time gives its fields back.
    local wall = d.epoch + (d.offset or 0) * 60
    return os.date("!" .. fmt, wall)
  end,
  -- 2024-06-19, 2024-06-19T09:30:00+09:00, 2024-06-19 09:30:00 Z
  parse = function(s)
    local y, mo, da, rest = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)(.*)$")
    if not y then return nil end
    local h, mi, sec, zone = rest:match("^[T ](%d%d):(%d%d):?(%d*)%s*(.*)$")
    local offset = 0
    if zone and zone ~= "" and zone ~= "Z" then
      local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d%d)$")
      if not sign then return nil end
      offset = (tonumber(zh) * 60 + tonumber(zm)) * (sign == "-" and -1 or 1)
    end
    return p.date.make(tonumber(y), tonumber(mo), tonumber(da), tonumber(h) or 0,
      tonumber(mi) or 0, tonumber(sec) or 0, offset)
  end,
}

-- A Date from fields, for tests (epoch computed for UTC wall time).
function p.date.make(y, mo, da, h, mi, s, offset)
  local days = 0
  local function leap(yy) return (yy % 4 == 0 and yy % 100 ~= 0) or yy % 400 == 0 end
  for yy = 1970, y - 1 do days = days + (leap(yy) and 366 or 365) end
  local mdays = { 31, leap(y) and 29 or 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  for m = 1, mo - 1 do days = days + mdays[m] end
  days = days + da - 1
  offset = offset or 0
  local epoch = days * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0) - offset * 60
  return setmetatable({ year = y, month = mo, day = da, hour = h or 0, min = mi or 0,
    sec = s or 0, offset = offset, epoch = epoch }, Date)
end

local function encode(v, out)
  local t = type(v)
  if v == nil or v == p.null then out[#out + 1] = "null"
  elseif t == "boolean" or t == "number" then out[#out + 1] = tostring(v)
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
      local map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }
      return map[c] or string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif getmetatable(v) == Date then out[#out + 1] = '"' .. tostring(v) .. '"'
  elseif #v > 0 or next(v) == nil then
    out[#out + 1] = "["
    for i, item in ipairs(v) do
      if i > 1 then out[#out + 1] = "," end
      encode(item, out)
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      encode(k, out); out[#out + 1] = ":"; encode(v[k], out)
    end
    out[#out + 1] = "}"
  end
end
p.json = { encode = function(v) local out = {}; encode(v, out); return table.concat(out) end }

-- "---\nkey: value\n---\nbody" with flat `key: value` lines only.
function p.frontmatter(text, path)
  local meta = {}
  if not text:match("^%-%-%-\r?\n") then return meta, text, 1 end
  local line, pos = 2, text:find("\n") + 1
  while true do
    local e = text:find("\n", pos, true)
    local l = text:sub(pos, (e or #text + 1) - 1):gsub("\r$", "")
    if l == "---" or l == "..." then
      return meta, e and text:sub(e + 1) or "", line + 1
    end
    if not e then error(path .. ":1:1: unclosed front matter", 0) end
    local k, v = l:match("^([%w_]+)%s*:%s*(.-)%s*$")
    if k then
      if v == "true" then v = true elseif v == "false" then v = false end
      meta[k] = v
    end
    pos, line = e + 1, line + 1
  end
end

-- publish.fs over the tests' site folder (SRC is tests/lua/site, as
-- with `publish run ... -s tests/lua/site`); no confinement checks here.
local SRC = here .. "/site/"
p.fs = {
  read = function(rel)
    local f = io.open(SRC .. rel, "rb")
    if not f then return nil, "cannot read '" .. rel .. "': No such file or directory" end
    local text = f:read("a")
    f:close()
    return text
  end,
  exists = function(rel)
    local f = io.open(SRC .. rel, "rb")
    if f then f:close() end
    return f ~= nil
  end,
}

publish = p
return p
