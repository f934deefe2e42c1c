-- GitHub's alerts: a quote whose first line is [!NOTE] (or TIP, IMPORTANT,
-- WARNING, CAUTION) becomes <div class="callout note"> with a title.
local TITLES = { NOTE = "Note", TIP = "Tip", IMPORTANT = "Important",
                 WARNING = "Warning", CAUTION = "Caution" }

return {
  document_cache = true, -- depends on the post alone: may be cached
  document = function(doc)
    doc:walk {
      block_quote = function(quote)
        local para = quote.first_child
        local marker = para and para.type == "paragraph" and para.first_child
        local kind = marker and marker.type == "text" and marker.literal:match("^%[!(%u+)%]$")
        if not TITLES[kind] then return nil end -- an ordinary quote
        marker:unlink()
        local after = para.first_child
        if after and after.type == "softbreak" then after:unlink() end
        if not para.first_child then para:unlink() end
        local box = publish.node.new("custom_block", {
          on_enter = '<div class="callout ' .. kind:lower() .. '">\n'
            .. '<p class="callout-title">' .. TITLES[kind] .. "</p>",
          on_exit = "</div>",
        })
        for _, child in ipairs(quote.children) do box:append(child) end
        return box
      end,
    }
  end,
}
