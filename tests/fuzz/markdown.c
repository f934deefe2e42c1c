/* Fuzz: the Markdown entry point and the `document` bridge. Any bytes as a
 * post body: pub_md_render must not crash and must give valid UTF-8; the
 * same body parsed, handed to Lua as a document (lua/lib_markdown.c) and
 * rendered untouched must give the same HTML byte for byte; and a filter
 * that reads every field, removes, unwraps, replaces, moves and adds
 * attributes (choices driven by the input) must run without a Lua error
 * from the bridge and render valid UTF-8. One Lua state per input, closed
 * at its end, so a node freed twice or never shows (ASan, LeakSanitizer). */
#include "fuzz.h"
#include "lua/lib_markdown.h"
#include "markdown.h"
#include "util/utf8.h"
#include <cmark-gfm.h>
#include <string.h>

static const char filter[] =
    "local doc, seed = ...\n"
    "local n = 0\n"
    "local removable = { paragraph = true, heading = true, block_quote = true, code_block = true,\n"
    "  thematic_break = true, html_block = true, list = true, item = true }\n"
    "doc:walk {\n"
    "  block = function(b)\n"
    "    n = n + 1\n"
    "    local _ = b.type, b.text, b.line, b.column, b.end_line, b.level, b.info, b.lang, b.literal,\n"
    "      b.list_type, b.start, b.tight, b.checked, b.header, b.alignments, b.children\n"
    "    if removable[b.type] and b.parent and n % 7 == seed % 7 then return {} end\n"
    "    if b.type == 'heading' then b:set_attribute('id', 'h' .. n) end\n"
    "    if b.type == 'code_block' and n % 3 == 0 then\n"
    "      return publish.node.new('custom_block', { on_enter = '<pre>' .. #b.literal, on_exit = '</pre>' })\n"
    "    end\n"
    "  end,\n"
    "  inline = function(i)\n"
    "    n = n + 1\n"
    "    local _ = i.type, i.text, i.url, i.title, i.literal, i.line, i.column\n"
    "    if i.type == 'emph' then return i.children end\n"
    "    if i.type == 'link' or i.type == 'image' then\n"
    "      i:set_attribute('rel', 'x\"<&' .. n)\n"
    "      i.url = i.url .. '#' .. n\n"
    "    end\n"
    "    if i.parent and n % 11 == seed % 11 then\n"
    "      return { publish.node.new('html_inline', { literal = '<b>' }), i,\n"
    "               publish.node.new('text', { literal = tostring(n) }) }\n"
    "    end\n"
    "  end,\n"
    "}\n"
    "local kids = doc.children\n"
    "if #kids > 2 then kids[1]:insert_after(kids[#kids]) end\n"
    "if #kids > 0 and kids[1].type == 'paragraph' then\n"
    "  kids[1]:prepend(publish.node.new('strong', { children = { publish.node.new('text', { literal = 'x' }) } }))\n"
    "end\n"
    "return n\n";

/* Pushes the document of `text` parsed with `opts` (it owns the tree). */
static void push_document(lua_State *L, const char *text, size_t len, const pub_md_options *opts)
{
    cmark_node *tree = pub_md_parse(text, len, opts);
    pub_lua_md_push_document(L, &tree, 3, opts);
    if (tree) FUZZ_FAIL("the document did not take the tree");
}

/* Renders the document on the stack top (and pops it); returns the HTML. */
static const char *render(lua_State *L, size_t *len)
{
    lua_pushcfunction(L, pub_lua_md_render_document);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) FUZZ_FAIL("render failed: %s", lua_tostring(L, -1));
    return lua_tolstring(L, -1, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    /* The first byte picks the options, the rest is the body. */
    pub_md_options opts = {(data[0] & 1) != 0, (data[0] & 2) != 0, (data[0] & 4) != 0,
                           data[0] & 8 ? PUB_MD_DEFAULT_EXTENSIONS | PUB_MD_TAGFILTER
                                       : PUB_MD_DEFAULT_EXTENSIONS};
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    size_t html_len;
    char *html = pub_md_render(text, len, &opts, &html_len);
    if (pub_utf8_invalid_at(html, html_len) != html_len) FUZZ_FAIL("HTML is not valid UTF-8");

    lua_State *L = fuzz_lua();
    push_document(L, text, len, &opts);
    size_t again_len;
    const char *again = render(L, &again_len);
    if (again_len != html_len || memcmp(again, html, html_len) != 0)
        FUZZ_FAIL("an untouched document renders differently:\n%s\n---\n%s", html, again);
    free(html);
    lua_pop(L, 1);

    if (luaL_loadstring(L, filter) != LUA_OK) FUZZ_FAIL("filter: %s", lua_tostring(L, -1));
    push_document(L, text, len, &opts);
    lua_pushvalue(L, -1);
    lua_insert(L, -3); /* doc, filter, doc */
    lua_pushinteger(L, (lua_Integer)(size % 97));
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) FUZZ_FAIL("filter raised: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    size_t edited_len;
    const char *edited = render(L, &edited_len);
    if (pub_utf8_invalid_at(edited, edited_len) != edited_len) FUZZ_FAIL("edited HTML is not valid UTF-8");
    lua_close(L);
    return 0;
}
