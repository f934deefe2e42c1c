/* The C half of `publish run`'s write-back (the Lua half, the methods a
 * bulk-edit script uses to change posts — post:rename, post:move,
 * post:delete, site:new_post — and their bookkeeping, is core/lua/edit.lua).
 * pub_lua_edit_prepare installs those methods and snapshots every post;
 * pub_lua_edit_finish compares, rewrites (core/rewrite.h) and commits in
 * one all-or-nothing transaction (core/edit.h). Loading the site and
 * running the script are the runtime's job. */
#ifndef PUB_LUA_EDIT_H
#define PUB_LUA_EDIT_H
#include "../diag.h"
#include "../edit.h"
#include "../util/buf.h"
#include <lua.h>
#include <stdbool.h>

typedef struct pub_lua_edit_options {
    bool dry_run; /* append a diff to the report instead of writing */
} pub_lua_edit_options;

/* Readies the `site` table at `site_index` for a script: needs
 * site.source (SRC), site.posts and site.pages (tables with `path`
 * relative to SRC, `meta`, `body`; posts also `slug`, `title`, `date`,
 * `categories`, `tags`). Gives every post and page the methods rename,
 * move and delete (through a metatable, or as fields when the table
 * already has one), sets site.new_post, and snapshots what finish compares
 * against. Keeps its state in the registry (freed with the state).
 * Returns 0; may raise (a Lua memory error): call it protected. */
int pub_lua_edit_prepare(lua_State *L, int site_index);

/* After the script returned: finds what it changed (front matter key by
 * key, body by bytes, renames, moves, deletions, new posts), builds the new
 * files and either appends a git-style diff to `report` (opts->dry_run) or
 * removes stray temp files of earlier runs and commits. *summary (may be
 * NULL) gets the counts in both cases. Returns NULL on success, else the
 * first error (nothing written), e.g.
 * "posts/x.md: error: cannot store a function in front matter (key 'x')";
 * caller frees with pub_diag_free. Must follow pub_lua_edit_prepare on the
 * same state; may raise on a Lua memory error: call it protected. */
pub_diag *pub_lua_edit_finish(lua_State *L, int site_index, const pub_lua_edit_options *opts,
                              pub_edit_summary *summary, pub_buf *report);

#endif
