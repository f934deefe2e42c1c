/* The one 64-bit hash of the engine: Markdown cache keys and blobs, the
 * build fingerprint, and the output manifest's page hashes. */
#include "hash.h"
#include <string.h>

/* wyhash (Wang Yi, public domain), final version 4 constants: a 64x64->128
 * multiply folded to 64 bits does the mixing, 48 bytes per round. */
static const uint64_t S0 = 0xa0761d6478bd642full, S1 = 0xe7037ed1a0b428dbull,
                      S2 = 0x8ebc6af09c88c6e3ull, S3 = 0x589965cc75374cc3ull;

static void mul128(uint64_t *a, uint64_t *b)
{
#ifdef __SIZEOF_INT128__
    __extension__ unsigned __int128 r = (unsigned __int128)*a * *b;
    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
#else
    uint64_t ha = *a >> 32, hb = *b >> 32, la = (uint32_t)*a, lb = (uint32_t)*b;
    uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
    uint64_t t = rl + (rm0 << 32), c = t < rl;
    uint64_t lo = t + (rm1 << 32);
    c += lo < t;
    *a = lo;
    *b = rh + (rm0 >> 32) + (rm1 >> 32) + c;
#endif
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    mul128(&a, &b);
    return a ^ b;
}

/* A little-endian load of n (4 or 8) bytes, whatever the host order. */
static inline uint64_t load_fast(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, n);
#else
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
#endif
    return v;
}

uint64_t pub_hash(const void *bytes, size_t len, uint64_t seed)
{
    const unsigned char *p = bytes;
    uint64_t a, b;
    seed ^= mix(seed ^ S0, S1);
    if (len <= 16) {
        if (len >= 4) {
            size_t shift = (len >> 3) << 2;
            a = (load_fast(p, 4) << 32) | load_fast(p + shift, 4);
            b = (load_fast(p + len - 4, 4) << 32) | load_fast(p + len - 4 - shift, 4);
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            uint64_t see1 = seed, see2 = seed;
            do {
                seed = mix(load_fast(p, 8) ^ S1, load_fast(p + 8, 8) ^ seed);
                see1 = mix(load_fast(p + 16, 8) ^ S2, load_fast(p + 24, 8) ^ see1);
                see2 = mix(load_fast(p + 32, 8) ^ S3, load_fast(p + 40, 8) ^ see2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= see1 ^ see2;
        }
        while (i > 16) {
            seed = mix(load_fast(p, 8) ^ S1, load_fast(p + 8, 8) ^ seed);
            i -= 16;
            p += 16;
        }
        /* The last 16 bytes, overlapping what came before when short. */
        a = load_fast(p + i - 16, 8);
        b = load_fast(p + i - 8, 8);
    }
    a ^= S1;
    b ^= seed;
    mul128(&a, &b);
    return mix(a ^ S0 ^ len, b ^ S1);
}

