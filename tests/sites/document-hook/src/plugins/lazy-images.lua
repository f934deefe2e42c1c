-- Images load when they come near the screen.
return {
  document_cache = true, -- depends on the post alone: may be cached
  document = function(doc)
    doc:walk {
      image = function(image)
        image:set_attribute("loading", "lazy")
      end,
    }
  end,
}
