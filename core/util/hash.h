/* A fast, well-mixing 64-bit hash (wyhash final 4, written from its
 * description). Its values are stored on disk (build cache, output
 * manifest) and pinned by tests: changing the function means bumping
 * those formats' versions. */
#ifndef PUB_UTIL_HASH_H
#define PUB_UTIL_HASH_H
#include <stddef.h>
#include <stdint.h>

uint64_t pub_hash(const void *bytes, size_t len, uint64_t seed);

/* Stores `v` little-endian in p[0..7], whatever the host order: how the
 * on-disk formats and the fingerprint lay out their integers. */
static inline void pub_hash_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The value pub_hash_put_le64 stored at p. */
static inline uint64_t pub_hash_get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* The little-endian u32 at p (the record and snapshot formats' lengths). */
static inline uint32_t pub_hash_get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
