/* `publish.node`: the cmark-gfm tree of a post as Lua objects, for the
 * `document(doc, post)` hook (Pandoc filters are the model). Plugins get
 * userdata of metatable "publish.Node", never a pointer they could forge.
 *
 * Memory. Every node belongs to an owner (a userdata "publish.NodeOwner"):
 * the document being built, or a fragment made by publish.node.new/parse.
 * Nothing is freed while its owner is open: unlinking or replacing a node
 * only records it as a loose root of its owner. A node userdata keeps its
 * owner alive (user value), so a node can never outlive the memory it
 * points at. Inserting a fragment's node into a document merges the
 * fragment into the document (it forwards there from then on). When the
 * engine renders a document it frees the tree and its loose roots and marks
 * the owner closed; any node of it used afterwards raises. A fragment never
 * inserted is freed by its owner's __gc. No malloc'd memory is held across
 * a Lua call that can raise: cmark memory belongs to an owner, and rendered
 * HTML is kept in a collectable box until pushed.
 *
 * Attributes (id, class, rel, loading, ...) have no place in cmark's tree;
 * they are kept in a table of the owner keyed by node and applied when the
 * document is rendered: the node is rendered alone and the attributes are
 * added to its first HTML tag. */
#include "lib_markdown.h"
#include "../markdown.h"
#include "../util/buf.h"
#include "../util/mem.h"
#include "lib.h"
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define NODE_META "publish.Node"
#define OWNER_META "publish.NodeOwner"
#define HTML_BOX_META "publish.NodeHTML"

/* User values of an owner userdata. */
enum { OWNER_FORWARD = 1, OWNER_ATTRS = 2, OWNER_NUV = 2 };

typedef struct md_owner {
    struct md_owner *forward; /* merged into (kept alive by user value 1) */
    bool closed;              /* rendered or discarded: nodes are gone */
    bool document;            /* a post's document (else a fragment) */
    cmark_node **loose;       /* roots to free at close: the document, cut-off and new nodes */
    size_t nloose, cap;
    cmark_node *current;      /* the node a walk is visiting (for error positions) */
    int line_offset;          /* front matter lines above the body */
    pub_md_options opts;
} md_owner;

typedef struct md_node {
    cmark_node *node;
} md_node;

/* ---- Owners ------------------------------------------------------------------- */

static void owner_add_loose(md_owner *o, cmark_node *n)
{
    while (o->forward) o = o->forward; /* merged since the caller looked it up */
    if (o->nloose == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->loose = pub_xrealloc(o->loose, o->cap * sizeof *o->loose);
    }
    o->loose[o->nloose++] = n;
}

static int compare_ptr(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return x < y ? -1 : x > y;
}

/* Frees every loose root that is still a root (a loose node inserted
 * somewhere since is freed with the tree it is in). Roots are picked before
 * anything is freed, since freeing one tree frees nodes listed after it. */
static void owner_free_nodes(md_owner *o)
{
    size_t n = 0;
    for (size_t i = 0; i < o->nloose; i++)
        if (!cmark_node_parent(o->loose[i])) o->loose[n++] = o->loose[i];
    if (n > 1) qsort(o->loose, n, sizeof *o->loose, compare_ptr);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || o->loose[i] != o->loose[i - 1]) cmark_node_free(o->loose[i]);
    free(o->loose);
    o->loose = NULL;
    o->nloose = o->cap = 0;
    o->closed = true;
}

static int owner_gc(lua_State *L)
{
    md_owner *o = luaL_checkudata(L, 1, OWNER_META);
    if (!o->forward && !o->closed) owner_free_nodes(o);
    free(o->loose);
    o->loose = NULL;
    return 0;
}

/* Pushes a new owner; `opts` NULL: the site's options from the registry. */
static md_owner *push_owner(lua_State *L, bool document, const pub_md_options *opts)
{
    md_owner *o = lua_newuserdatauv(L, sizeof *o, OWNER_NUV);
    memset(o, 0, sizeof *o);
    o->document = document;
    o->opts = opts ? *opts : pub_lua_md_options(L);
    luaL_setmetatable(L, OWNER_META);
    lua_newtable(L);
    lua_setiuservalue(L, -2, OWNER_ATTRS);
    return o;
}

/* Pushes the owner at the end of the forward chain of the owner at `idx`. */
static md_owner *push_resolved(lua_State *L, int idx)
{
    lua_pushvalue(L, idx);
    md_owner *o = lua_touserdata(L, -1);
    while (o->forward) {
        lua_getiuservalue(L, -1, OWNER_FORWARD);
        lua_remove(L, -2);
        o = o->forward;
    }
    return o;
}

/* ---- Node userdata ---------------------------------------------------------------- */

/* Pushes a node object for n, owned by the owner at `owner_idx`. */
static void push_node(lua_State *L, cmark_node *n, int owner_idx)
{
    if (!n) {
        lua_pushnil(L);
        return;
    }
    owner_idx = lua_absindex(L, owner_idx);
    md_node *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->node = n;
    luaL_setmetatable(L, NODE_META);
    lua_pushvalue(L, owner_idx);
    lua_setiuservalue(L, -2, 1);
}

/* The node at idx, checked to be alive; pushes its (resolved) owner. */
static cmark_node *check_node_owner(lua_State *L, int idx, md_owner **owner)
{
    idx = lua_absindex(L, idx);
    md_node *u = luaL_checkudata(L, idx, NODE_META);
    lua_getiuservalue(L, idx, 1);
    md_owner *o = push_resolved(L, -1);
    lua_remove(L, -2);
    if (o->closed) luaL_error(L, "this node's document was already rendered (keep no nodes between posts)");
    if (owner) *owner = o;
    return u->node;
}

static cmark_node *check_node(lua_State *L, int idx)
{
    cmark_node *n = check_node_owner(L, idx, NULL);
    lua_pop(L, 1);
    return n;
}

/* ---- Types ----------------------------------------------------------------------- */

static const struct {
    const char *name;
    cmark_node_type type;
} core_types[] = {
    {"document", CMARK_NODE_DOCUMENT},
    {"block_quote", CMARK_NODE_BLOCK_QUOTE},
    {"list", CMARK_NODE_LIST},
    {"item", CMARK_NODE_ITEM},
    {"code_block", CMARK_NODE_CODE_BLOCK},
    {"html_block", CMARK_NODE_HTML_BLOCK},
    {"custom_block", CMARK_NODE_CUSTOM_BLOCK},
    {"paragraph", CMARK_NODE_PARAGRAPH},
    {"heading", CMARK_NODE_HEADING},
    {"thematic_break", CMARK_NODE_THEMATIC_BREAK},
    {"footnote_definition", CMARK_NODE_FOOTNOTE_DEFINITION},
    {"text", CMARK_NODE_TEXT},
    {"softbreak", CMARK_NODE_SOFTBREAK},
    {"linebreak", CMARK_NODE_LINEBREAK},
    {"code", CMARK_NODE_CODE},
    {"html_inline", CMARK_NODE_HTML_INLINE},
    {"custom_inline", CMARK_NODE_CUSTOM_INLINE},
    {"emph", CMARK_NODE_EMPH},
    {"strong", CMARK_NODE_STRONG},
    {"link", CMARK_NODE_LINK},
    {"image", CMARK_NODE_IMAGE},
    {"footnote_reference", CMARK_NODE_FOOTNOTE_REFERENCE},
};
#define NCORE_TYPES (sizeof core_types / sizeof *core_types)
static const char *const gfm_type_names[] = {"table", "table_row", "table_cell", "strikethrough"};

static cmark_node_type gfm_type(int i)
{
    const pub_md_gfm *g = pub_md_gfm_nodes();
    int types[] = {g->table, g->table_row, g->table_cell, g->strikethrough};
    return (cmark_node_type)types[i];
}

static const char *type_name(cmark_node *n)
{
    cmark_node_type t = cmark_node_get_type(n);
    for (size_t i = 0; i < NCORE_TYPES; i++)
        if (core_types[i].type == t) return core_types[i].name;
    for (int i = 0; i < 4; i++)
        if (gfm_type(i) == t) return gfm_type_names[i];
    return "unknown";
}

/* The type named `name`, its extension in *ext; false when unknown. */
static bool type_by_name(const char *name, cmark_node_type *type, cmark_syntax_extension **ext)
{
    *ext = NULL;
    for (size_t i = 0; i < NCORE_TYPES; i++)
        if (strcmp(core_types[i].name, name) == 0) {
            *type = core_types[i].type;
            return true;
        }
    const pub_md_gfm *g = pub_md_gfm_nodes();
    for (int i = 0; i < 4; i++)
        if (strcmp(gfm_type_names[i], name) == 0) {
            *type = gfm_type(i);
            *ext = i == 3 ? g->strikethrough_ext : g->table_ext;
            return true;
        }
    return false;
}

static bool is_block(cmark_node *n)
{
    return (cmark_node_get_type(n) & CMARK_NODE_TYPE_MASK) == CMARK_NODE_TYPE_BLOCK;
}

/* A post-order walk by hand, for walks that call Lua: no malloc'd
 * iterator is live across a call that can raise, and the next node is
 * known before the current one is replaced. The first node of the walk
 * below `root` (root included, last). */
static cmark_node *postorder_first(cmark_node *root)
{
    while (cmark_node_first_child(root)) root = cmark_node_first_child(root);
    return root;
}

/* The node after `n` in the walk below `root`; NULL after root. */
static cmark_node *postorder_next(cmark_node *n, cmark_node *root)
{
    if (n == root) return NULL;
    if (cmark_node_next(n)) return postorder_first(cmark_node_next(n));
    return cmark_node_parent(n);
}

static bool is_task_item(cmark_node *n)
{
    return cmark_node_get_type(n) == CMARK_NODE_ITEM &&
           cmark_node_get_syntax_extension(n) == pub_md_gfm_nodes()->tasklist_ext;
}

/* ---- Reading fields ----------------------------------------------------------------- */

/* The plain text of a node: its literal and its descendants' (a soft or
 * hard break is a space), as a heading's or a link's text reads. */
static void add_text(luaL_Buffer *b, cmark_node *root)
{
    /* No cmark iterator (malloc'd) across luaL_add* (may raise): by hand. */
    cmark_node *n = root;
    while (n) {
        cmark_node_type t = cmark_node_get_type(n);
        if (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE || t == CMARK_NODE_CODE_BLOCK) {
            const char *lit = cmark_node_get_literal(n);
            if (lit) luaL_addstring(b, lit);
        } else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK) {
            luaL_addchar(b, ' ');
        }
        cmark_node *child = cmark_node_first_child(n);
        if (child) {
            n = child;
            continue;
        }
        while (n && n != root && !cmark_node_next(n)) n = cmark_node_parent(n);
        if (!n || n == root) break;
        n = cmark_node_next(n);
    }
}

static void push_line_col(lua_State *L, int value, int offset)
{
    if (value > 0) lua_pushinteger(L, value + offset);
    else lua_pushnil(L);
}

static const char *const list_types[] = {"none", "bullet", "ordered"};
static const char *const delims[] = {"none", "period", "paren"};

static int push_alignments(lua_State *L, cmark_node *n)
{
    uint16_t ncols = cmark_gfm_extensions_get_table_columns(n);
    uint8_t *al = cmark_gfm_extensions_get_table_alignments(n);
    lua_createtable(L, ncols, 0);
    for (uint16_t i = 0; i < ncols; i++) {
        char a = al ? (char)al[i] : 0;
        lua_pushstring(L, a == 'l' ? "left" : a == 'c' ? "center" : a == 'r' ? "right" : "none");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* Pushes field `key` of n (owner at stack index `oi`); 0 when n has none. */
static int push_field(lua_State *L, cmark_node *n, md_owner *o, int oi, const char *key)
{
    cmark_node_type t = cmark_node_get_type(n);
    bool table = t == gfm_type(0), row = t == gfm_type(1);
    if (strcmp(key, "type") == 0) lua_pushstring(L, type_name(n));
    else if (strcmp(key, "literal") == 0 && cmark_node_get_literal(n) &&
             t != CMARK_NODE_CUSTOM_BLOCK && t != CMARK_NODE_CUSTOM_INLINE)
        lua_pushstring(L, cmark_node_get_literal(n));
    else if ((strcmp(key, "url") == 0 || strcmp(key, "title") == 0) &&
             (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE)) {
        const char *v = key[0] == 'u' ? cmark_node_get_url(n) : cmark_node_get_title(n);
        lua_pushstring(L, v ? v : "");
    } else if (strcmp(key, "level") == 0 && t == CMARK_NODE_HEADING)
        lua_pushinteger(L, cmark_node_get_heading_level(n));
    else if (strcmp(key, "info") == 0 && t == CMARK_NODE_CODE_BLOCK) {
        const char *v = cmark_node_get_fence_info(n);
        lua_pushstring(L, v ? v : "");
    } else if (strcmp(key, "lang") == 0 && t == CMARK_NODE_CODE_BLOCK) {
        const char *v = cmark_node_get_fence_info(n);
        v = v ? v : "";
        size_t len = strcspn(v, " \t\n{");
        if (len) lua_pushlstring(L, v, len);
        else lua_pushnil(L);
    } else if (strcmp(key, "list_type") == 0 && t == CMARK_NODE_LIST)
        lua_pushstring(L, list_types[cmark_node_get_list_type(n) % 3]);
    else if (strcmp(key, "start") == 0 && t == CMARK_NODE_LIST)
        lua_pushinteger(L, cmark_node_get_list_start(n));
    else if (strcmp(key, "tight") == 0 && t == CMARK_NODE_LIST)
        lua_pushboolean(L, cmark_node_get_list_tight(n));
    else if (strcmp(key, "delim") == 0 && t == CMARK_NODE_LIST)
        lua_pushstring(L, delims[cmark_node_get_list_delim(n) % 3]);
    else if (strcmp(key, "checked") == 0 && t == CMARK_NODE_ITEM) {
        if (is_task_item(n)) lua_pushboolean(L, cmark_gfm_extensions_get_tasklist_item_checked(n));
        else lua_pushnil(L);
    } else if (strcmp(key, "header") == 0 && row)
        lua_pushboolean(L, cmark_gfm_extensions_get_table_row_is_header(n));
    else if (strcmp(key, "alignments") == 0 && table)
        push_alignments(L, n);
    else if ((strcmp(key, "on_enter") == 0 || strcmp(key, "on_exit") == 0) &&
             (t == CMARK_NODE_CUSTOM_BLOCK || t == CMARK_NODE_CUSTOM_INLINE)) {
        const char *v = key[3] == 'e' ? cmark_node_get_on_enter(n) : cmark_node_get_on_exit(n);
        lua_pushstring(L, v ? v : "");
    } else if (strcmp(key, "text") == 0) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        add_text(&b, n);
        luaL_pushresult(&b);
    } else if (strcmp(key, "line") == 0) push_line_col(L, cmark_node_get_start_line(n), o->line_offset);
    else if (strcmp(key, "column") == 0) push_line_col(L, cmark_node_get_start_column(n), 0);
    else if (strcmp(key, "end_line") == 0) push_line_col(L, cmark_node_get_end_line(n), o->line_offset);
    else if (strcmp(key, "end_column") == 0) push_line_col(L, cmark_node_get_end_column(n), 0);
    else if (strcmp(key, "parent") == 0) push_node(L, cmark_node_parent(n), oi);
    else if (strcmp(key, "first_child") == 0) push_node(L, cmark_node_first_child(n), oi);
    else if (strcmp(key, "last_child") == 0) push_node(L, cmark_node_last_child(n), oi);
    else if (strcmp(key, "next") == 0) push_node(L, cmark_node_next(n), oi);
    else if (strcmp(key, "prev") == 0) push_node(L, cmark_node_previous(n), oi);
    else if (strcmp(key, "children") == 0) {
        lua_newtable(L);
        lua_Integer i = 0;
        for (cmark_node *c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
            push_node(L, c, oi);
            lua_rawseti(L, -2, ++i);
        }
    } else return 0;
    return 1;
}

/* ---- Changing fields ------------------------------------------------------------------ */

static const char *check_string_value(lua_State *L, int idx, const char *key)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        luaL_error(L, "node field '%s' must be a string (got %s)", key, luaL_typename(L, idx));
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (strlen(s) != len) luaL_error(L, "node field '%s' must not contain a NUL byte", key);
    return s;
}

static int option_index(lua_State *L, int idx, const char *key, const char *const *names, int n)
{
    const char *s = check_string_value(L, idx, key);
    for (int i = 1; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    luaL_error(L, "bad value '%s' for node field '%s' (%s or %s)", s, key, names[1], names[2]);
    return 0;
}

/* Sets field `key` of n to the value at `v`; raises when n has no such
 * settable field or the value does not fit. */
static void set_field(lua_State *L, cmark_node *n, const char *key, int v)
{
    cmark_node_type t = cmark_node_get_type(n);
    int ok = -1; /* -1: no such field for this type */
    if (strcmp(key, "literal") == 0 &&
        (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE || t == CMARK_NODE_CODE_BLOCK ||
         t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE))
        ok = cmark_node_set_literal(n, check_string_value(L, v, key));
    else if (strcmp(key, "url") == 0 && (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE))
        ok = cmark_node_set_url(n, check_string_value(L, v, key));
    else if (strcmp(key, "title") == 0 && (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE))
        ok = cmark_node_set_title(n, check_string_value(L, v, key));
    else if (strcmp(key, "info") == 0 && t == CMARK_NODE_CODE_BLOCK) {
        ok = cmark_node_set_fence_info(n, check_string_value(L, v, key));
    } else if (strcmp(key, "level") == 0 && t == CMARK_NODE_HEADING) {
        lua_Integer level = lua_isinteger(L, v) ? lua_tointeger(L, v) : 0;
        if (level < 1 || level > 6) luaL_error(L, "node field 'level' must be an integer from 1 to 6");
        ok = cmark_node_set_heading_level(n, (int)level);
    } else if (strcmp(key, "list_type") == 0 && t == CMARK_NODE_LIST)
        ok = cmark_node_set_list_type(n, (cmark_list_type)option_index(L, v, key, list_types, 3));
    else if (strcmp(key, "delim") == 0 && t == CMARK_NODE_LIST)
        ok = cmark_node_set_list_delim(n, (cmark_delim_type)option_index(L, v, key, delims, 3));
    else if (strcmp(key, "start") == 0 && t == CMARK_NODE_LIST) {
        lua_Integer start = lua_isinteger(L, v) ? lua_tointeger(L, v) : -1;
        if (start < 0 || start > 999999999) luaL_error(L, "node field 'start' must be an integer from 0");
        ok = cmark_node_set_list_start(n, (int)start);
    } else if (strcmp(key, "tight") == 0 && t == CMARK_NODE_LIST) {
        luaL_checktype(L, v, LUA_TBOOLEAN);
        ok = cmark_node_set_list_tight(n, lua_toboolean(L, v));
    } else if (strcmp(key, "checked") == 0 && t == CMARK_NODE_ITEM) {
        if (lua_type(L, v) != LUA_TBOOLEAN) luaL_error(L, "node field 'checked' must be a boolean");
        if (!is_task_item(n)) cmark_node_set_syntax_extension(n, pub_md_gfm_nodes()->tasklist_ext);
        ok = cmark_gfm_extensions_set_tasklist_item_checked(n, lua_toboolean(L, v));
    } else if (strcmp(key, "header") == 0 && t == gfm_type(1)) {
        if (lua_type(L, v) != LUA_TBOOLEAN) luaL_error(L, "node field 'header' must be a boolean");
        ok = cmark_gfm_extensions_set_table_row_is_header(n, lua_toboolean(L, v));
    } else if (strcmp(key, "alignments") == 0 && t == gfm_type(0)) {
        luaL_checktype(L, v, LUA_TTABLE);
        uint8_t al[256];
        lua_Integer ncols = luaL_len(L, v);
        if (ncols < 1 || ncols > 256) luaL_error(L, "a table has from 1 to 256 columns");
        for (lua_Integer i = 1; i <= ncols; i++) {
            lua_geti(L, v, i);
            const char *a = lua_tostring(L, -1);
            al[i - 1] = !a ? 0 : strcmp(a, "left") == 0 ? 'l' : strcmp(a, "center") == 0 ? 'c'
                      : strcmp(a, "right") == 0 ? 'r' : 0;
            lua_pop(L, 1);
        }
        /* cmark-gfm leaks alignments it replaces: a table that has them
         * gets them changed in place, for the columns it has. */
        uint8_t *old = cmark_gfm_extensions_get_table_alignments(n);
        uint16_t have = cmark_gfm_extensions_get_table_columns(n);
        if (old && have != ncols)
            luaL_error(L, "node field 'alignments' must list the table's %d columns", (int)have);
        if (old) memcpy(old, al, (size_t)ncols);
        ok = old || (cmark_gfm_extensions_set_table_columns(n, (uint16_t)ncols) &&
                     cmark_gfm_extensions_set_table_alignments(n, (uint16_t)ncols, al));
    } else if (strcmp(key, "on_enter") == 0 &&
               (t == CMARK_NODE_CUSTOM_BLOCK || t == CMARK_NODE_CUSTOM_INLINE))
        ok = cmark_node_set_on_enter(n, check_string_value(L, v, key));
    else if (strcmp(key, "on_exit") == 0 &&
             (t == CMARK_NODE_CUSTOM_BLOCK || t == CMARK_NODE_CUSTOM_INLINE))
        ok = cmark_node_set_on_exit(n, check_string_value(L, v, key));
    if (ok == -1) luaL_error(L, "a '%s' node has no field '%s' to set", type_name(n), key);
    if (ok == 0) luaL_error(L, "cannot set field '%s' of a '%s' node", key, type_name(n));
}

/* ---- Tree edits ---------------------------------------------------------------------------- */

/* Copies every field of the table at `from` into the table at `to` (raw
 * sets: attribute tables have no metatable). */
static void copy_fields(lua_State *L, int from, int to)
{
    from = lua_absindex(L, from);
    to = lua_absindex(L, to);
    lua_pushnil(L);
    while (lua_next(L, from)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, to);
    }
}

/* Makes the node at `idx` part of the owner `o` (resolved, at stack index
 * `oi`): a fragment's nodes join the document; nodes of another document
 * cannot. */
static void adopt(lua_State *L, int idx, md_owner *o, int oi)
{
    /* An earlier adopt of the same edit may have merged `o` away. */
    o = push_resolved(L, oi);
    oi = lua_gettop(L);
    md_owner *from;
    check_node_owner(L, idx, &from);
    int fi = lua_gettop(L);
    if (from == o) {
        lua_pop(L, 2);
        return;
    }
    if (from->document && o->document)
        luaL_error(L, "cannot move a node from one post's document to another's");
    md_owner *keep = o->document ? o : from->document ? from : o;
    md_owner *gone = keep == o ? from : o;
    int ki = keep == o ? oi : fi, gi = keep == o ? fi : oi;
    for (size_t i = 0; i < gone->nloose; i++) owner_add_loose(keep, gone->loose[i]);
    free(gone->loose);
    gone->loose = NULL;
    gone->nloose = gone->cap = 0;
    /* Move the fragment's attributes too. */
    lua_getiuservalue(L, gi, OWNER_ATTRS);
    lua_getiuservalue(L, ki, OWNER_ATTRS);
    copy_fields(L, -2, -1);
    lua_pop(L, 2);
    gone->forward = keep;
    lua_pushvalue(L, ki);
    lua_setiuservalue(L, gi, OWNER_FORWARD);
    lua_pop(L, 2);
}

/* A node that insertion would place under `parent`: adopted into its owner. */
static md_owner *edit_target(lua_State *L, int target_idx, cmark_node **target)
{
    md_owner *o;
    *target = check_node_owner(L, target_idx, &o);
    return o; /* its owner is on the stack top */
}

static void insertion_error(lua_State *L, cmark_node *what, cmark_node *where, const char *how)
{
    cmark_node *parent = strcmp(how, "inside") == 0 ? where : cmark_node_parent(where);
    if (parent && parent != where)
        luaL_error(L, "cannot put a '%s' node %s a '%s' node in a '%s'", type_name(what), how,
                   type_name(where), type_name(parent));
    luaL_error(L, "cannot put a '%s' node %s a '%s' node", type_name(what), how, type_name(where));
}

typedef int (*insert_fn)(cmark_node *, cmark_node *);

/* Counts the edits that move nodes (insert, unlink, replace) on this
 * thread, so a walk knows whether the tree can have changed under it. */
static _Thread_local unsigned long tree_edits;

/* node:insert_before(x), insert_after, append, prepend: the shared body. */
static int insert_common(lua_State *L, insert_fn fn, const char *how, bool needs_parent)
{
    cmark_node *target;
    md_owner *o = edit_target(L, 1, &target);
    int oi = lua_gettop(L);
    cmark_node *what = check_node(L, 2);
    if (needs_parent && !cmark_node_parent(target))
        luaL_error(L, "cannot insert %s a node that is not in a tree", how);
    if (what == target) luaL_error(L, "cannot insert a node %s itself", how);
    adopt(L, 2, o, oi);
    tree_edits++;
    cmark_node *old_parent = cmark_node_parent(what);
    if (!fn(target, what)) insertion_error(L, what, target, how);
    (void)old_parent;
    lua_settop(L, 1);
    return 1;
}

static int l_insert_before(lua_State *L)
{
    return insert_common(L, cmark_node_insert_before, "before", true);
}

static int l_insert_after(lua_State *L)
{
    return insert_common(L, cmark_node_insert_after, "after", true);
}

static int l_append(lua_State *L)
{
    return insert_common(L, cmark_node_append_child, "inside", false);
}

static int l_prepend(lua_State *L)
{
    return insert_common(L, cmark_node_prepend_child, "inside", false);
}

static int l_unlink(lua_State *L)
{
    md_owner *o;
    cmark_node *n = check_node_owner(L, 1, &o);
    if (cmark_node_get_type(n) == CMARK_NODE_DOCUMENT) luaL_error(L, "cannot unlink a document node");
    if (cmark_node_parent(n)) {
        tree_edits++;
        cmark_node_unlink(n);
        owner_add_loose(o, n);
    }
    lua_settop(L, 1);
    return 1;
}

/* Puts the node or the array of nodes at `with` in the place of `n`
 * (owner at `oi`), in order; `n` is cut off unless it is among them. */
static void replace_with(lua_State *L, cmark_node *n, md_owner *o, int oi, int with)
{
    if (!cmark_node_parent(n))
        luaL_error(L, "cannot replace a '%s' node that is not in a tree", type_name(n));
    tree_edits++;
    bool kept = false;
    cmark_node *prev = NULL;
    lua_Integer count = 1;
    bool list = !luaL_testudata(L, with, NODE_META);
    if (list) {
        if (lua_type(L, with) != LUA_TTABLE)
            luaL_error(L, "a replacement must be a node or a list of nodes (got %s)", luaL_typename(L, with));
        count = luaL_len(L, with);
    }
    for (lua_Integer i = 1; i <= count; i++) {
        if (list) {
            lua_geti(L, with, i);
            if (!luaL_testudata(L, -1, NODE_META))
                luaL_error(L, "a replacement list must hold nodes only (item %d is %s)", (int)i,
                           luaL_typename(L, -1));
        } else {
            lua_pushvalue(L, with);
        }
        cmark_node *x = check_node(L, -1);
        if (x == n) {
            kept = true;
            prev = n;
        } else {
            adopt(L, lua_gettop(L), o, oi);
            int ok = prev ? cmark_node_insert_after(prev, x) : cmark_node_insert_before(n, x);
            if (!ok) insertion_error(L, x, n, "in the place of");
            prev = x;
        }
        lua_pop(L, 1);
    }
    if (!kept) {
        cmark_node_unlink(n);
        owner_add_loose(o, n);
    }
}

static int l_replace(lua_State *L)
{
    md_owner *o;
    cmark_node *n = check_node_owner(L, 1, &o);
    luaL_checkany(L, 2);
    replace_with(L, n, o, lua_gettop(L), 2);
    lua_settop(L, 1);
    return 1;
}

/* ---- Attributes ------------------------------------------------------------------------------ */

static bool valid_attribute_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ':')) return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == ':' || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* Pushes the attribute table of node n (owner at `oi`), creating it when
 * `create`; pushes nil when there is none. */
static void push_attributes(lua_State *L, cmark_node *n, int oi, bool create)
{
    lua_getiuservalue(L, oi, OWNER_ATTRS);
    lua_pushlightuserdata(L, n);
    if (lua_rawget(L, -2) == LUA_TNIL && create) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushlightuserdata(L, n);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    lua_remove(L, -2);
}

/* node:set_attribute(name, value): value a string (nil removes it). */
static int l_set_attribute(lua_State *L)
{
    md_owner *o;
    cmark_node *n = check_node_owner(L, 1, &o);
    int oi = lua_gettop(L);
    const char *name = luaL_checkstring(L, 2);
    if (!valid_attribute_name(name)) luaL_error(L, "bad attribute name '%s'", name);
    if (cmark_node_get_type(n) == CMARK_NODE_DOCUMENT || cmark_node_get_type(n) == CMARK_NODE_TEXT ||
        cmark_node_get_type(n) == CMARK_NODE_SOFTBREAK || cmark_node_get_type(n) == CMARK_NODE_HTML_BLOCK ||
        cmark_node_get_type(n) == CMARK_NODE_HTML_INLINE ||
        cmark_node_get_type(n) == CMARK_NODE_CUSTOM_BLOCK || cmark_node_get_type(n) == CMARK_NODE_CUSTOM_INLINE)
        luaL_error(L, "a '%s' node has no HTML tag to carry attributes", type_name(n));
    if (!lua_isnil(L, 3) && lua_type(L, 3) != LUA_TSTRING && lua_type(L, 3) != LUA_TNUMBER)
        luaL_error(L, "attribute '%s' must be a string (got %s)", name, luaL_typename(L, 3));
    push_attributes(L, n, oi, true);
    lua_pushvalue(L, 3);
    if (!lua_isnil(L, -1)) lua_tostring(L, -1);
    lua_setfield(L, -2, name);
    lua_settop(L, 1);
    return 1;
}

/* node:attribute(name) -> string | nil */
static int l_attribute(lua_State *L)
{
    cmark_node *n = check_node_owner(L, 1, NULL);
    int oi = lua_gettop(L);
    const char *name = luaL_checkstring(L, 2);
    push_attributes(L, n, oi, false);
    if (lua_isnil(L, -1)) return 1;
    lua_getfield(L, -1, name);
    return 1;
}

/* node:attributes() -> {name = value, ...} (a copy) */
static int l_attributes(lua_State *L)
{
    cmark_node *n = check_node_owner(L, 1, NULL);
    int oi = lua_gettop(L);
    lua_newtable(L);
    push_attributes(L, n, oi, false);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 1;
    }
    copy_fields(L, -1, -2);
    lua_pop(L, 1);
    return 1;
}

/* ---- Walk ---------------------------------------------------------------------------- */

/* Pushes the filter function for n from the filters table at `fi`, or
 * returns false (nothing pushed). */
static bool push_filter(lua_State *L, int fi, cmark_node *n)
{
    if (lua_getfield(L, fi, type_name(n)) == LUA_TFUNCTION) return true;
    lua_pop(L, 1);
    if (lua_getfield(L, fi, is_block(n) ? "block" : "inline") == LUA_TFUNCTION) return true;
    lua_pop(L, 1);
    return false;
}

/* Calls the filter for the node object at `ni` (pushed by push_filter)
 * and puts what it returns in the node's place. `wi`: see walk_nodes. */
static void apply_filter(lua_State *L, int ni, int wi)
{
    cmark_node *n = ((md_node *)lua_touserdata(L, ni))->node;
    md_owner *o = push_resolved(L, wi);
    lua_pop(L, 1); /* kept alive by the walk root */
    cmark_node *outer = o->current;
    o->current = n;
    lua_pushvalue(L, ni);
    lua_call(L, 1, 1);
    check_node_owner(L, ni, &o); /* pushes the owner as it is now */
    int oi = lua_gettop(L);
    if (!lua_isnil(L, -2)) {
        if (lua_rawequal(L, -2, ni) ||
            (luaL_testudata(L, -2, NODE_META) && ((md_node *)lua_touserdata(L, -2))->node == n)) {
            /* the node itself: kept */
        } else {
            if (cmark_node_get_type(n) == CMARK_NODE_DOCUMENT)
                luaL_error(L, "a 'document' filter cannot replace the document (change it instead)");
            replace_with(L, n, o, oi, oi - 1);
        }
    }
    o->current = outer;
    lua_pop(L, 2);
}

/* The index of n's type in core_types, then the GFM types after them. */
static unsigned type_index(cmark_node *n)
{
    cmark_node_type t = cmark_node_get_type(n);
    for (unsigned i = 0; i < NCORE_TYPES; i++)
        if (core_types[i].type == t) return i;
    for (unsigned i = 0; i < 4; i++)
        if (gfm_type((int)i) == t) return (unsigned)NCORE_TYPES + i;
    return (unsigned)NCORE_TYPES + 4;
}

/* Is n `root` or below it? */
static bool under(cmark_node *n, cmark_node *root)
{
    for (; n; n = cmark_node_parent(n))
        if (n == root) return true;
    return false;
}

/* Visits the node object at `ni` and every node below it that has a
 * filter, bottom-up in document order. The nodes to visit are listed
 * first, in C, as the tree is when the walk starts (only those with a
 * filter get a Lua object, so a walk for links costs little more than the
 * links); one a filter has taken from under the walked node by its turn is
 * skipped, and nodes filters add are not visited. `wi` is the walk root's
 * owner as first seen (see apply_filter). */
static void walk_nodes(lua_State *L, int ni, int fi, int wi)
{
    luaL_checkstack(L, 12, "walk");
    bool want[NCORE_TYPES + 5] = {false};
    bool any_block = lua_getfield(L, fi, "block") == LUA_TFUNCTION;
    bool any_inline = lua_getfield(L, fi, "inline") == LUA_TFUNCTION;
    lua_pop(L, 2);
    for (unsigned i = 0; i < NCORE_TYPES + 4; i++) {
        const char *name = i < NCORE_TYPES ? core_types[i].name : gfm_type_names[i - NCORE_TYPES];
        want[i] = lua_getfield(L, fi, name) == LUA_TFUNCTION;
        lua_pop(L, 1);
    }
    cmark_node *root = check_node(L, ni);
    lua_newtable(L);
    int list = lua_gettop(L);
    lua_Integer count = 0;
    /* Only push_node runs meanwhile (no user code). */
    for (cmark_node *n = postorder_first(root), *next; n; n = next) {
        next = postorder_next(n, root);
        if (want[type_index(n)] || (is_block(n) ? any_block : any_inline)) {
            push_node(L, n, wi);
            lua_rawseti(L, list, ++count);
        }
    }
    /* Climbing from each node to the root costs its depth: only once a
     * filter has moved nodes can one have left (a deep tree walked
     * without edits stays linear). */
    unsigned long edits = tree_edits;
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, list, i);
        int node = lua_gettop(L);
        cmark_node *x = check_node(L, node); /* raises if rendered meanwhile */
        if ((tree_edits == edits || under(x, root)) && push_filter(L, fi, x))
            apply_filter(L, node, wi);
        lua_settop(L, list);
    }
    lua_settop(L, list - 1);
}

/* publish.node.walk(node, filters) / node:walk(filters) -> node
 * filters: {TYPE = fn, block = fn, inline = fn}; fn(node) returns nil
 * (keep), a node or a list of nodes (replace; {} removes). */
static int l_walk(lua_State *L)
{
    check_node(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        cmark_node_type t;
        cmark_syntax_extension *ext;
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!key || (!type_by_name(key, &t, &ext) && strcmp(key, "block") && strcmp(key, "inline")))
            luaL_error(L, "unknown node type '%s' in walk filters", key ? key : luaL_typename(L, -2));
        if (!lua_isfunction(L, -1)) luaL_error(L, "walk filter '%s' must be a function", key);
        lua_pop(L, 1);
    }
    lua_getiuservalue(L, 1, 1);
    walk_nodes(L, 1, 2, lua_gettop(L));
    lua_settop(L, 1);
    return 1;
}

/* ---- Making nodes ------------------------------------------------------------------------ */

/* publish.node.new(type [, fields]) -> node
 * fields: any settable field, `children` (list of nodes appended) and
 * `attributes` ({name = value}). */
static int l_new(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    cmark_node_type type;
    cmark_syntax_extension *ext;
    if (!type_by_name(name, &type, &ext)) luaL_error(L, "unknown node type '%s'", name);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    md_owner *o = push_owner(L, false, NULL);
    int oi = lua_gettop(L);
    /* A cell made with its extension gets data cmark-gfm never frees; the
     * parser makes cells plain and then marks them, and so do we. */
    bool cell = type == gfm_type(2);
    cmark_node *n = ext && !cell ? cmark_node_new_with_ext(type, ext) : cmark_node_new(type);
    owner_add_loose(o, n); /* owned from here on */
    if (cell) cmark_node_set_syntax_extension(n, ext);
    if (type == CMARK_NODE_CODE_BLOCK) cmark_node_set_fenced(n, 1, 3, 0, '`');
    push_node(L, n, oi);
    int ni = lua_gettop(L);
    if (type == gfm_type(0)) {
        /* Alignments are set once (cmark-gfm does not free replaced ones). */
        if (lua_istable(L, 2) && lua_getfield(L, 2, "alignments") != LUA_TNIL) {
            set_field(L, n, "alignments", lua_gettop(L));
        } else {
            uint8_t none = 0;
            cmark_gfm_extensions_set_table_columns(n, 1);
            cmark_gfm_extensions_set_table_alignments(n, 1, &none);
        }
        lua_settop(L, ni);
    }
    if (lua_istable(L, 2)) {
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (!key) luaL_error(L, "node fields must have string names");
            if (strcmp(key, "children") == 0) {
                luaL_checktype(L, -1, LUA_TTABLE);
                lua_Integer count = luaL_len(L, -1);
                for (lua_Integer i = 1; i <= count; i++) {
                    lua_pushcfunction(L, l_append);
                    lua_pushvalue(L, ni);
                    lua_geti(L, -3, i);
                    lua_call(L, 2, 0);
                }
            } else if (strcmp(key, "attributes") == 0) {
                luaL_checktype(L, -1, LUA_TTABLE);
                lua_pushnil(L);
                while (lua_next(L, -2)) {
                    lua_pushcfunction(L, l_set_attribute);
                    lua_pushvalue(L, ni);
                    lua_pushvalue(L, -4);
                    lua_pushvalue(L, -4);
                    lua_call(L, 3, 0);
                    lua_pop(L, 1);
                }
            } else if (!(strcmp(key, "alignments") == 0 && type == gfm_type(0))) {
                set_field(L, n, key, lua_gettop(L));
            }
            lua_pop(L, 1);
        }
    }
    lua_settop(L, ni);
    return 1;
}

/* publish.node.parse(markdown) -> document node (the site's options), whose
 * children can be moved into a post's document. */
static int l_parse(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    md_owner *o = push_owner(L, false, NULL);
    int oi = lua_gettop(L);
    owner_add_loose(o, pub_md_parse(s, len, &o->opts)); /* owned at once */
    push_node(L, o->loose[0], oi);
    return 1;
}

/* ---- Metamethods --------------------------------------------------------------------- */

static int l_render(lua_State *L);

static const luaL_Reg node_methods[] = {
    {"walk", l_walk},
    {"unlink", l_unlink},
    {"replace", l_replace},
    {"insert_before", l_insert_before},
    {"insert_after", l_insert_after},
    {"append", l_append},
    {"prepend", l_prepend},
    {"set_attribute", l_set_attribute},
    {"attribute", l_attribute},
    {"attributes", l_attributes},
    {"render", l_render},
    {NULL, NULL},
};

static int node_index(lua_State *L)
{
    md_owner *o;
    cmark_node *n = check_node_owner(L, 1, &o);
    int oi = lua_gettop(L);
    const char *key = luaL_checkstring(L, 2);
    for (const luaL_Reg *m = node_methods; m->name; m++)
        if (strcmp(m->name, key) == 0) {
            lua_pushcfunction(L, m->func);
            return 1;
        }
    if (push_field(L, n, o, oi, key)) return 1;
    lua_pushnil(L);
    return 1;
}

static int node_newindex(lua_State *L)
{
    cmark_node *n = check_node(L, 1);
    const char *key = luaL_checkstring(L, 2);
    set_field(L, n, key, 3);
    return 0;
}

static int node_eq(lua_State *L)
{
    md_node *a = luaL_testudata(L, 1, NODE_META), *b = luaL_testudata(L, 2, NODE_META);
    lua_pushboolean(L, a && b && a->node == b->node);
    return 1;
}

static int node_tostring(lua_State *L)
{
    md_node *u = luaL_checkudata(L, 1, NODE_META);
    lua_getiuservalue(L, 1, 1);
    md_owner *o = push_resolved(L, -1);
    if (o->closed) lua_pushliteral(L, "publish.Node (rendered)");
    else lua_pushfstring(L, "publish.Node (%s)", type_name(u->node));
    return 1;
}

/* ---- Rendering (the engine's side) ----------------------------------------------------------- */

typedef struct html_box {
    char *html;
} html_box;

static int html_box_gc(lua_State *L)
{
    html_box *b = luaL_checkudata(L, 1, HTML_BOX_META);
    free(b->html);
    b->html = NULL;
    return 0;
}

static html_box *push_html_box(lua_State *L)
{
    html_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->html = NULL;
    luaL_setmetatable(L, HTML_BOX_META);
    return b;
}


/* The value of attribute `name` in the opening tag tag[0..len) as cmark
 * writes it (name="value"): its span, or false when absent. */
static bool find_tag_attribute(const char *tag, size_t len, const char *name, size_t *vstart,
                               size_t *vend)
{
    size_t nlen = strlen(name);
    for (size_t i = 1; i + nlen + 2 < len; i++) {
        if (tag[i - 1] == ' ' && strncmp(tag + i, name, nlen) == 0 && tag[i + nlen] == '=' &&
            tag[i + nlen + 1] == '"') {
            size_t s = i + nlen + 2, e = s;
            while (e < len && tag[e] != '"') e++;
            *vstart = s;
            *vend = e;
            return true;
        }
    }
    return false;
}

/* `html` with the attributes names[i]=values[i] added to its first tag: a
 * `class` joins the one there, another name replaces its value. Caller
 * frees. No Lua calls here. */
static char *splice_attributes(const char *html, const char *const *names,
                               const char *const *values, int n)
{
    const char *open = strchr(html, '<');
    const char *close = open ? strchr(open, '>') : NULL;
    if (!close) return pub_xstrdup(html);
    size_t end = (size_t)(close - html); /* index of '>' */
    if (end > 0 && html[end - 1] == '/') end -= html[end - 2] == ' ' ? 2 : 1;
    size_t tag_start = (size_t)(open - html);
    pub_buf tag = PUB_BUF_INIT;
    pub_buf_append(&tag, html + tag_start, end - tag_start);
    /* Values escaped as cmark escapes its own attributes (& < > "). */
    for (int i = 0; i < n; i++) {
        size_t vs, ve;
        const char *t = pub_buf_cstr(&tag);
        if (find_tag_attribute(t, tag.len, names[i], &vs, &ve)) {
            pub_buf next = PUB_BUF_INIT;
            pub_buf_append(&next, t, strcmp(names[i], "class") == 0 ? ve : vs);
            if (strcmp(names[i], "class") == 0) pub_buf_putc(&next, ' ');
            pub_text_escape(&next, PUB_ESC_CODE, values[i], strlen(values[i]));
            pub_buf_append(&next, t + ve, tag.len - ve);
            pub_buf_free(&tag);
            tag = next;
        } else {
            pub_buf_printf(&tag, " %s=\"", names[i]);
            pub_text_escape(&tag, PUB_ESC_CODE, values[i], strlen(values[i]));
            pub_buf_putc(&tag, '"');
        }
    }
    pub_buf out = PUB_BUF_INIT;
    pub_buf_append(&out, html, tag_start);
    pub_buf_append(&out, tag.data ? tag.data : "", tag.len);
    pub_buf_puts(&out, html + end);
    pub_buf_free(&tag);
    return pub_buf_detach(&out);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pushes the names of the attribute table at `ai` sorted (a userdata
 * array of 2 * count string pointers: names, then their values) and a
 * table keeping those strings alive; returns count (0: nothing pushed). */
static lua_Integer collect_attributes(lua_State *L, int ai, const char ***out)
{
    lua_newtable(L);
    int si = lua_gettop(L);
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, ai)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, si, ++count);
    }
    if (count == 0) {
        lua_pop(L, 1);
        return 0;
    }
    const char **names = lua_newuserdatauv(L, (size_t)count * 2 * sizeof *names, 0);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, si, i);
        names[i - 1] = lua_tostring(L, -1); /* kept alive by the table at si */
        lua_pop(L, 1);
    }
    qsort(names, (size_t)count, sizeof *names, compare_names);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_getfield(L, ai, names[i - 1]);
        names[count + i - 1] = lua_tostring(L, -1);
        lua_rawseti(L, si, count + i);
    }
    *out = names;
    return count;
}

/* n's HTML with the attributes added to its first tag. Makes no Lua call;
 * caller frees. */
static char *render_with_attributes(md_owner *o, cmark_node *n, const char **names,
                                    lua_Integer count)
{
    char *html = pub_md_render_tree(n, &o->opts, NULL);
    char *spliced = splice_attributes(html, names, names + count, (int)count);
    free(html);
    return spliced;
}

/* Replaces n by a custom node holding its own HTML with the attributes of
 * the table on the stack top added (sorted by name, for stable output).
 * The pair (n, custom) is appended to the table at `undo` when not 0. */
static void apply_attributes(lua_State *L, md_owner *o, cmark_node *n, int undo)
{
    int ai = lua_gettop(L);
    const char **names;
    lua_Integer count = collect_attributes(L, ai, &names);
    if (count == 0) return;
    /* From here on: no Lua calls until the strings are freed. */
    char *spliced = render_with_attributes(o, n, names, count);
    cmark_node *custom = cmark_node_new(is_block(n) ? CMARK_NODE_CUSTOM_BLOCK : CMARK_NODE_CUSTOM_INLINE);
    cmark_node_set_on_enter(custom, spliced);
    if (!cmark_node_replace(n, custom)) {
        /* A table cell holds no custom inline: raw HTML carries it there,
         * which a site with unsafe: false would omit, so there the node
         * keeps its plain HTML (without the attributes). */
        cmark_node_free(custom);
        custom = NULL;
        if (o->opts.unsafe) {
            custom = cmark_node_new(CMARK_NODE_HTML_INLINE);
            cmark_node_set_literal(custom, spliced);
            if (!cmark_node_replace(n, custom)) {
                cmark_node_free(custom);
                custom = NULL;
            }
        }
    }
    free(spliced);
    lua_settop(L, ai);
    if (!custom) return;
    owner_add_loose(o, n);
    if (undo) {
        lua_Integer len = (lua_Integer)lua_rawlen(L, undo);
        lua_pushlightuserdata(L, n);
        lua_rawseti(L, undo, len + 1);
        lua_pushlightuserdata(L, custom);
        lua_rawseti(L, undo, len + 2);
    }
}

/* Applies every attribute table of the resolved owner at `oi` whose node
 * is in the tree under root, children before parents (`undo`: see
 * apply_attributes). */
static void apply_all_attributes(lua_State *L, md_owner *o, int oi, cmark_node *root, int undo)
{
    lua_getiuservalue(L, oi, OWNER_ATTRS);
    int ti = lua_gettop(L);
    lua_pushnil(L);
    if (!lua_next(L, ti)) {
        lua_settop(L, ti - 1);
        return;
    }
    lua_pop(L, 2);
    /* The next node is computed before the current one is replaced. */
    for (cmark_node *n = postorder_first(root), *next; n; n = next) {
        next = postorder_next(n, root);
        lua_pushlightuserdata(L, n);
        if (lua_rawget(L, ti) == LUA_TTABLE && n != root) apply_attributes(L, o, n, undo);
        lua_settop(L, ti);
    }
    lua_settop(L, ti - 1);
}

static md_owner *check_document(lua_State *L, int idx, cmark_node **root)
{
    md_owner *o;
    *root = check_node_owner(L, idx, &o);
    if (!o->document || cmark_node_get_type(*root) != CMARK_NODE_DOCUMENT)
        luaL_error(L, "not a post's document");
    return o;
}

int pub_lua_md_render_document(lua_State *L)
{
    cmark_node *root;
    md_owner *o = check_document(L, 1, &root);
    int oi = lua_gettop(L);
    apply_all_attributes(L, o, oi, root, 0);
    html_box *box = push_html_box(L);
    size_t len;
    box->html = pub_md_render_tree(root, &o->opts, &len);
    lua_pushlstring(L, box->html, len);
    free(box->html);
    box->html = NULL;
    owner_free_nodes(o);
    return 1;
}

/* node:render() -> html: the node and what it holds as the document would
 * render it (attributes included), leaving the tree as it was. */
static int l_render(lua_State *L)
{
    md_owner *o;
    cmark_node *n = check_node_owner(L, 1, &o);
    int oi = lua_gettop(L);
    lua_newtable(L);
    int undo = lua_gettop(L);
    apply_all_attributes(L, o, oi, n, undo); /* below n: replaced for a while */
    html_box *box = push_html_box(L);
    push_attributes(L, n, oi, false);
    const char **names = NULL;
    lua_Integer count = lua_istable(L, -1) ? collect_attributes(L, lua_gettop(L), &names) : 0;
    box->html = count ? render_with_attributes(o, n, names, count) /* owned by the box */
                      : pub_md_render_tree(n, &o->opts, NULL);
    for (lua_Integer i = (lua_Integer)lua_rawlen(L, undo) - 1; i >= 1; i -= 2) {
        lua_rawgeti(L, undo, i);
        cmark_node *orig = lua_touserdata(L, -1);
        lua_rawgeti(L, undo, i + 1);
        cmark_node *custom = lua_touserdata(L, -1);
        lua_pop(L, 2);
        cmark_node_replace(custom, orig);
        owner_add_loose(o, custom);
    }
    lua_pushstring(L, box->html);
    free(box->html);
    box->html = NULL;
    return 1;
}

int pub_lua_md_discard_document(lua_State *L)
{
    cmark_node *root;
    md_owner *o = check_document(L, 1, &root);
    owner_free_nodes(o);
    return 0;
}

int pub_lua_md_document_at(lua_State *L)
{
    md_node *u = luaL_checkudata(L, 1, NODE_META);
    (void)u;
    lua_getiuservalue(L, 1, 1);
    md_owner *o = push_resolved(L, -1);
    if (o->closed || !o->current || cmark_node_get_start_line(o->current) <= 0) return 0;
    lua_pushinteger(L, cmark_node_get_start_line(o->current) + o->line_offset);
    lua_pushinteger(L, cmark_node_get_start_column(o->current));
    return 2;
}

void pub_lua_md_push_document(lua_State *L, cmark_node **tree, int line_offset,
                              const pub_md_options *opts)
{
    md_owner *o = push_owner(L, true, opts);
    o->line_offset = line_offset;
    int oi = lua_gettop(L);
    md_node *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->node = NULL;
    luaL_setmetatable(L, NODE_META);
    lua_pushvalue(L, oi);
    lua_setiuservalue(L, -2, 1);
    /* Nothing below raises: the tree changes hands. */
    owner_add_loose(o, *tree);
    u->node = *tree;
    *tree = NULL;
    lua_remove(L, oi);
}

/* ---- The module ------------------------------------------------------------------------------ */

static const luaL_Reg node_funcs[] = {
    {"new", l_new},
    {"parse", l_parse},
    {"walk", l_walk},
    {NULL, NULL},
};

int pub_luaopen_node(lua_State *L)
{
    if (luaL_newmetatable(L, NODE_META)) {
        lua_pushcfunction(L, node_index);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, node_newindex);
        lua_setfield(L, -2, "__newindex");
        lua_pushcfunction(L, node_eq);
        lua_setfield(L, -2, "__eq");
        lua_pushcfunction(L, node_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable"); /* getmetatable gives false: no tampering */
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, OWNER_META)) {
        lua_pushcfunction(L, owner_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, HTML_BOX_META)) {
        lua_pushcfunction(L, html_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, node_funcs);
    return 1;
}
