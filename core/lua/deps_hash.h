/* The value hash of incremental builds' page records (see deps_hash.c). */
#ifndef PUB_LUA_DEPS_HASH_H
#define PUB_LUA_DEPS_HASH_H
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* internal.hash_value(v, ids) -> hex string: the hash of `v`, deep, table
 * keys sorted; a table that is a key of `ids` counts as its id (a string)
 * alone. */
int pub_lua_deps_hash_value(lua_State *L);

/* The hash of the value at `idx`, as internal.hash_value gives it in hex;
 * `ids` (an index) as there. */
uint64_t pub_lua_deps_hash_at(lua_State *L, int idx, int ids);

/* A memo of table hashes by address, for one call that hashes many values
 * sharing tables (the record check: every post's `category_links` holds
 * the same category tables). Valid only while no hashed table changes;
 * `anchors` (a stack index) is a table that keeps every hashed table
 * alive, so no address comes back as another table's. Zero it, set
 * `anchors`; the caller frees `slots`. */
typedef struct pub_deps_table_slot {
    const void *table;
    uint64_t hash;
} pub_deps_table_slot;

typedef struct pub_deps_table_memo {
    pub_deps_table_slot *slots;
    size_t cap, len;
    int anchors;
    bool deep; /* while hashing: the depth limit was met */
} pub_deps_table_memo;

/* pub_lua_deps_hash_at with tables taken from and kept in `memo`: the
 * same hash. */
uint64_t pub_lua_deps_hash_at_memo(lua_State *L, int idx, int ids, pub_deps_table_memo *memo);

/* Writes `h` in hex as string.format("%x") does (no NUL); returns the
 * length (1 to 16). */
size_t pub_lua_deps_hex(uint64_t h, char hex[16]);

/* A lazy field the backing table at `backing` does not hold (its name at
 * `field`) and `lazy` (field -> function(backing)) can stand for: what
 * stands for its value, pushed (a string), true; else false, nothing
 * pushed. May run Lua. */
bool pub_lua_deps_push_lazy_hash(lua_State *L, int lazy, int backing, int field);

#endif
