# For tests/liquid/jekyll-compare.py only: a page's front matter `vars`
# become top-level Liquid variables of that page, as the cases' vars are;
# the previous page's are unset first.
$case_vars = []
Jekyll::Hooks.register :pages, :pre_render do |page, payload|
  $case_vars.each { |k| payload[k] = nil }
  $case_vars = (page.data['vars'] || {}).keys
  (page.data['vars'] || {}).each { |k, v| payload[k] = v }
end
