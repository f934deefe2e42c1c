/* Post snapshots: a post table, as it stands after its `document` and
 * `post` hooks, written to bytes and made again from them, so that a
 * later build takes an unchanged document's post from the build cache
 * instead of making it and running its hooks again (the cache entry and
 * its key are doc.h's; the engine decides what may be snapshotted).
 *
 * What is written: strings, numbers, booleans, `publish.null`, tables
 * (shared ones and cycles kept as references, so `post.meta` and
 * `post._doc.meta` stay one table), the metatables of dates
 * ("publish.Date") and of empty YAML maps, and the front-matter
 * positions userdata. Anything else (a function, another metatable, other
 * userdata) makes the post one that cannot be snapshotted. It does not
 * write the post's own metatable (the engine's lazy fields, set again by
 * the engine), nor the fields that tie it to this build: `next`,
 * `previous`, a lazy `content_id`, and in `_doc` the Markdown tree and
 * the document cache's working fields. */
#ifndef PUB_LUA_SNAPSHOT_H
#define PUB_LUA_SNAPSHOT_H
#include "../util/buf.h"
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

/* Appends the post table at `idx` to `out`. False (out then holds a
 * partial write the caller drops) when some value cannot be written.
 * Never raises. */
bool pub_lua_snapshot_write(lua_State *L, int idx, pub_buf *out);

/* Pushes the post table written in `bytes` (without its metatable).
 * Returns LUA_OK with the table pushed; -1 with nothing pushed when the
 * bytes are not a snapshot; or a Lua error status (memory) with the error
 * object pushed, for the caller to raise once it freed what it holds. */
int pub_lua_snapshot_read(lua_State *L, const void *bytes, size_t len);

/* Field hashes. After the post, the bytes carry each of its fields'
 * value hash (lua/deps_hash.h, as the record check computes it when the
 * snapshot is written) and which fields share a table (a change made
 * through one shows in the others): `H`, a count (4 bytes), then per
 * field, in byte order of the names, its name's length (1 byte) and
 * name, flags (FIELD_TABLE: the value
 * is a table; FIELD_HASH: a hash follows; `_doc` has none), its group
 * (the index of the first field it shares a table with, else its own)
 * and the hash (8 bytes). pub_lua_snapshot_read hands them, as they are,
 * to the post's `_doc` as `field_hashes`. */
enum { FIELD_TABLE = 1, FIELD_HASH = 2 };

typedef struct pub_snapshot_field {
    unsigned flags, group;
    uint64_t hash;
} pub_snapshot_field;

/* Finds field `name` in field-hash bytes: true with *out set when it is
 * there. With `name` NULL: whether the bytes are well formed. */
bool pub_lua_snapshot_field(const void *bytes, size_t len, const char *name, size_t name_len,
                            pub_snapshot_field *out);

#endif
