local liquid = require "liquid"

-- {% youtube dQw4w9WgXcQ %}
liquid.tags.youtube = function(args)
  return '<iframe src="https://www.youtube.com/embed/' .. publish.html.escape(args) .. '"></iframe>'
end

-- {% note warning %}Text with {{ page.title }}{% endnote %}
liquid.tags.note = { block = function(args, body, context)
  return '<aside class="' .. (args ~= "" and args or "note") .. '">' .. body .. '</aside>'
end }

-- {{ page.title | shout: "!" }}
liquid.filters.shout = function(input, mark)
  return tostring(input):upper() .. (mark or "")
end

return {}
