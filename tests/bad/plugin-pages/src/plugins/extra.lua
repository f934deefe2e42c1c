-- Pages no document stands behind: their problems are reported at the
-- add_page line, or at the document they collide with.
return {
  site = function(site)
    site:add_page{url = "/twice/", content = "one"}
    site:add_page{url = "/twice/", content = "two"}
    site:add_page{url = "../../escape", content = "out"}
    site:add_page{url = "/clash.xml", content = "<x/>"}
  end,
}
