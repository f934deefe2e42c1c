/* The embedded Lua runtime: one lua_State per run with the standard
 * libraries, the `publish` library, a module searcher that finds site
 * plugins (SRC/plugins/NAME.lua) before the bundled ones compiled into the
 * binary, and the engine (core/lua/engine.lua). */
#ifndef PUB_LUA_RUNTIME_H
#define PUB_LUA_RUNTIME_H
#include "../diag.h"
#include "../markdown.h"
#include "../site.h"
#include "sandbox.h"
#include <lua.h>
#include <stdbool.h>

/* The one function that makes a Lua state, for builds, check, serve and
 * renderers alike: sandboxed for plugins or opened for a script (`mode`,
 * see sandbox.h), with the per-call limits of the site's config (limits.h;
 * problems go to `diags`), the `publish` library and the plugin searcher.
 * `site` gives SRC and its confinement (site->confine, kept in the
 * registry as PUB_REG_CONFINE for every read of a site file, plugins
 * included). `diags` receives publish.log messages; both must outlive the
 * state. `md`: the site's Markdown options, the defaults of
 * publish.markdown and publish.node (copied; NULL: the library's own).
 * Set up under one protected call: on an error there (no memory) reports
 * it and returns NULL. Caller closes with pub_runtime_close. */
lua_State *pub_runtime_open(const pub_site *site, pub_diags *diags, const pub_md_options *md,
                            pub_sandbox_mode mode);

/* Closes a state made by pub_runtime_open. NULL is a no-op. */
void pub_runtime_close(lua_State *L);

/* Leaves a state made by pub_runtime_open to the process's exit, for a
 * process that ends right after (a one-shot `publish build`): closing it
 * walks and frees every object of a heap that is ~130 MB at 10k posts
 * (~25 ms), which the exit gives back at once. The state stays reachable
 * from a static slot, so a leak checker (LSan, valgrind) counts it as in
 * use, not lost. Only states whose finalizers merely free memory may be
 * left (a build's: plugins have no `io`); a script's state is closed, so
 * its open files are flushed. NULL is a no-op. */
void pub_runtime_leave(lua_State *L);

/* The Lua file `path` ("core/lua/edit.lua") compiled into the binary, or
 * NULL. */
struct pub_embedded_file;
const struct pub_embedded_file *pub_runtime_find_embedded(const char *path);

/* Puts the engine libraries (core/lua/NAME.lua as "publish.NAME": urls,
 * pager, schema, links, deps, layouts) in package.preload. Done by
 * pub_runtime_open; for bare states (the fuzz harnesses) that load the
 * bundled plugins. */
void pub_runtime_install_libraries(lua_State *L);

/* Pushes the engine table (loaded on first use). On a load error (a broken
 * build) returns false with the message pushed instead. */
bool pub_runtime_push_engine(lua_State *L);

/* Pushes a sorted array of the names of the plugins built into the binary
 * (plugins/NAME.lua -> "NAME"), for "did you mean" suggestions. */
void pub_runtime_push_bundled_plugins(lua_State *L);

/* lua_pcall with a traceback handler. On error pushes nothing, reports the
 * error (with traceback) into `diags` and returns false; `path` is used
 * when the message carries no location of its own. */
bool pub_runtime_call(lua_State *L, int nargs, int nresults, pub_diags *diags,
                      const char *path);

/* The text of `script` (publish run): the file at that path, or, when
 * there is none and the name has no '/', the bundled script
 * scripts/edit/NAME.lua ("retag" or "retag.lua"). Returns 0 with *text
 * (caller frees) and *display (the name for messages: the path, or
 * "scripts/edit/retag.lua"; caller frees, set even on failure), or an
 * errno value. */
int pub_runtime_script_text(const char *script, char **text, size_t *len, char **display);

/* Loads and calls a user script (found as pub_runtime_script_text does)
 * with `argc` string arguments as `...`; errors go to `diags` as
 * SCRIPT:LINE:1 with a traceback, except a "usage: ..." error: one line. */
bool pub_runtime_run_script(lua_State *L, const char *script, int argc, char **argv,
                            pub_diags *diags);

#endif
