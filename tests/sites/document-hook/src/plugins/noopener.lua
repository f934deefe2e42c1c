-- External links: rel="noopener", so the opened page gets no handle on ours.
return {
  document_cache = true, -- depends on the post alone: may be cached
  document = function(doc, post)
    doc:walk {
      link = function(link)
        if link.url:match("^https?://") then
          link:set_attribute("rel", "noopener")
        end
      end,
    }
  end,
}
