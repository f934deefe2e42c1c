/* The environment plugin code runs in, and the host table the engine
 * drives it with. A plugin state has the base library without dofile,
 * loadfile or binary chunks, string (without dump), table, math, utf8,
 * coroutine, os.time/date/clock/difftime, require of plugins only, and
 * `publish`; no io, debug, package.loadlib or C modules. Capabilities
 * granted per plugin in the config unlock guarded functions: `exec`
 * (os.execute, io.popen), `env` (os.getenv), `read_outside` (publish.fs
 * beyond SRC). A script state (publish run) has every standard library
 * (io and os whole), still without binary chunks or C modules. */
#ifndef PUB_LUA_SANDBOX_H
#define PUB_LUA_SANDBOX_H
#include <lua.h>
#include <stdbool.h>

typedef enum { PUB_SANDBOX_PLUGINS, PUB_SANDBOX_SCRIPT } pub_sandbox_mode;

/* Opens the libraries of `mode` into the fresh state L and registers the
 * host table (see pub_sandbox_push_host). */
void pub_sandbox_open(lua_State *L, pub_sandbox_mode mode);

/* Pushes the table the engine gets as its chunk argument: traceback,
 * getinfo, getenv, stderr(s), begin(plugin), finish() -> limit message | nil,
 * grant(plugin, capability) -> true | nil, message. Plugins never see it. */
void pub_sandbox_push_host(lua_State *L);

/* Grants `capability` to plugin `who` ("" for the script of publish run).
 * Returns false for an unknown capability. */
bool pub_sandbox_grant(lua_State *L, const char *who, const char *capability);

/* True when the code running now (the current plugin's hook, or the
 * script) holds `capability`. */
bool pub_sandbox_allowed(lua_State *L, const char *capability);

/* The plugin whose hook runs now, or NULL (engine or script); borrowed
 * from the registry until the hook ends. */
const char *pub_sandbox_current(lua_State *L);

/* The capability names, for messages: "env, exec, network, read_outside". */
#define PUB_SANDBOX_CAPABILITIES "env, exec, network, read_outside"

/* Raises the error of a plugin `who` calling `fname` without
 * `capability` (the same words for every guarded function). */
int pub_sandbox_refuse(lua_State *L, const char *who, const char *fname, const char *capability);

#endif
