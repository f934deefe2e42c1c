/* Private to the output module (output.c, output_pool.c,
 * output_journal.c): the path map, the transaction's state, and the steps
 * one file of the module calls in another. Nothing outside core/output*.c
 * includes this. See output.c for the design. */
#ifndef PUB_OUTPUT_IMPL_H
#define PUB_OUTPUT_IMPL_H
#include "output.h"
#include "util/janitor.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

enum { QUEUE_FILES = 1024 };
#define QUEUE_BYTES ((size_t)64 << 20)
#define MANIFEST_MAGIC "publish-manifest 2\n"
/* The staging folder's name inside a DEST that is a mount point. */
#define STAGING_INSIDE ".publish-tmp"

/* ---- Paths known to this build ------------------------------------------------ */

enum { CLAIM_NONE, CLAIM_FILE, CLAIM_DIR };
enum { DIR_UNKNOWN, DIR_REAL, DIR_NOT_REAL };

/* One path: a file of the last build, a file or folder of this one, or both.
 * The map owns entries; their addresses stay put while the map grows, so a
 * writer thread may fill in its own entry's "new" fields without the lock. */
typedef struct entry {
    char *rel;
    unsigned char claim; /* what this build puts here (under the lock) */
    bool old;            /* a file of the last build (manifest, or the walk) */
    bool staged;         /* new bytes wait in staging */
    struct entry *parent; /* the folder holding a claimed path (set at claim) */
    /* CLAIM_DIR: what DEST/rel is and whether it is made in a mirrored
     * staging folder. Writers set these without the lock, since the map
     * may be growing under it; they are caches of what the disk says, so
     * two writers setting one at once agree. */
    _Atomic unsigned char dest_dir, staged_dir;
    uint64_t old_size, old_hash;
    int64_t old_mtime;
    uint64_t size, hash; /* this build's file */
    int64_t mtime;
    size_t id;           /* its name in a flat staging folder */
} entry;

typedef struct entry_map {
    entry **slots;
    size_t cap, len;
} entry_map;

/* The entry for `rel`, or NULL. */
entry *pub_out_map_get(const entry_map *map, const char *rel);

/* The entry for `rel`, added (zeroed) when missing. */
entry *pub_out_map_add(entry_map *map, const char *rel);

void pub_out_map_free(entry_map *map);

/* ---- The transaction ---------------------------------------------------------- */

typedef struct job {
    struct job *next;
    entry *file;
    char *bytes;
    size_t len;
} job;

struct pub_out {
    char *dest;       /* as the caller named it, for messages */
    char *target;     /* the folder written (DEST, or where its symlink points) */
    char *staging;    /* TARGET's sibling .BASE.publish-tmp */
    char *manifest;   /* TARGET's sibling .BASE.publish-manifest */
    int staging_fd;   /* open on the staging folder */
    pub_janitor janitor; /* removes the staging folder if we die first */
    int dest_fd;      /* open on DEST, or -1 when there is none yet */
    bool mirrored;    /* no DEST: staging mirrors the tree and becomes DEST */
    bool staging_inside; /* DEST is a mount point: staging is DEST/STAGING_INSIDE */
    bool had_manifest;
    bool clean;       /* --clean: commit removes everything it did not write */
    pthread_mutex_t lock; /* paths (the map and claims), next_id, counts */
    entry_map paths;
    size_t next_id;
    size_t files;       /* files claimed */
    size_t by_manifest; /* unchanged files told by the manifest alone */
    pub_out_stats stats;

    /* The writer pool, all under `qlock` (taken alone, never with `lock`). */
    int jobs, started;
    pthread_t *threads;
    pthread_mutex_t qlock;
    pthread_cond_t has_work, has_room;
    job *head, *tail;
    job *done; /* written jobs, freed by the submitting thread */
    size_t queued_files, queued_bytes;
    int idle_writers, waiting_submitters; /* so nobody is woken for nothing */
    bool closing, dropping;
    pub_diag *failure; /* the first writer error */
};

/* The name of a file staged flat (not mirrored): its claim number. */
static inline void pub_out_staged_name(const entry *file, char *name, size_t size)
{
    snprintf(name, size, "%zu", file->id);
}

/* Tells the crash tests' hook (output.h) that commit finished `step`. */
static inline void pub_out_step(const char *step)
{
    if (pub_out_step_hook) pub_out_step_hook(step);
}

/* The permissions a page is created with (before the umask). */
#define PUB_OUT_PAGE_MODE 0644u

/* How pub_out_place put a file: counts are indexed by these. */
enum { WROTE, SAME_BY_MANIFEST, SAME_BY_BYTES };

/* Validates and normalises `relpath` and claims it as a file, its parents as
 * folders (output.c). Returns the file's entry, or NULL with *err set. */
entry *pub_out_claim(pub_out *out, const char *relpath, pub_diag **err);

/* Puts `bytes` at file->rel (output.c). Returns 0 or errno; sets *how. */
int pub_out_place(pub_out *out, entry *file, const char *bytes, size_t len, unsigned mode,
                  int *how);

/* pub_out_place, counted, with the error as a diagnostic (output.c). */
pub_diag *pub_out_place_now(pub_out *out, entry *file, const char *bytes, size_t len,
                            unsigned mode);

/* Counts placed files (`counts` indexed by WROTE, SAME_BY_...) (output.c). */
void pub_out_tally(pub_out *out, const size_t counts[3]);

/* "DEST/REL: error: cannot write: strerror(rc)" (output.c). */
pub_diag *pub_out_write_error(const pub_out *out, const char *rel, int rc);

/* Lets the writers finish the queue (or, with `drop`, throw it away) and
 * waits for them (output_pool.c). */
void pub_out_stop_writers(pub_out *out, bool drop);

/* Reads the last build's manifest into the map; a missing or damaged one
 * leaves had_manifest false (output_journal.c). */
void pub_out_load_manifest(pub_out *out);

/* Saves the manifest of this build (and with `with_gone` the files about
 * to be removed) (output_journal.c). */
void pub_out_save_manifest(pub_out *out, bool with_gone);

/* Version-control folders at the top of DEST (a gh-pages checkout's
 * .git), and the staging folder when it is inside DEST: never counted as
 * foreign, never removed, even by --clean. */
bool pub_out_kept_name(const char *name);

/* NULL when DEST holds nothing publish did not write (it has a manifest,
 * or only empty folders and kept names), else the error naming the first
 * foreign file and how many more there are (output_journal.c). */
pub_diag *pub_out_foreign_files(pub_out *out);

/* Commit over an existing DEST by assembling the new tree and exchanging
 * it with DEST (output_swap.c). Returns 0 when done, -1 when there was
 * nothing to change, or the errno that made it impossible (the staged
 * files are then where they were, for pub_out_commit_journal). */
int pub_out_commit_swap(pub_out *out);

/* Commit over an existing DEST (output_journal.c). */
pub_diag *pub_out_commit_journal(pub_out *out);

#endif
