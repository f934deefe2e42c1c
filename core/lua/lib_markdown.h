/* The Markdown tree in Lua: `publish.node` and the document objects the
 * `document(doc, post)` hook receives (lib_markdown.c). The engine's side
 * (build.c) hands a parsed tree to Lua, and renders and closes it after the
 * hooks with the functions below. */
#ifndef PUB_LUA_LIB_MARKDOWN_H
#define PUB_LUA_LIB_MARKDOWN_H
#include "../markdown.h"
#include <lua.h>

struct cmark_node;

/* Pushes the document node of *tree (a tree from pub_md_parse) and takes
 * ownership of it: *tree is set to NULL once the Lua object holds it, so if
 * this raises (memory) the caller still owns it. `line_offset` (lines
 * before the body: front matter) makes node positions lines of the source
 * file; `opts` render it. */
void pub_lua_md_push_document(lua_State *L, struct cmark_node **tree, int line_offset,
                              const pub_md_options *opts);

/* Opens `publish.node` (new, parse, walk) and the node metatables. */
int pub_luaopen_node(lua_State *L);

/* internal.render_document(doc) -> html: renders the (edited) tree with the
 * node attributes plugins set, then frees the tree and every node made or
 * cut off from it; nodes still referenced from Lua raise when used. */
int pub_lua_md_render_document(lua_State *L);

/* internal.discard_document(doc): frees the tree without rendering it (a
 * draft left out). */
int pub_lua_md_discard_document(lua_State *L);

/* internal.document_at(doc) -> line, col | nil: the source position of the
 * node a walk over doc was visiting when a filter raised. */
int pub_lua_md_document_at(lua_State *L);

#endif
