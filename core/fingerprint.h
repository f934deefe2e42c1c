/* The build fingerprint, for the no-op rebuild: one 64-bit hash of the
 * engine's identity, the build options the caller adds (drafts, future,
 * DEST, ...) and the relative path, size, mtime, ctime, inode and mode of
 * every input file. build.c stores it in the build cache (cache.h) after a
 * successful build; if the fingerprint taken before the next build equals
 * the stored one and the stored result has not expired (`valid_until`: the
 * date of the earliest future post left out, which appears by itself once
 * that date passes), nothing can have changed and DEST already holds the
 * build's output. Most files are vouched for by their stat alone: an
 * edit shows as a new mtime/ctime/size/inode. A file whose times fall
 * within a clock tick of the moment a build started (it is "racy", as git
 * says: an edit in the same tick would keep its times) is vouched for by a
 * hash of its contents instead. The moment is stored with the fingerprint,
 * so the next build classifies every file the same way and compares like
 * with like: a file saved just before a build costs one read on the next
 * build, never a full rebuild.
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

/* One input file as the fingerprint saw it. */
typedef struct pub_fingerprint_file {
    char *rel;            /* path below SRC */
    char *path;           /* path to read its contents by, when racy */
    uint64_t stat[7];     /* size, mtime s/ns, ctime s/ns, inode, mode */
} pub_fingerprint_file;

/* An incremental fingerprint. Add things in a fixed order; the result
 * depends on the order and on the boundaries between the parts. The files
 * are kept, not hashed, until pub_fingerprint_final knows the moment that
 * makes a file racy. Caller frees with pub_fingerprint_free. */
typedef struct pub_fingerprint {
    uint64_t hash;        /* the engine and every non-file part */
    pub_fingerprint_file *files;
    size_t nfiles, cap;
    bool unusable;        /* the engine could not be identified, or a folder not read */
} pub_fingerprint;

/* Starts a fingerprint with the engine's identity in it. */
void pub_fingerprint_init(pub_fingerprint *fp);
/* Frees the files kept. NULL is a no-op. */
void pub_fingerprint_free(pub_fingerprint *fp);
void pub_fingerprint_add_bytes(pub_fingerprint *fp, const void *bytes, size_t len);
/* NULL and "" differ. */
void pub_fingerprint_add_str(pub_fingerprint *fp, const char *s);
void pub_fingerprint_add_int(pub_fingerprint *fp, long long v);
/* One input file: `rel` (its path relative to SRC), `path` (where to read
 * it if it turns out racy) and its stat. Both strings are copied. */
void pub_fingerprint_add_file(pub_fingerprint *fp, const char *rel, const char *path,
                              const struct stat *st);

/* Adds every file below `src` in sorted order, as pub_fingerprint_add_file
 * would: names starting with '.' are skipped (.publish-cache, .git, the
 * output manifest and staging folders), so is the folder `skip` (DEST, when
 * it is inside SRC; NULL for none). Symlinked folders are not entered
 * (what they point to inside SRC is walked where it is); a symlinked file
 * adds the file it points to. An unreadable folder makes the fingerprint
 * unusable. */
void pub_fingerprint_add_tree(pub_fingerprint *fp, const char *src, const char *skip);

/* The moment a build started, in nanoseconds since the epoch: CLOCK_REALTIME
 * read before the build reads or stats any input (config.yaml included). */
long long pub_fingerprint_now(void);

/* Whether a file with this stat (pub_fingerprint_file's) is racy
 * relative to `since_ns` (see below): its times cannot vouch for its
 * contents. The post snapshots (doc.h) trust a stat by the same rule. */
bool pub_fingerprint_is_racy(const uint64_t stat[7], long long since_ns);

/* The fingerprint relative to `since_ns` (a build's start, as above), or 0
 * when it cannot be trusted (engine unknown, a folder unreadable). Files
 * whose mtime or ctime is later than one clock tick before `since_ns` (50 ms;
 * 2 s when the file system keeps whole seconds) count by their contents,
 * read now, instead of their times: an edit made after the build read such
 * a file changes the contents or the times, and either way the next
 * fingerprint differs. A racy file that cannot be read makes the result 0.
 * May be called several times with different moments. */
uint64_t pub_fingerprint_final(const pub_fingerprint *fp, long long since_ns);

#endif
