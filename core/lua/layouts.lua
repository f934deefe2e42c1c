-- What the two template plugins (template.lua, liquid.lua) share about
-- layout files, so that they agree and neither writes it again. Not a
-- plugin itself: required as "publish.layouts" (preloaded, so a site
-- plugin cannot shadow it).

local find = string.find

local layouts = {}

-- The line of `layout:` in a layout's front matter (1 when there is
-- none), for errors about the layout it names.
function layouts.key_line(text)
  local line = 1
  for l in text:gmatch("([^\n]*)\n") do
    if line > 1 and find(l, "^%-%-%-%s*$") then break end
    if find(l, "^layout%s*:") then return line end
    line = line + 1
  end
  return 1
end

return layouts
