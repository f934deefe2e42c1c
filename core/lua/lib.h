/* The `publish` library seen by plugins and scripts. Each Lua-visible
 * module has its own lib_*.c; this header registers them all. */
#ifndef PUB_LUA_LIB_H
#define PUB_LUA_LIB_H
#include "../diag.h"
#include "../markdown.h"
#include "../util/text.h"
#include <lua.h>

/* Registry keys the runtime sets before plugins run. */
#define PUB_REG_MARKDOWN "publish.markdown_options" /* userdata: the site's pub_md_options */
#define PUB_REG_DIAGS "publish.diags"               /* light userdata: pub_diags* */
#define PUB_REG_SOURCE "publish.source"             /* string: SRC as given */
#define PUB_REG_CONFINE "publish.confine"           /* light userdata: const pub_confine* */

#define PUB_REG_PLUGIN_CODE "publish.plugin_code" /* integer: hash of every site plugin file loaded */
#define PUB_REG_CACHE "publish.cache"               /* light userdata: pub_cache* (a build) */

/* The site's Markdown options (config `markdown:`), the defaults of
 * publish.markdown and publish.node: set once, by pub_runtime_open (NULL:
 * forget them); read by pub_lua_md_options, which gives unsafe, no smart
 * punctuation, no hard breaks and PUB_MD_DEFAULT_EXTENSIONS when none
 * were set. May raise a memory error. */
void pub_lua_set_md_options(lua_State *L, const pub_md_options *md);
pub_md_options pub_lua_md_options(lua_State *L);

/* Pushes the `publish` table (markdown, slugify, highlight, html, url,
 * utf8, date, yaml, json, log, fs) and returns 1, as a luaopen_ function. */
int pub_luaopen_publish(lua_State *L);

/* One opener per module (each in its own lib_NAME.c), used by the above;
 * each pushes its table. */
int pub_luaopen_html(lua_State *L);   /* escape, escape_xml, text, truncate */
int pub_luaopen_utf8(lua_State *L);   /* truncate, len */
int pub_luaopen_date(lua_State *L);   /* format, parse, now, is */
int pub_luaopen_yaml(lua_State *L);   /* load, dump */
int pub_luaopen_json(lua_State *L);   /* encode */
int pub_luaopen_log(lua_State *L);    /* warn, info */
int pub_luaopen_fs(lua_State *L);     /* read, exists, list */
int pub_luaopen_url(lua_State *L);    /* encode, escape */
int pub_luaopen_http(lua_State *L);   /* get (plugins: the network capability) */
/* Pushes the function publish.highlight (lib_highlight.c). */
int pub_lua_highlight_register(lua_State *L);

/* Replaces find, match, gmatch and gsub of the `string` table on the
 * stack top with the ones of lib_pattern.c, which the per-call time limit
 * can stop (sandboxed states). */
void pub_pattern_install(lua_State *L);

/* Shared by the lib_*.c files (backward-compatible addition): pushes
 * "PATH:LINE:COL: MESSAGE" for d (parts left out when unknown) and frees
 * d, so that a caller can then lua_error without leaking it. */
void pub_lua_push_diag(lua_State *L, pub_diag *d);

/* Pushes `len` bytes of the malloc'd `s` and frees it, also when Lua runs
 * out of memory on the push (the memory error is then raised again): for
 * C results handed to Lua, which would otherwise leak on that error. */
void pub_lua_push_owned(lua_State *L, char *s, size_t len);

/* Pushes a new userdata of `size` bytes, zeroed, whose metatable `type`
 * (made on first use) frees it with `gc` (its __gc): the box that owns C
 * memory while Lua code that may raise runs (STYLE.md: no malloc'd memory
 * live across a raise). Returns the block. May raise a memory error
 * (nothing is allocated yet then). */
void *pub_lua_new_box(lua_State *L, size_t size, const char *type, lua_CFunction gc);

/* Shared by lib_html.c and lib_url.c: pushes argument 1 escaped by `kind`
 * (nil: "", non-strings through tostring) and returns 1. */
int pub_lua_push_escaped(lua_State *L, pub_text_escape_kind kind);

#endif
