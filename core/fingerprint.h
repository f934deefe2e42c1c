/* The build fingerprint, for the no-op rebuild: one 64-bit hash of the
 * engine's identity, the build options the caller adds (drafts, future,
 * DEST, ...) and the relative path, size, mtime, ctime, inode and mode of
 * every input file. build.c stores it in the build cache (cache.h) after a
 * successful build; if the fingerprint taken before the next build equals
 * the stored one and the stored result has not expired (`valid_until`: the
 * date of the earliest future post left out, which appears by itself once
 * that date passes), nothing can have changed and DEST already holds the
 * build's output. File contents are not read: an edit shows as a new
 * mtime/ctime/size/inode, and a file touched too close to the
 * fingerprint's start to be told apart (a coarse file-system clock) makes
 * the fingerprint unusable for that build (pub_fingerprint_final returns
 * 0), as git does with "racy" entries.
 *
 * The engine's identity (PUB_VERSION, cmark-gfm's version and the running
 * binary's size, mtime and inode) also seeds the Markdown cache's keys, so
 * a rebuilt publish never trusts what an older one stored. */
#ifndef PUB_FINGERPRINT_H
#define PUB_FINGERPRINT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* The engine's identity (computed once, thread-safe). *known (may be NULL)
 * is false when the running binary could not be identified: the id is then
 * one no other run shares, so nothing stored is reused. */
uint64_t pub_fingerprint_engine_id(bool *known);

/* An incremental fingerprint. Add things in a fixed order; the result
 * depends on the order and on the boundaries between the parts. */
typedef struct pub_fingerprint {
    uint64_t hash;
    long long newest_ns;  /* newest mtime/ctime of the files added */
    bool second_clock;    /* some file time had no sub-second part */
    bool unusable;        /* the engine could not be identified */
} pub_fingerprint;

/* Starts a fingerprint with the engine's identity in it. */
void pub_fingerprint_init(pub_fingerprint *fp);
void pub_fingerprint_add_bytes(pub_fingerprint *fp, const void *bytes, size_t len);
/* NULL and "" differ. */
void pub_fingerprint_add_str(pub_fingerprint *fp, const char *s);
void pub_fingerprint_add_int(pub_fingerprint *fp, long long v);
/* One input file: `rel` (its path relative to SRC) and its stat. */
void pub_fingerprint_add_file(pub_fingerprint *fp, const char *rel, const struct stat *st);

/* Adds every file below `src` in sorted order, as pub_fingerprint_add_file
 * would: names starting with '.' are skipped (.publish-cache, .git, the
 * output manifest and staging folders), so is the folder `skip` (DEST, when
 * it is inside SRC; NULL for none). Symlinked folders are not entered
 * (what they point to inside SRC is walked where it is); a symlinked file
 * adds the file it points to. An unreadable folder makes the fingerprint
 * unusable. */
void pub_fingerprint_add_tree(pub_fingerprint *fp, const char *src, const char *skip);

/* The fingerprint, or 0 when it cannot be trusted: the engine is unknown,
 * or a file changed so close to `started` that a later edit could keep the
 * same times. `started` is CLOCK_REALTIME read before the build reads or
 * stats any input (config.yaml included): then an edit made after a file
 * was read shows as a time after `started` and voids the fingerprint. */
uint64_t pub_fingerprint_final(const pub_fingerprint *fp, const struct timespec *started);

#endif
