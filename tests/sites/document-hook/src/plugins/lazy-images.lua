-- Images load when they come near the screen.
return {
  document = function(doc)
    doc:walk {
      image = function(image)
        image:set_attribute("loading", "lazy")
      end,
    }
  end,
}
