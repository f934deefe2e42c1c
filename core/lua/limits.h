/* Per-call limits for plugin code: memory (through the state's allocator),
 * instructions (through the count hook) and wall-clock time (checked by the
 * count hook and by the guarded pattern functions, the C code a plugin can
 * make run for long). A limit applies between pub_limits_begin and
 * pub_limits_finish, i.e. to one hook call; engine code outside is free.
 *
 * An exceeded limit is a Lua error at the plugin's line naming the limit.
 * Once tripped, every later instruction of plugin code raises again until
 * the call finishes, so a plugin cannot pcall its way past a limit. */
#ifndef PUB_LUA_LIMITS_H
#define PUB_LUA_LIMITS_H
#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct pub_limit_settings {
    size_t memory_mb;        /* growth of the heap during one call; 0: none */
    long long instructions;  /* VM instructions in one call; 0: none */
    double seconds;          /* wall-clock time of one call; 0: none */
} pub_limit_settings;

/* The defaults documented in docs/security.md. */
#define PUB_LIMIT_MEMORY_MB 512
#define PUB_LIMIT_INSTRUCTIONS 2000000000LL
#define PUB_LIMIT_SECONDS 20.0

/* A new state whose allocator accounts for its memory. Aborts when no
 * state can be made at all. Caller closes with lua_close, which also frees
 * the accounting. */
lua_State *pub_limits_newstate(void);

/* lua_close, then frees the accounting. NULL is a no-op. */
void pub_limits_close(lua_State *L);

/* Sets the limits of the state's calls (copied). */
void pub_limits_configure(lua_State *L, const pub_limit_settings *settings);

/* Arms the limits for one call. Not nested. */
void pub_limits_begin(lua_State *L);

/* Disarms them. Returns the message of a limit exceeded during the call
 * ("PATH:LINE: memory limit exceeded (...)"), borrowed until the next
 * begin, or NULL. */
const char *pub_limits_finish(lua_State *L);

/* For long-running C functions: true when the call has run out of time
 * (or tripped a limit already); the caller stops and raises
 * pub_limits_raise. Cheap enough to call every few thousand steps. */
bool pub_limits_expired(lua_State *L);

/* Raises the time limit error at the calling Lua function's line. */
int pub_limits_raise(lua_State *L);

/* Bytes the state holds now. */
size_t pub_limits_memory(lua_State *L);

#endif
