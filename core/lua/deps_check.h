/* The check of incremental builds' page records (see deps_check.c). */
#ifndef PUB_LUA_DEPS_CHECK_H
#define PUB_LUA_DEPS_CHECK_H
#include "deps.h"
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

/* Claims page `output` as unchanged when its output last time hashed as
 * `hash` and still stands (build.c: output.h's pub_out_keep); false: the
 * page must render. With `claim` false it only says whether the page
 * could be kept (pub_out_may_keep), so that a page whose output is gone
 * is not checked at all. */
typedef bool (*pub_deps_keep_fn)(void *ud, const char *output, uint64_t hash, bool claim);

/* internal.check(outputs, by_id, backing, ids, lazy_hash, lazy_meta,
 * lazy_fields, judge, carried, touched) -> array of the indices of `outputs` whose pages must
 * render. For each output the last build's record in `d` is judged; when
 * every input hashes as recorded, `keep(ud, output, hash)` is asked and a
 * kept page's record is carried over (pub_deps_carry). `by_id` (id ->
 * proxy), `backing` (proxy -> table), `ids` (proxy -> id) and `lazy_hash`
 * (field -> function(backing)) are deps.lua's; `lazy_meta` the engine's
 * metatable of posts and pages and `lazy_fields` its lazy fields (any other
 * field such a table lacks is nil without a call); `judge(line) -> bool`
 * judges a line this module does not. `carried` (proxy -> the field hashes
 * of its snapshot, lua/snapshot.h) and `touched` (proxy -> {field = true}:
 * what the `site` hook read of it and what was set on it since it became a
 * proxy) are deps.lua's: a carried hash stands for a field's value unless
 * a touched field shares a table with it or is it. May raise (a lazy field, the judge);
 * nothing leaks then. */
int pub_lua_deps_check(lua_State *L, pub_deps *d, pub_deps_keep_fn keep, void *ud);

#endif
