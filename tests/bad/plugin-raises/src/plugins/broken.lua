-- A plugin with a bug: indexes a field that is not there.
local function word_count(post)
  return #post.summary.text
end

return {
  post = function(post, site)
    post.words = word_count(post)
  end,
}
